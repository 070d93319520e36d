//! Support's side of a ticket: the whole conversation with its internal
//! notes; replies the person reads, statuses and notes, together or alone.
//! Each entry records the key that wrote it.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use tessera_core::error::ErrorCode;

use crate::flows::audit::Reader;
use crate::flows::ticket_replies;
use crate::http::auth::{Caller, Role};
use crate::http::error::ApiError;
use crate::http::extract::{Ctx, JsonBody};
use crate::http::fields::Fields;
use crate::http::views::{ErrorEnvelope, SupportReplyRequest, SupportTicketConversation};
use crate::state::AppState;

/// Support and operator keys answer tickets, as they read them.
const SUPPORT: [Role; 2] = [Role::Support, Role::Operator];

/// The key that writes, for the record.
fn support_key(caller: &Caller) -> Result<String, ApiError> {
    caller.require_role(&SUPPORT)?;
    match caller {
        Caller::Key { key_id, .. } => Ok(key_id.clone()),
        Caller::User { .. } => Err(ErrorCode::Forbidden.into()),
    }
}

/// One ticket with everything written on it, oldest first: replies either
/// side wrote, internal notes, statuses set, and the key of each of
/// support's entries.
#[utoipa::path(get, path = "/v1/support/tickets/{id}", tag = "support", security(("bearer" = [])),
    params(("id" = String, Path, description = "ticket id (tkt_...)")),
    responses((status = 200, body = SupportTicketConversation),
        (status = 403, body = ErrorEnvelope),
        (status = 404, description = "not_found: no ticket has this id", body = ErrorEnvelope)))]
pub async fn get_ticket(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<SupportTicketConversation>, ApiError> {
    caller.require_role(&SUPPORT)?;
    let reader = Reader {
        caller: &caller,
        trace_id: &ctx.trace_id,
    };
    Ok(Json(
        ticket_replies::for_support(&state, reader, &id).await?,
    ))
}

/// Write on a ticket: a reply the person reads (`message`), a status
/// (`waiting_for_person` when it is their turn, `resolved`), an internal
/// note only support reads, or several at once; at least one. Without
/// `status` the status stays as it is. Card numbers typed in either text
/// are masked.
#[utoipa::path(post, path = "/v1/support/tickets/{id}/replies", tag = "support", security(("bearer" = [])),
    request_body = SupportReplyRequest,
    params(("id" = String, Path, description = "ticket id (tkt_...)")),
    responses((status = 201, body = SupportTicketConversation),
        (status = 400, description = "invalid_request: none of message, status, internal_note (`message`), an empty message or internal_note, or a status other than open, waiting_for_person, resolved (`param` names it)", body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 404, description = "not_found: no ticket has this id", body = ErrorEnvelope),
        (status = 422, description = "field_too_long, invalid_characters", body = ErrorEnvelope)))]
pub async fn reply_to_ticket(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody { value: request, .. }: JsonBody<SupportReplyRequest>,
) -> Result<(StatusCode, Json<SupportTicketConversation>), ApiError> {
    let key_id = support_key(&caller)?;
    request.check_fields(&state.config.limits)?;
    let reader = Reader {
        caller: &caller,
        trace_id: &ctx.trace_id,
    };
    let conversation =
        ticket_replies::support_replies(&state, reader, &key_id, &id, &request, ctx.now).await?;
    Ok((StatusCode::CREATED, Json(conversation)))
}
