//! The wallet's own text-message codes, one store for every purpose
//! (`sign_up`, `reset_password`): asked for at `POST /v1/sms-codes`, kept
//! as keyed hashes bound to their purpose and phone, and checked with each
//! comparison counted in the database before it is made, so a code allows
//! at most `limits.sms_code_max_attempts` guesses however many requests
//! race. Every text counts against the phone's `limits.phone_sms_per_day`
//! (with the bank's binding codes).
//!
//! Asking for a code answers the same, after the same reads, whether or not
//! the phone has an account. A sign-up code goes to any phone, before the
//! answer, so a failure to send is the person's `sms_unavailable`. A reset
//! code goes only to an account's phone, after the answer, so that neither
//! the answer nor its timing tells which phones have accounts.

use chrono::{DateTime, Utc};
use tessera_core::crypto::{constant_time_eq, random_digits};
use tessera_core::error::{AttemptLimit, DomainError, ErrorCode, Lockout};
use tessera_core::identity::PhoneNumber;
use tessera_core::vault::LookupPurpose;
use tessera_store::{SmsCodeClaim, SmsCodePurpose, SmsCodeRecord};
use zeroize::Zeroizing;

use crate::flows::binding::claim_limits;
use crate::http::error::ApiError;
use crate::http::views::{SmsCodeAccepted, SmsCodeRequest};
use crate::state::AppState;

/// The phone a code was sent to, as a keyed hash: the table is no list of
/// phone numbers.
pub(crate) fn phone_hash(state: &AppState, purpose: SmsCodePurpose, phone: &PhoneNumber) -> String {
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

/// Counts one text to `phone` against `limits.phone_sms_per_day`, or
/// refuses it (`too_many_attempts`, limit `phone_sms`). The bucket holds a
/// keyed hash of the number, never the number.
pub(crate) async fn claim_phone_sms(
    state: &AppState,
    phone: &PhoneNumber,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let phone_hash = hex::encode(state.keys.keyed_hash(
        LookupPurpose::SessionToken,
        format!("sms:{}", phone.expose()).as_bytes(),
    ));
    claim_limits(
        state,
        &[(
            AttemptLimit::PhoneSms,
            format!("phone:{phone_hash}"),
            state.config.limits.phone_sms_per_day,
        )],
        now,
    )
    .await
}

/// `POST /v1/sms-codes`: 202 with the same body whether or not the phone
/// has an account.
pub async fn request_code(
    state: &AppState,
    request: &SmsCodeRequest,
    now: DateTime<Utc>,
) -> Result<SmsCodeAccepted, ApiError> {
    let purpose = SmsCodePurpose::parse(&request.purpose)
        .ok_or_else(|| DomainError::new(ErrorCode::InvalidRequest).with_param("purpose"))?;
    let phone = PhoneNumber::parse(&request.phone)?;
    match purpose {
        SmsCodePurpose::SignUp => {
            // A phone with an account gets a code too: the sign-up then
            // answers `phone_taken`, to the phone's owner only.
            claim_phone_sms(state, &phone, now).await?;
            send_code(state, purpose, &phone, now).await?;
        }
        SmsCodePurpose::ResetPassword
        | SmsCodePurpose::ResetPaymentPassword
        | SmsCodePurpose::Verification => {
            let user = state.store.user_by_phone(phone.expose()).await?;
            if user.is_some_and(|user| user.status == "active") {
                let state = state.clone();
                tokio::spawn(async move {
                    let sent = match claim_phone_sms(&state, &phone, now).await {
                        Ok(()) => send_code(&state, purpose, &phone, now).await,
                        Err(refused) => Err(refused),
                    };
                    // Told to nobody: the answer went out already, the same
                    // for every phone. The person asks again.
                    if let Err(error) = sent {
                        tracing::warn!(code = %error.0.code, to = %phone.masked(),
                            "a reset code was not sent");
                    }
                });
            }
        }
    }
    Ok(SmsCodeAccepted {
        status: "accepted".to_owned(),
        expires_in: state.config.limits.sms_code_ttl_secs,
    })
}

/// Makes a code, keeps its hash (replacing the phone's code before) and
/// texts it.
pub(crate) async fn send_code(
    state: &AppState,
    purpose: SmsCodePurpose,
    phone: &PhoneNumber,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let mut digits = [0u8; 6];
    random_digits(&mut digits).map_err(|_| DomainError::new(ErrorCode::InternalError))?;
    let code = Zeroizing::new(digits.iter().map(|d| char::from(*d)).collect::<String>());
    let limits = &state.config.limits;
    let record = SmsCodeRecord {
        purpose,
        phone_hash: phone_hash(state, purpose, phone),
        code_hash: code_hash(state, purpose, phone, &code),
        expires_at: now + limits.sms_code_ttl(),
        created_at: now,
    };
    state.store.put_sms_code(&record).await?;
    let minutes = limits.sms_code_ttl_secs.div_ceil(60);
    let (zh, en) = match purpose {
        SmsCodePurpose::SignUp => ("开通钱包", "to open your wallet"),
        SmsCodePurpose::ResetPassword => ("重设登录密码", "to reset your password"),
        SmsCodePurpose::ResetPaymentPassword => ("重设支付密码", "to reset your payment password"),
        // Any step the person confirms (a payment, removing a card,
        // unfreezing): the code does not know which.
        SmsCodePurpose::Verification => ("确认本人操作", "to confirm it is you"),
    };
    let code = code.as_str();
    let text = Zeroizing::new(format!(
        "【Tessera】验证码 {code}，用于{zh}，{minutes}分钟内有效。请勿告诉任何人。\
         Tessera: your code {en} is {code}, valid for {minutes} min. Never share it."
    ));
    match state.sms.send(phone, &text, now).await {
        Ok(()) => {
            tracing::info!(to = %phone.masked(), purpose = purpose.as_str(), "SMS code sent");
            Ok(())
        }
        Err(error) => {
            // The error names the gateway's failure, never the text.
            tracing::warn!(error = %error, to = %phone.masked(), purpose = purpose.as_str(),
                "an SMS code was not sent");
            Err(DomainError::new(ErrorCode::SmsUnavailable)
                .with_param("phone")
                .into())
        }
    }
}

/// A typed code, trimmed, when it has the form of one (6 digits); else
/// `invalid_request`, and no comparison is spent.
pub(crate) fn well_formed(typed: &str) -> Result<&str, ApiError> {
    let typed = typed.trim();
    if typed.len() != 6 || !typed.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DomainError::new(ErrorCode::InvalidRequest)
            .with_param("sms_code")
            .into());
    }
    Ok(typed)
}

/// Checks a typed code against the phone's live code of `purpose`: the
/// comparison counted first, then made in constant time. Answers the kept
/// hash, which the step that uses the code up names.
pub(crate) async fn check_code(
    state: &AppState,
    purpose: SmsCodePurpose,
    phone: &PhoneNumber,
    typed: &str,
    now: DateTime<Utc>,
) -> Result<String, ApiError> {
    let typed = well_formed(typed)?;
    let limit = state.config.limits.sms_code_max_attempts;
    let kept = match state
        .store
        .claim_sms_code_attempt(purpose, &phone_hash(state, purpose, phone), limit, now)
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
    let typed = code_hash(state, purpose, phone, typed);
    if !constant_time_eq(typed.as_bytes(), kept.as_bytes()) {
        return Err(code_error(ErrorCode::SmsCodeIncorrect));
    }
    Ok(kept)
}

pub(crate) fn code_error(code: ErrorCode) -> ApiError {
    DomainError::new(code).with_param("sms_code").into()
}
