//! The payment password (`PUT /v1/me/payment-password`): six digits, none
//! of the choices anyone would guess first (`tessera_core::payment_password`),
//! stored as Argon2id under a pepper of its own (`passwords.rs`). Every
//! check is counted in the database before it is made: after
//! `limits.payment_password_max_failures` wrong entries in a row,
//! everything that needs it is locked for `limits.payment_password_lock_secs`,
//! across nodes, restarts and parallel requests. A forgotten one is reset
//! with a `reset_payment_password` text-message code and the full ID
//! number, which also lifts the lock.

use chrono::{DateTime, Utc};
use tessera_core::crypto::constant_time_eq;
use tessera_core::error::{DomainError, ErrorCode};
use tessera_core::identity::{IdNumber, PhoneNumber};
use tessera_core::payment_password;
use tessera_core::vault::LookupPurpose;
use tessera_store::{PaymentPasswordClaim, SmsCodePurpose, UserRecord};

use crate::flows::audit::{self, Actor};
use crate::flows::sms_codes;
use crate::http::auth::Caller;
use crate::http::error::{ApiError, rfc3339};
use crate::http::views::{PaymentPasswordRequest, PaymentPasswordView};
use crate::passwords::Secret;
use crate::state::AppState;

/// The keyed hashes of a person's birthday PINs, as sign-up keeps them.
pub fn birthday_pins(state: &AppState, id_number: &IdNumber) -> String {
    id_number
        .birthday_pins()
        .iter()
        .map(|pin| birthday_pin_hash(state, pin))
        .collect::<Vec<_>>()
        .join(" ")
}

fn birthday_pin_hash(state: &AppState, pin: &str) -> String {
    hex::encode(
        state
            .keys
            .keyed_hash(LookupPurpose::BirthdayPin, pin.as_bytes()),
    )
}

/// `GET /v1/me/payment-password`.
pub async fn state_of(
    state: &AppState,
    user: &UserRecord,
    now: DateTime<Utc>,
) -> Result<PaymentPasswordView, ApiError> {
    let max = state.config.limits.payment_password_max_failures;
    Ok(match state.store.payment_password_state(&user.id).await? {
        None => PaymentPasswordView {
            set: false,
            attempts_left: None,
            locked_until: None,
        },
        Some(kept) => {
            let locked = kept.locked_until.filter(|until| *until > now);
            let failures = if kept.locked_until.is_some() && locked.is_none() {
                0
            } else {
                kept.failures
            };
            PaymentPasswordView {
                set: true,
                attempts_left: Some(if locked.is_some() {
                    0
                } else {
                    max.saturating_sub(failures)
                }),
                locked_until: locked.map(rfc3339),
            }
        }
    })
}

/// `PUT /v1/me/payment-password`: set the first one, change it with the
/// old one, or reset a forgotten one.
pub async fn set(
    state: &AppState,
    user: &UserRecord,
    request: &PaymentPasswordRequest,
    trace_id: &str,
    now: DateTime<Utc>,
) -> Result<PaymentPasswordView, ApiError> {
    // A choice that would be refused costs no guess and no code.
    judge(state, user, &request.payment_password).await?;
    let is_set = state
        .store
        .payment_password_state(&user.id)
        .await?
        .is_some();
    let mut reset = false;
    match (
        &request.old_payment_password,
        &request.sms_code,
        &request.id_number,
    ) {
        // The first one.
        (None, None, None) if !is_set => {}
        (Some(old), None, None) if is_set => {
            confirm(state, user, old, "old_payment_password", now).await?;
        }
        (Some(_), None, None) => {
            return Err(DomainError::new(ErrorCode::PaymentPasswordNotSet)
                .with_param("old_payment_password")
                .into());
        }
        // A forgotten one (or a first one set this way).
        (None, Some(code), Some(id_number)) => {
            prove_owner(state, user, code, id_number, now).await?;
            reset = is_set;
        }
        // Changing it takes the old one, or a code and the ID number, not
        // a mix of the two.
        (old, code, id_number) => {
            let param = match (old, code, id_number) {
                (None, None, Some(_)) => "sms_code",
                (None, Some(_), None) => "id_number",
                _ => "old_payment_password",
            };
            return Err(DomainError::new(ErrorCode::InvalidRequest)
                .with_param(param)
                .into());
        }
    }
    let hash = state
        .argon2
        .hash_secret(
            state.keys.clone(),
            Secret::PaymentPassword,
            &request.payment_password,
        )
        .await?;
    state
        .store
        .set_payment_password(&user.id, &hash, now)
        .await?;
    if reset {
        // The payments right after score higher (`risk.after_password_reset`).
        state.store.note_credentials_reset(&user.id, now).await?;
    }
    tracing::info!(user_id = %user.id, "payment password set");
    let caller = Caller::User {
        user_id: user.id.clone(),
    };
    let how = if reset { "reset" } else { "set" };
    Actor::caller(&caller, trace_id)
        .record(
            state,
            audit::PAYMENT_PASSWORD_SET,
            Some(&user.id),
            Some(format!("how:{how}")),
        )
        .await?;
    state_of(state, user, now).await
}

/// Refuses the choices anyone would guess first, with the reason.
async fn judge(state: &AppState, user: &UserRecord, pin: &str) -> Result<(), ApiError> {
    let birthdays = state.store.birthday_pins(&user.id).await?;
    payment_password::judge(pin, &user.phone, |pin| {
        let hashed = birthday_pin_hash(state, pin);
        birthdays.contains(&hashed)
    })
    .map_err(|reason| DomainError::too_simple(reason).into())
}

/// Checks the payment password, counted first: `payment_password_incorrect`
/// with `attempts_left`, `payment_password_locked` with when it lifts,
/// `payment_password_not_set`. `param` names the field it came in.
pub async fn confirm(
    state: &AppState,
    user: &UserRecord,
    typed: &str,
    param: &'static str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let limits = &state.config.limits;
    let max = limits.payment_password_max_failures;
    let claim = state
        .store
        .claim_payment_password_check(&user.id, max, now, limits.payment_password_lock())
        .await?;
    let (hash, failures) = match claim {
        PaymentPasswordClaim::NotSet => {
            return Err(DomainError::new(ErrorCode::PaymentPasswordNotSet)
                .with_param(param)
                .into());
        }
        PaymentPasswordClaim::Locked(until) => return Err(locked(until, now, param)),
        PaymentPasswordClaim::Counted { hash, failures } => (hash, failures),
    };
    let check = state
        .argon2
        .check_secret(state.keys.clone(), Secret::PaymentPassword, typed, &hash)
        .await;
    match check {
        Ok(check) if check.is_right() => {
            state.store.payment_password_right(&user.id).await?;
            Ok(())
        }
        // This wrong one locked it: told so, with no tries left (a check
        // refused unchecked carries no `attempts_left`).
        Ok(_) if failures >= max => {
            tracing::warn!(user_id = %user.id, "payment password locked");
            let until = now + limits.payment_password_lock();
            Err(ApiError(locked(until, now, param).0.with_attempts_left(0)))
        }
        Ok(_) => Err(DomainError::new(ErrorCode::PaymentPasswordIncorrect)
            .with_param(param)
            .with_attempts_left(max - failures)
            .into()),
        // Shed before the check: it was not made, so it does not count.
        Err(shed) => {
            state
                .store
                .give_back_payment_password_check(&user.id, failures)
                .await?;
            Err(shed.into())
        }
    }
}

fn locked(until: DateTime<Utc>, now: DateTime<Utc>, param: &'static str) -> ApiError {
    let secs = u64::try_from((until - now).num_seconds())
        .unwrap_or(0)
        .max(1);
    DomainError::new(ErrorCode::PaymentPasswordLocked)
        .with_param(param)
        .with_locked_until(until)
        .with_retry_after(secs)
        .into()
}

/// A forgotten payment password: the text-message code (spent whatever
/// follows, so that each guess of the ID number costs a code) and the
/// full ID number, compared by its keyed hash.
async fn prove_owner(
    state: &AppState,
    user: &UserRecord,
    code: &str,
    id_number: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let purpose = SmsCodePurpose::ResetPaymentPassword;
    let phone = PhoneNumber::parse(&user.phone)?;
    let kept = sms_codes::check_code(state, purpose, &phone, code, now).await?;
    let phone_hash = sms_codes::phone_hash(state, purpose, &phone);
    if !state
        .store
        .use_sms_code(purpose, &phone_hash, &kept)
        .await?
    {
        // Another request used the code first.
        return Err(sms_codes::code_error(ErrorCode::SmsCodeExpired));
    }
    let typed = state.keys.id_number_hash(id_number);
    if !constant_time_eq(typed.as_str().as_bytes(), user.id_number_hash.as_bytes()) {
        tracing::warn!(user_id = %user.id, "payment password reset with another ID number");
        return Err(DomainError::new(ErrorCode::IdNumberIncorrect)
            .with_param("id_number")
            .into());
    }
    Ok(())
}
