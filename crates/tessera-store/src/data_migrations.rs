//! Data migrations: changes to stored rows that SQL cannot make, because
//! they need Rust code. Each backend's migrator runs every one a database
//! has not had, at start, after the schema migrations and in one
//! transaction with its record in `data_migrations` (migration 0008), so
//! each runs once per database; on PostgreSQL under the migrations'
//! advisory lock, so once however many nodes start.
//!
//! The one so far masks card numbers in every free-text column written
//! before free text was masked with `tessera_core::text::mask_card_numbers`
//! (full-width digits, dots, slashes, newlines and the like got through).

use tessera_core::text::{mask_card_numbers, mask_card_numbers_in_json};

/// The name `data_migrations` records for masking card numbers.
pub(crate) const MASK_CARD_NUMBERS: &str = "mask_card_numbers_v1";

/// How a column holds its free text.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// The whole value is free text.
    Text,
    /// A JSON document; only its free-text values are masked
    /// (`tessera_core::text::FREE_TEXT_KEYS`), never its ids or times.
    Json,
}

/// Every column that holds free text people or operators sent:
/// (table, column, kind).
pub(crate) const FREE_TEXT: &[(&str, &str, Kind)] = &[
    ("support_tickets", "message", Kind::Text),
    // The attempt's device and the diagnosis told from it.
    ("support_tickets", "details", Kind::Json),
    ("token_events", "reason", Kind::Text),
    ("binding_attempts", "device", Kind::Json),
    ("payments", "merchant_name", Kind::Text),
    // The maintenance notice.
    ("settings", "value", Kind::Json),
    // Stored answers replayed for a retry (a ticket, a payment).
    ("idempotency_keys", "response_body", Kind::Json),
    ("api_keys", "label", Kind::Text),
    // Replies on tickets and support's notes (masked when written, listed
    // so that this list stays whole).
    ("support_ticket_entries", "message", Kind::Text),
    ("support_ticket_entries", "internal_note", Kind::Text),
];

/// The value to store instead of `value`, when it holds a card number.
pub(crate) fn masked(kind: Kind, value: &str) -> Option<String> {
    match kind {
        Kind::Text => match mask_card_numbers(value) {
            std::borrow::Cow::Borrowed(_) => None,
            std::borrow::Cow::Owned(masked) => Some(masked),
        },
        Kind::Json => {
            // A value that is not JSON (a setting's plain text) has no
            // free-text keys.
            let mut document: serde_json::Value = serde_json::from_str(value).ok()?;
            if mask_card_numbers_in_json(&mut document) {
                Some(document.to_string())
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn only_values_with_a_card_number_change() {
        assert_eq!(
            masked(Kind::Text, "卡号 ４１１１.１１１１.１１１１.１１１１").as_deref(),
            Some("卡号 ****1111")
        );
        assert_eq!(masked(Kind::Text, "call 13800138000"), None);
        assert_eq!(
            masked(
                Kind::Json,
                r#"{"model":"4111/1111/1111/1111","id":"4111111111111111"}"#
            )
            .as_deref(),
            Some(r#"{"model":"****1111","id":"4111111111111111"}"#)
        );
        assert_eq!(masked(Kind::Json, r#"{"at":"2026-12-05T10:00:00Z"}"#), None);
        assert_eq!(masked(Kind::Json, "a1b2c3 4111111111111111"), None);
    }
}
