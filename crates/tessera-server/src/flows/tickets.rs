//! Support tickets opened by a person from one of their own attempts. The
//! ticket carries the attempt (masked card, BIN data, device, codes) and its
//! diagnosis, so support never has to ask "what phone do you have".

use chrono::{DateTime, Utc};
use serde_json::json;
use tessera_core::diagnosis::Audience;
use tessera_core::error::{DomainError, ErrorCode};
use tessera_store::{TicketFilter, TicketRecord};

use crate::flows::diagnose;
use crate::http::error::ApiError;
use crate::http::query;
use crate::http::views::{
    AttemptView, BilingualView, SupportTicketList, SupportTicketView, TicketList, TicketQuery,
    TicketRequest, TicketView,
};
use crate::state::AppState;
use tessera_core::ids::UserId;
use tessera_core::text::mask_card_numbers;

/// Opens a ticket on one of the person's own attempts, with the attempt and
/// its diagnosis as they are now; card numbers in the message are masked.
pub async fn open(
    state: &AppState,
    user_id: &UserId,
    request: &TicketRequest,
    now: DateTime<Utc>,
) -> Result<TicketView, ApiError> {
    let message = request.message.trim();
    // Its size and characters were checked with the request's other fields
    // (`limits.message_chars`).
    if message.is_empty() {
        return Err(DomainError::new(ErrorCode::InvalidRequest)
            .with_param("message")
            .into());
    }
    // Another person's trace id is as unknown as a made-up one.
    let case = diagnose::case_of_trace(state, request.trace_id.trim(), Some(user_id))
        .await?
        .ok_or_else(|| DomainError::new(ErrorCode::NotFound).with_param("trace_id"))?;
    let (diagnosis, _) = diagnose::diagnose_case(state, &case, Audience::Support, now).await?;
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
        user_id: user_id.to_owned(),
        trace_id: attempt.trace_id.clone(),
        message: mask_card_numbers(message).into_owned(),
        status: "open".to_owned(),
        details: details.to_string(),
        kind: "binding".to_owned(),
        payment_id: None,
        created_at: now,
    };
    state.store.create_ticket(&ticket).await?;
    tracing::info!(trace_id = %ticket.trace_id, ticket = %ticket.id, "support ticket opened");
    Ok(TicketView::from_record(&ticket))
}

/// The person's own tickets, newest first.
pub async fn mine(state: &AppState, user_id: &UserId) -> Result<TicketList, ApiError> {
    let tickets = state
        .store
        .tickets(&TicketFilter {
            user_id: Some(user_id.to_owned()),
            limit: 100,
            ..TicketFilter::default()
        })
        .await?;
    Ok(TicketList {
        data: tickets.iter().map(TicketView::from_record).collect(),
        next_cursor: None,
    })
}

/// Tickets for support, newest first, a page at a time (at most 200; 50 by
/// default), by person and status.
pub async fn page(state: &AppState, query: &TicketQuery) -> Result<SupportTicketList, ApiError> {
    const STATUSES: [&str; 2] = ["open", "closed"];
    if let Some(status) = &query.status
        && !STATUSES.contains(&status.as_str())
    {
        return Err(query::bad_choice("status", &STATUSES).into());
    }
    let before = query::cursor(query.cursor.as_deref())?;
    let limit = query.limit.unwrap_or(50).clamp(1, 200);
    let tickets = state
        .store
        .tickets(&TicketFilter {
            user_id: query.user_id.clone().map(Into::into),
            status: query.status.clone(),
            before,
            limit,
        })
        .await?;
    Ok(SupportTicketList {
        next_cursor: query::next_cursor(&tickets, limit, |t| (t.created_at, &t.id)),
        data: tickets.iter().map(SupportTicketView::from_record).collect(),
    })
}
