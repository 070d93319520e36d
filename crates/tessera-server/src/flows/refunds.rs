//! Refunds of approved payments, partial or whole, asked by the merchant
//! that took the payment: `POST /v1/payments/{id}/refunds`. The refund is
//! recorded `pending` before the issuer is asked (the store checks, in the
//! same transaction and under the payment's lock, that the payment's
//! pending and accepted refunds leave room for it), then settled as the
//! issuer answered: accepted, declined, or failed when it could not be
//! reached. A crash between leaves a pending record, never money without
//! one; a declined or failed refund leaves its amount refundable again.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tessera_core::error::{DomainError, ErrorCode};
use tessera_core::ids::PaymentId;
use tessera_core::money::Currency;
use tessera_core::payment::check::MAX_AMOUNT;
use tessera_store::{
    PaymentRecord, PaymentStatus, RefundClaim, RefundOutcome, RefundRecord, RefundStatus,
};

use crate::flows::later;
use crate::http::auth::Caller;
use crate::http::error::{ApiError, internal};
use crate::http::fields::stored_text;
use crate::http::views::RefundRequest;
use crate::ids;
use crate::issuer::{RefundOrder, TransferAnswer};
use crate::state::AppState;

fn not_found() -> ApiError {
    DomainError::new(ErrorCode::NotFound)
        .with_param("id")
        .into()
}

/// The payment, if this merchant key took it: another merchant's payment
/// answers as an unknown one does, so ids tell nothing across merchants.
pub async fn merchant_payment(
    state: &AppState,
    caller: &Caller,
    payment_id: &str,
) -> Result<PaymentRecord, ApiError> {
    match state.store.payment(&PaymentId::from(payment_id)).await? {
        Some(payment) if caller.acts_for(&payment.merchant_id) => Ok(payment),
        _ => Err(not_found()),
    }
}

/// Refunds `request.amount` of the payment; the refund as recorded, or why
/// not (a declined or failed refund carries its `refund_id`).
pub async fn refund(
    state: &AppState,
    caller: &Caller,
    merchant_key_id: &str,
    payment_id: &str,
    request: &RefundRequest,
    trace_id: &str,
    now: DateTime<Utc>,
) -> Result<RefundRecord, ApiError> {
    if request.amount <= 0 || request.amount.unsigned_abs() > MAX_AMOUNT {
        return Err(DomainError::new(ErrorCode::InvalidRequest)
            .with_param("amount")
            .into());
    }
    let payment = merchant_payment(state, caller, payment_id).await?;
    let (Some(authorization_code), PaymentStatus::Approved) =
        (payment.authorization_code.clone(), payment.status)
    else {
        return Err(DomainError::new(ErrorCode::PaymentNotRefundable)
            .with_payment_id(payment.id.to_string())
            .into());
    };
    let currency = Currency::parse(&payment.currency).ok_or_else(|| internal("currency"))?;
    // The card's issuer routes the refund to the payment's bank. Read
    // before anything is recorded: a database that fails here leaves no
    // pending refund, and a refund is never sent to the wrong bank. A card
    // unbound since keeps its row.
    let issuer_code = state
        .store
        .card(&payment.user_id, &payment.card_id)
        .await?
        .and_then(|card| card.issuer_code);
    let mut refund = RefundRecord {
        id: ids::refund_id(),
        payment_id: payment.id.clone(),
        merchant_key_id: merchant_key_id.to_owned(),
        amount: request.amount,
        currency: currency.alpha().to_owned(),
        reason: request
            .reason
            .as_deref()
            .map(stored_text)
            .filter(|r| !r.is_empty()),
        status: RefundStatus::Pending,
        decline_code: None,
        reference: None,
        trace_id: trace_id.to_owned(),
        created_at: now,
        updated_at: now,
    };
    match state.store.begin_refund(&refund).await? {
        RefundClaim::Recorded => {}
        RefundClaim::NoPayment => return Err(not_found()),
        RefundClaim::NotRefundable(_) => {
            return Err(DomainError::new(ErrorCode::PaymentNotRefundable)
                .with_payment_id(payment.id.to_string())
                .into());
        }
        RefundClaim::Exceeds { refundable } => {
            tracing::info!(trace_id, payment_id = %payment.id, refundable, "refund over the amount");
            return Err(DomainError::new(ErrorCode::RefundExceedsPayment)
                .with_param("amount")
                .with_payment_id(payment.id.to_string())
                .into());
        }
    }

    let order = RefundOrder {
        authorization_code: &authorization_code,
        amount: request.amount.unsigned_abs(),
        currency,
        merchant_id: &payment.merchant_id,
        issuer_code: issuer_code.as_deref(),
    };
    let timeout = Duration::from_secs(state.config.issuer_timeout_secs);
    let asked = std::time::Instant::now();
    let answer = tokio::time::timeout(timeout, state.issuer.refund_payment(&order))
        .await
        .unwrap_or(TransferAnswer::Unavailable);
    state.metrics.issuer_call(
        issuer_code.as_deref().unwrap_or("unknown"),
        "refund_payment",
        answer.label(),
        asked.elapsed(),
    );
    let settled = state.now();
    refund.updated_at = settled;
    let result = match answer {
        TransferAnswer::Accepted { reference } => {
            refund.status = RefundStatus::Accepted;
            refund.reference = Some(reference);
            Ok(())
        }
        TransferAnswer::Declined(code) => {
            refund.status = RefundStatus::Declined;
            refund.decline_code = Some(code.as_str().to_owned());
            Err(DomainError::new(ErrorCode::RefundDeclined))
        }
        TransferAnswer::Unavailable => {
            refund.status = RefundStatus::Failed;
            Err(DomainError::new(ErrorCode::IssuerUnavailable)
                .with_retry_after(state.config.issuer_retry_after_secs))
        }
    };
    let outcome = RefundOutcome {
        id: refund.id.clone(),
        status: refund.status,
        decline_code: refund.decline_code.clone(),
        reference: refund.reference.clone(),
        updated_at: settled,
    };
    if let Err(error) = state.store.finish_refund(&outcome).await {
        // The record stays `pending` (its amount held) until this lands;
        // the log keeps the refund id so the gap can be found.
        tracing::warn!(trace_id, refund_id = %refund.id, "the refund outcome is not on record yet");
        let state = state.clone();
        later::retry_when_back(
            error,
            "record the refund outcome",
            later::RECORD_WITHIN,
            move || {
                let (state, outcome) = (state.clone(), outcome.clone());
                async move { state.store.finish_refund(&outcome).await }
            },
        );
    }
    tracing::info!(
        trace_id,
        refund_id = %refund.id,
        payment_id = %payment.id,
        status = %refund.status,
        amount = refund.amount,
        decline_code = refund.decline_code.as_deref().unwrap_or(""),
        "refund"
    );
    result
        .map(|()| refund.clone())
        .map_err(|error| ApiError(error.with_refund_id(refund.id.to_string())))
}
