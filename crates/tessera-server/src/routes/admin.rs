//! Operators' switches: the maintenance window, API keys, the audit of
//! reads of people's data, and closing a person's account.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use tessera_store::UserId;

use crate::flows::audit::{self, Actor};
use crate::flows::{closure, keys, maintenance};
use crate::http::auth::{Caller, Role};
use crate::http::error::ApiError;
use crate::http::extract::{Ctx, JsonBody, QueryParams};
use crate::http::fields::Fields;
use crate::http::views::{
    AccountClosureView, ApiKeyList, ApiKeyView, AuditEventList, AuditEventQuery,
    CloseAccountRequest, CreateKeyRequest, CreatedKeyView, ErrorEnvelope, MaintenanceStatus,
    MaintenanceWindow,
};
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
    let by = Actor::caller(&caller, &ctx.trace_id);
    Ok(Json(
        maintenance::start(&state, &window, by, ctx.now).await?,
    ))
}

/// End maintenance now.
#[utoipa::path(delete, path = "/v1/admin/maintenance", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = MaintenanceStatus), (status = 403, body = ErrorEnvelope)))]
pub async fn delete_maintenance(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
) -> Result<Json<MaintenanceStatus>, ApiError> {
    caller.require_role(&[Role::Operator])?;
    let by = Actor::caller(&caller, &ctx.trace_id);
    Ok(Json(maintenance::end(&state, by).await?))
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

/// Every API key, revoked ones too, oldest first: id, role, scope (an
/// issuer key's issuer codes, a merchant key's merchant ids), label,
/// holder, when it was made and revoked. Never a secret. Keys are made
/// with `POST /v1/admin/keys` or `tessera admin create-key`.
#[utoipa::path(get, path = "/v1/admin/keys", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = ApiKeyList), (status = 403, body = ErrorEnvelope)))]
pub async fn list_keys(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ApiKeyList>, ApiError> {
    caller.require_role(&[Role::Operator])?;
    Ok(Json(keys::list(&state).await?))
}

/// Make a support, merchant or issuer key for `holder`: its secret (and an
/// issuer key's signing secret) is in this answer only. Operator keys are
/// made only with `tessera admin create-key` on the server.
#[utoipa::path(post, path = "/v1/admin/keys", tag = "admin", security(("bearer" = [])),
    request_body = CreateKeyRequest,
    responses((status = 201, body = CreatedKeyView),
        (status = 400, description = "invalid_request: an unknown role, issuers or merchants missing, unknown or on the wrong role", body = ErrorEnvelope),
        (status = 403, description = "forbidden: not an operator key, or an operator key asked for", body = ErrorEnvelope),
        (status = 422, description = "field_too_long, invalid_characters: holder or label", body = ErrorEnvelope)))]
pub async fn create_key(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    JsonBody { value: request, .. }: JsonBody<CreateKeyRequest>,
) -> Result<(StatusCode, Json<CreatedKeyView>), ApiError> {
    caller.require_role(&[Role::Operator])?;
    request.check_fields(&state.config.limits)?;
    Ok((
        StatusCode::CREATED,
        Json(
            keys::create_over_http(&state, &request, Actor::caller(&caller, &ctx.trace_id)).await?,
        ),
    ))
}

/// Reads of people's data (support's searches and reads), newest first:
/// when, which key and its holder and role, what was read, whose, and the
/// trace id.
#[utoipa::path(get, path = "/v1/admin/audit-events", tag = "admin", security(("bearer" = [])),
    params(AuditEventQuery),
    responses((status = 200, body = AuditEventList),
        (status = 400, description = "invalid_request naming an unknown parameter or one not understood", body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope)))]
pub async fn list_audit_events(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<AuditEventQuery>,
) -> Result<Json<AuditEventList>, ApiError> {
    caller.require_role(&[Role::Operator])?;
    Ok(Json(audit::page(&state, &query).await?))
}

/// Revoke an API key: every node refuses it from its next request on
/// (keys are never cached). Revoking it again answers the same, with the
/// first revocation's time.
#[utoipa::path(delete, path = "/v1/admin/keys/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "The key's id (key_...), as GET /v1/admin/keys lists it")),
    responses((status = 200, body = ApiKeyView), (status = 403, body = ErrorEnvelope),
        (status = 404, description = "not_found: no key has this id", body = ErrorEnvelope)))]
pub async fn revoke_key(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ApiKeyView>, ApiError> {
    caller.require_role(&[Role::Operator])?;
    let by = Actor::caller(&caller, &ctx.trace_id);
    Ok(Json(keys::revoke(&state, &id, by, ctx.now).await?))
}

/// Close a person's account, with the reason (kept with the closure, with
/// this key's id): as `DELETE /v1/me` closes it, without their
/// confirmation. An account closed already answers its closure as it was
/// recorded. Also `tessera admin close-account` on the server.
#[utoipa::path(post, path = "/v1/admin/users/{id}/close", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "The person's user id (usr_...)")),
    request_body = CloseAccountRequest,
    responses((status = 200, body = AccountClosureView), (status = 403, body = ErrorEnvelope),
        (status = 404, description = "not_found: no user has this id", body = ErrorEnvelope),
        (status = 422, description = "field_too_long, invalid_characters: the reason", body = ErrorEnvelope)))]
pub async fn close_account(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody { value: request, .. }: JsonBody<CloseAccountRequest>,
) -> Result<Json<AccountClosureView>, ApiError> {
    caller.require_role(&[Role::Operator])?;
    request.check_fields(&state.config.limits)?;
    let key_id = caller.key_id().unwrap_or_default();
    Ok(Json(
        closure::close_by_operator(
            &state,
            &UserId::from(id),
            key_id,
            &request.reason,
            &ctx.trace_id,
            ctx.now,
        )
        .await?,
    ))
}
