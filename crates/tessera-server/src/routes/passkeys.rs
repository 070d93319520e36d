//! Passkeys: register a fingerprint or face (confirmed first), list and
//! remove them, and ask for an assertion challenge to confirm a step with.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};

use crate::flows::passkeys;
use crate::http::auth::{Caller, SignedIn};
use crate::http::error::ApiError;
use crate::http::extract::{Ctx, JsonBody};
use crate::http::fields::Fields;
use crate::http::views::{
    ErrorEnvelope, PasskeyChallengeView, PasskeyList, PasskeyRequest, PasskeyView,
};
use crate::state::AppState;

/// Start registering a passkey: a confirmation (`security_settings`) in
/// `Tessera-Verification`, then the options for the browser's
/// `navigator.credentials.create` (user verification required).
#[utoipa::path(post, path = "/v1/me/passkeys/registrations", tag = "users", security(("bearer" = [])),
    params(("Tessera-Verification" = Option<String>, Header, description = "a confirmation for security_settings")),
    responses((status = 201, body = PasskeyChallengeView), (status = 401, body = ErrorEnvelope),
              (status = 403, description = "verification_required, verification_invalid", body = ErrorEnvelope)))]
pub async fn start_registration(
    State(state): State<AppState>,
    ctx: Ctx,
    SignedIn { user, .. }: SignedIn,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<PasskeyChallengeView>), ApiError> {
    let view = passkeys::start_registration(&state, &headers, &user, ctx.now).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Finish registering: the authenticator's answer to the challenge. A
/// challenge answers once, within `webauthn.challenge_ttl_secs`.
#[utoipa::path(post, path = "/v1/me/passkeys", tag = "users", security(("bearer" = [])),
    request_body = PasskeyRequest,
    responses((status = 201, body = PasskeyView), (status = 401, body = ErrorEnvelope),
              (status = 403, description = "verification_invalid: the challenge is used, expired or another's (param challenge_id), or the answer does not verify (param credential)", body = ErrorEnvelope)))]
pub async fn finish_registration(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    JsonBody { value: request, .. }: JsonBody<PasskeyRequest>,
) -> Result<(StatusCode, Json<PasskeyView>), ApiError> {
    request.check_fields(&state.config.limits)?;
    let view = passkeys::finish_registration(&state, caller.user()?, &request, ctx.now).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The person's passkeys, oldest first.
#[utoipa::path(get, path = "/v1/me/passkeys", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = PasskeyList), (status = 401, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<PasskeyList>, ApiError> {
    Ok(Json(passkeys::list(&state, caller.user()?).await?))
}

/// Remove a passkey, with a confirmation (`security_settings`).
#[utoipa::path(delete, path = "/v1/me/passkeys/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "passkey id (pk_...)"),
        ("Tessera-Verification" = Option<String>, Header, description = "a confirmation for security_settings")),
    responses((status = 204, description = "removed"), (status = 401, body = ErrorEnvelope),
              (status = 403, description = "verification_required, verification_invalid", body = ErrorEnvelope),
              (status = 404, description = "not_found: no passkey of this person has this id", body = ErrorEnvelope)))]
pub async fn remove(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    passkeys::remove(&state, &headers, caller.user()?, &id, ctx.now).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A challenge for one of the person's passkeys: the options for
/// `navigator.credentials.get`. Its answer goes to
/// `POST /v1/me/verifications` as `webauthn`.
#[utoipa::path(post, path = "/v1/me/passkeys/assertions", tag = "users", security(("bearer" = [])),
    responses((status = 201, body = PasskeyChallengeView), (status = 401, body = ErrorEnvelope),
              (status = 404, description = "not_found (param passkey): the person has no passkey", body = ErrorEnvelope)))]
pub async fn start_assertion(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
) -> Result<(StatusCode, Json<PasskeyChallengeView>), ApiError> {
    let view = passkeys::start_assertion(&state, caller.user()?, ctx.now).await?;
    Ok((StatusCode::CREATED, Json(view)))
}
