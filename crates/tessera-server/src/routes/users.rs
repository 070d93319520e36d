//! Sign-up and sign-in.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::flows::users;
use crate::http::auth::SignedIn;
use crate::http::error::ApiError;
use crate::http::extract::{Ctx, JsonBody};
use crate::http::fields::Fields;
use crate::http::views::{
    CreateSessionRequest, CreateUserRequest, ErrorEnvelope, SessionView, UserView,
};
use crate::state::AppState;

/// Sign up with a verified real name. The ID number is kept only as a keyed
/// hash and its last 4 characters.
#[utoipa::path(post, path = "/v1/users", tag = "users", request_body = CreateUserRequest,
    responses((status = 201, body = UserView), (status = 409, description = "phone_taken", body = ErrorEnvelope),
              (status = 422, description = "invalid_phone, invalid_id_number, weak_password, field_too_long, invalid_characters", body = ErrorEnvelope)))]
pub async fn create_user(
    State(state): State<AppState>,
    ctx: Ctx,
    JsonBody { value: request, .. }: JsonBody<CreateUserRequest>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    request.check_fields(&state.config.limits)?;
    let user = users::sign_up(&state, &request, ctx.now).await?;
    Ok((StatusCode::CREATED, Json(UserView::from_record(&user)?)))
}

/// Sign in. Wrong credentials answer 401 without saying which part was
/// wrong; repeated failures for one phone are rate-limited (429).
#[utoipa::path(post, path = "/v1/sessions", tag = "users", request_body = CreateSessionRequest,
    responses((status = 201, body = SessionView), (status = 401, description = "unauthenticated", body = ErrorEnvelope),
              (status = 429, description = "rate_limited", body = ErrorEnvelope)))]
pub async fn create_session(
    State(state): State<AppState>,
    ctx: Ctx,
    JsonBody { value: request, .. }: JsonBody<CreateSessionRequest>,
) -> Result<(StatusCode, Json<SessionView>), ApiError> {
    let session = users::sign_in(&state, &request, ctx.now).await?;
    Ok((StatusCode::CREATED, Json(session)))
}

/// The signed-in user.
#[utoipa::path(get, path = "/v1/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = ErrorEnvelope)))]
pub async fn me(SignedIn { user, .. }: SignedIn) -> Result<Json<UserView>, ApiError> {
    Ok(Json(UserView::from_record(&user)?))
}
