//! Tickets and their entries, written once for both backends: the SQL
//! (with `$n` placeholders; SQLite's store replaces `$` with `?`, binding
//! in the same order) and the records read from rows (`rows::Columns`).

use crate::StoreResult;
use crate::model::*;
use crate::rows::Columns;

/// A new ticket: its last activity is its opening. Binds id, user_id,
/// trace_id, message, status, details, kind, payment_id, transfer_id,
/// created_at.
pub(crate) const TICKET_INSERT: &str = "INSERT INTO support_tickets \
    (id, user_id, trace_id, message, status, details, kind, payment_id, transfer_id, \
     created_at, last_activity_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)";

/// Counts an entry on its ticket, sets its status (when the entry sets
/// one) and its last activity, and answers the entry's place. Binds
/// status, created_at, whether it is a reply (0/1), ticket_id. The row's
/// lock makes writers on one ticket take turns, so places never collide.
pub(crate) const TICKET_TOUCH: &str = "UPDATE support_tickets \
    SET status = COALESCE($1, status), last_activity_at = $2, \
        reply_count = reply_count + $3, entry_count = entry_count + 1 \
    WHERE id = $4 RETURNING entry_count";

/// Binds ticket_id, seq, author, key_id, message, internal_note, status,
/// created_at.
pub(crate) const ENTRY_INSERT: &str = "INSERT INTO support_ticket_entries \
    (ticket_id, seq, author, key_id, message, internal_note, status, created_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

pub(crate) const ENTRIES_OF: &str =
    "SELECT * FROM support_ticket_entries WHERE ticket_id = $1 ORDER BY seq";

pub(crate) const TICKET_BY_ID: &str = "SELECT * FROM support_tickets WHERE id = $1";

pub(crate) fn ticket_from_row(row: &impl Columns) -> StoreResult<TicketRecord> {
    Ok(TicketRecord {
        id: row.id("id")?,
        user_id: row.id("user_id")?,
        trace_id: row.col("trace_id")?,
        message: row.col("message")?,
        status: row.col("status")?,
        details: row.col("details")?,
        kind: row
            .col::<Option<String>>("kind")?
            .unwrap_or_else(|| "binding".to_owned()),
        payment_id: row
            .col::<Option<String>>("payment_id")?
            .map(PaymentId::from),
        transfer_id: row
            .col::<Option<String>>("transfer_id")?
            .map(TransferId::from),
        created_at: row.time("created_at")?,
        last_activity_at: row.time("last_activity_at")?,
        reply_count: row.col("reply_count")?,
    })
}

pub(crate) fn ticket_entry_from_row(row: &impl Columns) -> StoreResult<TicketEntry> {
    Ok(TicketEntry {
        ticket_id: row.col("ticket_id")?,
        seq: row.col("seq")?,
        author: row.col("author")?,
        key_id: row.col("key_id")?,
        message: row.col("message")?,
        internal_note: row.col("internal_note")?,
        status: row.col("status")?,
        created_at: row.time("created_at")?,
    })
}
