//! Closing accounts and purging what outlived its retention, written once
//! for both backends: the SQL (with `$n` placeholders; SQLite's store
//! replaces `$` with `?`) and the closure read from a row.

use crate::model::{AccountClosure, ClosedBy};
use crate::rows::Columns;
use crate::{StoreError, StoreResult};

/// Binds user_id.
pub(crate) const LIVE_CARDS: &str = "SELECT c.id, t.token_ref FROM cards c \
    LEFT JOIN tokens t ON t.card_id = c.id \
    WHERE c.user_id = $1 AND c.status IN ('active', 'pending_verification')";

/// What a closed account can no longer use, each binding user_id: its
/// sessions, payment password, passkeys, confirmations, ceremonies,
/// chosen limits and cards still being bound (PostgreSQL keeps those as
/// rows; their completion then finds nothing to bind).
pub(crate) const CLOSE_DELETES: [&str; 7] = [
    "DELETE FROM sessions WHERE user_id = $1",
    "DELETE FROM payment_passwords WHERE user_id = $1",
    "DELETE FROM passkeys WHERE user_id = $1",
    "DELETE FROM verifications WHERE user_id = $1",
    "DELETE FROM webauthn_challenges WHERE user_id = $1",
    "DELETE FROM consent_limits WHERE user_id = $1",
    "DELETE FROM cards WHERE user_id = $1 AND status = 'binding'",
];

/// Binds user_id; changes no row when the account is closed already.
pub(crate) const CLOSE_USER: &str =
    "UPDATE users SET status = 'closed' WHERE id = $1 AND status <> 'closed'";

/// Binds user_id, closed_by, key_id, reason, closed_at.
pub(crate) const CLOSURE_INSERT: &str = "INSERT INTO account_closures \
    (user_id, closed_by, key_id, reason, closed_at) VALUES ($1, $2, $3, $4, $5)";

pub(crate) const CLOSURE_BY_USER: &str = "SELECT * FROM account_closures WHERE user_id = $1";

/// Binds the cutoff: the binding attempts made before it.
pub(crate) const PURGE_ATTEMPTS: &str = "DELETE FROM binding_attempts WHERE created_at < $1";
/// Binds the cutoff: sessions that expired before it.
pub(crate) const PURGE_SESSIONS: &str = "DELETE FROM sessions WHERE expires_at < $1";
/// Binds the cutoff: text-message codes that expired before it.
pub(crate) const PURGE_SMS_CODES: &str = "DELETE FROM sms_codes WHERE expires_at < $1";

/// Binds the cutoff: the accounts closed before it, not yet purged.
pub(crate) const CLOSED_TO_PURGE: &str = "SELECT user_id FROM account_closures \
    WHERE closed_at < $1 AND purged_at IS NULL ORDER BY closed_at LIMIT 100";

/// A closed account's masked records, children first, each binding
/// user_id. Operators' audit events stay: they record who read what.
pub(crate) const PURGE_CLOSED: [&str; 14] = [
    "DELETE FROM binding_attempts WHERE user_id = $1",
    "DELETE FROM refunds WHERE payment_id IN (SELECT id FROM payments WHERE user_id = $1)",
    "DELETE FROM payment_reports WHERE user_id = $1",
    "DELETE FROM support_ticket_entries WHERE ticket_id IN \
     (SELECT id FROM support_tickets WHERE user_id = $1)",
    "DELETE FROM support_tickets WHERE user_id = $1",
    "DELETE FROM payments WHERE user_id = $1",
    "DELETE FROM transfers WHERE user_id = $1",
    "DELETE FROM account_events WHERE user_id = $1",
    "DELETE FROM token_events WHERE user_id = $1",
    "DELETE FROM atc_uses WHERE token_ref IN (SELECT t.token_ref FROM tokens t \
     JOIN cards c ON c.id = t.card_id WHERE c.user_id = $1)",
    "DELETE FROM cryptograms WHERE token_ref IN (SELECT t.token_ref FROM tokens t \
     JOIN cards c ON c.id = t.card_id WHERE c.user_id = $1)",
    "DELETE FROM tokens WHERE card_id IN (SELECT id FROM cards WHERE user_id = $1)",
    "DELETE FROM otp_challenges WHERE card_id IN (SELECT id FROM cards WHERE user_id = $1)",
    "DELETE FROM cards WHERE user_id = $1",
];

/// Binds user_id: the user row keeps its id (the closure and operators'
/// audit name it) and nothing that tells who the person was.
pub(crate) const SCRUB_USER: &str = "UPDATE users SET phone = 'closed:' || id, real_name = '', \
    real_name_normalized = '', id_number_hash = '', id_number_last4 = '', password_hash = '', \
    birthday_pins = NULL WHERE id = $1";

/// Binds purged_at, user_id.
pub(crate) const CLOSURE_PURGED: &str =
    "UPDATE account_closures SET purged_at = $1 WHERE user_id = $2";

pub(crate) fn closure_from_row(row: &impl Columns) -> StoreResult<AccountClosure> {
    let closed_by: String = row.col("closed_by")?;
    Ok(AccountClosure {
        user_id: row.id("user_id")?,
        closed_by: ClosedBy::parse(&closed_by)
            .ok_or_else(|| StoreError::Corrupt(format!("closed_by {closed_by}")))?,
        key_id: row.col("key_id")?,
        reason: row.col("reason")?,
        closed_at: row.time("closed_at")?,
        purged_at: row.opt_time("purged_at")?,
    })
}

/// The token event's actor for a card ended by a closure: the cardholder,
/// or the wallet (an operator acts for it).
pub(crate) fn actor(closed_by: ClosedBy) -> &'static str {
    match closed_by {
        ClosedBy::Holder => "cardholder",
        ClosedBy::Operator => "wallet",
    }
}
