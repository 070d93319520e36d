//! Who is calling: a user's session or an API key with a role, both sent as
//! `Authorization: Bearer ...` and both stored only as keyed hashes. Sign-in
//! passwords are Argon2id with a secret pepper.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use tessera_core::error::{DomainError, ErrorCode};
use tessera_core::vault::{KeyRing, LookupPurpose};

use crate::error::ApiError;
use crate::state::{AppState, millis};

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
    User { user_id: String },
    Key { key_id: String, role: Role },
}

impl Caller {
    /// The user behind a session, or 403 for an API key.
    pub fn user(&self) -> Result<&str, ApiError> {
        match self {
            Caller::User { user_id } => Ok(user_id),
            Caller::Key { .. } => Err(ErrorCode::Forbidden.into()),
        }
    }

    /// Passes API keys holding one of `roles`; 403 otherwise.
    pub fn require_role(&self, roles: &[Role]) -> Result<Role, ApiError> {
        match self {
            Caller::Key { role, .. } if roles.contains(role) => Ok(*role),
            _ => Err(ErrorCode::Forbidden.into()),
        }
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

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let unauthenticated = || ApiError::from(ErrorCode::Unauthenticated);
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(unauthenticated)?;
        let secret = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .ok_or_else(unauthenticated)?;
        if secret.starts_with(SESSION_PREFIX) {
            let hash = hash_bearer(&state.keys, LookupPurpose::SessionToken, secret);
            let user_id = state
                .store
                .session_user(&hash, millis(state.now()))
                .await?
                .ok_or_else(unauthenticated)?;
            return Ok(Caller::User { user_id });
        }
        if secret.starts_with(API_KEY_PREFIX) {
            let hash = hash_bearer(&state.keys, LookupPurpose::ApiKey, secret);
            let key = state
                .store
                .api_key(&hash)
                .await?
                .ok_or_else(unauthenticated)?;
            if key.revoked_at.is_some() {
                return Err(unauthenticated());
            }
            let role = Role::parse(&key.role).ok_or_else(unauthenticated)?;
            return Ok(Caller::Key {
                key_id: key.id,
                role,
            });
        }
        Err(unauthenticated())
    }
}

fn argon2(keys: &KeyRing) -> Result<Argon2<'_>, DomainError> {
    // OWASP's second Argon2id profile: 19 MiB, 2 passes, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None)
        .map_err(|_| DomainError::new(ErrorCode::InternalError))?;
    Argon2::new_with_secret(
        keys.lookup_key(LookupPurpose::PaymentPasswordPepper)
            .expose_secret()
            .expose_bytes(),
        Algorithm::Argon2id,
        Version::V0x13,
        params,
    )
    .map_err(|_| DomainError::new(ErrorCode::InternalError))
}

/// An Argon2id PHC string for a sign-in password, peppered with a key that
/// never reaches the database.
pub fn hash_password(keys: &KeyRing, password: &str) -> Result<String, DomainError> {
    let mut salt = [0u8; 16];
    tessera_core::crypto::random_bytes(&mut salt)
        .map_err(|_| DomainError::new(ErrorCode::InternalError))?;
    let hash: PasswordHash = argon2(keys)?
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map_err(|_| DomainError::new(ErrorCode::InternalError))?;
    Ok(hash.to_string())
}

pub fn verify_password(keys: &KeyRing, password: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    argon2(keys).is_ok_and(|argon| argon.verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Sign-up's password rule: at least 8 characters, letters and digits.
pub fn check_password_strength(password: &str) -> Result<(), DomainError> {
    let long_enough = password.chars().count() >= 8 && password.len() <= 256;
    let letters = password.chars().any(char::is_alphabetic);
    let digits = password.chars().any(|c| c.is_ascii_digit());
    if long_enough && letters && digits {
        Ok(())
    } else {
        Err(DomainError::new(ErrorCode::WeakPassword).with_param("password"))
    }
}

/// Argon2id takes 19 MiB and tens of milliseconds of CPU per hash. It runs
/// on two threads of its own, never on the request threads: a burst of
/// sign-ins queues instead of starving every other request, and memory stays
/// bounded (on tokio's blocking pool every new thread kept its own 19 MiB
/// arena: 700 MB after a few hundred sign-ins).
const ARGON2_THREADS: usize = 2;

type Argon2Job = Box<dyn FnOnce() + Send>;

fn argon2_threads() -> Option<&'static std::sync::Mutex<std::sync::mpsc::Sender<Argon2Job>>> {
    static POOL: std::sync::OnceLock<Option<std::sync::Mutex<std::sync::mpsc::Sender<Argon2Job>>>> =
        std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        let (jobs, queue) = std::sync::mpsc::channel::<Argon2Job>();
        let queue = std::sync::Arc::new(std::sync::Mutex::new(queue));
        for n in 0..ARGON2_THREADS {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    loop {
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if spawned.is_err() {
                return None;
            }
        }
        Some(std::sync::Mutex::new(jobs))
    })
    .as_ref()
}

async fn off_the_request_threads<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, DomainError> {
    let internal = || DomainError::new(ErrorCode::InternalError);
    let (answer, answered) = tokio::sync::oneshot::channel();
    let job: Argon2Job = Box::new(move || {
        let _ = answer.send(work());
    });
    argon2_threads()
        .ok_or_else(internal)?
        .lock()
        .map_err(|_| internal())?
        .send(job)
        .map_err(|_| internal())?;
    answered.await.map_err(|_| internal())
}

/// [`hash_password`] on the Argon2 threads.
pub async fn hash_password_async(
    keys: std::sync::Arc<KeyRing>,
    password: &str,
) -> Result<String, DomainError> {
    let password = zeroize::Zeroizing::new(password.to_owned());
    off_the_request_threads(move || hash_password(&keys, &password)).await?
}

/// [`verify_password`] on the Argon2 threads.
pub async fn verify_password_async(
    keys: std::sync::Arc<KeyRing>,
    password: &str,
    stored: &str,
) -> bool {
    let password = zeroize::Zeroizing::new(password.to_owned());
    let stored = stored.to_owned();
    off_the_request_threads(move || verify_password(&keys, &password, &stored))
        .await
        .unwrap_or(false)
}
