//! A user's cards: bind (with idempotency), verify the SMS code, list, show,
//! make default, unbind; and their own binding attempts, explained.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use tessera_core::error::ErrorCode;
use tessera_store::{CardId, CardRecord};

use crate::flows::binding::{self, Bound};
use crate::flows::{attempts, cards, idempotency, otp};
use crate::http::auth::{Caller, SignedIn};
use crate::http::detach;
use crate::http::error::ApiError;
use crate::http::extract::{Ctx, JsonBody, QueryParams, parse_json};
use crate::http::fields::Fields;
use crate::http::views::{
    BindCardRequest, CardList, CardView, ErrorEnvelope, ListQuery, MyAttemptList, MyAttemptsQuery,
    ResendOtpRequest, VerifyCardRequest, Viewer,
};
use crate::state::AppState;

fn card_json(card: &CardRecord, viewer: &Viewer) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(CardView::from_record(card, viewer))
        .map_err(|_| ErrorCode::InternalError.into())
}

/// Bind a card. 201 when bound, 202 when the bank asks for an SMS code
/// (`next_action`). Send an `Idempotency-Key` to retry safely.
#[utoipa::path(post, path = "/v1/cards", tag = "cards", security(("bearer" = [])),
    request_body = BindCardRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key and body return the first answer")),
    responses((status = 201, body = CardView), (status = 202, description = "pending_verification: enter the SMS code", body = CardView),
        (status = 402, description = "card_declined, incorrect_cvc, phone_mismatch", body = ErrorEnvelope),
        (status = 409, description = "card_already_bound, otp_required, idempotency_conflict, request_in_progress", body = ErrorEnvelope),
        (status = 422, description = "invalid_number, incorrect_number, expiry, cvc, holder name, name_mismatch, card_not_supported, card_limit_reached, card_wallet_limit_reached, field_too_long, invalid_characters", body = ErrorEnvelope),
        (status = 503, description = "maintenance, issuer_unavailable (Retry-After)", body = ErrorEnvelope)))]
pub async fn bind_card(
    State(state): State<AppState>,
    ctx: Ctx,
    SignedIn { caller, user }: SignedIn,
    headers: HeaderMap,
    JsonBody {
        value: request,
        raw,
    }: JsonBody<BindCardRequest>,
) -> Result<Response, ApiError> {
    // Before anything is recorded: a refused field leaves no attempt.
    request.check_fields(&state.config.limits)?;
    let key = idempotency::key_of(&headers)?;
    let (lang, trace_id, gone) = (ctx.lang, ctx.trace_id.clone(), ctx.client_gone.clone());
    // Runs to its end if the phone drops: see `http/detach.rs`.
    let detached = async move {
        let viewer = Viewer::new(&state, &ctx);
        let work = async {
            match binding::bind_card(&state, &user, &request, &ctx).await? {
                Bound::Active(card) => Ok((StatusCode::CREATED, card_json(&card, &viewer)?)),
                Bound::PendingOtp(card) => Ok((StatusCode::ACCEPTED, card_json(&card, &viewer)?)),
            }
        };
        idempotency::run(&state, &caller, key, "POST /v1/cards", &raw, &ctx, work).await
    };
    Ok(detach::detached(&gone, lang, &trace_id, detached).await)
}

/// Enter the SMS code of a pending card. Five wrong codes end the binding.
#[utoipa::path(post, path = "/v1/cards/{id}/verify", tag = "cards", security(("bearer" = [])),
    params(("id" = String, Path, description = "card id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key and body return the first answer")),
    request_body = VerifyCardRequest,
    responses((status = 200, body = CardView),
        (status = 422, description = "otp_incorrect (attempts_left), otp_expired", body = ErrorEnvelope),
        (status = 429, description = "too_many_attempts", body = ErrorEnvelope)))]
pub async fn verify_card(
    State(state): State<AppState>,
    ctx: Ctx,
    SignedIn { caller, user }: SignedIn,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody {
        value: request,
        raw,
    }: JsonBody<VerifyCardRequest>,
) -> Result<Response, ApiError> {
    let key = idempotency::key_of(&headers)?;
    let route = format!("POST /v1/cards/{id}/verify");
    let (lang, trace_id, gone) = (ctx.lang, ctx.trace_id.clone(), ctx.client_gone.clone());
    // Runs to its end if the phone drops: see `http/detach.rs`.
    let detached = async move {
        let viewer = Viewer::new(&state, &ctx);
        let work = async {
            let card =
                otp::verify_card(&state, &user, &CardId::from(id), &request.otp, &ctx).await?;
            Ok((StatusCode::OK, card_json(&card, &viewer)?))
        };
        idempotency::run(&state, &caller, key, &route, &raw, &ctx, work).await
    };
    Ok(detach::detached(&gone, lang, &trace_id, detached).await)
}

/// Send a pending card's SMS code again: when the text never came (a weak
/// signal) or the code ran out. Allowed `otp_resend_after_secs` after the
/// last code (`otp_resend_too_soon` with `retry_after` before that);
/// counted like a binding attempt and an SMS; the wrong codes entered so
/// far still count. The body may be empty, or name the `bank_phone` the
/// card was bound with.
#[utoipa::path(post, path = "/v1/cards/{id}/otp", tag = "cards", security(("bearer" = [])),
    params(("id" = String, Path, description = "card id")),
    request_body(content = ResendOtpRequest, description = "optional"),
    responses((status = 202, description = "a new code is on its way (`otp_sent_to`, `otp_expires_at`)", body = CardView),
        (status = 404, body = ErrorEnvelope),
        (status = 409, description = "card_already_bound", body = ErrorEnvelope),
        (status = 402, description = "phone_mismatch (bank_phone): not the number the first code went to", body = ErrorEnvelope),
        (status = 422, description = "otp_expired, card_unbound", body = ErrorEnvelope),
        (status = 429, description = "otp_resend_too_soon (Retry-After), too_many_attempts", body = ErrorEnvelope),
        (status = 503, description = "sms_unavailable", body = ErrorEnvelope)))]
pub async fn resend_otp(
    State(state): State<AppState>,
    ctx: Ctx,
    SignedIn { user, .. }: SignedIn,
    Path(id): Path<String>,
    raw: Bytes,
) -> Result<(StatusCode, Json<CardView>), ApiError> {
    let request: ResendOtpRequest = if raw.is_empty() {
        ResendOtpRequest::default()
    } else {
        parse_json(&raw)?
    };
    let card = otp::resend_otp(
        &state,
        &user,
        &CardId::from(id),
        request.bank_phone.as_deref(),
        &ctx,
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(CardView::from_record(&card, &Viewer::new(&state, &ctx))),
    ))
}

/// The user's cards, newest first.
#[utoipa::path(get, path = "/v1/cards", tag = "cards", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = CardList), (status = 401, body = ErrorEnvelope)))]
pub async fn list_cards(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<CardList>, ApiError> {
    let cards = cards::list(&state, caller.user()?, &query).await?;
    Ok(Json(CardList::of(&cards, &Viewer::new(&state, &ctx))))
}

/// One card, with whether it can pay now and, if not, why (`payable`,
/// `reason`). Another user's card id answers 404.
#[utoipa::path(get, path = "/v1/cards/{id}", tag = "cards", security(("bearer" = [])),
    params(("id" = String, Path, description = "card id")),
    responses((status = 200, body = CardView), (status = 404, body = ErrorEnvelope)))]
pub async fn get_card(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<CardView>, ApiError> {
    let card = cards::get(&state, caller.user()?, &CardId::from(id)).await?;
    Ok(Json(CardView::from_record(
        &card,
        &Viewer::new(&state, &ctx),
    )))
}

/// Make an active card the default one.
#[utoipa::path(post, path = "/v1/cards/{id}/default", tag = "cards", security(("bearer" = [])),
    params(("id" = String, Path, description = "card id")),
    responses((status = 200, body = CardView), (status = 404, body = ErrorEnvelope),
        (status = 409, description = "otp_required", body = ErrorEnvelope)))]
pub async fn set_default(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<CardView>, ApiError> {
    let card = cards::set_default(&state, caller.user()?, &CardId::from(id), ctx.now).await?;
    Ok(Json(CardView::from_record(
        &card,
        &Viewer::new(&state, &ctx),
    )))
}

/// Unbind: the token is deleted, the PAN ciphertext erased, the card
/// `unbound`. The same card can be bound again later. It takes a
/// confirmation (`POST /v1/me/verifications`, purpose `unbind_card`) in
/// the `Tessera-Verification` header, used up by it; a card already
/// unbound answers as it is, without one.
#[utoipa::path(delete, path = "/v1/cards/{id}", tag = "cards", security(("bearer" = [])),
    params(("id" = String, Path, description = "card id"),
           ("Tessera-Verification" = Option<String>, Header, description = "a confirmation for unbind_card and this card")),
    responses((status = 200, body = CardView),
              (status = 403, description = "verification_required, verification_invalid", body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope)))]
pub async fn unbind_card(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<CardView>, ApiError> {
    let card = cards::unbind(
        &state,
        caller.user()?,
        &CardId::from(id),
        &headers,
        &ctx.trace_id,
        ctx.now,
    )
    .await?;
    Ok(Json(CardView::from_record(
        &card,
        &Viewer::new(&state, &ctx),
    )))
}

/// Your recent attempts to add a card that failed, each explained in plain
/// words (what happened, what to do), and the whole told as one story.
#[utoipa::path(get, path = "/v1/cards/attempts", tag = "cards", security(("bearer" = [])),
    params(MyAttemptsQuery),
    responses((status = 200, body = MyAttemptList), (status = 401, body = ErrorEnvelope)))]
pub async fn list_my_attempts(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    QueryParams(query): QueryParams<MyAttemptsQuery>,
) -> Result<Json<MyAttemptList>, ApiError> {
    let mine = attempts::mine(&state, caller.user()?, &query, ctx.now, ctx.lang).await?;
    Ok(Json(mine))
}
