//! API keys: made with a role and, for issuers and merchants, the owners
//! they act for (an issuer key's issuer codes, a merchant key's merchant
//! ids); listed and revoked by operators. An issuer key also gets a signing
//! secret of its own for its events, shown once and kept sealed by the
//! vault, so that a signature proves more than holding the bearer key.

use chrono::{DateTime, Utc};
use tessera_core::error::ErrorCode;
use tessera_core::payment::check::check_merchant_id;
use tessera_core::vault::{LookupPurpose, Sealed};
use tessera_store::ApiKeyRecord;
use zeroize::Zeroizing;

use crate::http::auth::{API_KEY_PREFIX, Role, hash_bearer};
use crate::http::error::{ApiError, rfc3339};
use crate::http::views::{ApiKeyList, ApiKeyView};
use crate::ids;
use crate::state::AppState;

/// Signing secrets say what they are by their prefix, as bearer secrets do.
pub const SIGNING_SECRET_PREFIX: &str = "tsg_";

/// The vault context signing secrets are sealed under (with the key's id):
/// part of the storage format.
const SIGNING_SECRET_CONTEXT: &str = "api_key_signing_secret";

/// A key just made: the only time its secrets are seen.
#[derive(Clone)]
pub struct CreatedKey {
    pub id: String,
    pub key: String,
    pub role: Role,
    pub scope: Vec<String>,
    /// Issuer keys only: what their events are signed with.
    pub signing_secret: Option<String>,
}

impl std::fmt::Debug for CreatedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedKey")
            .field("id", &self.id)
            .field("role", &self.role)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// Why a key could not be made, said to the operator at the command line.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(pub String);

/// The owners a key of `role` acts for, checked: an issuer key needs issuer
/// codes of the BIN table (upper case), a merchant key merchant ids (as a
/// payment's `merchant_id` is checked), the other roles none.
pub fn check_scope(
    state: &AppState,
    role: Role,
    scope: &[String],
) -> Result<Vec<String>, KeyError> {
    let mut checked: Vec<String> = Vec::with_capacity(scope.len());
    match role {
        Role::Issuer => {
            for code in scope {
                let code = code.trim().to_ascii_uppercase();
                if !state.bins.has_issuer_code(&code) {
                    return Err(KeyError(format!(
                        "unknown issuer code {code:?}: use an issuer code of the BIN table \
                         (`tessera bins lookup BIN` shows a card's), e.g. CCB, ICBC, ABC"
                    )));
                }
                checked.push(code);
            }
            if checked.is_empty() {
                return Err(KeyError(
                    "an issuer key acts for its issuers only: name each with --issuer CODE"
                        .to_owned(),
                ));
            }
        }
        Role::Merchant => {
            for id in scope {
                let id = check_merchant_id(id).map_err(|_| {
                    KeyError(format!(
                        "merchant id {id:?}: 1 to 64 letters, digits or - _ . :"
                    ))
                })?;
                checked.push(id);
            }
            if checked.is_empty() {
                return Err(KeyError(
                    "a merchant key pays as its merchants only: name each with --merchant ID"
                        .to_owned(),
                ));
            }
        }
        Role::Operator | Role::Support => {
            if !scope.is_empty() {
                return Err(KeyError(format!(
                    "{} keys have no issuers or merchants: --issuer is for issuer keys, \
                     --merchant for merchant keys",
                    role.as_str()
                )));
            }
        }
    }
    checked.sort();
    checked.dedup();
    Ok(checked)
}

/// Makes an API key of `role` for `scope` (see [`check_scope`]). Only keyed
/// hashes and sealed secrets are stored.
pub async fn create(
    state: &AppState,
    role: Role,
    label: &str,
    scope: &[String],
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
    state
        .store
        .create_api_key(&ApiKeyRecord {
            id: id.clone(),
            key_hash: hash_bearer(&state.keys, LookupPurpose::ApiKey, &key),
            role: role.as_str().to_owned(),
            // An operator's free text: card numbers masked like any other.
            label: tessera_core::text::mask_card_numbers(label).into_owned(),
            scope: scope.clone(),
            signing_secret: sealed,
            created_at: state.now(),
            revoked_at: None,
        })
        .await
        .map_err(|e| KeyError(e.to_string()))?;
    Ok(CreatedKey {
        id,
        key,
        role,
        scope,
        signing_secret,
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
    now: DateTime<Utc>,
) -> Result<ApiKeyView, ApiError> {
    let Some(revoked_at) = state.store.revoke_api_key(id, now).await? else {
        return Err(ErrorCode::NotFound.into());
    };
    tracing::info!(key_id = id, revoked_at = %rfc3339(revoked_at), "api key revoked");
    let keys = state.store.api_keys().await?;
    keys.into_iter()
        .find(|k| k.id == id)
        .map(view)
        .ok_or_else(|| ErrorCode::NotFound.into())
}
