//! Token 2.0 payments, each step failing with its own code, in this order
//! (docs/architecture.md, section 4): request fields -> token and card
//! status -> domain restrictions -> cryptogram -> ATC (once ever,
//! database-enforced) -> [risk rules] -> [payment authentication] ->
//! detokenize -> issuer authorization -> [fee] -> record. Also the two ways
//! a device gets what it pays with: a batch of limited-use keys, or a
//! single-use cryptogram made here.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use tessera_core::card::expiry::{Expiry, wallet_today};
use tessera_core::emv::{
    Arpc, Arqc, Atc, DerivationOption, DeviceCvm, IccMasterKey, Psn, TokenProfile, Transaction,
    profile,
};
use tessera_core::error::{DeclineCode, DomainError, ErrorCode, Lang};
use tessera_core::payment::check::{
    Channel, CheckedPayment, PaymentFields, check_amount, check_currency, check_merchant_id,
    check_payment,
};
use tessera_core::token::TokenPan;
use tessera_core::token::lifecycle::{TokenState, payability};
use tessera_core::vault::Sealed;
use tessera_store::{
    AtcClaim, AtcClaimOutcome, CryptogramRecord, PaymentContext, PaymentFilter, PaymentHistory,
    PaymentRecord, PaymentStatus, PaymentToken, TokenLookup,
};

use crate::flows::verifications::Purpose;
use crate::flows::{consent, later, token_renewal, verifications};
use crate::http::auth::{Caller, Role};
use crate::http::error::{ApiError, internal, rfc3339};
use crate::http::query;
use crate::http::views::{
    CryptogramRequest, CryptogramView, KeysRequest, LimitedUseKeys, PaymentList, PaymentQuery,
    PaymentRequest, PaymentView, ProfileView, SessionKeyView, StringOrNumber,
};
use crate::ids;
use crate::issuer::{AuthorizationAnswer, PaymentAuthorization};
use crate::state::AppState;
use axum::http::HeaderMap;
use tessera_core::ids::{PaymentId, UserId};

fn invalid(param: &'static str) -> DomainError {
    DomainError::new(ErrorCode::InvalidRequest).with_param(param)
}

/// The request's fields, checked by the core (`tessera_core::payment`).
fn check_request(request: &PaymentRequest) -> Result<CheckedPayment, DomainError> {
    let transaction_type = request
        .transaction_type
        .as_ref()
        .map(StringOrNumber::as_text);
    check_payment(&PaymentFields {
        token_pan: &request.token_pan,
        token_expiry: &request.token_expiry,
        amount: request.amount,
        other_amount: request.other_amount,
        currency: &request.currency,
        terminal_country: request.terminal_country,
        tvr: &request.tvr,
        transaction_date: &request.transaction_date,
        transaction_type: transaction_type.as_deref(),
        merchant_id: &request.merchant_id,
        merchant_name: request.merchant_name.as_deref(),
        channel: &request.channel,
        atc: &request.atc,
        unpredictable_number: &request.unpredictable_number,
        cryptogram: &request.cryptogram,
        iad: request.iad.as_deref(),
    })
}

/// A token's state, read back; a corrupt row is an internal error.
fn token_state(token: &PaymentToken) -> Result<TokenState, DomainError> {
    TokenState::from_stored(token.token.status, &token.token.suspenders).map_err(Into::into)
}

/// Whether the token may pay (or get keys) today: its card, its state, its
/// expiry.
fn check_payable(token: &PaymentToken, today: NaiveDate) -> Result<(), DomainError> {
    let expiry = Expiry::new(token.token.expiry_month, token.token.expiry_year).ok();
    payability(
        token.card_status,
        token.card_reissued_at.is_some(),
        Some(&token_state(token)?),
        expiry,
        today,
    )
}

/// The ICC master key of a token, from the IMK-AC of its range and
/// generation (in the key ring, or inside the HSM), and its profile.
fn card_key(
    state: &AppState,
    token: &PaymentToken,
    token_pan: &str,
) -> Result<(IccMasterKey, TokenProfile), DomainError> {
    let generation = token.token.imk_generation;
    let option = DerivationOption::for_pan_len(token_pan.len());
    let master = state
        .keys
        .icc_master_key(
            &token.token.imk_range,
            generation,
            token_pan,
            psn(token)?,
            option,
        )
        .map_err(|error| {
            // The operator's to fix (a node whose key file or token lacks
            // the generation): the log says how, the caller sees an
            // internal error.
            tracing::error!(%error, generation, "no issuer master key for the token");
            internal(error)
        })?;
    Ok((master, TokenProfile { dki: generation }))
}

fn psn(token: &PaymentToken) -> Result<Psn, DomainError> {
    Psn::new(token.token.psn).map_err(internal)
}

/// Opens the token PAN sealed under the token's reference.
fn open_token_pan(state: &AppState, token: &PaymentToken) -> Result<TokenPan, DomainError> {
    let (Some(key_version), Some(blob)) = (
        token.token_pan_key_version,
        token.token_pan_ciphertext.clone(),
    ) else {
        return Err(DomainError::new(ErrorCode::CardUnbound));
    };
    state
        .keys
        .open_token_pan(&token.token.token_ref, &Sealed { key_version, blob })
        .map_err(internal)
}

fn expiry_text(token: &PaymentToken) -> String {
    format!(
        "{:02}/{:02}",
        token.token.expiry_month,
        token.token.expiry_year % 100
    )
}

/// The user's own token, or 404 (another user's token is not theirs to see).
async fn own_token(
    state: &AppState,
    user_id: &UserId,
    token_ref: &str,
) -> Result<PaymentToken, ApiError> {
    match state
        .store
        .payment_token(TokenLookup::Ref(token_ref))
        .await?
    {
        Some(token) if token.user_id == *user_id => Ok(token),
        _ => Err(ErrorCode::NotFound.into()),
    }
}

/// Hands out `count` ATCs, or says precisely why not. A token renewed
/// meanwhile (by a request beside this one) is read again, so that the
/// keys made for the ATCs are the renewed token's: `token` is then the
/// token as renewed.
async fn reserve_atcs(
    state: &AppState,
    token: &mut PaymentToken,
    count: u16,
    now: DateTime<Utc>,
) -> Result<u16, ApiError> {
    for _ in 0..3 {
        if let Some(first) = state
            .store
            .reserve_atcs(&token.token.token_ref, token.token.psn, count, now)
            .await?
        {
            return Ok(first);
        }
        let fresh = own_token(state, &token.user_id, &token.token.token_ref).await?;
        let renewed = fresh.token.psn != token.token.psn;
        *token = fresh;
        if !renewed {
            break;
        }
    }
    // Suspended or deleted meanwhile, or the counter ran out: a token
    // renewed 99 times (its PSNs used up) must be bound again.
    check_payable(token, wallet_today(now, state.time_zone))?;
    Err(DomainError::new(ErrorCode::TokenExpired).into())
}

/// `POST /v1/tokens/{ref}/keys`: a batch of session keys for the next ATCs,
/// for the device the token was bound from. The master keys stay here.
pub async fn limited_use_keys(
    state: &AppState,
    user_id: &UserId,
    token_ref: &str,
    request: &KeysRequest,
    now: DateTime<Utc>,
) -> Result<LimitedUseKeys, ApiError> {
    let token = own_token(state, user_id, token_ref).await?;
    let config = &state.config.payments;
    let count = request.count.unwrap_or(config.key_batch_size);
    if count == 0 || count > config.max_key_batch {
        return Err(invalid("count").into());
    }
    consent::check_not_frozen(&consent::account(state, user_id, false, now).await?)?;
    let mut token = token_renewal::renew_if_due(state, token, count, now).await?;
    check_payable(&token, wallet_today(now, state.time_zone))?;
    // Bound to the device it was bound from, when it was bound from one.
    if let Some(device) = &token.token.device_id
        && request.device_id.as_deref().map(str::trim) != Some(device.as_str())
    {
        return Err(DomainError::new(ErrorCode::DomainMismatch)
            .with_param("device_id")
            .into());
    }
    let first = reserve_atcs(state, &mut token, count, now).await?;
    let token_pan = open_token_pan(state, &token)?;
    let (master, profile) = card_key(state, &token, token_pan.expose_digits())?;
    let keys = (0..count)
        .map(|offset| {
            let atc = Atc::new(first.saturating_add(offset));
            SessionKeyView {
                atc: atc.to_string(),
                session_key: hex::encode_upper(master.session_key(atc).expose_bytes()),
            }
        })
        .collect();
    tracing::info!(token_ref, count, first_atc = %Atc::new(first), "limited-use keys issued");
    Ok(LimitedUseKeys {
        token_ref: token.token.token_ref.clone(),
        token_pan: token_pan.expose_digits().to_owned(),
        token_expiry: expiry_text(&token),
        psn: format!("{:02}", token.token.psn),
        profile: ProfileView {
            aip: hex::encode_upper(profile::AIP),
            iad: hex::encode_upper(profile.iad()),
            derivation: match DerivationOption::for_pan_len(token_pan.len()) {
                DerivationOption::A => "A",
                DerivationOption::B => "B",
            }
            .to_owned(),
        },
        keys,
    })
}

/// `POST /v1/tokens/{ref}/cryptograms`: a single-use cryptogram made here,
/// bound to an amount, a currency and a merchant, valid a few minutes. An
/// amount above the person's no-confirmation limits takes a confirmation
/// (purpose `payment`, for this amount, currency and merchant), which the
/// cryptogram then carries to the payment.
pub async fn single_use_cryptogram(
    state: &AppState,
    headers: &HeaderMap,
    user_id: &UserId,
    token_ref: &str,
    request: &CryptogramRequest,
    now: DateTime<Utc>,
) -> Result<CryptogramView, ApiError> {
    let token = own_token(state, user_id, token_ref).await?;
    let amount = check_amount(request.amount, "amount", false)?;
    let currency = check_currency(&request.currency)?;
    let merchant_id = check_merchant_id(&request.merchant_id)?;
    let today = wallet_today(now, state.time_zone);
    let confirmed = verifications::presented(headers);
    let history = consent::account(state, user_id, !confirmed, now).await?;
    consent::check_not_frozen(&history)?;
    let mut token = token_renewal::renew_if_due(state, token, 1, now).await?;
    check_payable(&token, today)?;
    let signed_amount = i64::try_from(amount).map_err(internal)?;
    let consent = if confirmed {
        let scope = verifications::payment_scope(amount, currency.alpha(), &merchant_id);
        Some(verifications::require(state, headers, user_id, Purpose::Payment, &scope, now).await?)
    } else if let Some(reason) = consent::over_limit(
        consent::limits_of(state, &history),
        signed_amount,
        history.unconfirmed_today,
    ) {
        let methods = verifications::confirm_methods(state, user_id).await?;
        return Err(DomainError::confirm_first(methods, reason).into());
    } else {
        None
    };
    let atc = Atc::new(reserve_atcs(state, &mut token, 1, now).await?);
    let unpredictable_number: [u8; 4] = tessera_core::crypto::random_array().map_err(internal)?;
    let transaction = Transaction {
        amount,
        other_amount: 0,
        terminal_country: 156,
        tvr: [0; 5],
        currency: currency.numeric(),
        date: today,
        transaction_type: 0,
        unpredictable_number,
    };
    let token_pan = open_token_pan(state, &token)?;
    let (master, profile) = card_key(state, &token, token_pan.expose_digits())?;
    let key = master.session_key(atc);
    let data = profile
        .cdol1(&transaction, atc)
        .to_bytes()
        .map_err(DomainError::from)?;
    let arqc = Arqc::generate(&key, &data);
    let ttl = i64::try_from(state.config.payments.cryptogram_ttl_secs).unwrap_or(300);
    let expires_at = now + TimeDelta::seconds(ttl);
    state
        .store
        .create_cryptogram(&CryptogramRecord {
            token_ref: token.token.token_ref.clone(),
            atc: atc.value(),
            amount: i64::try_from(amount).map_err(internal)?,
            currency: currency.alpha().to_owned(),
            merchant_id: merchant_id.clone(),
            transaction_date: today.to_string(),
            unpredictable_number: hex::encode_upper(unpredictable_number),
            expires_at,
            created_at: now,
            consent,
        })
        .await?;
    tracing::info!(token_ref, atc = %atc, merchant_id, "single-use cryptogram made");
    Ok(CryptogramView {
        token_pan: token_pan.expose_digits().to_owned(),
        token_expiry: expiry_text(&token),
        amount,
        other_amount: 0,
        currency: currency.alpha().to_owned(),
        terminal_country: 156,
        tvr: "0000000000".to_owned(),
        transaction_date: today.to_string(),
        transaction_type: "00".to_owned(),
        merchant_id,
        atc: atc.to_string(),
        unpredictable_number: hex::encode_upper(unpredictable_number),
        cryptogram: arqc.to_string(),
        expires_at: rfc3339(expires_at),
    })
}

/// The user's payments, newest first, a page at a time (at most 100; 20 by
/// default): approvals and every decline with its reason.
pub async fn list(
    state: &AppState,
    user_id: &UserId,
    query: &PaymentQuery,
    lang: Lang,
) -> Result<PaymentList, ApiError> {
    let before = query::cursor(query.cursor.as_deref())?;
    let limit = query::page_limit(query.limit, 20, 100)?;
    let payments = state
        .store
        .payments(&PaymentFilter {
            user_id: user_id.to_owned(),
            before,
            limit,
        })
        .await?;
    let ids: Vec<PaymentId> = payments.iter().map(|p| p.id.clone()).collect();
    let refunds = state.store.refunds(&ids).await?;
    Ok(PaymentList {
        next_cursor: query::next_cursor(&payments, limit, |p| (p.created_at, &p.id)),
        data: payments
            .iter()
            .map(|p| PaymentView::from_record(p, lang).with_refunds(&refunds))
            .collect(),
    })
}

/// One payment with its refunds, for the person who paid or the merchant
/// that took it; anyone else is told there is no such payment.
pub async fn get(
    state: &AppState,
    caller: &Caller,
    payment_id: &str,
    lang: Lang,
) -> Result<PaymentView, ApiError> {
    let payment = state
        .store
        .payment(&PaymentId::from(payment_id))
        .await?
        .filter(|p| match caller {
            Caller::User { user_id } => p.user_id == *user_id,
            Caller::Key {
                role: Role::Merchant,
                ..
            } => caller.acts_for(&p.merchant_id),
            Caller::Key { .. } => false,
        })
        .ok_or_else(|| DomainError::new(ErrorCode::NotFound).with_param("id"))?;
    let refunds = state
        .store
        .refunds(std::slice::from_ref(&payment.id))
        .await?;
    Ok(PaymentView::from_record(&payment, lang).with_refunds(&refunds))
}

/// An approved payment: its record and the ARPC for the device.
#[derive(Debug)]
pub struct Approved {
    pub payment: PaymentRecord,
    pub arpc: Arpc,
}

/// `POST /v1/payments`. Every answer about a known token is recorded in the
/// user's payments, declines with their reason; a malformed request or an
/// unknown token PAN changes nothing.
pub async fn authorize(
    state: &AppState,
    merchant_key_id: &str,
    request: &PaymentRequest,
    trace_id: &str,
    now: DateTime<Utc>,
) -> Result<Approved, ApiError> {
    // 1. The request's own fields: nothing is recorded for a malformed one.
    let checked = check_request(request)?;
    let fingerprint = state.keys.token_fingerprint(&checked.token_pan);
    let claimed_cvm = checked
        .iad
        .and_then(|iad| DeviceCvm::claimed_in(&iad))
        .unwrap_or(DeviceCvm::None);
    let PaymentContext {
        token,
        cryptogram,
        history,
    } = state
        .store
        .payment_context(&consent::context_query(
            state,
            fingerprint,
            checked.atc.value(),
            claimed_cvm,
            now,
        ))
        .await?
        .ok_or_else(|| DomainError::new(ErrorCode::NotFound).with_param("token_pan"))?;
    let mut record = PaymentRecord {
        id: ids::payment_id(),
        user_id: token.user_id.clone(),
        card_id: token.token.card_id.clone(),
        token_ref: token.token.token_ref.clone(),
        merchant_key_id: merchant_key_id.to_owned(),
        merchant_id: checked.merchant_id.clone(),
        merchant_name: checked.merchant_name.clone(),
        channel: checked.channel,
        amount: i64::try_from(checked.transaction.amount).map_err(internal)?,
        currency: checked.currency.alpha().to_owned(),
        atc: Some(checked.atc.value()),
        cryptogram_result: "not_checked".to_owned(),
        status: PaymentStatus::Pending,
        error_code: None,
        decline_code: None,
        authorization_code: None,
        consent: None,
        risk_score: None,
        risk_reasons: None,
        trace_id: trace_id.to_owned(),
        created_at: now,
        client_gone: false,
    };
    let mut claimed = false;
    let read = Read {
        token: &token,
        cryptogram,
        history,
    };
    let result = pay_steps(state, read, &checked, &mut record, &mut claimed, now).await;
    match &result {
        Ok(approved) => {
            record.status = PaymentStatus::Approved;
            record.authorization_code = approved.payment.authorization_code.clone();
        }
        Err(ApiError(error)) => {
            record.status = if error.code == ErrorCode::IssuerUnavailable {
                PaymentStatus::Failed
            } else {
                PaymentStatus::Declined
            };
            record.error_code = Some(error.code.as_str().to_owned());
            record.decline_code = error.decline_code.map(|d| d.as_str().to_owned());
        }
    }
    let stored = if claimed {
        state.store.finish_payment(&record).await
    } else {
        state.store.record_payment(&record).await
    };
    if let Err(error) = stored {
        // An approval stands (the issuer authorised it; its row says
        // `pending` until this lands): written once the database is back,
        // or the log keeps the payment id so the gap can be found.
        tracing::warn!(trace_id, payment_id = %record.id, "the payment outcome is not on record yet");
        let (state, kept) = (state.clone(), record.clone());
        later::retry_when_back(
            error,
            "record the payment outcome",
            later::RECORD_WITHIN,
            move || {
                let (state, kept) = (state.clone(), kept.clone());
                async move {
                    if claimed {
                        state.store.finish_payment(&kept).await
                    } else {
                        state.store.record_payment(&kept).await
                    }
                }
            },
        );
    }
    tracing::info!(
        trace_id,
        payment_id = %record.id,
        token_ref = %record.token_ref,
        status = %record.status,
        code = record.error_code.as_deref().unwrap_or(""),
        decline_code = record.decline_code.as_deref().unwrap_or(""),
        atc = %checked.atc,
        "payment"
    );
    match result {
        Ok(approved) => Ok(Approved {
            payment: record,
            arpc: approved.arpc,
        }),
        Err(ApiError(error)) => Err(ApiError(error.with_payment_id(record.id))),
    }
}

/// What `authorize` read before the steps (`Payments::payment_context`).
struct Read<'a> {
    token: &'a PaymentToken,
    cryptogram: Option<CryptogramRecord>,
    history: PaymentHistory,
}

async fn pay_steps(
    state: &AppState,
    read: Read<'_>,
    checked: &CheckedPayment,
    record: &mut PaymentRecord,
    claimed: &mut bool,
    now: DateTime<Utc>,
) -> Result<Approved, ApiError> {
    let Read {
        token,
        cryptogram: server_cryptogram,
        history,
    } = read;
    let token_ref = token.token.token_ref.as_str();

    // 2. The wallet not frozen; token and card: active, not suspended, not
    //    expired; the expiry sent must be the token's. What the risk rules
    //    and the consent limits read comes in the same round trip; the day
    //    is summed only for a payment the phone did not verify.
    let profile = TokenProfile {
        dki: token.token.imk_generation,
    };
    let (iad, device_cvm) = match checked.iad {
        None => (profile.iad(), DeviceCvm::None),
        Some(iad) => (
            iad,
            profile
                .cvm_of(&iad)
                .ok_or_else(|| DomainError::new(ErrorCode::CryptogramInvalid).with_param("iad"))?,
        ),
    };
    consent::check_not_frozen(&history)?;
    check_payable(token, wallet_today(now, state.time_zone))?;
    let expiry = (checked.token_expiry.month(), checked.token_expiry.year());
    if expiry != (token.token.expiry_month, token.token.expiry_year) {
        return Err(DomainError::new(ErrorCode::CryptogramInvalid)
            .with_param("token_expiry")
            .into());
    }

    // 3. Domain restrictions: the wallet's channels, and what the ATC was
    //    handed out for. A cryptogram made here pays in an app or on the web,
    //    with its own merchant only; device keys pay by tap or in an app
    //    (the device check happened when the keys were handed out).
    let mismatch = |param: &'static str| -> ApiError {
        DomainError::new(ErrorCode::DomainMismatch)
            .with_param(param)
            .into()
    };
    if !state
        .config
        .payments
        .channels
        .iter()
        .any(|c| c == checked.channel.as_str())
    {
        return Err(mismatch("channel"));
    }
    match &server_cryptogram {
        Some(bound) => {
            if checked.channel == Channel::Nfc {
                return Err(mismatch("channel"));
            }
            if bound.merchant_id != checked.merchant_id {
                return Err(mismatch("merchant_id"));
            }
        }
        None if checked.channel == Channel::Ecommerce => return Err(mismatch("channel")),
        None => {}
    }

    // 4. The cryptogram: the ARQC over the CDOL1 data under the session key
    //    of this token and ATC. One made here must also be spent within its
    //    time, on its amount and currency.
    // A cryptogram is made for today's transaction: one dated more than a
    // day either side (time zones) was made for another day, or is a replay.
    let today = wallet_today(now, state.time_zone);
    if (checked.transaction.date - today).num_days().abs() > 1 {
        return Err(DomainError::new(ErrorCode::CryptogramInvalid)
            .with_param("transaction_date")
            .into());
    }
    let (master, profile) = card_key(state, token, checked.token_pan.expose_digits())?;
    let key = master.session_key(checked.atc);
    let data = profile
        .cdol1_with_iad(&checked.transaction, checked.atc, iad)
        .to_bytes()
        .map_err(DomainError::from)?;
    let verified = checked.arqc.verify(&key, &data).is_ok();
    record.cryptogram_result = if verified { "verified" } else { "invalid" }.to_owned();
    if !verified {
        return Err(DomainError::new(ErrorCode::CryptogramInvalid)
            .with_param("cryptogram")
            .into());
    }
    if let Some(bound) = &server_cryptogram {
        let same_money = u64::try_from(bound.amount).ok() == Some(checked.transaction.amount)
            && bound.currency == checked.currency.alpha();
        if !same_money || bound.expires_at < now {
            return Err(DomainError::new(ErrorCode::CryptogramInvalid)
                .with_param("cryptogram")
                .into());
        }
    }

    // 5. The ATC: never used before, not behind the window, handed out. The
    //    store decides in one transaction, so concurrent submissions of one
    //    cryptogram (on any number of nodes) are approved at most once.
    let claim = AtcClaim {
        token_ref: token_ref.to_owned(),
        atc: checked.atc.value(),
        psn: token.token.psn,
        window: state.config.payments.atc_window,
        payment: record.clone(),
    };
    match state.store.claim_atc(&claim).await? {
        AtcClaimOutcome::Claimed => *claimed = true,
        AtcClaimOutcome::Used | AtcClaimOutcome::BehindWindow => {
            return Err(DomainError::new(ErrorCode::AtcReplayed)
                .with_param("atc")
                .into());
        }
        AtcClaimOutcome::Renewed => {
            // Renewed between its check and its claim: made with the keys
            // the token had, which no longer pay.
            return Err(DomainError::new(ErrorCode::CryptogramInvalid)
                .with_param("cryptogram")
                .into());
        }
        AtcClaimOutcome::NotIssued => {
            return Err(DomainError::new(ErrorCode::CryptogramInvalid)
                .with_param("atc")
                .into());
        }
        AtcClaimOutcome::TokenNotActive => {
            // Suspended or deleted since step 2: say which.
            let fresh = state
                .store
                .payment_token(TokenLookup::Ref(token_ref))
                .await?
                .ok_or(ErrorCode::CardUnbound)?;
            check_payable(&fresh, wallet_today(now, state.time_zone))?;
            return Err(DomainError::new(ErrorCode::TokenSuspended).into());
        }
    }

    // 6. Risk rules: a score and its reasons, kept with the payment.
    // 7. Consent: above the person's no-confirmation limits, or when the
    //    rules ask, the payment must carry their confirmation: the one its
    //    single-use cryptogram was made with, or the phone's own check.
    let assessment = consent::score(state, token, &history, record.amount, now);
    record.risk_score = Some(i64::from(assessment.score));
    record.risk_reasons = Some(assessment.reasons_text());
    let given = match server_cryptogram
        .as_ref()
        .and_then(|c| c.consent.as_deref())
    {
        Some(method) => consent::Given::Confirmation(method),
        None => consent::Given::Device(device_cvm),
    };
    let limits = consent::limits_of(state, &history);
    match consent::judge(
        &assessment,
        limits,
        &history,
        record.amount,
        given,
        "device",
    ) {
        Ok(how) => record.consent = Some(how),
        Err(mut error) => {
            // A cryptogram made here is confirmed in the app, not on the phone.
            let next = error.safety.as_mut().and_then(|s| s.next_action.as_mut());
            if let (Some(next), Some(_)) = (next, &server_cryptogram) {
                next.methods = verifications::confirm_methods(state, &token.user_id).await?;
            }
            return Err(error.into());
        }
    }

    // 8. Detokenize: the real card number, for the issuer only.
    let pan = match (&token.pan_key_version, &token.pan_ciphertext) {
        (Some(key_version), Some(blob)) => state
            .keys
            .open(
                &token.token.card_id,
                &Sealed {
                    key_version: *key_version,
                    blob: blob.clone(),
                },
            )
            .map_err(internal)?,
        _ => return Err(DomainError::new(ErrorCode::CardUnbound).into()),
    };

    // 9. The issuer authorizes.
    let timeout = Duration::from_secs(state.config.issuer_timeout_secs);
    let authorization = PaymentAuthorization {
        pan: &pan,
        amount: checked.transaction.amount,
        currency: checked.currency,
        merchant_id: &checked.merchant_id,
        issuer_code: token.issuer_code.as_deref(),
    };
    let asked = std::time::Instant::now();
    let answer = tokio::time::timeout(timeout, state.issuer.authorize_payment(&authorization))
        .await
        .unwrap_or(AuthorizationAnswer::Unavailable);
    state.metrics.issuer_call(
        token.issuer_code.as_deref().unwrap_or("unknown"),
        "authorize_payment",
        match &answer {
            AuthorizationAnswer::Approved { .. } => "approved",
            AuthorizationAnswer::Declined(code) => code.as_str(),
            AuthorizationAnswer::Unavailable => "unavailable",
        },
        asked.elapsed(),
    );
    let authorization_code = match answer {
        AuthorizationAnswer::Approved { authorization_code } => authorization_code,
        AuthorizationAnswer::Declined(DeclineCode::CardReissued) => {
            // The old number is dead: marked on the card, so that its next
            // payments are refused here without asking the bank, and the
            // card list says why it cannot pay.
            if let Err(error) = state
                .store
                .mark_card_reissued(&token.token.card_id, now)
                .await
            {
                tracing::warn!(error = %error, "could not mark a replaced card");
            }
            return Err(DomainError::declined(DeclineCode::CardReissued).into());
        }
        AuthorizationAnswer::Declined(code) => return Err(DomainError::declined(code).into()),
        AuthorizationAnswer::Unavailable => {
            // Nothing was authorised: give the ATC back so the same
            // cryptogram can be retried.
            state
                .store
                .release_atc(token_ref, checked.atc.value(), &record.id)
                .await?;
            return Err(DomainError::new(ErrorCode::IssuerUnavailable)
                .with_retry_after(state.config.issuer_retry_after_secs)
                .into());
        }
    };

    // 10. Fee: none yet (the wallet-safety work's fee schedule; payments
    //     are free until then). The payments table has a fee column waiting.

    let mut payment = record.clone();
    payment.authorization_code = Some(authorization_code);
    Ok(Approved {
        payment,
        arpc: Arpc::method1(&key, &checked.arqc, profile::ARC_APPROVED),
    })
}
