//! The way back for a person who forgot the password, or whose phone was
//! locked by someone else's wrong passwords: a 6-digit code by text
//! message (`POST /v1/sms-codes`), then a new password with it
//! (`POST /v1/password-resets`), which also lifts the sign-in lock and ends
//! every session.
//!
//! Asking for a code answers the same, after the same reads, whether or not
//! the phone has an account: the code is made, kept and sent after the
//! answer, and only for an account. Each comparison with a code is counted
//! in the database before it is made, as sign-in attempts are
//! (`flows/users.rs`), so a code allows at most
//! `limits.sms_code_max_attempts` guesses however many requests race.

use chrono::{DateTime, Utc};
use tessera_core::crypto::{constant_time_eq, random_digits};
use tessera_core::error::{DomainError, ErrorCode, Lockout};
use tessera_core::identity::PhoneNumber;
use tessera_core::vault::LookupPurpose;
use tessera_store::{PasswordReset, SmsCodeClaim, SmsCodePurpose, SmsCodeRecord};
use zeroize::Zeroizing;

use crate::flows::users::sign_in_key;
use crate::http::error::ApiError;
use crate::http::views::{
    PasswordResetRequest, PasswordResetView, SmsCodeAccepted, SmsCodeRequest,
};
use crate::passwords;
use crate::state::AppState;

/// The phone a code was sent to, as a keyed hash: the table is no list of
/// phone numbers.
fn phone_hash(state: &AppState, purpose: SmsCodePurpose, phone: &PhoneNumber) -> String {
    let input = format!("sms-phone:{}:{}", purpose.as_str(), phone.expose());
    hex::encode(
        state
            .keys
            .keyed_hash(LookupPurpose::OtpCode, input.as_bytes()),
    )
}

/// A code as kept: bound to its purpose and phone, so it serves no other.
fn code_hash(state: &AppState, purpose: SmsCodePurpose, phone: &PhoneNumber, code: &str) -> String {
    let input = Zeroizing::new(format!(
        "sms-code:{}:{}:{code}",
        purpose.as_str(),
        phone.expose()
    ));
    hex::encode(
        state
            .keys
            .keyed_hash(LookupPurpose::OtpCode, input.as_bytes()),
    )
}

/// `POST /v1/sms-codes`: 202 with the same body whether or not the phone
/// has an account; a code goes out only to an account's phone.
pub async fn request_code(
    state: &AppState,
    request: &SmsCodeRequest,
    now: DateTime<Utc>,
) -> Result<SmsCodeAccepted, ApiError> {
    let purpose = SmsCodePurpose::parse(&request.purpose)
        .ok_or_else(|| DomainError::new(ErrorCode::InvalidRequest).with_param("purpose"))?;
    let phone = PhoneNumber::parse(&request.phone)?;
    let user = state.store.user_by_phone(phone.expose()).await?;
    if user.is_some_and(|user| user.status == "active") {
        let state = state.clone();
        tokio::spawn(async move {
            send_code(&state, purpose, &phone, now).await;
        });
    }
    Ok(SmsCodeAccepted {
        status: "accepted".to_owned(),
        expires_in: state.config.limits.sms_code_ttl_secs,
    })
}

/// Makes a code, keeps its hash (replacing the phone's code before) and
/// texts it. A failure is logged: the person asks again.
async fn send_code(
    state: &AppState,
    purpose: SmsCodePurpose,
    phone: &PhoneNumber,
    now: DateTime<Utc>,
) {
    let mut digits = [0u8; 6];
    if random_digits(&mut digits).is_err() {
        tracing::error!("the OS random source failed: no reset code was sent");
        return;
    }
    let code = Zeroizing::new(digits.iter().map(|d| char::from(*d)).collect::<String>());
    let limits = &state.config.limits;
    let record = SmsCodeRecord {
        purpose,
        phone_hash: phone_hash(state, purpose, phone),
        code_hash: code_hash(state, purpose, phone, &code),
        expires_at: now + limits.sms_code_ttl(),
        created_at: now,
    };
    if let Err(error) = state.store.put_sms_code(&record).await {
        tracing::warn!(error = %error, to = %phone.masked(), "a reset code could not be kept");
        return;
    }
    let minutes = limits.sms_code_ttl_secs.div_ceil(60);
    let text = Zeroizing::new(format!(
        "【Tessera】验证码 {}，用于重设登录密码，{minutes}分钟内有效。请勿告诉任何人。\
         Tessera: your code to reset your password is {}, valid for {minutes} min. Never share it.",
        code.as_str(),
        code.as_str()
    ));
    match state.sms.send(phone, &text, now).await {
        Ok(()) => tracing::info!(to = %phone.masked(), "reset code sent"),
        Err(error) => {
            tracing::warn!(error = %error, to = %phone.masked(), "a reset code was not sent")
        }
    }
}

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
    let code = request.sms_code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DomainError::new(ErrorCode::InvalidRequest)
            .with_param("sms_code")
            .into());
    }
    // A password that would be refused costs no guess.
    passwords::check_password_strength(&request.new_password)?;
    let phone_hash = phone_hash(state, purpose, &phone);
    let limit = state.config.limits.sms_code_max_attempts;
    let kept = match state
        .store
        .claim_sms_code_attempt(purpose, &phone_hash, limit, now)
        .await?
    {
        SmsCodeClaim::Claimed { code_hash } => code_hash,
        SmsCodeClaim::Expired => return Err(code_error(ErrorCode::SmsCodeExpired)),
        SmsCodeClaim::Spent => {
            return Err(DomainError::locked_out(Lockout::SmsCode)
                .with_param("sms_code")
                .into());
        }
    };
    let typed = code_hash(state, purpose, &phone, code);
    if !constant_time_eq(typed.as_bytes(), kept.as_bytes()) {
        return Err(code_error(ErrorCode::SmsCodeIncorrect));
    }
    // Codes are sent to accounts only; one that is gone since is no way in.
    let user = state
        .store
        .user_by_phone(phone.expose())
        .await?
        .filter(|user| user.status == "active")
        .ok_or_else(|| code_error(ErrorCode::SmsCodeExpired))?;
    let password_hash =
        passwords::hash_password_async(state.keys.clone(), &request.new_password).await?;
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
    tracing::info!(user_id = %user.id, sessions_ended = ended, "password reset");
    Ok(PasswordResetView {
        user_id: user.id.into(),
        sessions_ended: ended,
    })
}

fn code_error(code: ErrorCode) -> ApiError {
    DomainError::new(code).with_param("sms_code").into()
}
