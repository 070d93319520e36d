//! Operators' switches: the maintenance window.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use tessera_core::error::{DomainError, ErrorCode};

use crate::flows::maintenance;
use crate::http::auth::{Caller, Role};
use crate::http::error::{ApiError, rfc3339};
use crate::http::extract::{Ctx, JsonBody};
use crate::http::views::{ErrorEnvelope, MaintenanceStatus, MaintenanceWindow};
use crate::state::{AppState, millis};

/// Pause binding until `until`. Reading cards keeps working.
#[utoipa::path(put, path = "/v1/admin/maintenance", tag = "admin", security(("bearer" = [])),
    request_body = MaintenanceWindow,
    responses((status = 200, body = MaintenanceStatus), (status = 403, body = ErrorEnvelope),
        (status = 422, description = "invalid_request: until is not a future RFC 3339 time", body = ErrorEnvelope)))]
pub async fn put_maintenance(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    JsonBody { value: window, .. }: JsonBody<MaintenanceWindow>,
) -> Result<Json<MaintenanceStatus>, ApiError> {
    caller.require_role(&[Role::Operator])?;
    let until = DateTime::parse_from_rfc3339(&window.until)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .filter(|until| *until > ctx.now)
        .ok_or_else(|| DomainError::new(ErrorCode::InvalidRequest).with_param("until"))?;
    let stored = MaintenanceWindow {
        until: rfc3339(until),
        message_zh: window.message_zh.trim().to_owned(),
        message_en: window.message_en.trim().to_owned(),
    };
    let json = serde_json::to_string(&stored).map_err(|_| ErrorCode::InternalError)?;
    state
        .store
        .put_setting(maintenance::SETTING, &json, millis(ctx.now))
        .await?;
    tracing::warn!(until = %stored.until, "maintenance window set");
    Ok(Json(MaintenanceStatus {
        active: true,
        window: Some(stored),
    }))
}

/// End maintenance now.
#[utoipa::path(delete, path = "/v1/admin/maintenance", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = MaintenanceStatus), (status = 403, body = ErrorEnvelope)))]
pub async fn delete_maintenance(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<MaintenanceStatus>, ApiError> {
    caller.require_role(&[Role::Operator])?;
    state.store.delete_setting(maintenance::SETTING).await?;
    tracing::warn!("maintenance window ended");
    Ok(Json(MaintenanceStatus {
        active: false,
        window: None,
    }))
}

/// The maintenance window in force, if any.
#[utoipa::path(get, path = "/v1/admin/maintenance", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = MaintenanceStatus), (status = 403, body = ErrorEnvelope)))]
pub async fn get_maintenance(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
) -> Result<Json<MaintenanceStatus>, ApiError> {
    caller.require_role(&[Role::Operator, Role::Support])?;
    let current = maintenance::current(&state, ctx.now).await?;
    Ok(Json(MaintenanceStatus {
        active: current.is_some(),
        window: current.map(|(_, window)| window),
    }))
}
