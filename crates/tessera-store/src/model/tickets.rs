//! Support tickets and what is written on them after they are opened.

use chrono::{DateTime, Utc};

use super::{PaymentId, TransferId, UserId};

/// The statuses a ticket can have: `open` (support's turn),
/// `waiting_for_person` (the person's turn) and `resolved`.
pub const TICKET_STATUSES: [&str; 3] = ["open", "waiting_for_person", "resolved"];

/// A support ticket opened by a person: from one of their attempts,
/// payments or transfers, or by reporting a payment or freezing the wallet.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketRecord {
    pub id: String,
    pub user_id: UserId,
    pub trace_id: String,
    /// The person's words, with anything that looks like a card number masked.
    pub message: String,
    /// One of [`TICKET_STATUSES`].
    pub status: String,
    /// What the ticket is about as it was at opening, as JSON (masked data
    /// only): an attempt and its diagnosis, a payment or a transfer.
    pub details: String,
    /// `binding` (a binding attempt), `payment`, `transfer`,
    /// `payment_report` or `wallet_freeze`.
    pub kind: String,
    /// The payment a ticket or report is about.
    pub payment_id: Option<PaymentId>,
    /// The transfer a ticket is about.
    pub transfer_id: Option<TransferId>,
    pub created_at: DateTime<Utc>,
    /// The time of the last entry written on it, or its opening; set by
    /// the store (`created_at` at insert).
    pub last_activity_at: DateTime<Utc>,
    /// Entries with a message the person reads, either side's; set by the
    /// store.
    pub reply_count: i64,
}

#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    pub user_id: Option<UserId>,
    pub status: Option<String>,
    /// Only tickets with nothing written on them since this time.
    pub idle_since: Option<DateTime<Utc>>,
    /// The longest waiting first (by last activity), paged by `after`;
    /// otherwise newest first, paged by `before`.
    pub oldest_first: bool,
    /// Only tickets after this one in the listing order (newest first): its
    /// (created_at, id), the cursor of the previous page.
    pub before: Option<(DateTime<Utc>, String)>,
    /// With `oldest_first`: only tickets after this (last_activity_at, id).
    pub after: Option<(DateTime<Utc>, String)>,
    pub limit: u32,
}

/// Something written on a ticket after it was opened: a reply the person
/// reads (`message`), a note only support reads (`internal_note`), a status
/// set, or several at once. Free text is masked before it gets here.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketEntry {
    pub ticket_id: String,
    /// Its place on the ticket, from 1; set by the store.
    pub seq: i64,
    /// `person` or `support`.
    pub author: String,
    /// The support key that wrote it; None for the person.
    pub key_id: Option<String>,
    pub message: Option<String>,
    pub internal_note: Option<String>,
    /// The status this entry set, if it set one.
    pub status: Option<String>,
    pub created_at: DateTime<Utc>,
}
