//! Key rotation for operators: rotate the vault's data key, watch the
//! re-encryption that follows, retire a version nothing uses any more
//! (`flows/key_rotation.rs`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::flows::audit::Actor;
use crate::flows::key_rotation;
use crate::http::auth::{Caller, Role};
use crate::http::error::ApiError;
use crate::http::extract::{Ctx, JsonBody};
use crate::http::views::{ErrorEnvelope, KeyRotatedView, KeyRotationView, RetireKeyRequest};
use crate::state::AppState;

async fn rotation_view(state: &AppState) -> Result<KeyRotationView, ApiError> {
    let rotation = key_rotation::rotation_state(state.store.as_ref()).await?;
    Ok(KeyRotationView::from(&rotation))
}

/// Add a data key version and make it active on every node: a node that
/// has not read it yet refuses sealing writes (`503 key_version_stale`,
/// retryable) until it has. Re-encryption of every stored value starts in
/// the background; `GET /v1/admin/keys/rotation` shows it.
#[utoipa::path(post, path = "/v1/admin/keys/rotate", tag = "admin", security(("bearer" = [])),
    responses((status = 201, body = KeyRotatedView), (status = 403, body = ErrorEnvelope),
        (status = 400, description = "invalid_request: another rotation added the same version at the same moment", body = ErrorEnvelope)))]
pub async fn rotate(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
) -> Result<(StatusCode, Json<KeyRotatedView>), ApiError> {
    caller.require_role(&[Role::Operator])?;
    let version = key_rotation::rotate(&state, Actor::caller(&caller, &ctx.trace_id)).await?;
    tokio::spawn(key_rotation::reencrypt_until_done(state.clone()));
    let rotation = rotation_view(&state).await?;
    Ok((
        StatusCode::CREATED,
        Json(KeyRotatedView { version, rotation }),
    ))
}

/// The data key versions, the records each still seals, and the
/// re-encryption's progress and rate. Never a key.
#[utoipa::path(get, path = "/v1/admin/keys/rotation", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = KeyRotationView), (status = 403, body = ErrorEnvelope)))]
pub async fn rotation(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<KeyRotationView>, ApiError> {
    caller.require_role(&[Role::Operator])?;
    Ok(Json(rotation_view(&state).await?))
}

/// Retire a data key version that no record uses any more: its key is
/// deleted from the database and every node. Refused, with how many
/// records still use it, until re-encryption has moved them all.
#[utoipa::path(post, path = "/v1/admin/keys/retire", tag = "admin", security(("bearer" = [])),
    request_body = RetireKeyRequest,
    responses((status = 200, body = KeyRotationView), (status = 403, body = ErrorEnvelope),
        (status = 400, description = "invalid_request: the version is active, unknown, or still seals records (the notice says how many)", body = ErrorEnvelope)))]
pub async fn retire(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    JsonBody { value: request, .. }: JsonBody<RetireKeyRequest>,
) -> Result<Json<KeyRotationView>, ApiError> {
    caller.require_role(&[Role::Operator])?;
    key_rotation::retire(
        &state,
        request.version,
        Actor::caller(&caller, &ctx.trace_id),
    )
    .await?;
    Ok(Json(rotation_view(&state).await?))
}
