//! Support tickets as the person has them: opened from one of their own
//! attempts, payments or transfers, read with support's replies, answered.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use tessera_core::error::ErrorCode;

use crate::flows::{idempotency, ticket_replies, tickets};
use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::extract::{Ctx, JsonBody};
use crate::http::fields::Fields;
use crate::http::views::{
    ErrorEnvelope, TicketConversation, TicketList, TicketReplyRequest, TicketRequest, TicketView,
};
use crate::state::AppState;

/// Open a ticket about one of your attempts (its trace id is shown with
/// every error), payments or transfers: exactly one of `trace_id`,
/// `payment_id` and `transfer_id`. Send an `Idempotency-Key` to retry
/// safely.
#[utoipa::path(post, path = "/v1/tickets", tag = "support", security(("bearer" = [])),
    request_body = TicketRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key and body return the first answer")),
    responses((status = 201, body = TicketView),
        (status = 400, description = "invalid_request: the message is empty (`message`), or not exactly one of trace_id, payment_id, transfer_id (`param` names the one to drop, or `trace_id` when none)", body = ErrorEnvelope),
        (status = 403, description = "forbidden: an API key opens no tickets", body = ErrorEnvelope),
        (status = 404, description = "not_found: none of your attempts, payments or transfers has this id (`param` names it)", body = ErrorEnvelope),
        (status = 422, description = "field_too_long, invalid_characters", body = ErrorEnvelope)))]
pub async fn create_ticket(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    headers: HeaderMap,
    JsonBody {
        value: request,
        raw,
    }: JsonBody<TicketRequest>,
) -> Result<Response, ApiError> {
    let user_id = caller.user()?.to_owned();
    request.check_fields(&state.config.limits)?;
    let key = idempotency::key_of(&headers)?;
    let work = async {
        let ticket = tickets::open(&state, &user_id, &request, ctx.now).await?;
        let view = serde_json::to_value(ticket).map_err(|_| ErrorCode::InternalError)?;
        Ok((StatusCode::CREATED, view))
    };
    Ok(idempotency::run(&state, &caller, key, "POST /v1/tickets", &raw, &ctx, work).await)
}

/// Your tickets, newest first.
#[utoipa::path(get, path = "/v1/tickets", tag = "support", security(("bearer" = [])),
    responses((status = 200, body = TicketList), (status = 401, body = ErrorEnvelope)))]
pub async fn list_my_tickets(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<TicketList>, ApiError> {
    Ok(Json(tickets::mine(&state, caller.user()?).await?))
}

/// One of your tickets with its replies, oldest first: yours and
/// support's.
#[utoipa::path(get, path = "/v1/tickets/{id}", tag = "support", security(("bearer" = [])),
    params(("id" = String, Path, description = "ticket id (tkt_...)")),
    responses((status = 200, body = TicketConversation),
        (status = 403, description = "forbidden: an API key", body = ErrorEnvelope),
        (status = 404, description = "not_found: none of your tickets has this id", body = ErrorEnvelope)))]
pub async fn get_my_ticket(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<TicketConversation>, ApiError> {
    Ok(Json(
        ticket_replies::for_person(&state, caller.user()?, &id).await?,
    ))
}

/// Answer on one of your tickets: it is support's turn again (`open`),
/// even when it was resolved. Card numbers typed here are masked. Send an
/// `Idempotency-Key` to retry safely.
#[utoipa::path(post, path = "/v1/tickets/{id}/replies", tag = "support", security(("bearer" = [])),
    request_body = TicketReplyRequest,
    params(("id" = String, Path, description = "ticket id (tkt_...)"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key and body return the first answer")),
    responses((status = 201, body = TicketConversation),
        (status = 400, description = "invalid_request: the message is empty", body = ErrorEnvelope),
        (status = 403, description = "forbidden: an API key", body = ErrorEnvelope),
        (status = 404, description = "not_found: none of your tickets has this id", body = ErrorEnvelope),
        (status = 422, description = "field_too_long, invalid_characters", body = ErrorEnvelope)))]
pub async fn reply_to_my_ticket(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody {
        value: request,
        raw,
    }: JsonBody<TicketReplyRequest>,
) -> Result<Response, ApiError> {
    let user_id = caller.user()?.to_owned();
    request.check_fields(&state.config.limits)?;
    let key = idempotency::key_of(&headers)?;
    // The ticket is part of the fingerprint: one key and body on two
    // tickets are two different requests.
    let route = format!("POST /v1/tickets/{id}/replies");
    let work = async {
        let conversation =
            ticket_replies::person_replies(&state, &user_id, &id, &request, ctx.now).await?;
        let view = serde_json::to_value(conversation).map_err(|_| ErrorCode::InternalError)?;
        Ok((StatusCode::CREATED, view))
    };
    Ok(idempotency::run(&state, &caller, key, &route, &raw, &ctx, work).await)
}
