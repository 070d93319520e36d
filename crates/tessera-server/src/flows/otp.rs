//! A pending card's SMS code: sent when the bank asks for one, sent again
//! when the person asks (after a cooldown, within the limits), and
//! verified, at most `otp_max_attempts` comparisons a code.

use std::time::Instant;

use chrono::{DateTime, TimeDelta, Utc};
use tessera_core::diagnosis::{ATTEMPTS_LEFT, OTP_CHECKED, OTP_REFUSED, OTP_RESENT};
use tessera_core::error::{AttemptLimit, DomainError, ErrorCode};
use tessera_core::identity::phone::PhoneNumber;
use tessera_core::ids::CardId;
use tessera_core::vault::LookupPurpose;
use tessera_store::{
    AttemptOutcome, AttemptRecord, CardRecord, CardStatus, NewOtpChallenge, OtpClaim, OtpOutcome,
    UserRecord,
};
use zeroize::Zeroizing;

use crate::flows::binding;
use crate::flows::sms_codes;
use crate::http::detach;
use crate::http::error::ApiError;
use crate::http::extract::Ctx;
use crate::state::AppState;

/// Makes a 6-digit code, keeps only its keyed hash, and sends it to the
/// phone the bank has on file (the sandbox phone, in sandbox mode).
pub(crate) async fn send_otp(
    state: &AppState,
    card_id: &CardId,
    phone: &PhoneNumber,
    last4: &str,
    now: DateTime<Utc>,
) -> Result<NewOtpChallenge, ApiError> {
    let (code, challenge) = new_code(state, card_id, phone, now)?;
    // Codes sent to one phone are limited, whoever sends them.
    sms_codes::claim_phone_sms(state, phone, now).await?;
    text_code(state, phone, last4, &code, now).await?;
    Ok(challenge)
}

/// A new code for the card, and the challenge that keeps only its keyed
/// hash, valid for `otp_ttl_secs` from `now`.
fn new_code(
    state: &AppState,
    card_id: &CardId,
    phone: &PhoneNumber,
    now: DateTime<Utc>,
) -> Result<(Zeroizing<String>, NewOtpChallenge), ApiError> {
    let mut digits = [0u8; 6];
    tessera_core::crypto::random_digits(&mut digits)
        .map_err(|_| DomainError::new(ErrorCode::InternalError))?;
    let code = Zeroizing::new(digits.iter().map(|d| char::from(*d)).collect::<String>());
    let challenge = NewOtpChallenge {
        code_hash: otp_hash(state, card_id, &code),
        sent_to_masked: phone.masked(),
        expires_at: now + seconds(state.config.otp_ttl_secs),
    };
    Ok((code, challenge))
}

/// The bank's text message: the code, the card it binds (by its last four
/// digits) and how long it is valid, as configured. In sandbox mode it
/// goes to the sandbox phone; a real bank sends its own.
async fn text_code(
    state: &AppState,
    phone: &PhoneNumber,
    last4: &str,
    code: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    if !state.config.sandbox {
        return Ok(());
    }
    let minutes = state.config.otp_ttl_secs.div_ceil(60);
    let body = Zeroizing::new(format!(
        "【Tessera沙箱银行】验证码 {code}，用于绑定尾号{last4}的银行卡，{minutes}分钟内有效。请勿告诉任何人。\
         Sandbox bank: your code {code} binds the card ending {last4}, valid for {minutes} min. \
         Never share it."
    ));
    state
        .store
        .push_sandbox_sms(phone.expose(), &body, now)
        .await?;
    if state.config.sandbox_print_sms {
        // The simulated phone's screen: standard output, never the log.
        println!("sandbox SMS to {}: {}", phone.masked(), body.as_str());
    }
    Ok(())
}

fn seconds(secs: u64) -> TimeDelta {
    TimeDelta::seconds(i64::try_from(secs).unwrap_or(i64::MAX / 1_000))
}

fn otp_hash(state: &AppState, card_id: &CardId, code: &str) -> String {
    // The card id goes into the hash so one code can't verify another card.
    let input = format!("{card_id}:{code}");
    hex::encode(
        state
            .keys
            .keyed_hash(LookupPurpose::OtpCode, input.as_bytes()),
    )
}

/// `POST /v1/cards/{id}/verify`: checks the SMS code of a pending card.
pub async fn verify_card(
    state: &AppState,
    user: &UserRecord,
    card_id: &CardId,
    otp: &str,
    ctx: &Ctx,
) -> Result<CardRecord, ApiError> {
    // The time really taken, as for a binding.
    let started = Instant::now();
    let card = state
        .store
        .card(&user.id, card_id)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    let mut compared = false;
    let result = verify_steps(state, &card, otp, ctx.now, &mut compared).await;
    // Support sees whether a code was really compared.
    let step = if compared { OTP_CHECKED } else { OTP_REFUSED };
    let outcome = result.as_ref().map(|_| AttemptOutcome::Verified);
    record_code_step(state, ctx, &card, outcome, step, started).await;
    result
}

/// `POST /v1/cards/{id}/otp`: sends a pending card's code again, for a
/// person whose text message never came or ran out. Only once
/// `otp_resend_after_secs` have passed since the last one; counted against
/// the card's and the person's binding attempts and the phone's text
/// messages, like a binding; the wrong codes entered so far still count.
/// The new code goes to the number the first went to: the person's own, or
/// the bank phone given at binding, sent again as `bank_phone`.
pub async fn resend_otp(
    state: &AppState,
    user: &UserRecord,
    card_id: &CardId,
    bank_phone: Option<&str>,
    ctx: &Ctx,
) -> Result<CardRecord, ApiError> {
    let started = Instant::now();
    let card = state
        .store
        .card(&user.id, card_id)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    let result = resend_steps(state, user, &card, bank_phone, ctx.now).await;
    let outcome = result.as_ref().map(|_| AttemptOutcome::PendingVerification);
    record_code_step(state, ctx, &card, outcome, OTP_RESENT, started).await;
    result
}

async fn resend_steps(
    state: &AppState,
    user: &UserRecord,
    card: &CardRecord,
    bank_phone: Option<&str>,
    now: DateTime<Utc>,
) -> Result<CardRecord, ApiError> {
    let max = state.config.otp_max_attempts;
    match card.status {
        CardStatus::PendingVerification => {}
        CardStatus::Active => {
            return Err(DomainError::new(ErrorCode::CardAlreadyBound)
                .with_card_id(card.id.as_str())
                .into());
        }
        CardStatus::VerificationFailed => {
            return Err(DomainError::limit_hit(AttemptLimit::OtpAttempts, max, None).into());
        }
        CardStatus::VerificationExpired => return Err(ErrorCode::OtpExpired.into()),
        CardStatus::Binding => return Err(tessera_core::token::lifecycle::never_added().into()),
        CardStatus::Unbound | CardStatus::Closed => {
            return Err(ErrorCode::CardUnbound.into());
        }
    }
    let challenge = state
        .store
        .otp_challenge(&card.id)
        .await?
        .ok_or(ErrorCode::OtpExpired)?;
    let cooldown = seconds(state.config.otp_resend_after_secs);
    let too_soon = |resend_at: DateTime<Utc>| {
        // Rounded up: a resend at the announced second is allowed.
        let wait = (resend_at - now).num_milliseconds().max(1_000);
        DomainError::new(ErrorCode::OtpResendTooSoon).with_retry_after(
            u64::try_from(wait.div_euclid(1_000) + i64::from(wait % 1_000 != 0)).unwrap_or(1),
        )
    };
    if now < challenge.sent_at + cooldown {
        return Err(too_soon(challenge.sent_at + cooldown).into());
    }
    // The number the first code went to, never another.
    let phone = match bank_phone {
        Some(phone) if !phone.trim().is_empty() => {
            PhoneNumber::parse(phone).map_err(|e| e.with_param("bank_phone"))?
        }
        _ => PhoneNumber::parse(&user.phone)?,
    };
    if phone.masked() != challenge.sent_to_masked {
        return Err(DomainError::new(ErrorCode::PhoneMismatch)
            .with_param("bank_phone")
            .into());
    }
    // The resend's turn first, in one statement that restarts the
    // cooldown and keeps the code: of resends racing, one goes on, and
    // only it is counted below.
    let current = &challenge;
    if !state
        .store
        .renew_otp(
            &card.id,
            &current.code_hash,
            current.expires_at,
            now,
            now - cooldown,
        )
        .await?
    {
        return Err(too_soon(now + cooldown).into());
    }
    // The bank sends it again: an attempt that reaches it, counted as a
    // binding's are, and a text message to the phone.
    let limits = &state.config.limits;
    binding::claim_limits(
        state,
        &[
            (
                AttemptLimit::CardBindings,
                format!("card:{}", card.pan_fingerprint),
                limits.card_bindings_per_day,
            ),
            (
                AttemptLimit::UserBindings,
                format!("user:{}", user.id),
                limits.user_bindings_per_day,
            ),
        ],
        now,
    )
    .await?;
    sms_codes::claim_phone_sms(state, &phone, now).await?;
    // Then the new code, unless a later resend has taken the turn since.
    let (code, renewed) = new_code(state, &card.id, &phone, now)?;
    if !state
        .store
        .renew_otp(&card.id, &renewed.code_hash, renewed.expires_at, now, now)
        .await?
    {
        return Err(too_soon(now + cooldown).into());
    }
    text_code(state, &phone, &card.last4, &code, now).await?;
    binding::load_card(state, &card.user_id, &card.id).await
}

/// Records a step of a card's SMS code (a check, or a code sent again) as
/// one of the card's binding attempts, so that support sees every step.
async fn record_code_step(
    state: &AppState,
    ctx: &Ctx,
    card: &CardRecord,
    outcome: Result<AttemptOutcome, &ApiError>,
    step: &str,
    started: Instant,
) {
    let error = outcome.as_ref().err().map(|e| &e.0);
    let attempt = AttemptRecord {
        trace_id: ctx.trace_id.clone(),
        client_request_id: ctx.client_request_id.clone(),
        user_id: card.user_id.clone(),
        card_id: Some(card.id.clone()),
        masked_pan: Some(format!(
            "{}{}{}",
            card.first6,
            "*".repeat(usize::from(card.pan_length).saturating_sub(10)),
            card.last4
        )),
        first6: Some(card.first6.clone()),
        last4: Some(card.last4.clone()),
        brand: Some(card.brand.clone()),
        issuer_code: card.issuer_code.clone(),
        issuer_name: card.issuer_name_zh.clone().or(card.issuer_name_en.clone()),
        card_type: card.card_type,
        country: card.country.clone(),
        outcome: outcome.unwrap_or(AttemptOutcome::Error),
        error_code: error.map(|e| e.code.as_str().to_owned()),
        cause: error.map(|e| e.code.cause().as_str().to_owned()),
        error_param: error.and_then(|e| e.param.as_ref().map(|p| p.to_string())),
        // A limit hit names its limit; a wrong code, the tries it has left.
        error_reason: error.and_then(|e| {
            e.limit
                .as_ref()
                .map(|hit| hit.limit.as_str().to_owned())
                .or_else(|| e.attempts_left.map(|n| format!("{ATTEMPTS_LEFT}{n}")))
        }),
        issuer_response: Some(step.to_owned()),
        latency_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
        created_at: ctx.now,
        ..AttemptRecord::default()
    };
    if let Err(error) = state.store.record_attempt(&attempt).await {
        crate::flows::later::record_attempt_when_back(state, error, &attempt);
    }
    detach::note_client_gone(state, ctx).await;
}

async fn verify_steps(
    state: &AppState,
    card: &CardRecord,
    otp: &str,
    now: DateTime<Utc>,
    compared: &mut bool,
) -> Result<CardRecord, ApiError> {
    let max = state.config.otp_max_attempts;
    match card.status {
        CardStatus::PendingVerification => {}
        // Verifying twice is harmless: the card is bound.
        CardStatus::Active => return Ok(card.clone()),
        CardStatus::VerificationFailed => {
            return Err(DomainError::limit_hit(AttemptLimit::OtpAttempts, max, None).into());
        }
        CardStatus::VerificationExpired => return Err(ErrorCode::OtpExpired.into()),
        CardStatus::Binding => return Err(tessera_core::token::lifecycle::never_added().into()),
        CardStatus::Unbound | CardStatus::Closed => {
            return Err(ErrorCode::CardUnbound.into());
        }
    }
    let otp = otp.trim();
    if otp.len() != 6 || !otp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DomainError::new(ErrorCode::InvalidRequest)
            .with_param("otp")
            .into());
    }
    // The comparison is claimed in the store before it is made: however
    // many requests race, at most `max` codes are ever compared.
    let (challenge, comparison) = match state.store.claim_otp_comparison(&card.id, max).await? {
        OtpClaim::Claimed {
            challenge,
            comparison,
        } => (challenge, comparison),
        OtpClaim::Exhausted => {
            return Err(DomainError::limit_hit(AttemptLimit::OtpAttempts, max, None)
                .with_param("otp")
                .into());
        }
        // The challenge ended while this request was on its way: answer
        // as its card now stands.
        OtpClaim::Missing => {
            let now_card = binding::load_card(state, &card.user_id, &card.id).await?;
            return match now_card.status {
                CardStatus::Active => Ok(now_card),
                CardStatus::VerificationFailed => {
                    Err(DomainError::limit_hit(AttemptLimit::OtpAttempts, max, None)
                        .with_param("otp")
                        .into())
                }
                _ => Err(ErrorCode::OtpExpired.into()),
            };
        }
    };
    if challenge.expires_at <= now {
        state
            .store
            .finish_otp(&card.id, OtpOutcome::Expired, now)
            .await?;
        return Err(DomainError::new(ErrorCode::OtpExpired)
            .with_param("otp")
            .into());
    }
    *compared = true;
    let expected = otp_hash(state, &card.id, otp);
    if !tessera_core::crypto::constant_time_eq(expected.as_bytes(), challenge.code_hash.as_bytes())
    {
        let failures = state.store.record_otp_failure(&card.id).await?;
        // Claimed comparisons may still be running: what is left is what
        // nobody has claimed.
        let used = failures.max(comparison);
        if used >= max {
            // The challenge ends once every comparison it allowed failed;
            // one still running with the right code may yet verify it.
            if failures >= max {
                state
                    .store
                    .finish_otp(&card.id, OtpOutcome::Failed, now)
                    .await?;
            }
            return Err(DomainError::limit_hit(AttemptLimit::OtpAttempts, max, None)
                .with_param("otp")
                .into());
        }
        return Err(DomainError::new(ErrorCode::OtpIncorrect)
            .with_param("otp")
            .with_attempts_left(max - used)
            .into());
    }
    if !state
        .store
        .finish_otp(&card.id, OtpOutcome::Verified, now)
        .await?
    {
        return Err(ErrorCode::OtpExpired.into());
    }
    binding::load_card(state, &card.user_id, &card.id).await
}
