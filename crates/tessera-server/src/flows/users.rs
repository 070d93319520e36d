//! Signing up and signing in. A sign-in's attempts are counted per phone,
//! before the password is checked, and limited; an unknown phone costs the
//! same Argon2 work as a wrong password, so that neither the answer nor its
//! timing says which phones have accounts.

use chrono::{DateTime, Duration, Utc};
use tessera_core::card::expiry::wallet_today;
use tessera_core::card::holder_name::HolderName;
use tessera_core::error::{DomainError, ErrorCode, Lockout};
use tessera_core::identity::{IdNumber, PhoneNumber};
use tessera_core::vault::LookupPurpose;
use tessera_store::{
    AccountEvent, AttemptClaim, Constraint, NewUser, SessionRecord, SignUp, SignUpOutcome,
    SmsCodePurpose, StoreError, TimelineType, UserRecord,
};

use crate::flows::audit::{self, Actor};
use crate::flows::payment_password;
use crate::flows::sms_codes;
use crate::http::auth::{self, Caller, SESSION_PREFIX};
use crate::http::error::{ApiError, rfc3339};
use crate::http::views::{CreateSessionRequest, CreateUserRequest, SessionView};
use crate::identity::IdentityVerdict;
use crate::ids;
use crate::passwords::{self, PasswordCheck};
use crate::state::AppState;

/// Signs a person up: the phone proven by its `sign_up` code, the real
/// name and ID number confirmed by the identity provider, then the user
/// stored, the code used up and the ID number's wallets counted in one
/// transaction. Each refusal leaves nothing stored.
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
    sms_codes::well_formed(&request.sms_code)?;
    // A refusal that needs no code costs no guess.
    passwords::check_password_strength(&request.password)?;
    let purpose = SmsCodePurpose::SignUp;
    let code_hash = sms_codes::check_code(state, purpose, &phone, &request.sms_code, now).await?;
    // The phone is proven: its owner may learn it has an account, before
    // the provider is asked.
    if state.store.user_by_phone(phone.expose()).await?.is_some() {
        return Err(phone_taken());
    }
    match state.identity.verify(real_name.as_str(), &id_number).await {
        Ok(IdentityVerdict::Match) => {}
        Ok(IdentityVerdict::Mismatch) => {
            return Err(identity_refused(ErrorCode::IdentityMismatch, "real_name"));
        }
        Ok(IdentityVerdict::NotFound) => {
            return Err(identity_refused(ErrorCode::IdentityNotFound, "id_number"));
        }
        Err(error) => {
            tracing::warn!(error = %error, "identity check failed: no verdict");
            return Err(ErrorCode::IdentityUnavailable.into());
        }
    }
    let password_hash = state
        .argon2
        .hash_password(state.keys.clone(), &request.password)
        .await?;
    let sign_up = SignUp {
        user: NewUser {
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
            birthday_pins: Some(payment_password::birthday_pins(state, &id_number)),
            created_at: now,
        },
        phone_hash: sms_codes::phone_hash(state, purpose, &phone),
        code_hash,
        wallets_per_id_number: state.config.limits.wallets_per_id_number,
    };
    let user = match state.store.sign_up(&sign_up).await {
        Ok(SignUpOutcome::Created(user)) => *user,
        // Another sign-up used the code first.
        Ok(SignUpOutcome::CodeUsed) => {
            return Err(sms_codes::code_error(ErrorCode::SmsCodeExpired));
        }
        Ok(SignUpOutcome::IdNumberFull) => {
            return Err(identity_refused(ErrorCode::IdNumberTaken, "id_number"));
        }
        Err(StoreError::Conflict(Constraint::UserPhone)) => return Err(phone_taken()),
        Err(error) => return Err(error.into()),
    };
    tracing::info!(user_id = %user.id, "user signed up");
    Ok(user)
}

fn phone_taken() -> ApiError {
    DomainError::new(ErrorCode::PhoneTaken)
        .with_param("phone")
        .into()
}

fn identity_refused(code: ErrorCode, param: &'static str) -> ApiError {
    DomainError::new(code).with_param(param).into()
}

/// The keyed hash sign-in attempts of a phone are counted under: the
/// phone as typed (normalized when it parses), so that a phone without an
/// account is counted like one with, and the table is no list of phones.
pub fn sign_in_key(state: &AppState, phone: &str) -> String {
    let phone_key = typed_phone(phone);
    hex::encode(state.keys.keyed_hash(
        LookupPurpose::SessionToken,
        format!("login:{phone_key}").as_bytes(),
    ))
}

/// A phone as typed: normalized when it parses, trimmed otherwise.
fn typed_phone(phone: &str) -> String {
    PhoneNumber::parse(phone)
        .map(|p| p.expose().to_owned())
        .unwrap_or_else(|_| phone.trim().to_owned())
}

/// Signs in: a new session for the phone and password, or
/// `invalid_credentials` without saying which was wrong; once a phone used
/// up its attempts, `too_many_attempts` until the window ends.
///
/// The attempt is counted in the database before the password is checked
/// (and given back when it was right), so at most
/// `limits.sign_in_max_attempts` passwords per phone are ever checked in a
/// window, however many requests race on however many nodes.
pub async fn sign_in(
    state: &AppState,
    request: &CreateSessionRequest,
    user_agent: Option<&str>,
    trace_id: &str,
    now: DateTime<Utc>,
) -> Result<SessionView, ApiError> {
    let limits = &state.config.limits;
    let window = limits.sign_in_window();
    let phone_hash = sign_in_key(state, &request.phone);
    let claimed = match state
        .store
        .claim_login_attempt(&phone_hash, limits.sign_in_max_attempts, now, window)
        .await?
    {
        AttemptClaim::Counted(claimed) => claimed,
        AttemptClaim::Refused(started) => {
            // Had the row gone meanwhile, a second's wait is enough.
            let until = started.map_or(now + Duration::seconds(1), |s| s + window);
            return Err(locked_until(until, now).into());
        }
    };
    let user = state
        .store
        .user_by_phone(&typed_phone(&request.phone))
        .await?;
    let checked = match &user {
        Some(user) => {
            state
                .argon2
                .check_password(state.keys.clone(), &request.password, &user.password_hash)
                .await
        }
        None => {
            // Spend the same work as a real check, so timing does not tell
            // which phones have accounts.
            state
                .argon2
                .hash_password(state.keys.clone(), &request.password)
                .await
                .map(|_| PasswordCheck::Wrong)
        }
    };
    let check = match checked {
        Ok(check) => check,
        Err(error) => {
            // Shed or failed before any password was compared: the
            // attempt goes back, so an overloaded server never locks
            // anyone out.
            state
                .store
                .give_back_login_attempt(&phone_hash, claimed.window_started_at)
                .await?;
            return Err(error.into());
        }
    };
    // Shortened, as the session keeps it: enough to tell devices apart.
    let user_agent = user_agent
        .map(|agent| agent.trim().chars().take(200).collect::<String>())
        .filter(|agent| !agent.is_empty());
    let Some(user) = user
        .as_ref()
        .filter(|u| check.is_right() && u.status == "active")
    else {
        // The attempt stays counted. Support sees it on the person's
        // timeline, when the phone is someone's.
        if let Some(user) = &user {
            let mut noted = note(user, TimelineType::SignInFailed, trace_id, now);
            noted.detail = user_agent.clone();
            record(state, noted).await;
            if claimed.failures >= limits.sign_in_max_attempts {
                let mut locked = note(user, TimelineType::SignInLocked, trace_id, now);
                locked.detail = Some(rfc3339(claimed.window_started_at + window));
                record(state, locked).await;
            }
        }
        if claimed.failures >= limits.sign_in_max_attempts {
            // A phone without an account is locked too: the entry then
            // names no one.
            let user_id = user.as_ref().map(|u| &u.id);
            if let Err(error) = Actor::service(trace_id)
                .record(state, audit::SIGN_IN_LOCKED, user_id, None)
                .await
            {
                tracing::warn!(error = %error.0.code.as_str(), "sign-in lockout not audited");
            }
        }
        // Said only to whoever knows the password: to anyone else a
        // closed account's phone answers as any wrong password does.
        if check.is_right() && user.as_ref().is_some_and(|u| u.status == "closed") {
            return Err(ErrorCode::AccountClosed.into());
        }
        return Err(ErrorCode::InvalidCredentials.into());
    };
    state
        .store
        .give_back_login_attempt(&phone_hash, claimed.window_started_at)
        .await?;
    if check == PasswordCheck::RightUnderOldPepper {
        rehash_with_sign_in_pepper(state, user, &request.password).await;
    }
    let token = ids::bearer_secret(SESSION_PREFIX);
    let expires_at =
        now + Duration::seconds(i64::try_from(state.config.session_ttl_secs).unwrap_or(3600));
    let session_id = ids::session_id();
    state
        .store
        .create_session(&SessionRecord {
            id: session_id.clone(),
            token_hash: auth::hash_bearer(&state.keys, LookupPurpose::SessionToken, &token),
            user_id: user.id.clone(),
            expires_at,
            created_at: now,
            // Enough to tell one's devices apart; a longer one is cut.
            user_agent: user_agent.clone(),
        })
        .await?;
    let mut noted = note(user, TimelineType::SignIn, trace_id, now);
    noted.detail = user_agent;
    record(state, noted).await;
    let caller = Caller::User {
        user_id: user.id.clone(),
    };
    Actor::caller(&caller, trace_id)
        .record(
            state,
            audit::SIGNED_IN,
            Some(&user.id),
            Some(format!("session:{session_id}")),
        )
        .await?;
    Ok(SessionView {
        token,
        expires_at: rfc3339(expires_at),
        user_id: user.id.clone().into(),
    })
}

/// An account event of `user` for the timeline support reads.
fn note(user: &UserRecord, kind: TimelineType, trace_id: &str, now: DateTime<Utc>) -> AccountEvent {
    AccountEvent {
        user_id: user.id.clone(),
        kind,
        trace_id: Some(trace_id.to_owned()),
        detail: None,
        created_at: now,
    }
}

/// Records an account event. The sign-in's answer does not wait on it
/// going wrong: a failure is logged and the answer stands.
pub async fn record(state: &AppState, event: AccountEvent) {
    if let Err(error) = state.store.record_account_event(&event).await {
        tracing::warn!(user_id = %event.user_id, kind = event.kind.as_str(), error = %error,
            "account event not recorded");
    }
}

/// Moves a hash made under the payment-password pepper to the sign-in
/// pepper, now that the password is known right. A failure only leaves
/// the old hash, which still verifies: the next sign-in tries again.
async fn rehash_with_sign_in_pepper(state: &AppState, user: &UserRecord, password: &str) {
    let rehashed = match state
        .argon2
        .hash_password(state.keys.clone(), password)
        .await
    {
        Ok(hash) => {
            state
                .store
                .rehash_password(&user.id, &user.password_hash, &hash)
                .await
        }
        Err(error) => {
            tracing::warn!(user_id = %user.id, error = %error, "password rehash failed");
            return;
        }
    };
    match rehashed {
        Ok(true) => tracing::info!(user_id = %user.id, "password moved to the sign-in pepper"),
        // Reset meanwhile: the new hash has the sign-in pepper already.
        Ok(false) => {}
        Err(error) => tracing::warn!(user_id = %user.id, error = %error, "password rehash failed"),
    }
}

/// `too_many_attempts` for a sign-in lock that lifts at `until`: the time
/// in the body, the seconds left in `Retry-After`.
fn locked_until(until: DateTime<Utc>, now: DateTime<Utc>) -> DomainError {
    let left = (until - now).num_milliseconds().max(0);
    let seconds = u64::try_from(((left + 999) / 1000).max(1)).unwrap_or(1);
    DomainError::locked_out(Lockout::SignIn)
        .with_locked_until(until)
        .with_retry_after(seconds)
}
