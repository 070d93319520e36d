//! Confirmations (`POST /v1/me/verifications`): a person proves it is them
//! once, with the payment password, or, with none set, a code texted to
//! their phone (asked for by the same call without a proof), and
//! gets a token that confirms one step. It is bound to that step
//! (`purpose`, and `scope`: the card to unbind), lasts
//! `limits.verification_ttl_secs`, and is used once, however many
//! requests present it on however many nodes (the store's single
//! `use_verification` statement). Only its keyed hash is kept.

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use tessera_core::error::{DomainError, ErrorCode};
use tessera_core::identity::PhoneNumber;
use tessera_core::ids::{CardId, UserId};
use tessera_core::vault::LookupPurpose;
use tessera_store::{SmsCodePurpose, UserRecord, VerificationRecord};

use crate::flows::{cards, payment_password, sms_codes};
use crate::http::error::{ApiError, rfc3339};
use crate::http::views::{SmsCodeAccepted, VerificationRequest, VerificationView};
use crate::state::AppState;

/// The header a confirmed request carries its token in.
pub const HEADER: &str = "tessera-verification";
/// What a confirmation may be for.
pub const UNBIND_CARD: &str = "unbind_card";
const PREFIX: &str = "vrf_";

fn token_hash(state: &AppState, token: &str) -> String {
    hex::encode(state.keys.keyed_hash(
        LookupPurpose::SessionToken,
        format!("verification:{token}").as_bytes(),
    ))
}

/// What `POST /v1/me/verifications` did.
#[derive(Debug)]
pub enum Created {
    /// Confirmed: the token for the step.
    Confirmed(VerificationView),
    /// Asked with no proof, by a person with no payment password: a
    /// `verification` code was texted to their phone; ask again with it.
    CodeSent(SmsCodeAccepted),
}

/// `POST /v1/me/verifications`.
pub async fn create(
    state: &AppState,
    user: &UserRecord,
    request: &VerificationRequest,
    now: DateTime<Utc>,
) -> Result<Created, ApiError> {
    if request.purpose != UNBIND_CARD {
        return Err(DomainError::new(ErrorCode::InvalidRequest)
            .with_param("purpose")
            .into());
    }
    let card_id = request
        .card_id
        .as_deref()
        .ok_or_else(|| DomainError::new(ErrorCode::InvalidRequest).with_param("card_id"))?;
    // The person's own card, or not found: nothing is checked for another's.
    cards::get(state, &user.id, &CardId::from(card_id.to_owned())).await?;
    let has_password = state
        .store
        .payment_password_state(&user.id)
        .await?
        .is_some();
    let method = match (&request.payment_password, &request.sms_code) {
        (Some(pin), None) => {
            payment_password::confirm(state, user, pin, "payment_password", now).await?;
            "payment_password"
        }
        // A code only for a person with no payment password: one who has
        // one confirms with it.
        (None, Some(code)) if !has_password => {
            confirm_code(state, user, code, now).await?;
            "sms_code"
        }
        (None, None) if !has_password => {
            let phone = PhoneNumber::parse(&user.phone)?;
            sms_codes::claim_phone_sms(state, &phone, now).await?;
            sms_codes::send_code(state, SmsCodePurpose::Verification, &phone, now).await?;
            return Ok(Created::CodeSent(SmsCodeAccepted {
                status: "code_sent".to_owned(),
                expires_in: state.config.limits.sms_code_ttl_secs,
            }));
        }
        _ => {
            let param = if has_password {
                "payment_password"
            } else {
                "sms_code"
            };
            return Err(DomainError::new(ErrorCode::InvalidRequest)
                .with_param(param)
                .into());
        }
    };
    let token = crate::ids::random_id(PREFIX, 32);
    let expires_at = now
        + chrono::TimeDelta::seconds(
            i64::try_from(state.config.limits.verification_ttl_secs).unwrap_or(300),
        );
    state
        .store
        .create_verification(&VerificationRecord {
            token_hash: token_hash(state, &token),
            user_id: user.id.clone(),
            purpose: request.purpose.clone(),
            scope: card_id.to_owned(),
            method: method.to_owned(),
            expires_at,
            created_at: now,
        })
        .await?;
    Ok(Created::Confirmed(VerificationView {
        verification: token,
        purpose: request.purpose.clone(),
        method: method.to_owned(),
        expires_at: rfc3339(expires_at),
    }))
}

/// A `verification` code, checked (counted first) and used up.
async fn confirm_code(
    state: &AppState,
    user: &UserRecord,
    code: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let purpose = SmsCodePurpose::Verification;
    let phone = PhoneNumber::parse(&user.phone)?;
    let kept = sms_codes::check_code(state, purpose, &phone, code, now).await?;
    let phone_hash = sms_codes::phone_hash(state, purpose, &phone);
    if state
        .store
        .use_sms_code(purpose, &phone_hash, &kept)
        .await?
    {
        Ok(())
    } else {
        // Another request used the code first.
        Err(sms_codes::code_error(ErrorCode::SmsCodeExpired))
    }
}

/// The step is confirmed by the token the request carries, which is used
/// up now: `verification_required` without one, `verification_invalid`
/// when it is used, expired, another person's or for another step.
pub async fn require(
    state: &AppState,
    headers: &HeaderMap,
    user_id: &UserId,
    purpose: &str,
    scope: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let Some(token) = headers.get(HEADER).and_then(|value| value.to_str().ok()) else {
        return Err(DomainError::new(ErrorCode::VerificationRequired)
            .with_param("Tessera-Verification")
            .into());
    };
    let used = token.starts_with(PREFIX)
        && state
            .store
            .use_verification(&token_hash(state, token), user_id, purpose, scope, now)
            .await?;
    if used {
        Ok(())
    } else {
        Err(DomainError::new(ErrorCode::VerificationInvalid)
            .with_param("Tessera-Verification")
            .into())
    }
}
