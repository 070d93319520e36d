//! The person's own safety settings: no-confirmation limits, freezing the
//! wallet, and reporting a payment that was not theirs.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::flows::{consent, reports};
use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::extract::{Ctx, JsonBody};
use crate::http::fields::Fields;
use crate::http::views::{
    ConsentLimitsRequest, ConsentLimitsView, ErrorEnvelope, PaymentReportRequest,
    PaymentReportView, WalletFreezeView,
};
use crate::state::AppState;

/// The person's no-confirmation limits (小额免密), minor units of CNY: a
/// payment within both needs no confirmation; above either, the payment
/// password, a text-message code or the phone's own check (fingerprint,
/// face, passcode). Until they choose, the wallet's defaults.
#[utoipa::path(get, path = "/v1/me/payment-limits", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = ConsentLimitsView), (status = 401, body = ErrorEnvelope)))]
pub async fn get_payment_limits(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
) -> Result<Json<ConsentLimitsView>, ApiError> {
    Ok(Json(
        consent::get_limits(&state, caller.user()?, ctx.now).await?,
    ))
}

/// Choose the no-confirmation limits, each from 0 (every payment is
/// confirmed) to the wallet's most, `per_day` at least `per_payment`.
/// Lowering needs nothing; raising either takes a confirmation
/// (`security_settings`) in `Tessera-Verification`.
#[utoipa::path(put, path = "/v1/me/payment-limits", tag = "users", security(("bearer" = [])),
    request_body = ConsentLimitsRequest,
    params(("Tessera-Verification" = Option<String>, Header, description = "a confirmation for security_settings, when raising a limit")),
    responses((status = 200, body = ConsentLimitsView),
              (status = 400, description = "invalid_request: per_payment or per_day out of the wallet's range", body = ErrorEnvelope),
              (status = 401, body = ErrorEnvelope),
              (status = 403, description = "verification_required, verification_invalid", body = ErrorEnvelope)))]
pub async fn set_payment_limits(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    headers: HeaderMap,
    JsonBody { value: request, .. }: JsonBody<ConsentLimitsRequest>,
) -> Result<Json<ConsentLimitsView>, ApiError> {
    Ok(Json(
        consent::set_limits(&state, &headers, caller.user()?, &request, ctx.now).await?,
    ))
}

/// Whether the wallet is frozen.
#[utoipa::path(get, path = "/v1/me/freeze", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = WalletFreezeView), (status = 401, body = ErrorEnvelope)))]
pub async fn get_freeze(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
) -> Result<Json<WalletFreezeView>, ApiError> {
    Ok(Json(
        reports::freeze_state(&state, caller.user()?, ctx.lang, ctx.now).await?,
    ))
}

/// Freeze the wallet: every card is paused (as its cardholder) and every
/// payment answers `account_frozen` until the person unfreezes; support
/// sees it as a ticket. Freezing a frozen wallet changes nothing but
/// pauses cards bound since.
#[utoipa::path(post, path = "/v1/me/freeze", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = WalletFreezeView), (status = 401, body = ErrorEnvelope)))]
pub async fn freeze(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
) -> Result<Json<WalletFreezeView>, ApiError> {
    Ok(Json(
        reports::freeze(&state, caller.user()?, &ctx.trace_id, ctx.lang, ctx.now).await?,
    ))
}

/// Unfreeze the wallet, with a confirmation (`unfreeze`) in
/// `Tessera-Verification`. Cards paused by a report stay paused.
#[utoipa::path(delete, path = "/v1/me/freeze", tag = "users", security(("bearer" = [])),
    params(("Tessera-Verification" = Option<String>, Header, description = "a confirmation for unfreeze")),
    responses((status = 200, body = WalletFreezeView), (status = 401, body = ErrorEnvelope),
              (status = 403, description = "verification_required, verification_invalid", body = ErrorEnvelope)))]
pub async fn unfreeze(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Json<WalletFreezeView>, ApiError> {
    Ok(Json(
        reports::unfreeze(
            &state,
            &headers,
            caller.user()?,
            &ctx.trace_id,
            ctx.lang,
            ctx.now,
        )
        .await?,
    ))
}

/// "This payment was not me": the card it was made with is paused at once
/// (as its cardholder), and a ticket with the payment attached is opened
/// for support. 201 with what happens next; a payment reported before
/// answers 200 with that report.
#[utoipa::path(post, path = "/v1/payments/{id}/report", tag = "payments", security(("bearer" = [])),
    params(("id" = String, Path, description = "payment id (pay_...)")),
    request_body = PaymentReportRequest,
    responses((status = 201, body = PaymentReportView), (status = 200, description = "reported before", body = PaymentReportView),
              (status = 401, body = ErrorEnvelope),
              (status = 404, description = "not_found: no payment with this id is the person's", body = ErrorEnvelope),
              (status = 422, description = "field_too_long, invalid_characters (message)", body = ErrorEnvelope)))]
pub async fn report_payment(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody { value: request, .. }: JsonBody<PaymentReportRequest>,
) -> Result<Response, ApiError> {
    let user_id = caller.user()?;
    request.check_fields(&state.config.limits)?;
    let (created, view) = reports::report_payment(
        &state,
        user_id,
        &id,
        &request,
        &ctx.trace_id,
        ctx.lang,
        ctx.now,
    )
    .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view)).into_response())
}
