//! The sandbox's simulated phone and issuer controls (sandbox mode only).

use axum::Json;
use axum::extract::State;
use tessera_core::error::ErrorCode;

use crate::flows::sandbox;
use crate::http::auth::{Caller, Role};
use crate::http::error::ApiError;
use crate::http::extract::{Ctx, JsonBody, QueryParams};
use crate::http::views::{ErrorEnvelope, SandboxIssuerRequest, SmsList, SmsQuery};
use crate::issuer::sandbox::SandboxBehaviour;
use crate::state::AppState;

fn json(behaviour: &SandboxBehaviour) -> Result<Json<serde_json::Value>, ApiError> {
    serde_json::to_value(behaviour)
        .map(Json)
        .map_err(|_| ErrorCode::InternalError.into())
}

/// The sandbox phone's text messages, newest first: readable by the user
/// whose phone it is, and by operators.
#[utoipa::path(get, path = "/v1/sandbox/sms", tag = "sandbox", security(("bearer" = [])),
    params(SmsQuery),
    responses((status = 200, body = SmsList), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn list_sms(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<SmsQuery>,
) -> Result<Json<SmsList>, ApiError> {
    Ok(Json(sandbox::sms(&state, &caller, &query.phone).await?))
}

/// Change the sandbox issuer's latency and failure rate, for all issuers or
/// one issuer code, on every node at once.
#[utoipa::path(put, path = "/v1/sandbox/issuer", tag = "sandbox", security(("bearer" = [])),
    request_body = SandboxIssuerRequest,
    responses((status = 200, body = Object), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn put_issuer(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    JsonBody { value: request, .. }: JsonBody<SandboxIssuerRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    sandbox::sandbox_only(&state)?;
    caller.require_role(&[Role::Operator])?;
    json(&sandbox::tune(&state, &request, ctx.now).await?)
}

/// The sandbox issuer's run-time behaviour.
#[utoipa::path(get, path = "/v1/sandbox/issuer", tag = "sandbox", security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 403, body = ErrorEnvelope)))]
pub async fn get_issuer(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    sandbox::sandbox_only(&state)?;
    caller.require_role(&[Role::Operator, Role::Support])?;
    json(&sandbox::behaviour(&state).await?)
}
