//! The way back for a person who forgot the password, or whose phone was
//! locked by someone else's wrong passwords: a 6-digit code by text
//! message (`POST /v1/sms-codes`, purpose `reset_password`, in
//! `flows/sms_codes.rs`), then a new password with it
//! (`POST /v1/password-resets`), which also lifts the sign-in lock and ends
//! every session.

use chrono::{DateTime, Utc};
use tessera_core::error::ErrorCode;
use tessera_core::identity::PhoneNumber;
use tessera_store::{PasswordReset, SmsCodePurpose};

use crate::flows::sms_codes::{check_code, code_error, phone_hash, well_formed};
use crate::flows::users::sign_in_key;
use crate::http::error::ApiError;
use crate::http::views::{PasswordResetRequest, PasswordResetView};
use crate::passwords;
use crate::state::AppState;

/// `POST /v1/password-resets`: the code checked (counted first), then the
/// new password set, the sign-in lock lifted and every session ended, in
/// one transaction.
pub async fn reset_password(
    state: &AppState,
    request: &PasswordResetRequest,
    now: DateTime<Utc>,
) -> Result<PasswordResetView, ApiError> {
    let purpose = SmsCodePurpose::ResetPassword;
    let phone = PhoneNumber::parse(&request.phone)?;
    well_formed(&request.sms_code)?;
    // A password that would be refused costs no guess.
    passwords::check_password_strength(&request.new_password)?;
    let kept = check_code(state, purpose, &phone, &request.sms_code, now).await?;
    let phone_hash = phone_hash(state, purpose, &phone);
    // Codes are sent to accounts only; one that is gone since is no way in.
    let user = state
        .store
        .user_by_phone(phone.expose())
        .await?
        .filter(|user| user.status == "active")
        .ok_or_else(|| code_error(ErrorCode::SmsCodeExpired))?;
    let password_hash = state
        .argon2
        .hash_password(state.keys.clone(), &request.new_password)
        .await?;
    let ended = state
        .store
        .reset_password(&PasswordReset {
            purpose,
            phone_hash,
            code_hash: kept,
            user_id: user.id.clone(),
            password_hash,
            sign_in_key: sign_in_key(state, phone.expose()),
        })
        .await?
        // Another request used the code first.
        .ok_or_else(|| code_error(ErrorCode::SmsCodeExpired))?;
    state.sessions.forget_user(&user.id);
    // The payments right after score higher (`risk.after_password_reset`).
    state.store.note_credentials_reset(&user.id, now).await?;
    tracing::info!(user_id = %user.id, sessions_ended = ended, "password reset");
    Ok(PasswordResetView {
        user_id: user.id.into(),
        sessions_ended: ended,
    })
}
