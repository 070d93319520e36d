//! Support tickets opened by a person from one of their own attempts. The
//! ticket carries the attempt (masked card, BIN data, device, codes) and its
//! diagnosis, so support never has to ask "what phone do you have".

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;
use tessera_core::card::pan::mask_card_numbers_in;
use tessera_core::diagnosis::Audience;
use tessera_core::error::{DomainError, ErrorCode};
use tessera_store::{TicketFilter, TicketRecord};

use crate::flows::diagnose;
use crate::flows::idempotency;
use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::extract::{Ctx, JsonBody};
use crate::http::views::{AttemptView, ErrorEnvelope};
use crate::http::views::{BilingualView, TicketList, TicketRequest, TicketView};
use crate::state::{AppState, millis};

/// The longest message a ticket keeps, in characters.
const MAX_MESSAGE_CHARS: usize = 2000;

/// Open a ticket about one of your attempts (its trace id is shown with
/// every error). Send an `Idempotency-Key` to retry safely.
#[utoipa::path(post, path = "/v1/tickets", tag = "support", security(("bearer" = [])),
    request_body = TicketRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key and body return the first answer")),
    responses((status = 201, body = TicketView),
        (status = 404, description = "not_found: no attempt of yours has this trace id", body = ErrorEnvelope),
        (status = 422, description = "invalid_request: the message is empty or too long", body = ErrorEnvelope)))]
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
    let key = idempotency::key_of(&headers)?;
    let work = async {
        let message = request.message.trim();
        if message.is_empty() || message.chars().count() > MAX_MESSAGE_CHARS {
            return Err(DomainError::new(ErrorCode::InvalidRequest)
                .with_param("message")
                .into());
        }
        // Another person's trace id is as unknown as a made-up one.
        let case = diagnose::case_of_trace(&state, request.trace_id.trim(), Some(&user_id))
            .await?
            .ok_or_else(|| DomainError::new(ErrorCode::NotFound).with_param("trace_id"))?;
        let (diagnosis, _) =
            diagnose::diagnose_case(&state, &case, Audience::Support, ctx.now).await?;
        let attempt = case
            .attempts
            .last()
            .map(AttemptView::from_record)
            .ok_or(ErrorCode::NotFound)?;
        let details = json!({
            "attempt": attempt,
            "diagnosis": {
                "verdict": diagnosis.verdict.as_str(),
                "cause": diagnosis.verdict.cause().map(|c| c.as_str()),
                "code": diagnosis.code.map(|c| c.as_str()),
                "headline": BilingualView::from(&diagnosis.headline),
                "story": BilingualView::from(&diagnosis.story),
                "device": BilingualView::from(&diagnosis.device),
                "next_step_person": BilingualView::from(&diagnosis.next_step_person),
                "next_step_support": BilingualView::from(&diagnosis.next_step_support),
            },
        });
        let ticket = TicketRecord {
            id: crate::ids::random_id("tkt_", 20),
            user_id: user_id.clone(),
            trace_id: attempt.trace_id.clone(),
            message: mask_card_numbers_in(message),
            status: "open".to_owned(),
            details: details.to_string(),
            created_at: millis(ctx.now),
        };
        state.store.create_ticket(&ticket).await?;
        tracing::info!(trace_id = %ticket.trace_id, ticket = %ticket.id, "support ticket opened");
        let view = serde_json::to_value(TicketView::from_record(&ticket))
            .map_err(|_| ApiError::from(ErrorCode::InternalError))?;
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
    let user_id = caller.user()?;
    let tickets = state
        .store
        .tickets(&TicketFilter {
            user_id: Some(user_id.to_owned()),
            limit: 100,
            ..TicketFilter::default()
        })
        .await?;
    Ok(Json(TicketList {
        data: tickets.iter().map(TicketView::from_record).collect(),
        next_cursor: None,
    }))
}
