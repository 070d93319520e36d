//! Who is calling: a user's session or an API key with a role, both sent as
//! `Authorization: Bearer ...` and both stored only as keyed hashes. Sign-in
//! passwords are `crate::passwords`'.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use chrono::{DateTime, TimeDelta, Utc};
use tessera_core::error::ErrorCode;
use tessera_core::vault::{KeyRing, LookupPurpose, Sealed};
use tessera_store::{UserId, UserRecord};

use crate::http::error::ApiError;
use crate::state::AppState;

/// Session tokens and API keys say what they are by their prefix.
pub const SESSION_PREFIX: &str = "tss_";
pub const API_KEY_PREFIX: &str = "tsk_";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Operator,
    Support,
    Merchant,
    Issuer,
}

impl Role {
    pub fn parse(name: &str) -> Option<Role> {
        match name {
            "operator" => Some(Role::Operator),
            "support" => Some(Role::Support),
            "merchant" => Some(Role::Merchant),
            "issuer" => Some(Role::Issuer),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Support => "support",
            Role::Merchant => "merchant",
            Role::Issuer => "issuer",
        }
    }
}

#[derive(Debug, Clone)]
pub enum Caller {
    User {
        user_id: UserId,
    },
    Key {
        key_id: String,
        role: Role,
        /// Who holds the key, as named when it was made (the audit keeps it).
        holder: String,
        /// What the key acts for: an issuer key's issuer codes, a merchant
        /// key's merchant ids (`flows::keys`).
        scope: Vec<String>,
        /// An issuer key's event signing secret, as the vault sealed it.
        signing_secret: Option<Sealed>,
    },
}

impl Caller {
    /// The user behind a session, or 403 for an API key.
    pub fn user(&self) -> Result<&UserId, ApiError> {
        match self {
            Caller::User { user_id } => Ok(user_id),
            Caller::Key { .. } => Err(ErrorCode::Forbidden.into()),
        }
    }

    /// The API key's id; None for a person.
    pub fn key_id(&self) -> Option<&str> {
        match self {
            Caller::Key { key_id, .. } => Some(key_id),
            Caller::User { .. } => None,
        }
    }

    /// Passes API keys holding one of `roles`; 403 otherwise.
    pub fn require_role(&self, roles: &[Role]) -> Result<Role, ApiError> {
        match self {
            Caller::Key { role, .. } if roles.contains(role) => Ok(*role),
            _ => Err(ErrorCode::Forbidden.into()),
        }
    }

    /// Whether this API key acts for `owner` (an issuer code or a merchant
    /// id); never for a user.
    pub fn acts_for(&self, owner: &str) -> bool {
        matches!(self, Caller::Key { scope, .. } if scope.iter().any(|s| s == owner))
    }

    /// The scope idempotency keys live in: one per user or API key.
    pub fn scope(&self) -> String {
        match self {
            Caller::User { user_id } => format!("user:{user_id}"),
            Caller::Key { key_id, .. } => format!("key:{key_id}"),
        }
    }
}

pub fn hash_bearer(keys: &KeyRing, purpose: LookupPurpose, secret: &str) -> String {
    hex::encode(keys.keyed_hash(purpose, secret.as_bytes()))
}

/// The bearer secret of a request; 401 without one.
fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let unauthenticated = || ApiError::from(ErrorCode::Unauthenticated);
    let header = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(unauthenticated)?;
    header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .ok_or_else(unauthenticated)
}

/// How long this node trusts a session it has read, in ms.
const SESSION_CACHE_FOR: TimeDelta = TimeDelta::seconds(2);

/// Past this many entries, expired ones are dropped (and all of them if
/// that is not enough): a bound on memory, not a working-set size.
const SESSION_CACHE_MAX: usize = 65_536;

/// Sessions this node has read in the last two seconds: token hash -> user.
/// A user's requests come in bursts (the wallet opens, lists its cards,
/// pays), and each would otherwise read the session again; on PostgreSQL
/// that was one round trip of the four a binding makes.
///
/// Users are never changed once written, and a session only ever ends
/// (sign-out, every session ended, a password reset): the node that ends
/// it drops its entries at once (`forget`, `forget_user`), and another
/// node honours its copy for at most the two seconds it keeps one. The
/// two seconds also bound how long past its expiry a session may still be
/// honoured. The cached user carries no password hash.
#[derive(Debug, Default)]
pub struct SessionCache {
    entries: std::sync::Mutex<CachedSessions>,
}

/// Token hash -> the user (without a password hash) and until when.
type CachedSessions = std::collections::HashMap<String, (UserRecord, DateTime<Utc>)>;

impl SessionCache {
    fn entries(&self) -> std::sync::MutexGuard<'_, CachedSessions> {
        // Entries are whole values: a panicking holder leaves none half
        // written.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Drops the entry of session `hash`: it has ended.
    pub fn forget(&self, hash: &str) {
        self.entries().remove(hash);
    }

    /// Drops every entry of the user: their sessions have ended.
    pub fn forget_user(&self, user_id: &UserId) {
        self.entries().retain(|_, (user, _)| user.id != *user_id);
    }

    /// The signed-in user of session `hash` at `now`, from this cache or
    /// else the store.
    pub async fn user(
        &self,
        state: &AppState,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UserRecord>, ApiError> {
        if let Some((user, until)) = self.entries().get(hash)
            && now < *until
        {
            return Ok(Some(user.clone()));
        }
        let Some(mut user) = state.store.session_user_record(hash, now).await? else {
            self.entries().remove(hash);
            return Ok(None);
        };
        user.password_hash.clear();
        let mut entries = self.entries();
        if entries.len() >= SESSION_CACHE_MAX {
            entries.retain(|_, (_, until)| now < *until);
            if entries.len() >= SESSION_CACHE_MAX {
                entries.clear();
            }
        }
        entries.insert(hash.to_owned(), (user.clone(), now + SESSION_CACHE_FOR));
        Ok(Some(user))
    }
}

/// The caller behind an API key; 401 for an unknown or revoked one. Keys
/// are read from the store on every request, never cached, so a key
/// revoked at any node is refused by every node from its next request on.
async fn key_caller(state: &AppState, secret: &str) -> Result<Caller, ApiError> {
    let hash = hash_bearer(&state.keys, LookupPurpose::ApiKey, secret);
    live_key_caller(state, &hash)
        .await?
        .ok_or_else(|| ApiError::from(ErrorCode::Unauthenticated))
}

/// The caller behind the API key stored under `key_hash`, if that key
/// exists and is not revoked. Read from the store every time: the support
/// console re-checks its session's key with it on every request.
pub async fn live_key_caller(state: &AppState, key_hash: &str) -> Result<Option<Caller>, ApiError> {
    let Some(key) = state.store.api_key(key_hash).await? else {
        return Ok(None);
    };
    if key.revoked_at.is_some() {
        return Ok(None);
    }
    let Some(role) = Role::parse(&key.role) else {
        return Ok(None);
    };
    Ok(Some(Caller::Key {
        key_id: key.id,
        role,
        holder: key.holder,
        scope: key.scope,
        signing_secret: key
            .signing_secret
            .map(|(key_version, blob)| Sealed { key_version, blob }),
    }))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let secret = bearer(parts)?;
        if secret.starts_with(SESSION_PREFIX) {
            let hash = hash_bearer(&state.keys, LookupPurpose::SessionToken, secret);
            let user = state
                .sessions
                .user(state, &hash, state.now())
                .await?
                .ok_or(ErrorCode::Unauthenticated)?;
            return Ok(Caller::User { user_id: user.id });
        }
        if secret.starts_with(API_KEY_PREFIX) {
            return key_caller(state, secret).await;
        }
        Err(ErrorCode::Unauthenticated.into())
    }
}

/// The session a request is signed in with: for the routes about
/// sessions themselves (sign-out, the list that marks the current one).
#[derive(Debug, Clone)]
pub struct CurrentSession {
    pub user_id: UserId,
    /// The keyed hash of the bearer token, as stored.
    pub token_hash: String,
}

impl FromRequestParts<AppState> for CurrentSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let secret = bearer(parts)?;
        if secret.starts_with(SESSION_PREFIX) {
            let token_hash = hash_bearer(&state.keys, LookupPurpose::SessionToken, secret);
            let user = state
                .sessions
                .user(state, &token_hash, state.now())
                .await?
                .ok_or(ErrorCode::Unauthenticated)?;
            return Ok(CurrentSession {
                user_id: user.id,
                token_hash,
            });
        }
        if secret.starts_with(API_KEY_PREFIX) {
            key_caller(state, secret).await?;
            return Err(ErrorCode::Forbidden.into());
        }
        Err(ErrorCode::Unauthenticated.into())
    }
}

/// A signed-in user with their record, for the routes that need it (binding
/// checks the real name and the phone): the session and the user are read
/// together (`Store::session_user_record`), one round trip on PostgreSQL
/// where `Caller` and then the user took two. An API key is 403, as for
/// `Caller::user`.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub caller: Caller,
    pub user: UserRecord,
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let secret = bearer(parts)?;
        if secret.starts_with(SESSION_PREFIX) {
            let hash = hash_bearer(&state.keys, LookupPurpose::SessionToken, secret);
            let user = state
                .sessions
                .user(state, &hash, state.now())
                .await?
                .ok_or(ErrorCode::Unauthenticated)?;
            return Ok(SignedIn {
                caller: Caller::User {
                    user_id: user.id.clone(),
                },
                user,
            });
        }
        if secret.starts_with(API_KEY_PREFIX) {
            key_caller(state, secret).await?;
            return Err(ErrorCode::Forbidden.into());
        }
        Err(ErrorCode::Unauthenticated.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_store::test_support::at;

    #[tokio::test]
    async fn a_session_is_read_once_per_two_seconds_and_cached_without_its_password_hash() {
        let dir = tempfile::tempdir().unwrap();
        let config = crate::Config {
            data_dir: dir.path().join("data"),
            ..crate::Config::default()
        };
        let state = crate::open(config).await.unwrap().state;
        let store = &state.store;
        store
            .create_user(&tessera_store::NewUser {
                id: "usr_1".to_owned().into(),
                phone: "+8613800000001".to_owned(),
                real_name: "张三".to_owned(),
                real_name_normalized: "张三".to_owned(),
                id_number_hash: "idh".to_owned(),
                id_number_last4: "0011".to_owned(),
                password_hash: "$argon2id$stored".to_owned(),
                birthday_pins: None,
                created_at: at(0),
            })
            .await
            .unwrap();
        // The session runs out at 10 s.
        store
            .create_session(&tessera_store::SessionRecord {
                id: "ses_1".to_owned(),
                token_hash: "h1".to_owned(),
                user_id: "usr_1".into(),
                expires_at: at(10_000),
                created_at: at(0),
                user_agent: None,
            })
            .await
            .unwrap();
        let cache = SessionCache::default();
        let user = cache.user(&state, "h1", at(9_000)).await.unwrap().unwrap();
        assert_eq!(
            (user.id.as_str(), user.real_name.as_str()),
            ("usr_1", "张三")
        );
        assert!(user.password_hash.is_empty());
        assert!(
            cache
                .entries()
                .values()
                .all(|(u, _)| u.password_hash.is_empty())
        );
        // Within two seconds the cache answers, even past the expiry...
        assert!(
            cache
                .user(&state, "h1", at(10_500))
                .await
                .unwrap()
                .is_some()
        );
        // ...after them the store does, and the session has run out.
        assert!(
            cache
                .user(&state, "h1", at(11_001))
                .await
                .unwrap()
                .is_none()
        );
        assert!(cache.entries().is_empty());
        // An unknown session is not remembered.
        assert!(
            cache
                .user(&state, "nope", at(9_000))
                .await
                .unwrap()
                .is_none()
        );
        assert!(!cache.entries().contains_key("nope"));
        // An ended session leaves this node's cache at once: by its hash,
        // or with every session of its user.
        let read = |hash: &'static str| {
            let (cache, state) = (&cache, &state);
            async move { cache.user(state, hash, at(9_000)).await.unwrap() }
        };
        assert!(read("h1").await.is_some());
        cache.forget("h1");
        assert!(cache.entries().is_empty());
        assert!(read("h1").await.is_some());
        cache.forget_user(&"usr_2".into());
        assert_eq!(cache.entries().len(), 1);
        cache.forget_user(&"usr_1".into());
        assert!(cache.entries().is_empty());
    }
}
