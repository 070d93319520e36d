//! API keys: made with a role and, for issuers and merchants, the owners
//! they act for (an issuer key's issuer codes, a merchant key's merchant
//! ids), and the name of who holds them; made at the command line, or by
//! operators over HTTP (every role but operator); listed and revoked by
//! operators. An issuer key also gets a signing
//! secret of its own for its events, shown once and kept sealed by the
//! vault, so that a signature proves more than holding the bearer key.

use chrono::{DateTime, Utc};
use tessera_core::error::{DomainError, ErrorCode};
use tessera_core::payment::check::check_merchant_id;
use tessera_core::vault::{LookupPurpose, Sealed};
use tessera_store::ApiKeyRecord;
use zeroize::Zeroizing;

use crate::flows::audit::{self, Actor};
use crate::http::auth::{API_KEY_PREFIX, Role, hash_bearer};
use crate::http::error::{ApiError, rfc3339};
use crate::http::views::{ApiKeyList, ApiKeyView, CreateKeyRequest, CreatedKeyView};
use crate::ids;
use crate::state::AppState;

/// Signing secrets say what they are by their prefix, as bearer secrets do.
pub const SIGNING_SECRET_PREFIX: &str = "tsg_";

/// The vault context signing secrets are sealed under (with the key's id):
/// part of the storage format.
pub(crate) const SIGNING_SECRET_CONTEXT: &str = "api_key_signing_secret";

/// A key just made: the only time its secrets are seen.
#[derive(Clone)]
pub struct CreatedKey {
    pub id: String,
    pub key: String,
    pub role: Role,
    pub scope: Vec<String>,
    pub holder: String,
    pub label: String,
    pub created_at: DateTime<Utc>,
    /// Issuer keys only: what their events are signed with.
    pub signing_secret: Option<String>,
}

impl std::fmt::Debug for CreatedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedKey")
            .field("id", &self.id)
            .field("role", &self.role)
            .field("scope", &self.scope)
            .field("holder", &self.holder)
            .finish_non_exhaustive()
    }
}

/// Why a key could not be made, said to the operator at the command line.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(pub String);

/// What is wrong with the owners named for a key: told at the command
/// line (`cli`) or over HTTP (`api`), each in its own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeProblem {
    UnknownIssuer(String),
    NoIssuer,
    BadMerchant(String),
    NoMerchant,
    /// Operator and support keys act for nobody.
    Unscoped(Role),
}

impl ScopeProblem {
    fn cli(&self) -> String {
        match self {
            ScopeProblem::UnknownIssuer(code) => format!(
                "unknown issuer code {code:?}: use an issuer code of the BIN table \
                 (`tessera bins lookup BIN` shows a card's), e.g. CCB, ICBC, ABC"
            ),
            ScopeProblem::NoIssuer => {
                "an issuer key acts for its issuers only: name each with --issuer CODE".to_owned()
            }
            ScopeProblem::BadMerchant(id) => {
                format!("merchant id {id:?}: 1 to 64 letters, digits or - _ . :")
            }
            ScopeProblem::NoMerchant => {
                "a merchant key pays as its merchants only: name each with --merchant ID".to_owned()
            }
            ScopeProblem::Unscoped(role) => format!(
                "{} keys have no issuers or merchants: --issuer is for issuer keys, \
                 --merchant for merchant keys",
                role.as_str()
            ),
        }
    }

    /// `invalid_request` naming the field of `POST /v1/admin/keys` at fault.
    pub fn api(&self) -> DomainError {
        let (param, zh, en) = match self {
            ScopeProblem::UnknownIssuer(code) => (
                "issuers",
                format!("没有发卡行代码 {code}：请用 BIN 表中的发卡行代码，例如 CCB、ICBC、ABC"),
                format!("No issuer has the code {code}: use an issuer code of the BIN table, such as CCB, ICBC or ABC"),
            ),
            ScopeProblem::NoIssuer => (
                "issuers",
                "发卡行密钥只代表它的发卡行：请在 issuers 中列出至少一个发卡行代码".to_owned(),
                "An issuer key acts for its issuers only: list at least one issuer code in issuers".to_owned(),
            ),
            ScopeProblem::BadMerchant(id) => (
                "merchants",
                format!("商户编号 {id} 无效：须为 1 到 64 个字母、数字或 - _ . :"),
                format!("Merchant id {id} is not valid: use 1 to 64 letters, digits or - _ . :"),
            ),
            ScopeProblem::NoMerchant => (
                "merchants",
                "商户密钥只代表它的商户：请在 merchants 中列出至少一个商户编号".to_owned(),
                "A merchant key pays as its merchants only: list at least one merchant id in merchants".to_owned(),
            ),
            ScopeProblem::Unscoped(role) => (
                "issuers",
                format!("{} 密钥不代表任何发卡行或商户：issuers 只用于发卡行密钥，merchants 只用于商户密钥", role.as_str()),
                format!("{} keys act for no issuer or merchant: issuers is for issuer keys, merchants for merchant keys", role.as_str()),
            ),
        };
        DomainError::new(ErrorCode::InvalidRequest)
            .with_param(param)
            .with_detail(
                tessera_core::text::mask_card_numbers(&zh).into_owned(),
                tessera_core::text::mask_card_numbers(&en).into_owned(),
            )
    }
}

/// The owners a key of `role` acts for, checked: an issuer key needs issuer
/// codes of the BIN table (upper case), a merchant key merchant ids (as a
/// payment's `merchant_id` is checked), the other roles none.
pub fn check_owners(
    state: &AppState,
    role: Role,
    scope: &[String],
) -> Result<Vec<String>, ScopeProblem> {
    let mut checked: Vec<String> = Vec::with_capacity(scope.len());
    match role {
        Role::Issuer => {
            for code in scope {
                let code = code.trim().to_ascii_uppercase();
                if !state.bins.has_issuer_code(&code) {
                    return Err(ScopeProblem::UnknownIssuer(code));
                }
                checked.push(code);
            }
            if checked.is_empty() {
                return Err(ScopeProblem::NoIssuer);
            }
        }
        Role::Merchant => {
            for id in scope {
                let id = check_merchant_id(id)
                    .map_err(|_| ScopeProblem::BadMerchant(id.chars().take(64).collect()))?;
                checked.push(id);
            }
            if checked.is_empty() {
                return Err(ScopeProblem::NoMerchant);
            }
        }
        Role::Operator | Role::Support => {
            if !scope.is_empty() {
                return Err(ScopeProblem::Unscoped(role));
            }
        }
    }
    checked.sort();
    checked.dedup();
    Ok(checked)
}

/// [`check_owners`], said as the command line says it.
pub fn check_scope(
    state: &AppState,
    role: Role,
    scope: &[String],
) -> Result<Vec<String>, KeyError> {
    check_owners(state, role, scope).map_err(|problem| KeyError(problem.cli()))
}

/// Makes an API key of `role` for `scope` (see [`check_scope`]). Only keyed
/// hashes and sealed secrets are stored.
pub async fn create(
    state: &AppState,
    role: Role,
    label: &str,
    holder: &str,
    scope: &[String],
    by: Actor<'_>,
) -> Result<CreatedKey, KeyError> {
    let scope = check_scope(state, role, scope)?;
    let id = ids::random_id("key_", 16);
    let key = ids::bearer_secret(&format!("{API_KEY_PREFIX}{}_", role.as_str()));
    let (signing_secret, sealed) = if role == Role::Issuer {
        let secret = ids::bearer_secret(SIGNING_SECRET_PREFIX);
        let sealed = state
            .keys
            .seal_bytes(SIGNING_SECRET_CONTEXT, &id, secret.as_bytes())
            .map_err(|e| KeyError(format!("cannot seal the signing secret: {e}")))?;
        (Some(secret), Some((sealed.key_version, sealed.blob)))
    } else {
        (None, None)
    };
    // An operator's free text: card numbers masked like any other.
    let label = tessera_core::text::mask_card_numbers(label.trim()).into_owned();
    let holder = tessera_core::text::mask_card_numbers(holder.trim()).into_owned();
    let created_at = state.now();
    state
        .store
        .create_api_key(&ApiKeyRecord {
            id: id.clone(),
            key_hash: hash_bearer(&state.keys, LookupPurpose::ApiKey, &key),
            role: role.as_str().to_owned(),
            label: label.clone(),
            holder: holder.clone(),
            scope: scope.clone(),
            signing_secret: sealed,
            created_at,
            revoked_at: None,
        })
        .await
        .map_err(|e| KeyError(e.to_string()))?;
    by.record(
        state,
        audit::KEY_CREATED,
        None,
        Some(format!("api_key:{id}")),
    )
    .await
    .map_err(|e| KeyError(format!("the audit refused the key: {}", e.0.code.as_str())))?;
    Ok(CreatedKey {
        id,
        key,
        role,
        scope,
        holder,
        label,
        created_at,
        signing_secret,
    })
}

/// `POST /v1/admin/keys`: a support, merchant or issuer key. Operator keys
/// are made only at the command line, by whoever runs the service: a key
/// that makes keys is never made by another key.
pub async fn create_over_http(
    state: &AppState,
    request: &CreateKeyRequest,
    by: Actor<'_>,
) -> Result<CreatedKeyView, ApiError> {
    let role = match Role::parse(request.role.trim()) {
        Some(Role::Operator) => {
            return Err(DomainError::new(ErrorCode::Forbidden)
                .with_param("role")
                .with_detail(
                    "操作员密钥不能通过接口制作，只能在服务器上用 tessera admin create-key --role operator 制作",
                    "Operator keys are not made over the API: make one on the server with tessera admin create-key --role operator",
                )
                .into());
        }
        Some(role) => role,
        None => {
            return Err(
                crate::http::query::bad_choice("role", &["support", "merchant", "issuer"]).into(),
            );
        }
    };
    if request.holder.trim().is_empty() {
        return Err(crate::http::query::missing(
            "holder",
            (
                "请写明谁持有这个密钥（个人或团队）",
                "name who holds the key (a person or a team)",
            ),
        )
        .into());
    }
    // Issuers on a merchant key (or the reverse) are refused, not taken as
    // the other kind of owner.
    let (scope, other) = match role {
        Role::Issuer => (&request.issuers, &request.merchants),
        _ => (&request.merchants, &request.issuers),
    };
    if role != Role::Support && !other.is_empty() {
        let (param, zh, en) = if role == Role::Issuer {
            (
                "merchants",
                "merchants 只用于商户密钥：发卡行密钥请用 issuers",
                "merchants is for merchant keys: an issuer key takes issuers",
            )
        } else {
            (
                "issuers",
                "issuers 只用于发卡行密钥：商户密钥请用 merchants",
                "issuers is for issuer keys: a merchant key takes merchants",
            )
        };
        return Err(DomainError::new(ErrorCode::InvalidRequest)
            .with_param(param)
            .with_detail(zh, en)
            .into());
    }
    let owners: Vec<String> = if role == Role::Support {
        request
            .issuers
            .iter()
            .chain(&request.merchants)
            .cloned()
            .collect()
    } else {
        scope.clone()
    };
    check_owners(state, role, &owners).map_err(|problem| problem.api())?;
    let created = create(state, role, &request.label, &request.holder, &owners, by)
        .await
        .map_err(|error| {
            tracing::error!(error = %error, "api key not made");
            ApiError::from(ErrorCode::InternalError)
        })?;
    tracing::info!(key_id = %created.id, role = role.as_str(), "api key made over http");
    Ok(CreatedKeyView {
        id: created.id,
        key: created.key,
        role: role.as_str().to_owned(),
        scope: created.scope,
        holder: created.holder,
        label: created.label,
        created_at: rfc3339(created.created_at),
        signing_secret: created.signing_secret,
    })
}

/// An issuer key's signing secret, opened; None when the key has none (it
/// was made before keys had one) or it does not open.
pub fn signing_secret(
    state: &AppState,
    key_id: &str,
    sealed: Option<&Sealed>,
) -> Option<Zeroizing<Vec<u8>>> {
    state
        .keys
        .open_bytes(SIGNING_SECRET_CONTEXT, key_id, sealed?)
        .ok()
}

fn view(key: ApiKeyRecord) -> ApiKeyView {
    ApiKeyView {
        id: key.id,
        role: key.role,
        scope: key.scope,
        label: key.label,
        holder: key.holder,
        created_at: rfc3339(key.created_at),
        revoked_at: key.revoked_at.map(rfc3339),
    }
}

/// `GET /v1/admin/keys`: every key, revoked ones too, oldest first; never
/// a secret.
pub async fn list(state: &AppState) -> Result<ApiKeyList, ApiError> {
    let keys = state.store.api_keys().await?;
    Ok(ApiKeyList {
        data: keys.into_iter().map(view).collect(),
    })
}

/// `DELETE /v1/admin/keys/{id}`: the key is refused from the next request
/// on, at every node (keys are read from the store on every request, never
/// cached). Revoking a revoked key again keeps its first time.
pub async fn revoke(
    state: &AppState,
    id: &str,
    by: Actor<'_>,
    now: DateTime<Utc>,
) -> Result<ApiKeyView, ApiError> {
    let Some(revoked_at) = state.store.revoke_api_key(id, now).await? else {
        return Err(ErrorCode::NotFound.into());
    };
    tracing::info!(key_id = id, revoked_at = %rfc3339(revoked_at), "api key revoked");
    by.record(
        state,
        audit::KEY_REVOKED,
        None,
        Some(format!("api_key:{id}")),
    )
    .await?;
    let keys = state.store.api_keys().await?;
    keys.into_iter()
        .find(|k| k.id == id)
        .map(view)
        .ok_or_else(|| ErrorCode::NotFound.into())
}
