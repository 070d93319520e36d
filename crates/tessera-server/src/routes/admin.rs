//! Operators' switches: the maintenance window.

use axum::Json;
use axum::extract::State;

use crate::flows::maintenance;
use crate::http::auth::{Caller, Role};
use crate::http::error::ApiError;
use crate::http::extract::{Ctx, JsonBody};
use crate::http::fields::Fields;
use crate::http::views::{ErrorEnvelope, MaintenanceStatus, MaintenanceWindow};
use crate::state::AppState;

/// Pause binding until `until`. Reading cards keeps working.
#[utoipa::path(put, path = "/v1/admin/maintenance", tag = "admin", security(("bearer" = [])),
    request_body = MaintenanceWindow,
    responses((status = 200, body = MaintenanceStatus), (status = 403, body = ErrorEnvelope),
        (status = 422, description = "invalid_request: until is not a future RFC 3339 time; field_too_long, invalid_characters: a notice", body = ErrorEnvelope)))]
pub async fn put_maintenance(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    JsonBody { value: window, .. }: JsonBody<MaintenanceWindow>,
) -> Result<Json<MaintenanceStatus>, ApiError> {
    caller.require_role(&[Role::Operator])?;
    window.check_fields(&state.config.limits)?;
    Ok(Json(maintenance::start(&state, &window, ctx.now).await?))
}

/// End maintenance now.
#[utoipa::path(delete, path = "/v1/admin/maintenance", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = MaintenanceStatus), (status = 403, body = ErrorEnvelope)))]
pub async fn delete_maintenance(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<MaintenanceStatus>, ApiError> {
    caller.require_role(&[Role::Operator])?;
    Ok(Json(maintenance::end(&state).await?))
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
    Ok(Json(maintenance::status(&state, ctx.now).await?))
}
