//! Transfers from a bound card to a bank card, and the filter the person's
//! records (payments, refunds, transfers in one list) are read with.

use super::*;

/// One transfer. Recorded `pending` before the bank is asked, settled
/// after. The destination number is kept masked and as a keyed
/// fingerprint; sealed only while the transfer is pending, and erased
/// (`to_ciphertext` dropped) once it settles or fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRecord {
    pub id: TransferId,
    pub user_id: UserId,
    /// The source: a card bound in the person's wallet.
    pub card_id: CardId,
    /// First six and last four digits of the destination.
    pub to_masked: String,
    /// Keyed hash of the destination number (64 hex digits).
    pub to_fingerprint: String,
    /// The destination's issuer, from the BIN table.
    pub to_issuer_code: Option<String>,
    pub to_holder_name: String,
    /// The sealed destination number while pending; None once erased.
    pub to_key_version: Option<u32>,
    pub to_ciphertext: Option<Vec<u8>>,
    /// Minor units of `currency`.
    pub amount: i64,
    /// The wallet's fee, in the same currency, charged with the transfer.
    pub fee: i64,
    pub currency: String,
    /// The fee schedule's operation (`transfer_same_bank`,
    /// `transfer_cross_bank`) and channel the fee came from.
    pub fee_operation: String,
    pub channel: String,
    pub status: TransferStatus,
    pub decline_code: Option<String>,
    /// The bank's id of the credit, once settled.
    pub reference: Option<String>,
    pub trace_id: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// How a transfer settled, as `Transfers::finish_transfer` writes it; the
/// sealed destination number is erased in the same statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferOutcome {
    pub id: TransferId,
    pub status: TransferStatus,
    pub decline_code: Option<String>,
    pub reference: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// A page of one person's records of one kind, newest first.
#[derive(Debug, Clone, Default)]
pub struct RecordFilter {
    pub user_id: UserId,
    /// Only records of this card (the source card, or the card paid with).
    pub card_id: Option<CardId>,
    /// Only these statuses; empty: any.
    pub statuses: Vec<String>,
    /// Created at or after.
    pub since: Option<DateTime<Utc>>,
    /// Created before.
    pub until: Option<DateTime<Utc>>,
    /// The previous page's last (created_at, id).
    pub before: Option<(DateTime<Utc>, String)>,
    pub limit: u32,
}

/// A refund as the paying person's records show it: with the card paid
/// with and the merchant that gave it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundEntry {
    pub refund: RefundRecord,
    pub card_id: CardId,
    pub merchant_id: String,
    pub merchant_name: Option<String>,
}
