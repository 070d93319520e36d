//! Support tickets opened by a person from one of their own attempts,
//! payments or transfers. The ticket carries what it is about (an attempt
//! with its masked card, BIN data, device, codes and diagnosis; a payment;
//! a transfer), so support never has to ask "what phone do you have".
//! What is written on tickets afterwards is `flows::ticket_replies`.

use chrono::{DateTime, Utc};
use serde_json::json;
use tessera_core::card::HolderName;
use tessera_core::diagnosis::Audience;
use tessera_core::error::{DomainError, ErrorCode};
use tessera_core::ids::{CardId, PaymentId, TransferId};
use tessera_store::{TICKET_STATUSES, TicketFilter, TicketRecord};

use crate::flows::diagnose;
use crate::http::error::{ApiError, rfc3339};
use crate::http::fields;
use crate::http::query;
use crate::http::views::{
    AttemptView, BilingualView, SupportTicketList, SupportTicketView, TicketList, TicketQuery,
    TicketRequest, TicketView,
};
use crate::state::AppState;
use tessera_core::ids::UserId;
use tessera_core::text::mask_card_numbers;

/// What a ticket is about: exactly one of the request's three ids.
enum Subject<'a> {
    Attempt(&'a str),
    Payment(&'a str),
    Transfer(&'a str),
}

fn subject_of(request: &TicketRequest) -> Result<Subject<'_>, DomainError> {
    let given: Vec<(&'static str, &str)> = [
        ("trace_id", &request.trace_id),
        ("payment_id", &request.payment_id),
        ("transfer_id", &request.transfer_id),
    ]
    .into_iter()
    .filter_map(|(param, value)| Some((param, value.as_deref()?.trim())))
    .collect();
    match given.as_slice() {
        [("trace_id", id)] => Ok(Subject::Attempt(id)),
        [("payment_id", id)] => Ok(Subject::Payment(id)),
        // transfer_id, the one left.
        [(_, id)] => Ok(Subject::Transfer(id)),
        // None: the historic field is the one to send.
        [] => Err(invalid("trace_id")),
        [_, (second, _), ..] => Err(invalid(second)),
    }
}

fn invalid(param: &'static str) -> DomainError {
    DomainError::new(ErrorCode::InvalidRequest).with_param(param)
}

/// The text sent, trimmed; `invalid_request` naming it when nothing is left.
/// Its size and characters were checked with the request's other fields
/// (`limits.message_chars`).
pub fn words<'a>(text: &'a str, param: &'static str) -> Result<&'a str, DomainError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(invalid(param));
    }
    Ok(text)
}

/// Opens a ticket on one of the person's own attempts, payments or
/// transfers, with it as it is now; card numbers in the message are masked.
/// Another person's is as unknown as a made-up one.
pub async fn open(
    state: &AppState,
    user_id: &UserId,
    request: &TicketRequest,
    now: DateTime<Utc>,
) -> Result<TicketView, ApiError> {
    let message = words(&request.message, "message")?;
    let mut ticket = TicketRecord {
        id: crate::ids::random_id("tkt_", 20),
        user_id: user_id.to_owned(),
        message: mask_card_numbers(message).into_owned(),
        status: "open".to_owned(),
        created_at: now,
        ..TicketRecord::default()
    };
    match subject_of(request)? {
        Subject::Attempt(trace_id) => on_attempt(state, &mut ticket, trace_id, now).await?,
        Subject::Payment(id) => on_payment(state, &mut ticket, id).await?,
        Subject::Transfer(id) => on_transfer(state, &mut ticket, id).await?,
    }
    add_reported(&mut ticket, request);
    state.store.create_ticket(&ticket).await?;
    ticket.last_activity_at = now;
    tracing::info!(trace_id = %ticket.trace_id, ticket = %ticket.id, kind = %ticket.kind,
        "support ticket opened");
    Ok(TicketView::from_record(&ticket))
}

/// What the person sent beside their words, in the ticket's details under
/// `reported`: the error as they were shown it and the device they write
/// from, card numbers masked like every free text.
fn add_reported(ticket: &mut TicketRecord, request: &TicketRequest) {
    let error_text = request
        .error_text
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(fields::stored_text);
    let device = request.device.as_ref().map(fields::stored_device);
    if error_text.is_none() && device.is_none() {
        return;
    }
    let mut details: serde_json::Value = serde_json::from_str(&ticket.details)
        .ok()
        .filter(serde_json::Value::is_object)
        .unwrap_or_else(|| json!({}));
    details["reported"] = json!({"error_text": error_text, "device": device});
    ticket.details = details.to_string();
}

/// The attempt and its diagnosis as they are now.
async fn on_attempt(
    state: &AppState,
    ticket: &mut TicketRecord,
    trace_id: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let case = diagnose::case_of_trace(state, trace_id, Some(&ticket.user_id))
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
    ticket.trace_id = attempt.trace_id.clone();
    ticket.details = details.to_string();
    ticket.kind = "binding".to_owned();
    Ok(())
}

/// The card paid or sent from, as support may see it.
async fn card_of(
    state: &AppState,
    user_id: &UserId,
    card_id: &CardId,
) -> Result<serde_json::Value, ApiError> {
    let card = state.store.card(user_id, card_id).await?;
    Ok(card.map_or(serde_json::Value::Null, |card| {
        json!({
            "id": card.id.as_str(),
            "first6": card.first6,
            "last4": card.last4,
            "brand": card.brand.code(),
            "issuer_code": card.issuer_code,
        })
    }))
}

async fn on_payment(state: &AppState, ticket: &mut TicketRecord, id: &str) -> Result<(), ApiError> {
    let payment = state
        .store
        .payment(&PaymentId::from(id))
        .await?
        .filter(|p| p.user_id == ticket.user_id)
        .ok_or_else(|| DomainError::new(ErrorCode::NotFound).with_param("payment_id"))?;
    let details = json!({
        "payment": {
            "id": payment.id.as_str(),
            "status": payment.status.as_str(),
            "amount": payment.amount,
            "currency": payment.currency,
            "merchant_id": payment.merchant_id,
            "merchant_name": payment.merchant_name,
            "channel": payment.channel.as_str(),
            "card": card_of(state, &ticket.user_id, &payment.card_id).await?,
            "consent": payment.consent,
            "error_code": payment.error_code,
            "decline_code": payment.decline_code,
            "risk_score": payment.risk_score,
            "trace_id": payment.trace_id,
            "created_at": rfc3339(payment.created_at),
        },
    });
    ticket.trace_id = payment.trace_id.clone();
    ticket.details = details.to_string();
    ticket.kind = "payment".to_owned();
    ticket.payment_id = Some(payment.id);
    Ok(())
}

async fn on_transfer(
    state: &AppState,
    ticket: &mut TicketRecord,
    id: &str,
) -> Result<(), ApiError> {
    let transfer = state
        .store
        .transfer(&ticket.user_id, &TransferId::from(id))
        .await?
        .ok_or_else(|| DomainError::new(ErrorCode::NotFound).with_param("transfer_id"))?;
    // Support reads a name masked, as its other views show names.
    let to_holder_name = HolderName::parse(&transfer.to_holder_name)
        .map(|name| name.masked())
        .ok();
    let details = json!({
        "transfer": {
            "id": transfer.id.as_str(),
            "status": transfer.status.as_str(),
            "amount": transfer.amount,
            "fee": transfer.fee,
            "currency": transfer.currency,
            "channel": transfer.channel,
            "card": card_of(state, &ticket.user_id, &transfer.card_id).await?,
            "to_masked": transfer.to_masked,
            "to_issuer_code": transfer.to_issuer_code,
            "to_holder_name": to_holder_name,
            "decline_code": transfer.decline_code,
            "reference": transfer.reference,
            "trace_id": transfer.trace_id,
            "created_at": rfc3339(transfer.created_at),
        },
    });
    ticket.trace_id = transfer.trace_id.clone();
    ticket.details = details.to_string();
    ticket.kind = "transfer".to_owned();
    ticket.transfer_id = Some(transfer.id);
    Ok(())
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

/// A status as support sends it; `invalid_request` naming `param` otherwise.
pub fn status_of(text: &str, param: &'static str) -> Result<&'static str, DomainError> {
    TICKET_STATUSES
        .into_iter()
        .find(|status| *status == text)
        .ok_or_else(|| query::bad_choice(param, &TICKET_STATUSES))
}

/// Tickets for support, a page at a time (at most 200; 50 by default), by
/// person, status and age. With a status, the longest waiting first (their
/// last activity); without, the newest first.
pub async fn page(
    state: &AppState,
    query: &TicketQuery,
    now: DateTime<Utc>,
) -> Result<SupportTicketList, ApiError> {
    let status = query
        .status
        .as_deref()
        .map(|status| status_of(status, "status"))
        .transpose()?;
    let idle_since = query
        .older_than
        .as_deref()
        .map(|text| query::parse_since(text, now).ok_or_else(|| invalid("older_than")))
        .transpose()?;
    let cursor = query::cursor(query.cursor.as_deref())?;
    let limit = query::page_limit(query.limit, 50, 200)?;
    let oldest_first = status.is_some();
    let mut filter = TicketFilter {
        user_id: query.user_id.clone().map(Into::into),
        status: status.map(str::to_owned),
        idle_since,
        oldest_first,
        limit,
        ..TicketFilter::default()
    };
    if oldest_first {
        filter.after = cursor;
    } else {
        filter.before = cursor;
    }
    let tickets = state.store.tickets(&filter).await?;
    Ok(SupportTicketList {
        next_cursor: query::next_cursor(&tickets, limit, |t| {
            let at = if oldest_first {
                t.last_activity_at
            } else {
                t.created_at
            };
            (at, &t.id)
        }),
        data: tickets.iter().map(SupportTicketView::from_record).collect(),
    })
}
