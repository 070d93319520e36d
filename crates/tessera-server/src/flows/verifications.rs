//! Confirmations (`POST /v1/me/verifications`): a person proves it is them
//! once, with a passkey (fingerprint or face), the payment password, or,
//! with none set, a code texted to their phone (asked for by the same call
//! without a proof), and
//! gets a token that confirms one step. It is bound to that step
//! (`purpose`, and `scope`: the card to unbind; a payment's amount,
//! currency and merchant; a transfer's card, amount and currency), lasts
//! `limits.verification_ttl_secs`, and is used once, however many
//! requests present it on however many nodes (the store's single
//! `use_verification` statement). Only its keyed hash is kept.

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use tessera_core::error::{DomainError, ErrorCode};
use tessera_core::identity::PhoneNumber;
use tessera_core::ids::{CardId, UserId};
use tessera_core::money::Currency;
use tessera_core::payment::check::{check_amount, check_currency, check_merchant_id};
use tessera_core::vault::LookupPurpose;
use tessera_store::{SmsCodePurpose, UserRecord, VerificationRecord};

use crate::flows::{cards, passkeys, payment_password, sms_codes};
use crate::http::error::{ApiError, rfc3339};
use crate::http::views::{SmsCodeAccepted, VerificationRequest, VerificationView};
use crate::state::AppState;

/// The header a confirmed request carries its token in.
pub const HEADER: &str = "tessera-verification";
const PREFIX: &str = "vrf_";

/// What a confirmation may be for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Removing a card from the wallet.
    UnbindCard,
    /// A payment above the person's no-confirmation limit.
    Payment,
    /// Money sent from a bound card to a bank card.
    Transfer,
    /// Lifting a freeze the person put on their wallet.
    Unfreeze,
    /// Changing how payments are confirmed (the no-confirmation limits).
    SecuritySettings,
    /// Closing the account for good (`DELETE /v1/me`).
    CloseAccount,
}

impl Purpose {
    pub const ALL: [Purpose; 6] = [
        Purpose::UnbindCard,
        Purpose::Payment,
        Purpose::Transfer,
        Purpose::Unfreeze,
        Purpose::SecuritySettings,
        Purpose::CloseAccount,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::UnbindCard => "unbind_card",
            Purpose::Payment => "payment",
            Purpose::Transfer => "transfer",
            Purpose::Unfreeze => "unfreeze",
            Purpose::SecuritySettings => "security_settings",
            Purpose::CloseAccount => "close_account",
        }
    }

    pub fn parse(text: &str) -> Option<Purpose> {
        Purpose::ALL.into_iter().find(|p| p.as_str() == text)
    }
}

/// What a payment's confirmation is bound to: its amount, currency and
/// merchant, so that it cannot confirm another sum or another shop.
pub fn payment_scope(amount: u64, currency: &str, merchant_id: &str) -> String {
    format!("{amount} {currency} {merchant_id}")
}

/// What a transfer's confirmation is bound to: the card it leaves from,
/// its amount and currency.
pub fn transfer_scope(card_id: &str, amount: u64, currency: &str) -> String {
    format!("{card_id} {amount} {currency}")
}

fn missing(param: &'static str) -> DomainError {
    DomainError::new(ErrorCode::InvalidRequest).with_param(param)
}

/// The scope a request asks a confirmation for, its fields checked; the
/// card named must be the person's own.
async fn scope_of(
    state: &AppState,
    user: &UserRecord,
    purpose: Purpose,
    request: &VerificationRequest,
) -> Result<String, ApiError> {
    let own_card = async |request: &VerificationRequest| -> Result<String, ApiError> {
        let card_id = request
            .card_id
            .as_deref()
            .ok_or_else(|| missing("card_id"))?;
        // The person's own card, or not found: nothing is checked for another's.
        cards::get(state, &user.id, &CardId::from(card_id.to_owned())).await?;
        Ok(card_id.to_owned())
    };
    let money = |request: &VerificationRequest| -> Result<(u64, Currency), DomainError> {
        let amount = request.amount.ok_or_else(|| missing("amount"))?;
        let currency = request
            .currency
            .as_deref()
            .ok_or_else(|| missing("currency"))?;
        Ok((
            check_amount(amount, "amount", false)?,
            check_currency(currency)?,
        ))
    };
    Ok(match purpose {
        Purpose::UnbindCard => own_card(request).await?,
        Purpose::Payment => {
            let (amount, currency) = money(request)?;
            let merchant = request
                .merchant_id
                .as_deref()
                .ok_or_else(|| missing("merchant_id"))?;
            payment_scope(amount, currency.alpha(), &check_merchant_id(merchant)?)
        }
        Purpose::Transfer => {
            let (amount, currency) = money(request)?;
            transfer_scope(&own_card(request).await?, amount, currency.alpha())
        }
        Purpose::Unfreeze | Purpose::SecuritySettings | Purpose::CloseAccount => String::new(),
    })
}

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
    let purpose = Purpose::parse(&request.purpose).ok_or_else(|| missing("purpose"))?;
    let scope = scope_of(state, user, purpose, request).await?;
    let has_password = state
        .store
        .payment_password_state(&user.id)
        .await?
        .is_some();
    let method = match (&request.payment_password, &request.sms_code) {
        // A passkey confirms for anyone who registered one.
        (None, None) if request.webauthn.is_some() => {
            if let Some(assertion) = &request.webauthn {
                passkeys::confirm(state, &user.id, assertion, now).await?;
            }
            "webauthn"
        }
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
        (None, None) if !has_password && request.webauthn.is_none() => {
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
            purpose: purpose.as_str().to_owned(),
            scope,
            method: method.to_owned(),
            expires_at,
            created_at: now,
        })
        .await?;
    Ok(Created::Confirmed(VerificationView {
        verification: token,
        purpose: purpose.as_str().to_owned(),
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
/// when it is used, expired, another person's or for another step. Answers
/// how it was proven (`payment_password` or `sms_code`).
pub async fn require(
    state: &AppState,
    headers: &HeaderMap,
    user_id: &UserId,
    purpose: Purpose,
    scope: &str,
    now: DateTime<Utc>,
) -> Result<String, ApiError> {
    let Some(token) = headers.get(HEADER).and_then(|value| value.to_str().ok()) else {
        return Err(DomainError::new(ErrorCode::VerificationRequired)
            .with_param("Tessera-Verification")
            .into());
    };
    let method = if token.starts_with(PREFIX) {
        state
            .store
            .use_verification(
                &token_hash(state, token),
                user_id,
                purpose.as_str(),
                scope,
                now,
            )
            .await?
    } else {
        None
    };
    method.ok_or_else(|| {
        DomainError::new(ErrorCode::VerificationInvalid)
            .with_param("Tessera-Verification")
            .into()
    })
}

/// Whether the request carries a confirmation at all.
pub fn presented(headers: &HeaderMap) -> bool {
    headers.contains_key(HEADER)
}

/// The ways this person confirms: a passkey once they registered one, and
/// the payment password once they set one, else a text-message code.
pub async fn confirm_methods(
    state: &AppState,
    user_id: &UserId,
) -> Result<Vec<&'static str>, ApiError> {
    let mut methods = Vec::with_capacity(2);
    if !state.store.passkeys(user_id).await?.is_empty() {
        methods.push("webauthn");
    }
    methods.push(
        if state.store.payment_password_state(user_id).await?.is_some() {
            "payment_password"
        } else {
            "sms_code"
        },
    );
    Ok(methods)
}
