//! Payments: merchants submit and refund them (merchant API key), users
//! read theirs.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use tessera_core::error::{DomainError, ErrorCode};
use tessera_core::payment::check::check_merchant_id;

use crate::flows::{idempotency, payments, refunds};
use crate::http::auth::{Caller, Role};
use crate::http::detach;
use crate::http::error::ApiError;
use crate::http::extract::{Ctx, QueryParams, parse_json};
use crate::http::fields::Fields;
use crate::http::views::{
    ErrorEnvelope, PaymentList, PaymentQuery, PaymentRequest, PaymentView, RefundRequest,
    RefundView,
};
use crate::state::AppState;

/// Authorize a payment with a token and its cryptogram (merchant API key).
/// Approved: 201 with the authorization code and the ARPC. Declined: the
/// error names the step (token_suspended with suspended_by, card_unbound,
/// token_expired, domain_mismatch, cryptogram_invalid, atc_replayed,
/// card_declined with decline_code, issuer_unavailable) and carries the
/// `payment_id` it was recorded as. A merchant key pays only as the
/// merchants it was made for: another `merchant_id` is 403 `forbidden`
/// (param `merchant_id`), before anything is looked up or recorded. Send an
/// `Idempotency-Key` to retry safely.
#[utoipa::path(post, path = "/v1/payments", tag = "payments", security(("bearer" = [])),
    request_body = PaymentRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key and body return the first answer")),
    responses((status = 201, body = PaymentView),
        (status = 402, description = "declined: token_suspended, card_unbound, token_expired, domain_mismatch, cryptogram_invalid, atc_replayed, card_declined", body = ErrorEnvelope),
        (status = 403, description = "forbidden: a merchant_id this merchant key was not made for", body = ErrorEnvelope),
        (status = 404, description = "not_found: no token has this token PAN", body = ErrorEnvelope),
        (status = 409, description = "otp_required, idempotency_conflict, request_in_progress", body = ErrorEnvelope),
        (status = 422, description = "invalid_number: the token PAN is not a card number", body = ErrorEnvelope),
        (status = 503, description = "issuer_unavailable (Retry-After): nothing was charged, the cryptogram may be retried", body = ErrorEnvelope)))]
pub async fn create_payment(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    headers: HeaderMap,
    raw: Bytes,
) -> Result<Response, ApiError> {
    // The role first: a user or another key learns nothing from the body.
    caller.require_role(&[Role::Merchant])?;
    let request: PaymentRequest = parse_json(&raw)?;
    request.check_fields(&state.config.limits)?;
    let Caller::Key { key_id, .. } = &caller else {
        return Err(ErrorCode::Forbidden.into());
    };
    let key_id = key_id.clone();
    // Only as its own merchants: refused before any token, idempotency key
    // or history is looked up or written. A malformed id is the field
    // checks' to name.
    if let Ok(merchant_id) = check_merchant_id(&request.merchant_id)
        && !caller.acts_for(&merchant_id)
    {
        return Err(DomainError::new(ErrorCode::Forbidden)
            .with_param("merchant_id")
            .into());
    }
    let key = idempotency::key_of(&headers)?;
    let (lang, trace_id, gone) = (ctx.lang, ctx.trace_id.clone(), ctx.client_gone.clone());
    // Runs to its end if the terminal drops: see `http/detach.rs`.
    let detached = async move {
        let work = async {
            let authorized =
                payments::authorize(&state, &key_id, &request, &ctx.trace_id, ctx.now).await;
            detach::note_client_gone(&state, &ctx).await;
            let approved = authorized?;
            let mut view = PaymentView::from_record(&approved.payment, ctx.lang);
            view.arpc = Some(approved.arpc.to_string());
            let body = serde_json::to_value(view).map_err(|_| ErrorCode::InternalError)?;
            Ok((StatusCode::CREATED, body))
        };
        idempotency::run(&state, &caller, key, "POST /v1/payments", &raw, &ctx, work).await
    };
    Ok(detach::detached(&gone, lang, &trace_id, detached).await)
}

/// The user's payments, newest first: approvals and every decline with its
/// reason.
#[utoipa::path(get, path = "/v1/payments", tag = "payments", security(("bearer" = [])),
    params(PaymentQuery),
    responses((status = 200, body = PaymentList), (status = 401, body = ErrorEnvelope)))]
pub async fn list_payments(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    QueryParams(query): QueryParams<PaymentQuery>,
) -> Result<Json<PaymentList>, ApiError> {
    Ok(Json(
        payments::list(&state, caller.user()?, &query, ctx.lang).await?,
    ))
}

/// One payment with its refunds: for the person who paid (their session) or
/// the merchant that took it (its merchant key). Anyone else, and an
/// unknown id, gets 404.
#[utoipa::path(get, path = "/v1/payments/{id}", tag = "payments", security(("bearer" = [])),
    params(("id" = String, Path, description = "payment id (pay_...)")),
    responses((status = 200, body = PaymentView), (status = 401, body = ErrorEnvelope),
        (status = 404, description = "not_found: no payment with this id is the caller's", body = ErrorEnvelope)))]
pub async fn get_payment(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<PaymentView>, ApiError> {
    Ok(Json(payments::get(&state, &caller, &id, ctx.lang).await?))
}

/// Refund an approved payment, in part or whole (merchant API key; only
/// the merchant that took the payment). The refunds of a payment never add
/// up to more than it, however many are sent at once and to however many
/// nodes: pending refunds count until they settle. Accepted: 201 with the
/// refund. The bank declined: 402 `refund_declined`; the bank could not be
/// reached: 503 `issuer_unavailable`; both carry the `refund_id` the
/// attempt was recorded as, and leave the amount refundable again. Send an
/// `Idempotency-Key` to retry safely.
#[utoipa::path(post, path = "/v1/payments/{id}/refunds", tag = "payments", security(("bearer" = [])),
    request_body = RefundRequest,
    params(("id" = String, Path, description = "payment id (pay_...)"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key and body return the first answer")),
    responses((status = 201, body = RefundView),
        (status = 400, description = "invalid_request: amount is not 1 to the most a payment may be", body = ErrorEnvelope),
        (status = 402, description = "refund_declined: the bank refused; refund_id names the record", body = ErrorEnvelope),
        (status = 403, description = "forbidden: not a merchant key", body = ErrorEnvelope),
        (status = 404, description = "not_found: no payment with this id was taken by this merchant", body = ErrorEnvelope),
        (status = 409, description = "payment_not_refundable (the payment was not approved), idempotency_conflict, request_in_progress", body = ErrorEnvelope),
        (status = 422, description = "refund_exceeds_payment (param amount), field_too_long, invalid_characters (param reason)", body = ErrorEnvelope),
        (status = 503, description = "issuer_unavailable (Retry-After): nothing was given back; refund_id names the failed record", body = ErrorEnvelope)))]
pub async fn create_refund(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    raw: Bytes,
) -> Result<Response, ApiError> {
    caller.require_role(&[Role::Merchant])?;
    let request: RefundRequest = parse_json(&raw)?;
    request.check_fields(&state.config.limits)?;
    let Caller::Key { key_id, .. } = &caller else {
        return Err(ErrorCode::Forbidden.into());
    };
    let key_id = key_id.clone();
    let key = idempotency::key_of(&headers)?;
    // The payment is part of the fingerprint: one key and body on two
    // payments are two different requests.
    let route = format!("POST /v1/payments/{id}/refunds");
    let (lang, trace_id, gone) = (ctx.lang, ctx.trace_id.clone(), ctx.client_gone.clone());
    // Runs to its end if the merchant drops: the refund is settled on record.
    let detached = async move {
        let work = async {
            let refund = refunds::refund(
                &state,
                &caller,
                &key_id,
                &id,
                &request,
                &ctx.trace_id,
                ctx.now,
            )
            .await?;
            let body = serde_json::to_value(RefundView::from_record(&refund))
                .map_err(|_| ErrorCode::InternalError)?;
            Ok((StatusCode::CREATED, body))
        };
        idempotency::run(&state, &caller, key, &route, &raw, &ctx, work).await
    };
    Ok(detach::detached(&gone, lang, &trace_id, detached).await)
}
