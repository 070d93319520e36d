//! A token's own routes: limited-use keys and single-use cryptograms for its
//! device, and its lifecycle (suspend, resume, delete).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;

use crate::flows::lifecycle::{self, Change};
use crate::flows::payments;
use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::extract::{Ctx, JsonBody, QueryParams};
use crate::http::fields::Fields;
use crate::http::views::{
    CryptogramRequest, CryptogramView, DeleteQuery, ErrorEnvelope, KeysRequest, LimitedUseKeys,
    TokenChangeRequest, TokenStateView,
};
use crate::state::AppState;

/// Limited-use keys for the token's own device: session keys for the next
/// ATCs (each pays once). Asking again hands out the next batch; batches
/// never overlap. Send the `device_id` the card was bound from.
#[utoipa::path(post, path = "/v1/tokens/{ref}/keys", tag = "payments", security(("bearer" = [])),
    params(("ref" = String, Path, description = "token reference (tok_...)")),
    request_body = KeysRequest,
    responses((status = 200, body = LimitedUseKeys),
        (status = 402, description = "token_suspended, card_unbound, token_expired, domain_mismatch (another device)", body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 422, description = "field_too_long, invalid_characters: the device_id", body = ErrorEnvelope)))]
pub async fn limited_use_keys(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    Path(token_ref): Path<String>,
    JsonBody { value: request, .. }: JsonBody<KeysRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let user_id = caller.user()?;
    request.check_fields(&state.config.limits)?;
    let keys = payments::limited_use_keys(&state, user_id, &token_ref, &request, ctx.now).await?;
    // Keys must not linger in a cache on the way.
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(keys)))
}

/// A single-use cryptogram for an in-app or web payment, bound to this
/// amount, currency and merchant and valid for `payments.cryptogram_ttl_secs`
/// (5 minutes). Hand the answer to the merchant. An amount above the
/// person's no-confirmation limits (`GET /v1/me/payment-limits`) takes a
/// confirmation for it (`POST /v1/me/verifications`, purpose `payment`,
/// with this amount, currency and merchant) in `Tessera-Verification`;
/// without one, 402 `authentication_required` names how to confirm.
#[utoipa::path(post, path = "/v1/tokens/{ref}/cryptograms", tag = "payments", security(("bearer" = [])),
    params(("ref" = String, Path, description = "token reference (tok_...)"),
        ("Tessera-Verification" = Option<String>, Header, description = "a confirmation for payment, this amount, currency and merchant")),
    request_body = CryptogramRequest,
    responses((status = 201, body = CryptogramView),
        (status = 402, description = "authentication_required (with next_action), token_suspended, card_unbound, token_expired", body = ErrorEnvelope),
        (status = 403, description = "account_frozen, verification_required, verification_invalid", body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
pub async fn single_use_cryptogram(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    headers: axum::http::HeaderMap,
    Path(token_ref): Path<String>,
    JsonBody { value: request, .. }: JsonBody<CryptogramRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let user_id = caller.user()?;
    let view =
        payments::single_use_cryptogram(&state, &headers, user_id, &token_ref, &request, ctx.now)
            .await?;
    Ok((
        axum::http::StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(view),
    ))
}

/// Suspend a token. The caller's role names the suspender: a user session
/// the cardholder, an operator key the wallet, an issuer key the issuer. The
/// token pays again only when every suspender has resumed.
#[utoipa::path(post, path = "/v1/tokens/{ref}/suspend", tag = "payments", security(("bearer" = [])),
    params(("ref" = String, Path, description = "token reference (tok_...)")),
    request_body = TokenChangeRequest,
    responses((status = 200, body = TokenStateView),
        (status = 402, description = "card_unbound: the token is deleted", body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, description = "otp_required: the card is not verified yet", body = ErrorEnvelope),
        (status = 422, description = "field_too_long, invalid_characters: the reason", body = ErrorEnvelope)))]
pub async fn suspend(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    Path(token_ref): Path<String>,
    JsonBody { value: request, .. }: JsonBody<TokenChangeRequest>,
) -> Result<Json<TokenStateView>, ApiError> {
    let view = lifecycle::suspend_or_resume(
        &state,
        &caller,
        &ctx.trace_id,
        &token_ref,
        Change::Suspend,
        request.reason.as_deref(),
        ctx.now,
    )
    .await?;
    Ok(Json(view))
}

/// Lift the caller's own suspension. Others' suspensions stay.
#[utoipa::path(post, path = "/v1/tokens/{ref}/resume", tag = "payments", security(("bearer" = [])),
    params(("ref" = String, Path, description = "token reference (tok_...)")),
    request_body = TokenChangeRequest,
    responses((status = 200, body = TokenStateView),
        (status = 402, description = "card_unbound: the token is deleted", body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 422, description = "field_too_long, invalid_characters: the reason", body = ErrorEnvelope)))]
pub async fn resume(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    Path(token_ref): Path<String>,
    JsonBody { value: request, .. }: JsonBody<TokenChangeRequest>,
) -> Result<Json<TokenStateView>, ApiError> {
    let view = lifecycle::suspend_or_resume(
        &state,
        &caller,
        &ctx.trace_id,
        &token_ref,
        Change::Resume,
        request.reason.as_deref(),
        ctx.now,
    )
    .await?;
    Ok(Json(view))
}

/// Delete a token for good (user: their own; operator or issuer key: any).
/// Its card leaves the wallet with it, PAN erased; it can be bound again.
#[utoipa::path(delete, path = "/v1/tokens/{ref}", tag = "payments", security(("bearer" = [])),
    params(("ref" = String, Path, description = "token reference (tok_...)"), DeleteQuery),
    responses((status = 200, body = TokenStateView),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 422, description = "field_too_long, invalid_characters: the reason", body = ErrorEnvelope)))]
pub async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    Path(token_ref): Path<String>,
    QueryParams(query): QueryParams<DeleteQuery>,
) -> Result<Json<TokenStateView>, ApiError> {
    let view = lifecycle::delete(
        &state,
        &caller,
        &ctx.trace_id,
        &token_ref,
        query.reason.as_deref(),
        ctx.now,
    )
    .await?;
    Ok(Json(view))
}
