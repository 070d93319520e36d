//! Support tickets as people and support read them, and the bodies that
//! open, answer and change them. The person never sees support's internal
//! notes nor which key answered; support sees everything, masked.

use serde::{Deserialize, Serialize};
use tessera_store::{TicketEntry, TicketRecord};
use utoipa::{IntoParams, ToSchema};

use crate::http::error::rfc3339;
use crate::http::views::Device;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketRequest {
    /// The trace id of one of your own attempts (shown with every error).
    /// Exactly one of `trace_id`, `payment_id` and `transfer_id`.
    pub trace_id: Option<String>,
    /// One of your own payments.
    pub payment_id: Option<String>,
    /// One of your own transfers.
    pub transfer_id: Option<String>,
    /// What you want support to know. Card numbers typed here are masked.
    pub message: String,
    /// The error as you were shown it, when the ticket is about one, so
    /// that support reads the very words. Card numbers are masked.
    pub error_text: Option<String>,
    /// The device you write from (an attempt carries its own device too):
    /// model, OS, app version, network, locale. Card numbers are masked.
    pub device: Option<Device>,
}

impl std::fmt::Debug for TicketRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TicketRequest")
            .field("trace_id", &self.trace_id)
            .field("payment_id", &self.payment_id)
            .field("transfer_id", &self.transfer_id)
            .field("message", &"***")
            .field("error_text", &self.error_text.as_ref().map(|_| "***"))
            .field("device", &self.device)
            .finish()
    }
}

/// The person's answer on their ticket.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketReplyRequest {
    /// Card numbers typed here are masked.
    pub message: String,
}

impl std::fmt::Debug for TicketReplyRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TicketReplyRequest")
            .field("message", &"***")
            .finish()
    }
}

/// What support writes on a ticket: a reply the person reads, a status, an
/// internal note, or any of them together (at least one).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupportReplyRequest {
    /// What the person reads; without it, nothing is shown to the person
    /// but the status. Card numbers typed here are masked.
    pub message: Option<String>,
    /// `open`, `waiting_for_person` or `resolved`; unchanged when absent.
    pub status: Option<String>,
    /// Only support reads it. Card numbers typed here are masked.
    pub internal_note: Option<String>,
}

impl std::fmt::Debug for SupportReplyRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupportReplyRequest")
            .field("message", &self.message.as_ref().map(|_| "***"))
            .field("status", &self.status)
            .field("internal_note", &self.internal_note.as_ref().map(|_| "***"))
            .finish()
    }
}

/// A ticket as the person who opened it sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketView {
    pub id: String,
    pub trace_id: String,
    /// `open` (support's turn), `waiting_for_person` (yours) or `resolved`.
    pub status: String,
    /// `binding` (about a binding attempt), `payment`, `transfer`,
    /// `payment_report` (a payment the person said was not theirs) or
    /// `wallet_freeze`.
    pub kind: String,
    /// The payment a ticket or report is about.
    pub payment_id: Option<String>,
    /// The transfer a ticket is about.
    pub transfer_id: Option<String>,
    pub message: String,
    /// The error as the person was shown it, when they sent it.
    pub error_text: Option<String>,
    pub created_at: String,
    /// The last reply or change, or the opening.
    pub last_activity_at: String,
    /// Replies so far, either side's.
    pub reply_count: i64,
}

/// What the person reported with a ticket (`details.reported`): the error
/// as they were shown it and the device they wrote from.
fn reported_error(details: &str) -> Option<String> {
    let details: serde_json::Value = serde_json::from_str(details).ok()?;
    Some(details["reported"]["error_text"].as_str()?.to_owned())
}

impl TicketView {
    pub fn from_record(ticket: &TicketRecord) -> TicketView {
        TicketView {
            id: ticket.id.clone(),
            trace_id: ticket.trace_id.clone(),
            status: ticket.status.clone(),
            kind: ticket.kind.clone(),
            payment_id: ticket.payment_id.as_ref().map(ToString::to_string),
            transfer_id: ticket.transfer_id.as_ref().map(ToString::to_string),
            message: ticket.message.clone(),
            error_text: reported_error(&ticket.details),
            created_at: rfc3339(ticket.created_at),
            last_activity_at: rfc3339(ticket.last_activity_at),
            reply_count: ticket.reply_count,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketList {
    pub data: Vec<TicketView>,
    pub next_cursor: Option<String>,
}

/// A reply on a ticket, as the person reads it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketReplyView {
    /// `person` (you) or `support`.
    pub author: String,
    pub message: String,
    pub created_at: String,
}

/// A ticket and its replies, oldest first, as the person reads them.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketConversation {
    pub ticket: TicketView,
    pub replies: Vec<TicketReplyView>,
}

impl TicketConversation {
    pub fn new(ticket: &TicketRecord, entries: &[TicketEntry]) -> TicketConversation {
        TicketConversation {
            ticket: TicketView::from_record(ticket),
            // Notes and bare status changes are support's own.
            replies: entries
                .iter()
                .filter_map(|entry| {
                    Some(TicketReplyView {
                        author: entry.author.clone(),
                        message: entry.message.clone()?,
                        created_at: rfc3339(entry.created_at),
                    })
                })
                .collect(),
        }
    }
}

/// A ticket as support reads it: with what it is about (the attempt, the
/// device and the diagnosis, or the payment or transfer) as it was when it
/// was opened.
#[derive(Debug, Serialize, ToSchema)]
pub struct SupportTicketView {
    pub id: String,
    pub user_id: String,
    pub trace_id: String,
    /// `open`, `waiting_for_person` or `resolved`.
    pub status: String,
    /// `binding`, `payment`, `transfer`, `payment_report` or `wallet_freeze`.
    pub kind: String,
    pub payment_id: Option<String>,
    pub transfer_id: Option<String>,
    pub message: String,
    pub created_at: String,
    /// The last entry written on it (a reply, a note or a status), or its
    /// opening.
    pub last_activity_at: String,
    /// Replies so far, either side's (notes not counted).
    pub reply_count: i64,
    /// `attempt` (the masked record, device included) and `diagnosis`;
    /// `payment` (for a report, with its risk score and reasons); or
    /// `transfer`. Cards as first six and last four, names masked. And
    /// `reported`, when the person sent them: `error_text` (the error as
    /// they were shown it) and `device` (the one they wrote from).
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

impl SupportTicketView {
    pub fn from_record(ticket: &TicketRecord) -> SupportTicketView {
        SupportTicketView {
            id: ticket.id.clone(),
            user_id: ticket.user_id.to_string(),
            trace_id: ticket.trace_id.clone(),
            status: ticket.status.clone(),
            kind: ticket.kind.clone(),
            payment_id: ticket.payment_id.as_ref().map(ToString::to_string),
            transfer_id: ticket.transfer_id.as_ref().map(ToString::to_string),
            message: ticket.message.clone(),
            created_at: rfc3339(ticket.created_at),
            last_activity_at: rfc3339(ticket.last_activity_at),
            reply_count: ticket.reply_count,
            details: serde_json::from_str(&ticket.details).unwrap_or_default(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SupportTicketList {
    pub data: Vec<SupportTicketView>,
    pub next_cursor: Option<String>,
}

/// Something written on a ticket after it was opened, as support reads it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SupportTicketEntryView {
    /// Its place on the ticket, from 1.
    pub seq: i64,
    /// `person` or `support`.
    pub author: String,
    /// The support key that wrote it.
    pub key_id: Option<String>,
    /// The reply the person reads, if any.
    pub message: Option<String>,
    /// Only support reads it.
    pub internal_note: Option<String>,
    /// The status it set, if any.
    pub status: Option<String>,
    pub created_at: String,
}

/// A ticket with everything written on it, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct SupportTicketConversation {
    pub ticket: SupportTicketView,
    pub entries: Vec<SupportTicketEntryView>,
}

impl SupportTicketConversation {
    pub fn new(ticket: &TicketRecord, entries: &[TicketEntry]) -> SupportTicketConversation {
        SupportTicketConversation {
            ticket: SupportTicketView::from_record(ticket),
            entries: entries
                .iter()
                .map(|entry| SupportTicketEntryView {
                    seq: entry.seq,
                    author: entry.author.clone(),
                    key_id: entry.key_id.clone(),
                    message: entry.message.clone(),
                    internal_note: entry.internal_note.clone(),
                    status: entry.status.clone(),
                    created_at: rfc3339(entry.created_at),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TicketQuery {
    pub user_id: Option<String>,
    /// `open`, `waiting_for_person` or `resolved`. With a status, the
    /// longest waiting (oldest last activity) come first; without, the
    /// newest tickets.
    pub status: Option<String>,
    /// Only tickets with nothing written on them for this long (`2h`,
    /// `30m`, `7d`) or since this RFC 3339 time.
    pub older_than: Option<String>,
    /// At most 200; 50 by default.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
}
