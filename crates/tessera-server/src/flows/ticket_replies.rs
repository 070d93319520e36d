//! Tickets as conversations: support replies (and keeps notes the person
//! never reads), the person answers. A ticket is `open` while it is
//! support's turn, `waiting_for_person` while it is the person's, and
//! `resolved`; the person's reply always makes it `open` again, a resolved
//! ticket included. Free text is stored with card numbers masked.

use chrono::{DateTime, Utc};
use tessera_core::error::{DomainError, ErrorCode};
use tessera_core::ids::UserId;
use tessera_core::text::mask_card_numbers;
use tessera_store::{TicketEntry, TicketRecord};

use crate::flows::audit::{self, Reader};
use crate::flows::tickets::{status_of, words};
use crate::http::error::ApiError;
use crate::http::views::{
    SupportReplyRequest, SupportTicketConversation, TicketConversation, TicketReplyRequest,
};
use crate::state::AppState;

fn not_found() -> ApiError {
    DomainError::new(ErrorCode::NotFound)
        .with_param("id")
        .into()
}

fn masked(text: &str) -> String {
    mask_card_numbers(text).into_owned()
}

/// The person's own ticket; another's is as unknown as a made-up one.
async fn own_ticket(
    state: &AppState,
    user_id: &UserId,
    id: &str,
) -> Result<TicketRecord, ApiError> {
    state
        .store
        .ticket(id)
        .await?
        .filter(|ticket| ticket.user_id == *user_id)
        .ok_or_else(not_found)
}

/// `GET /v1/tickets/{id}`: the ticket and its replies, without support's
/// notes.
pub async fn for_person(
    state: &AppState,
    user_id: &UserId,
    id: &str,
) -> Result<TicketConversation, ApiError> {
    let ticket = own_ticket(state, user_id, id).await?;
    let entries = state.store.ticket_entries(&ticket.id).await?;
    Ok(TicketConversation::new(&ticket, &entries))
}

/// `POST /v1/tickets/{id}/replies`: the person answers; the ticket is
/// support's turn again.
pub async fn person_replies(
    state: &AppState,
    user_id: &UserId,
    id: &str,
    request: &TicketReplyRequest,
    now: DateTime<Utc>,
) -> Result<TicketConversation, ApiError> {
    let message = words(&request.message, "message")?;
    let ticket = own_ticket(state, user_id, id).await?;
    let entry = TicketEntry {
        ticket_id: ticket.id.clone(),
        author: "person".to_owned(),
        message: Some(masked(message)),
        status: Some("open".to_owned()),
        created_at: now,
        ..TicketEntry::default()
    };
    let ticket = state
        .store
        .add_ticket_entry(&entry)
        .await?
        .ok_or_else(not_found)?;
    tracing::info!(ticket = %ticket.id, "the person replied on a ticket");
    let entries = state.store.ticket_entries(&ticket.id).await?;
    Ok(TicketConversation::new(&ticket, &entries))
}

/// `GET /v1/support/tickets/{id}`: everything written on it, notes too;
/// the read is audited as one of the person's data.
pub async fn for_support(
    state: &AppState,
    reader: Reader<'_>,
    id: &str,
) -> Result<SupportTicketConversation, ApiError> {
    let ticket = state.store.ticket(id).await?.ok_or_else(not_found)?;
    reader
        .record(state, audit::TICKET, Some(&ticket.user_id))
        .await?;
    let entries = state.store.ticket_entries(&ticket.id).await?;
    Ok(SupportTicketConversation::new(&ticket, &entries))
}

/// An internal note as sent: None when absent, `invalid_request` when blank.
fn note_of(note: Option<&str>) -> Result<Option<String>, DomainError> {
    note.map(|note| words(note, "internal_note").map(masked))
        .transpose()
}

/// `POST /v1/support/tickets/{id}/replies`: a reply the person reads, a
/// status, an internal note, or several of them at once; answers the
/// conversation as it now is, that read audited like `for_support`'s.
pub async fn support_replies(
    state: &AppState,
    reader: Reader<'_>,
    key_id: &str,
    id: &str,
    request: &SupportReplyRequest,
    now: DateTime<Utc>,
) -> Result<SupportTicketConversation, ApiError> {
    let status = request
        .status
        .as_deref()
        .map(|status| status_of(status, "status"))
        .transpose()?;
    let message = request
        .message
        .as_deref()
        .map(|message| words(message, "message").map(masked))
        .transpose()?;
    let internal_note = note_of(request.internal_note.as_deref())?;
    if message.is_none() && status.is_none() && internal_note.is_none() {
        return Err(DomainError::new(ErrorCode::InvalidRequest)
            .with_param("message")
            .into());
    }
    let entry = TicketEntry {
        ticket_id: id.to_owned(),
        author: "support".to_owned(),
        key_id: Some(key_id.to_owned()),
        message,
        internal_note,
        status: status.map(str::to_owned),
        created_at: now,
        ..TicketEntry::default()
    };
    let ticket = state
        .store
        .add_ticket_entry(&entry)
        .await?
        .ok_or_else(not_found)?;
    tracing::info!(ticket = %ticket.id, key_id, status = %ticket.status,
        reply = entry.message.is_some(), "support wrote on a ticket");
    for_support(state, reader, id).await
}
