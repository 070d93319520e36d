//! Sign-up and sign-in.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use tessera_core::error::ErrorCode;

use crate::flows::{
    closure, idempotency, password_reset, payment_password, sessions, sms_codes, users,
    verifications,
};
use crate::http::auth::{Caller, CurrentSession, SignedIn};
use crate::http::error::ApiError;
use crate::http::extract::{Ctx, JsonBody};
use crate::http::fields::Fields;
use crate::http::views::{
    AccountClosureView, CreateSessionRequest, CreateUserRequest, ErrorEnvelope,
    PasswordResetRequest, PasswordResetView, PaymentPasswordRequest, PaymentPasswordView,
    SessionList, SessionView, SmsCodeAccepted, SmsCodeRequest, UserView, VerificationRequest,
    VerificationView,
};
use crate::state::AppState;

/// Sign up: the phone proven by its `sign_up` code (`sms_code`, counted
/// like a reset code), the real name and ID number confirmed by the
/// identity provider, at most `limits.wallets_per_id_number` wallets per
/// ID number. The ID number is kept only as a keyed hash and its last 4
/// characters; a refusal stores nothing.
#[utoipa::path(post, path = "/v1/users", tag = "users", request_body = CreateUserRequest,
    responses((status = 201, body = UserView),
              (status = 400, description = "invalid_request (sms_code)", body = ErrorEnvelope),
              (status = 409, description = "phone_taken, id_number_taken", body = ErrorEnvelope),
              (status = 422, description = "invalid_phone, invalid_id_number, weak_password, field_too_long, invalid_characters, sms_code_incorrect, sms_code_expired, identity_mismatch, identity_not_found", body = ErrorEnvelope),
              (status = 429, description = "too_many_attempts: the code is spent", body = ErrorEnvelope),
              (status = 503, description = "identity_unavailable", body = ErrorEnvelope)))]
pub async fn create_user(
    State(state): State<AppState>,
    ctx: Ctx,
    JsonBody { value: request, .. }: JsonBody<CreateUserRequest>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    request.check_fields(&state.config.limits)?;
    let user = users::sign_up(&state, &request, ctx.now).await?;
    Ok((StatusCode::CREATED, Json(UserView::from_record(&user)?)))
}

/// Sign in. Wrong credentials answer 401 `invalid_credentials` without
/// saying which part was wrong. Each attempt is counted per phone before
/// the password is checked (a right one is given back): past
/// `limits.sign_in_max_attempts` in `limits.sign_in_window_secs`, the phone
/// is locked, 429 `too_many_attempts` with `locked_until` and
/// `Retry-After`, until the window ends or the password is reset.
#[utoipa::path(post, path = "/v1/sessions", tag = "users", request_body = CreateSessionRequest,
    responses((status = 201, body = SessionView), (status = 401, description = "invalid_credentials", body = ErrorEnvelope),
              (status = 403, description = "account_closed: the password is right, but the account was closed", body = ErrorEnvelope),
              (status = 429, description = "too_many_attempts; rate_limited (this address's budget)", body = ErrorEnvelope),
              (status = 503, description = "overloaded: the password was not checked", body = ErrorEnvelope)))]
pub async fn create_session(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    JsonBody { value: request, .. }: JsonBody<CreateSessionRequest>,
) -> Result<(StatusCode, Json<SessionView>), ApiError> {
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok());
    let session = users::sign_in(&state, &request, user_agent, &ctx.trace_id, ctx.now).await?;
    Ok((StatusCode::CREATED, Json(session)))
}

/// The signed-in user.
#[utoipa::path(get, path = "/v1/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = ErrorEnvelope)))]
pub async fn me(SignedIn { user, .. }: SignedIn) -> Result<Json<UserView>, ApiError> {
    Ok(Json(UserView::from_record(&user)?))
}

/// Close your account for good: every card's token is deleted and its PAN
/// erased, every session ends, and only masked payments, transfers and
/// binding attempts are kept, for `retention.closed_account_days`; then
/// they are deleted. The account can no longer sign in
/// (`account_closed`). It takes a confirmation (`close_account`) in
/// `Tessera-Verification`. Send an `Idempotency-Key` to retry safely.
#[utoipa::path(delete, path = "/v1/me", tag = "users", security(("bearer" = [])),
    params(("Tessera-Verification" = Option<String>, Header, description = "a confirmation for close_account"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first answer")),
    responses((status = 200, body = AccountClosureView), (status = 401, body = ErrorEnvelope),
              (status = 403, description = "forbidden: an API key; verification_required, verification_invalid", body = ErrorEnvelope)))]
pub async fn close_me(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let user_id = caller.user()?.to_owned();
    let key = idempotency::key_of(&headers)?;
    let work = async {
        let closed = closure::close_own(&state, &headers, &user_id, &ctx.trace_id, ctx.now).await?;
        let view = serde_json::to_value(closed).map_err(|_| ErrorCode::InternalError)?;
        Ok((StatusCode::OK, view))
    };
    Ok(idempotency::run(&state, &caller, key, "DELETE /v1/me", &[], &ctx, work).await)
}

/// The signed-in person's live sessions, newest first: id, when made and
/// until when, the User-Agent that signed in, and which one this request
/// uses. Tokens are never shown again.
#[utoipa::path(get, path = "/v1/sessions", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = SessionList), (status = 401, body = ErrorEnvelope),
              (status = 403, description = "an API key", body = ErrorEnvelope)))]
pub async fn list_sessions(
    State(state): State<AppState>,
    ctx: Ctx,
    current: CurrentSession,
) -> Result<Json<SessionList>, ApiError> {
    Ok(Json(sessions::list(&state, &current, ctx.now).await?))
}

/// Sign out: this request's session ends at once on this node, and within
/// two seconds on every node.
#[utoipa::path(delete, path = "/v1/sessions/current", tag = "users", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorEnvelope),
              (status = 403, description = "an API key", body = ErrorEnvelope)))]
pub async fn end_current_session(
    State(state): State<AppState>,
    current: CurrentSession,
) -> Result<StatusCode, ApiError> {
    sessions::end_current(&state, &current).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends every session of the signed-in person, this one too (a lost
/// phone): at once on this node, and within two seconds on every node.
#[utoipa::path(delete, path = "/v1/sessions", tag = "users", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorEnvelope),
              (status = 403, description = "an API key", body = ErrorEnvelope)))]
pub async fn end_all_sessions(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<StatusCode, ApiError> {
    sessions::end_all(&state, caller.user()?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ask for a text-message code (`purpose`: `sign_up` or `reset_password`).
/// The answer is 202 with the same body whether or not the phone has an
/// account: a `sign_up` code goes to any phone, a `reset_password` code
/// only to an account's. Each text counts against
/// `limits.phone_sms_per_day`. Only a
/// keyed hash of it is kept, valid `limits.sms_code_ttl_secs`; a new code
/// replaces the one before. In sandbox mode it arrives at
/// `GET /v1/sandbox/sms`.
#[utoipa::path(post, path = "/v1/sms-codes", tag = "users", request_body = SmsCodeRequest,
    responses((status = 202, body = SmsCodeAccepted),
              (status = 400, description = "invalid_request (purpose)", body = ErrorEnvelope),
              (status = 422, description = "invalid_phone", body = ErrorEnvelope),
              (status = 429, description = "too_many_attempts (phone_sms, sign_up)", body = ErrorEnvelope),
              (status = 503, description = "sms_unavailable (sign_up)", body = ErrorEnvelope)))]
pub async fn request_sms_code(
    State(state): State<AppState>,
    ctx: Ctx,
    JsonBody { value: request, .. }: JsonBody<SmsCodeRequest>,
) -> Result<(StatusCode, Json<SmsCodeAccepted>), ApiError> {
    let accepted = sms_codes::request_code(&state, &request, ctx.now).await?;
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

/// Set a new password with a `reset_password` code. Each comparison is
/// counted before it is made: a code allows `limits.sms_code_max_attempts`
/// (then `too_many_attempts`; ask for a new one). A reset sets the password
/// (the sign-up rules apply), lifts the phone's sign-in lock and ends every
/// session of the person.
#[utoipa::path(post, path = "/v1/password-resets", tag = "users", request_body = PasswordResetRequest,
    responses((status = 200, body = PasswordResetView),
              (status = 400, description = "invalid_request (sms_code)", body = ErrorEnvelope),
              (status = 422, description = "invalid_phone, weak_password, sms_code_incorrect, sms_code_expired", body = ErrorEnvelope),
              (status = 429, description = "too_many_attempts: the code is spent; rate_limited (this address's budget)", body = ErrorEnvelope),
              (status = 503, description = "overloaded: nothing was changed", body = ErrorEnvelope)))]
pub async fn reset_password(
    State(state): State<AppState>,
    ctx: Ctx,
    JsonBody { value: request, .. }: JsonBody<PasswordResetRequest>,
) -> Result<Json<PasswordResetView>, ApiError> {
    Ok(Json(
        password_reset::reset_password(&state, &request, ctx.now).await?,
    ))
}

/// Whether the signed-in person has a payment password, how many wrong
/// entries are left before it locks, and when a lock lifts.
#[utoipa::path(get, path = "/v1/me/payment-password", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = PaymentPasswordView), (status = 401, body = ErrorEnvelope),
              (status = 403, description = "an API key", body = ErrorEnvelope)))]
pub async fn payment_password_state(
    State(state): State<AppState>,
    ctx: Ctx,
    SignedIn { user, .. }: SignedIn,
) -> Result<Json<PaymentPasswordView>, ApiError> {
    Ok(Json(
        payment_password::state_of(&state, &user, ctx.now).await?,
    ))
}

/// Sets the payment password: six digits, not one anyone would guess
/// first (the birthday, the phone number's last six, a run or a repeat:
/// `payment_password_too_simple` names which). Changing it takes
/// `old_payment_password`, counted like every check: after
/// `limits.payment_password_max_failures` wrong ones it is locked for
/// `limits.payment_password_lock_secs`. A forgotten one is reset with a
/// `reset_payment_password` text-message code (`POST /v1/sms-codes`) and
/// the full `id_number`, which also lifts a lock.
#[utoipa::path(put, path = "/v1/me/payment-password", tag = "users", security(("bearer" = [])),
    request_body = PaymentPasswordRequest,
    responses((status = 200, body = PaymentPasswordView),
              (status = 400, description = "invalid_request: old_payment_password, sms_code or id_number missing", body = ErrorEnvelope),
              (status = 401, body = ErrorEnvelope),
              (status = 403, description = "payment_password_incorrect (with attempts_left), id_number_incorrect, an API key", body = ErrorEnvelope),
              (status = 409, description = "payment_password_not_set", body = ErrorEnvelope),
              (status = 422, description = "payment_password_too_simple (with reason), sms_code_incorrect, sms_code_expired", body = ErrorEnvelope),
              (status = 429, description = "payment_password_locked (with locked_until); too_many_attempts: the code is spent", body = ErrorEnvelope),
              (status = 503, description = "overloaded: nothing was checked", body = ErrorEnvelope)))]
pub async fn set_payment_password(
    State(state): State<AppState>,
    ctx: Ctx,
    SignedIn { user, .. }: SignedIn,
    JsonBody { value: request, .. }: JsonBody<PaymentPasswordRequest>,
) -> Result<Json<PaymentPasswordView>, ApiError> {
    Ok(Json(
        payment_password::set(&state, &user, &request, &ctx.trace_id, ctx.now).await?,
    ))
}

/// A confirmation of one step (`unbind_card`, for `card_id`): with the
/// payment password (counted and locked as for a change), or, for a person
/// who has none, a code texted to their phone: asked without a proof, this
/// texts one (202, counted against the phone's daily codes); asked again
/// with `sms_code`, it confirms. The answer's `verification` goes in the
/// step's `Tessera-Verification` header, once, within
/// `limits.verification_ttl_secs`.
#[utoipa::path(post, path = "/v1/me/verifications", tag = "users", security(("bearer" = [])),
    request_body = VerificationRequest,
    responses((status = 201, body = VerificationView),
              (status = 202, description = "a code was texted to the person's phone", body = SmsCodeAccepted),
              (status = 400, description = "invalid_request: purpose, card_id, or the proof this person uses", body = ErrorEnvelope),
              (status = 401, body = ErrorEnvelope),
              (status = 403, description = "payment_password_incorrect (with attempts_left), an API key", body = ErrorEnvelope),
              (status = 404, description = "no such card of this person", body = ErrorEnvelope),
              (status = 409, description = "payment_password_not_set", body = ErrorEnvelope),
              (status = 422, description = "sms_code_incorrect, sms_code_expired", body = ErrorEnvelope),
              (status = 429, description = "payment_password_locked; too_many_attempts: the code is spent", body = ErrorEnvelope),
              (status = 503, description = "overloaded: nothing was checked", body = ErrorEnvelope)))]
pub async fn create_verification(
    State(state): State<AppState>,
    ctx: Ctx,
    SignedIn { user, .. }: SignedIn,
    JsonBody { value: request, .. }: JsonBody<VerificationRequest>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    Ok(
        match verifications::create(&state, &user, &request, ctx.now).await? {
            verifications::Created::Confirmed(view) => {
                (StatusCode::CREATED, Json(view)).into_response()
            }
            verifications::Created::CodeSent(sent) => {
                (StatusCode::ACCEPTED, Json(sent)).into_response()
            }
        },
    )
}
