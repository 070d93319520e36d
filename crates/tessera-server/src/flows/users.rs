//! Signing up and signing in. A sign-in's failures are counted per phone
//! and rate-limited, and an unknown phone costs the same Argon2 work as a
//! wrong password, so that neither the answer nor its timing says which
//! phones have accounts.

use chrono::{DateTime, Duration, Utc};
use tessera_core::card::expiry::wallet_today;
use tessera_core::card::holder_name::HolderName;
use tessera_core::error::{DomainError, ErrorCode};
use tessera_core::identity::{IdNumber, PhoneNumber};
use tessera_core::vault::LookupPurpose;
use tessera_store::{Constraint, NewUser, SessionRecord, StoreError, UserRecord};

use crate::http::auth::{self, SESSION_PREFIX};
use crate::http::error::{ApiError, rfc3339};
use crate::http::views::{CreateSessionRequest, CreateUserRequest, SessionView};
use crate::ids;
use crate::passwords;
use crate::state::AppState;

/// Validates a sign-up and stores the user (also used by `tessera demo`).
pub async fn sign_up(
    state: &AppState,
    request: &CreateUserRequest,
    now: DateTime<Utc>,
) -> Result<UserRecord, ApiError> {
    let phone = PhoneNumber::parse(&request.phone)?;
    let real_name = HolderName::parse(&request.real_name)
        .map_err(|_| DomainError::new(ErrorCode::InvalidRequest).with_param("real_name"))?;
    // A birth date after today is refused, today on the service's clock.
    let today = wallet_today(now, state.time_zone);
    let id_number = IdNumber::parse_on(&request.id_number, today)?;
    passwords::check_password_strength(&request.password)?;
    let password_hash =
        passwords::hash_password_async(state.keys.clone(), &request.password).await?;
    let new_user = NewUser {
        id: ids::user_id(),
        phone: phone.expose().to_owned(),
        real_name: real_name.as_str().to_owned(),
        real_name_normalized: real_name.normalized().to_owned(),
        id_number_hash: state
            .keys
            .id_number_hash(id_number.expose())
            .as_str()
            .to_owned(),
        id_number_last4: id_number.last4().to_owned(),
        password_hash,
        created_at: now,
    };
    let user = match state.store.create_user(&new_user).await {
        Ok(user) => user,
        Err(StoreError::Conflict(Constraint::UserPhone)) => {
            return Err(DomainError::new(ErrorCode::PhoneTaken)
                .with_param("phone")
                .into());
        }
        Err(error) => return Err(error.into()),
    };
    tracing::info!(user_id = %user.id, "user signed up");
    Ok(user)
}

/// Signs in: a new session for the phone and password, or 401 without
/// saying which was wrong; 429 once a phone failed too often lately.
pub async fn sign_in(
    state: &AppState,
    request: &CreateSessionRequest,
    now: DateTime<Utc>,
) -> Result<SessionView, ApiError> {
    let window = Duration::seconds(i64::try_from(state.config.login_window_secs).unwrap_or(900));
    // Failures are counted per phone as typed (normalized when it parses),
    // under a keyed hash: the table must not become a list of phone numbers.
    let phone_key = PhoneNumber::parse(&request.phone)
        .map(|p| p.expose().to_owned())
        .unwrap_or_else(|_| request.phone.trim().to_owned());
    let phone_hash = hex::encode(state.keys.keyed_hash(
        LookupPurpose::SessionToken,
        format!("login:{phone_key}").as_bytes(),
    ));
    if let Some(failures) = state.store.login_failures(&phone_hash).await?
        && failures.failures >= state.config.login_max_failures
        && failures.window_started_at + window > now
    {
        let retry = (failures.window_started_at + window - now).num_seconds() + 1;
        return Err(DomainError::new(ErrorCode::RateLimited)
            .with_retry_after(u64::try_from(retry).unwrap_or(1))
            .into());
    }
    let user = state.store.user_by_phone(&phone_key).await?;
    let valid = match &user {
        Some(user) => {
            passwords::verify_password_async(
                state.keys.clone(),
                &request.password,
                &user.password_hash,
            )
            .await
        }
        None => {
            // Spend the same work as a real check, so timing does not tell
            // which phones have accounts.
            let _ = passwords::hash_password_async(state.keys.clone(), &request.password).await;
            false
        }
    };
    let Some(user) = user.filter(|u| valid && u.status == "active") else {
        state
            .store
            .record_login_failure(&phone_hash, now, window)
            .await?;
        return Err(ErrorCode::Unauthenticated.into());
    };
    state.store.clear_login_failures(&phone_hash).await?;
    let token = ids::bearer_secret(SESSION_PREFIX);
    let expires_at =
        now + Duration::seconds(i64::try_from(state.config.session_ttl_secs).unwrap_or(3600));
    state
        .store
        .create_session(&SessionRecord {
            token_hash: auth::hash_bearer(&state.keys, LookupPurpose::SessionToken, &token),
            user_id: user.id.clone(),
            expires_at,
            created_at: now,
        })
        .await?;
    Ok(SessionView {
        token,
        expires_at: rfc3339(expires_at),
        user_id: user.id.into(),
    })
}
