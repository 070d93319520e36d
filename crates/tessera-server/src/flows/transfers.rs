//! Transfers: money from one of the person's bound cards to a bank card,
//! `POST /v1/transfers`, confirmed (`Tessera-Verification`, purpose
//! `transfer`, scoped to the card, amount and currency) and idempotent.
//! The fee comes from the fee schedule by the same rule as
//! `POST /v1/fees/quote` (`fees::transfer_operation`): free within one
//! bank, charged across banks.
//!
//! The transfer is recorded `pending`, its destination number sealed
//! under the key ring, before the destination's bank is asked to credit
//! it; then settled as the bank answered: settled, declined, or failed
//! when it could not be reached. Settling erases the sealed number in the
//! same statement: only the mask (first six, last four) and the keyed
//! fingerprint stay. A crash between leaves a pending record, never money
//! without one. The number never reaches a log, an error or a response in
//! clear.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tessera_core::bins::policy::unknown_bin;
use tessera_core::card::CardStatus;
use tessera_core::card::holder_name::HolderName;
use tessera_core::card::pan::Pan;
use tessera_core::error::{DomainError, ErrorCode};
use tessera_core::fees::FeeChannel;
use tessera_core::ids::{CardId, TransferId, UserId};
use tessera_core::money::Currency;
use tessera_core::payment::check::check_amount;
use tessera_store::{RecordFilter, TransferOutcome, TransferRecord, TransferStatus};

use crate::flows::{consent, fees, later, verifications};
use crate::http::error::{ApiError, internal};
use crate::http::query;
use crate::http::views::{TransferList, TransferQuery, TransferRequest, TransferView};
use crate::issuer::{TransferAnswer, TransferOrder};
use crate::state::AppState;

fn invalid(param: &'static str) -> DomainError {
    DomainError::new(ErrorCode::InvalidRequest).with_param(param)
}

/// The request's own fields, checked before anything is read.
struct Checked {
    card_id: CardId,
    to_pan: Pan,
    to_holder_name: HolderName,
    amount: u64,
    channel: FeeChannel,
}

fn check(request: &TransferRequest) -> Result<Checked, DomainError> {
    let amount = check_amount(request.amount, "amount", false)?;
    // The schedule is written in fen: another currency has no rule.
    if Currency::parse(&request.currency) != Some(Currency::CNY) {
        return Err(invalid("currency"));
    }
    let channel = match request.channel.as_deref() {
        None => FeeChannel::InApp,
        Some(name) => FeeChannel::parse_request(name.trim()).ok_or(invalid("channel"))?,
    };
    // Pan's own errors (invalid_number, incorrect_number) name the field
    // as it is called here; they never carry the digits.
    let to_pan =
        Pan::parse(&request.to_card_number).map_err(|error| error.with_param("to_card_number"))?;
    let to_holder_name =
        HolderName::parse(&request.to_holder_name).map_err(|e| e.with_param("to_holder_name"))?;
    let card_id = request.card_id.trim();
    if card_id.is_empty() {
        return Err(invalid("card_id"));
    }
    Ok(Checked {
        card_id: CardId::from(card_id.to_owned()),
        to_pan,
        to_holder_name,
        amount,
        channel,
    })
}

/// Sends `request.amount` from the person's card to the destination; the
/// transfer as recorded, or why not (a declined or failed transfer carries
/// its `transfer_id`).
pub async fn send(
    state: &AppState,
    user_id: &UserId,
    headers: &axum::http::HeaderMap,
    request: &TransferRequest,
    trace_id: &str,
    now: DateTime<Utc>,
) -> Result<TransferRecord, ApiError> {
    let checked = check(request)?;
    // A frozen wallet sends nothing.
    consent::check_not_frozen(&consent::account(state, user_id, false, now).await?)?;
    // The destination's bank must be known: it is the one asked to credit
    // the card, and it decides the fee.
    let bin = state
        .bins
        .lookup_pan(&checked.to_pan)
        .filter(|bin| bin.issuer_code.is_some())
        .ok_or_else(|| unknown_bin().with_param("to_card_number"))?;
    let to_issuer = bin.issuer_code.clone();
    let source = state
        .store
        .card(user_id, &checked.card_id)
        .await?
        .filter(|card| card.status == CardStatus::Active)
        .ok_or_else(|| DomainError::new(ErrorCode::NotFound).with_param("card_id"))?;
    let user = state
        .store
        .user_by_id(user_id)
        .await?
        .ok_or_else(|| internal("user"))?;
    // Used up here, after every check of the request and before anything
    // is recorded: a refused confirmation records nothing.
    verifications::require(
        state,
        headers,
        user_id,
        verifications::Purpose::Transfer,
        &verifications::transfer_scope(source.id.as_str(), checked.amount, Currency::CNY.alpha()),
        now,
    )
    .await?;

    let operation = fees::transfer_operation(source.issuer_code.as_deref(), to_issuer.as_deref());
    let fee = state
        .config
        .fees
        .rule(operation, checked.channel)
        .rule
        .quote(checked.amount)
        .fee;
    let id = TransferId::from(crate::ids::time_ordered_id(TransferId::PREFIX, 20));
    let sealed = state
        .keys
        .seal(id.as_str(), &checked.to_pan)
        .map_err(|_| internal("seal"))?;
    let mut transfer = TransferRecord {
        id: id.clone(),
        user_id: user_id.clone(),
        card_id: source.id.clone(),
        to_masked: checked.to_pan.masked(),
        to_fingerprint: state.keys.fingerprint(&checked.to_pan).as_str().to_owned(),
        to_issuer_code: to_issuer.clone(),
        to_holder_name: checked.to_holder_name.as_str().to_owned(),
        to_key_version: Some(sealed.key_version),
        to_ciphertext: Some(sealed.blob),
        amount: i64::try_from(checked.amount).map_err(|_| invalid("amount"))?,
        fee: i64::try_from(fee).map_err(|_| internal("fee"))?,
        currency: Currency::CNY.alpha().to_owned(),
        fee_operation: operation.as_str().to_owned(),
        channel: checked.channel.as_str().to_owned(),
        status: TransferStatus::Pending,
        decline_code: None,
        reference: None,
        trace_id: trace_id.to_owned(),
        created_at: now,
        updated_at: now,
    };
    state.store.record_transfer(&transfer).await?;

    let order = TransferOrder {
        to_pan: &checked.to_pan,
        amount: checked.amount,
        currency: Currency::CNY,
        sender_name: &user.real_name,
        issuer_code: to_issuer.as_deref(),
    };
    let timeout = Duration::from_secs(state.config.issuer_timeout_secs);
    let asked = std::time::Instant::now();
    let answer = tokio::time::timeout(timeout, state.issuer.transfer(&order))
        .await
        .unwrap_or(TransferAnswer::Unavailable);
    state.metrics.issuer_call(
        to_issuer.as_deref().unwrap_or("unknown"),
        "transfer",
        answer.label(),
        asked.elapsed(),
    );
    let settled = state.now();
    let result = match answer {
        TransferAnswer::Accepted { reference } => {
            transfer.status = TransferStatus::Settled;
            transfer.reference = Some(reference);
            Ok(())
        }
        TransferAnswer::Declined(code) => {
            transfer.status = TransferStatus::Declined;
            transfer.decline_code = Some(code.as_str().to_owned());
            Err(DomainError::new(ErrorCode::TransferDeclined).with_decline_code(code))
        }
        TransferAnswer::Unavailable => {
            transfer.status = TransferStatus::Failed;
            Err(DomainError::new(ErrorCode::IssuerUnavailable)
                .with_retry_after(state.config.issuer_retry_after_secs))
        }
    };
    transfer.updated_at = settled;
    transfer.to_key_version = None;
    transfer.to_ciphertext = None;
    let outcome = TransferOutcome {
        id: transfer.id.clone(),
        status: transfer.status,
        decline_code: transfer.decline_code.clone(),
        reference: transfer.reference.clone(),
        updated_at: settled,
    };
    if let Err(error) = state.store.finish_transfer(&outcome).await {
        // The record stays `pending`, its number sealed, until this lands;
        // the log keeps the transfer id so the gap can be found.
        tracing::warn!(trace_id, transfer_id = %transfer.id, "the transfer outcome is not on record yet");
        let state = state.clone();
        later::retry_when_back(
            error,
            "record the transfer outcome",
            later::RECORD_WITHIN,
            move || {
                let (state, outcome) = (state.clone(), outcome.clone());
                async move { state.store.finish_transfer(&outcome).await }
            },
        );
    }
    tracing::info!(
        trace_id,
        transfer_id = %transfer.id,
        card_id = %transfer.card_id,
        to = %transfer.to_masked,
        status = %transfer.status,
        amount = transfer.amount,
        fee = transfer.fee,
        decline_code = transfer.decline_code.as_deref().unwrap_or(""),
        "transfer"
    );
    result
        .map(|()| transfer.clone())
        .map_err(|error| ApiError(error.with_transfer_id(transfer.id.to_string())))
}

/// One of the person's transfers; another's, or an unknown id, is not found.
pub async fn get(state: &AppState, user_id: &UserId, id: &str) -> Result<TransferView, ApiError> {
    let transfer = state
        .store
        .transfer(user_id, &TransferId::from(id.to_owned()))
        .await?
        .ok_or_else(|| DomainError::new(ErrorCode::NotFound).with_param("id"))?;
    Ok(TransferView::from_record(&transfer))
}

/// The person's transfers, newest first, a page at a time (at most 100;
/// 20 by default).
pub async fn list(
    state: &AppState,
    user_id: &UserId,
    request: &TransferQuery,
) -> Result<TransferList, ApiError> {
    let before = query::cursor(request.cursor.as_deref())?;
    let limit = query::page_limit(request.limit, 20, 100)?;
    let transfers = state
        .store
        .transfers(&RecordFilter {
            user_id: user_id.clone(),
            before,
            limit,
            ..RecordFilter::default()
        })
        .await?;
    Ok(TransferList {
        next_cursor: query::next_cursor(&transfers, limit, |t| (t.created_at, t.id.as_str())),
        data: transfers.iter().map(TransferView::from_record).collect(),
    })
}
