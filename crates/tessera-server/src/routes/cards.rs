//! A user's cards: bind (with idempotency), verify the SMS code, list, show,
//! make default, unbind; and their own binding attempts, explained.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use tessera_core::error::ErrorCode;
use tessera_store::CardRecord;
use utoipa::IntoParams;

use tessera_core::diagnosis::Audience;

use crate::flows::binding::{self, Bound};
use crate::flows::diagnose;
use crate::flows::idempotency;
use crate::http::auth::{Caller, SignedIn};
use crate::http::error::{ApiError, rfc3339};
use crate::http::extract::{Ctx, JsonBody};
use crate::http::views::{AttemptCardView, MyAttemptList, MyAttemptView, MySummaryView};
use crate::http::views::{
    BindCardRequest, CardList, CardView, ErrorEnvelope, VerifyCardRequest, Viewer,
};
use crate::state::{AppState, from_millis, millis};

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
        (status = 422, description = "invalid_number, incorrect_number, expiry, cvc, holder name, name_mismatch, card_not_supported, card_limit_reached", body = ErrorEnvelope),
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
    let key = idempotency::key_of(&headers)?;
    let viewer = Viewer::new(&state, &ctx);
    let work = async {
        match binding::bind_card(&state, &user, &request, &ctx.trace_id, ctx.now).await? {
            Bound::Active(card) => Ok((StatusCode::CREATED, card_json(&card, &viewer)?)),
            Bound::PendingOtp(card) => Ok((StatusCode::ACCEPTED, card_json(&card, &viewer)?)),
        }
    };
    Ok(idempotency::run(&state, &caller, key, "POST /v1/cards", &raw, &ctx, work).await)
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
    let viewer = Viewer::new(&state, &ctx);
    let work = async {
        let card =
            binding::verify_card(&state, &user, &id, &request.otp, &ctx.trace_id, ctx.now).await?;
        Ok((StatusCode::OK, card_json(&card, &viewer)?))
    };
    Ok(idempotency::run(&state, &caller, key, &route, &raw, &ctx, work).await)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// `all` also lists unbound and failed cards; live cards by default.
    pub status: Option<String>,
}

/// The user's cards, newest first.
#[utoipa::path(get, path = "/v1/cards", tag = "cards", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = CardList), (status = 401, body = ErrorEnvelope)))]
pub async fn list_cards(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<Json<CardList>, ApiError> {
    let user_id = caller.user()?;
    let all = query.status.as_deref() == Some("all");
    let viewer = Viewer::new(&state, &ctx);
    let cards = state.store.list_cards(user_id).await?;
    let data = cards
        .iter()
        .filter(|c| all || matches!(c.status.as_str(), "active" | "pending_verification"))
        .map(|card| CardView::from_record(card, &viewer))
        .collect();
    Ok(Json(CardList {
        data,
        next_cursor: None,
    }))
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
    let user_id = caller.user()?;
    let card = state
        .store
        .card(user_id, &id)
        .await?
        .ok_or(ErrorCode::NotFound)?;
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
    let user_id = caller.user()?;
    let card = state
        .store
        .card(user_id, &id)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    match card.status.as_str() {
        "active" => {}
        "pending_verification" => return Err(ErrorCode::OtpRequired.into()),
        _ => return Err(ErrorCode::CardUnbound.into()),
    }
    state
        .store
        .set_default_card(user_id, &id, millis(ctx.now))
        .await?;
    let card = state
        .store
        .card(user_id, &id)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    Ok(Json(CardView::from_record(
        &card,
        &Viewer::new(&state, &ctx),
    )))
}

/// Unbind: the token is deleted, the PAN ciphertext erased, the card
/// `unbound`. The same card can be bound again later.
#[utoipa::path(delete, path = "/v1/cards/{id}", tag = "cards", security(("bearer" = [])),
    params(("id" = String, Path, description = "card id")),
    responses((status = 200, body = CardView), (status = 404, body = ErrorEnvelope)))]
pub async fn unbind_card(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<CardView>, ApiError> {
    let user_id = caller.user()?;
    if state.store.card(user_id, &id).await?.is_none() {
        return Err(ErrorCode::NotFound.into());
    }
    if state
        .store
        .unbind_card(user_id, &id, millis(ctx.now))
        .await?
    {
        tracing::info!(trace_id = %ctx.trace_id, card_id = %id, "card unbound");
    }
    let card = state
        .store
        .card(user_id, &id)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    Ok(Json(CardView::from_record(
        &card,
        &Viewer::new(&state, &ctx),
    )))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct MyAttemptsQuery {
    /// `true` lists every attempt; failed ones only by default.
    pub all: Option<bool>,
    /// RFC 3339 time, or a duration back from now (`1h`, `7d`); 7 days by
    /// default.
    pub since: Option<String>,
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
    Query(query): Query<MyAttemptsQuery>,
) -> Result<Json<MyAttemptList>, ApiError> {
    let user_id = caller.user()?;
    let since = match query.since.as_deref() {
        Some(text) => crate::routes::support::parse_since(text, ctx.now).ok_or_else(|| {
            tessera_core::error::DomainError::new(ErrorCode::InvalidRequest).with_param("since")
        })?,
        None => ctx.now - chrono::Duration::days(7),
    };
    let case = diagnose::case_of_user(&state, user_id, since, ctx.now, 50).await?;
    let (diagnosis, _) = diagnose::diagnose_case(&state, &case, Audience::Person, ctx.now).await?;
    let lang = ctx.lang;
    let all = query.all.unwrap_or(false);
    let text = |t: &tessera_core::diagnosis::Bilingual| {
        let said = t.get(lang);
        (!said.is_empty()).then(|| said.to_owned())
    };
    let mut data: Vec<MyAttemptView> = case
        .attempts
        .iter()
        .zip(&diagnosis.attempts)
        .filter(|(record, _)| all || record.outcome == "error")
        .map(|(record, explained)| MyAttemptView {
            trace_id: record.trace_id.clone(),
            created_at: rfc3339(from_millis(record.created_at)),
            outcome: record.outcome.clone(),
            code: record.error_code.clone(),
            card: AttemptCardView {
                masked_pan: record.masked_pan.clone(),
                brand: record.brand.clone(),
                issuer_name: record.issuer_name.clone(),
                card_type: record.card_type.clone(),
            },
            happened: explained.happened.get(lang).to_owned(),
            message: text(&explained.message),
            remedy: text(&explained.remedy),
            help_url: record
                .error_code
                .as_ref()
                .map(|code| format!("/help/errors/{code}")),
        })
        .collect();
    data.reverse();
    Ok(Json(MyAttemptList {
        data,
        summary: MySummaryView {
            verdict: diagnosis.verdict.as_str().to_owned(),
            title: diagnosis.verdict.title().get(lang).to_owned(),
            headline: diagnosis.headline.get(lang).to_owned(),
            story: diagnosis.story.get(lang).to_owned(),
            next_step: diagnosis.next_step_person.get(lang).to_owned(),
        },
        next_cursor: None,
    }))
}
