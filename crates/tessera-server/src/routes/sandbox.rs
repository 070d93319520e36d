//! The sandbox's simulated phone and issuer controls (sandbox mode only).

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use tessera_core::error::{DomainError, ErrorCode};
use tessera_core::identity::PhoneNumber;
use utoipa::IntoParams;

use crate::http::auth::{Caller, Role};
use crate::http::error::{ApiError, rfc3339};
use crate::http::extract::{Ctx, JsonBody};
use crate::http::views::{ErrorEnvelope, SandboxIssuerRequest, SmsList, SmsView};
use crate::issuer::sandbox::{self, SandboxBehaviour, Tuning};
use crate::state::{AppState, from_millis, millis};

#[derive(Debug, Deserialize, IntoParams)]
pub struct SmsQuery {
    pub phone: String,
}

fn sandbox_only(state: &AppState) -> Result<(), ApiError> {
    if state.config.sandbox {
        Ok(())
    } else {
        Err(ErrorCode::NotFound.into())
    }
}

/// The sandbox phone's text messages, newest first: readable by the user
/// whose phone it is, and by operators.
#[utoipa::path(get, path = "/v1/sandbox/sms", tag = "sandbox", security(("bearer" = [])),
    params(SmsQuery),
    responses((status = 200, body = SmsList), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn list_sms(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<SmsQuery>,
) -> Result<Json<SmsList>, ApiError> {
    sandbox_only(&state)?;
    let phone = PhoneNumber::parse(&query.phone)?;
    match &caller {
        Caller::User { user_id } => {
            let user = state
                .store
                .user_by_id(user_id)
                .await?
                .ok_or(ErrorCode::Unauthenticated)?;
            if user.phone != phone.expose() {
                return Err(ErrorCode::Forbidden.into());
            }
        }
        Caller::Key { .. } => {
            caller.require_role(&[Role::Operator])?;
        }
    }
    let messages = state.store.sandbox_sms(phone.expose(), 20).await?;
    Ok(Json(SmsList {
        data: messages
            .into_iter()
            .map(|m| SmsView {
                phone: m.phone,
                body: m.body,
                created_at: rfc3339(from_millis(m.created_at)),
            })
            .collect(),
        next_cursor: None,
    }))
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
    sandbox_only(&state)?;
    caller.require_role(&[Role::Operator])?;
    if !(0.0..=1.0).contains(&request.failure_rate) {
        return Err(DomainError::new(ErrorCode::InvalidRequest)
            .with_param("failure_rate")
            .into());
    }
    if request.latency_ms > 60_000 {
        return Err(DomainError::new(ErrorCode::InvalidRequest)
            .with_param("latency_ms")
            .into());
    }
    let mut behaviour = current_behaviour(&state).await?;
    let tuning = Tuning {
        latency_ms: request.latency_ms,
        failure_rate: request.failure_rate,
    };
    match request.issuer_code.as_deref().map(str::trim) {
        Some(code) if !code.is_empty() => {
            behaviour.issuers.insert(code.to_ascii_uppercase(), tuning);
        }
        _ => {
            behaviour.all = Some(tuning);
            behaviour.issuers.clear();
        }
    }
    let json = serde_json::to_string(&behaviour).map_err(|_| ErrorCode::InternalError)?;
    state
        .store
        .put_setting(sandbox::SETTING, &json, millis(ctx.now))
        .await?;
    serde_json::to_value(&behaviour)
        .map(Json)
        .map_err(|_| ErrorCode::InternalError.into())
}

/// The sandbox issuer's run-time behaviour.
#[utoipa::path(get, path = "/v1/sandbox/issuer", tag = "sandbox", security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 403, body = ErrorEnvelope)))]
pub async fn get_issuer(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    sandbox_only(&state)?;
    caller.require_role(&[Role::Operator, Role::Support])?;
    let behaviour = current_behaviour(&state).await?;
    serde_json::to_value(&behaviour)
        .map(Json)
        .map_err(|_| ErrorCode::InternalError.into())
}

async fn current_behaviour(state: &AppState) -> Result<SandboxBehaviour, ApiError> {
    Ok(match state.store.setting(sandbox::SETTING).await? {
        Some(json) => serde_json::from_str(&json).unwrap_or_default(),
        None => SandboxBehaviour::default(),
    })
}
