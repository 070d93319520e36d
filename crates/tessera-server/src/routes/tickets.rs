//! Support tickets, opened by a person from one of their own attempts.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use tessera_core::error::ErrorCode;

use crate::flows::{idempotency, tickets};
use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::extract::{Ctx, JsonBody};
use crate::http::fields::Fields;
use crate::http::views::{ErrorEnvelope, TicketList, TicketRequest, TicketView};
use crate::state::AppState;

/// Open a ticket about one of your attempts (its trace id is shown with
/// every error). Send an `Idempotency-Key` to retry safely.
#[utoipa::path(post, path = "/v1/tickets", tag = "support", security(("bearer" = [])),
    request_body = TicketRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key and body return the first answer")),
    responses((status = 201, body = TicketView),
        (status = 404, description = "not_found: no attempt of yours has this trace id", body = ErrorEnvelope),
        (status = 422, description = "invalid_request: the message is empty; field_too_long, invalid_characters", body = ErrorEnvelope)))]
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
