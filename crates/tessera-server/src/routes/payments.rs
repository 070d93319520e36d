//! Payments: merchants submit them (merchant API key), users read theirs.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use tessera_core::error::{DeclineCode, DomainError, ErrorCode, Lang};
use tessera_store::{PaymentFilter, PaymentRecord};
use utoipa::IntoParams;

use crate::flows::idempotency;
use crate::flows::payments;
use crate::http::auth::{Caller, Role};
use crate::http::error::{ApiError, rfc3339};
use crate::http::extract::{Ctx, parse_json};
use crate::http::views::{DeclineView, ErrorEnvelope, PaymentList, PaymentRequest, PaymentView};
use crate::state::{AppState, from_millis};

fn payment_view(payment: &PaymentRecord, lang: Lang) -> PaymentView {
    let decline = payment.error_code.as_deref().map(|code| {
        let decline_code = payment.decline_code.as_deref().and_then(DeclineCode::parse);
        let message = match (ErrorCode::parse(code), decline_code) {
            (_, Some(decline)) => DomainError::declined(decline).message(lang),
            (Some(code), None) => DomainError::new(code).message(lang),
            (None, None) => code.to_owned(),
        };
        DeclineView {
            code: code.to_owned(),
            decline_code: payment.decline_code.clone(),
            message,
        }
    });
    PaymentView {
        id: payment.id.clone(),
        status: payment.status.clone(),
        amount: payment.amount,
        currency: payment.currency.clone(),
        merchant_id: payment.merchant_id.clone(),
        merchant_name: payment.merchant_name.clone(),
        channel: payment.channel.clone(),
        card_id: payment.card_id.clone(),
        token_ref: payment.token_ref.clone(),
        atc: payment.atc.map(|atc| format!("{atc:04X}")),
        authorization_code: payment.authorization_code.clone(),
        arpc: None,
        decline,
        created_at: rfc3339(from_millis(payment.created_at)),
    }
}

/// Authorize a payment with a token and its cryptogram (merchant API key).
/// Approved: 201 with the authorization code and the ARPC. Declined: the
/// error names the step (token_suspended with suspended_by, card_unbound,
/// token_expired, domain_mismatch, cryptogram_invalid, atc_replayed,
/// card_declined with decline_code, issuer_unavailable) and carries the
/// `payment_id` it was recorded as. Send an `Idempotency-Key` to retry safely.
#[utoipa::path(post, path = "/v1/payments", tag = "payments", security(("bearer" = [])),
    request_body = PaymentRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key and body return the first answer")),
    responses((status = 201, body = PaymentView),
        (status = 402, description = "declined: token_suspended, card_unbound, token_expired, domain_mismatch, cryptogram_invalid, atc_replayed, card_declined", body = ErrorEnvelope),
        (status = 404, description = "not_found: no token has this token PAN", body = ErrorEnvelope),
        (status = 409, description = "otp_required, idempotency_conflict, request_in_progress", body = ErrorEnvelope),
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
    let Caller::Key { key_id, .. } = &caller else {
        return Err(ErrorCode::Forbidden.into());
    };
    let key = idempotency::key_of(&headers)?;
    let work = async {
        let approved =
            payments::authorize(&state, key_id, &request, &ctx.trace_id, ctx.now).await?;
        let mut view = payment_view(&approved.payment, ctx.lang);
        view.arpc = Some(approved.arpc.to_string());
        let body = serde_json::to_value(view).map_err(|_| ErrorCode::InternalError)?;
        Ok((StatusCode::CREATED, body))
    };
    Ok(idempotency::run(&state, &caller, key, "POST /v1/payments", &raw, &ctx, work).await)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PaymentQuery {
    /// At most 100; 20 by default.
    pub limit: Option<u32>,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
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
    Query(query): Query<PaymentQuery>,
) -> Result<Json<PaymentList>, ApiError> {
    let user_id = caller.user()?;
    let before = query
        .cursor
        .as_deref()
        .map(|c| {
            c.split_once('.')
                .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id.to_owned())))
                .ok_or_else(|| DomainError::new(ErrorCode::InvalidRequest).with_param("cursor"))
        })
        .transpose()?;
    let limit = query.limit.unwrap_or(20).clamp(1, 100);
    let payments = state
        .store
        .payments(&PaymentFilter {
            user_id: user_id.to_owned(),
            before,
            limit,
        })
        .await?;
    let next_cursor = (payments.len() == usize::try_from(limit).unwrap_or(usize::MAX))
        .then(|| {
            payments
                .last()
                .map(|p| format!("{}.{}", p.created_at, p.id))
        })
        .flatten();
    Ok(Json(PaymentList {
        data: payments.iter().map(|p| payment_view(p, ctx.lang)).collect(),
        next_cursor,
    }))
}
