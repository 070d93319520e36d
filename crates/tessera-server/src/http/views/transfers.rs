//! Transfers from a bound card to a bank card, and the person's records.

use serde::{Deserialize, Serialize};
use tessera_store::TransferRecord;
use utoipa::{IntoParams, ToSchema};

use crate::http::error::rfc3339;

/// `POST /v1/transfers`: money from one of the person's bound cards to a
/// bank card.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// The source: one of the person's active cards.
    pub card_id: String,
    /// The destination card's number. Never stored or logged in clear:
    /// kept masked and sealed until the transfer settles, then erased.
    pub to_card_number: String,
    /// The destination cardholder's name.
    pub to_holder_name: String,
    /// Minor units (fen): 123450 is 1,234.50 CNY.
    pub amount: u64,
    /// CNY: the fee schedule is written in fen.
    pub currency: String,
    /// in_app (the default) or web: the fee schedule's channel.
    pub channel: Option<String>,
}

impl std::fmt::Debug for TransferRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransferRequest")
            .field("card_id", &self.card_id)
            .field(
                "to_card_number",
                &tessera_core::card::pan::mask(&self.to_card_number),
            )
            .field("amount", &self.amount)
            .field("currency", &self.currency)
            .finish_non_exhaustive()
    }
}

/// A transfer as the person sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransferView {
    pub id: String,
    /// pending (the bank was asked; no answer recorded yet), settled,
    /// declined, or failed (the bank could not be reached: nothing moved)
    pub status: String,
    /// The source card.
    pub card_id: String,
    /// The destination, masked: first six and last four digits.
    pub to_card: String,
    /// The destination's issuer, from the BIN table.
    pub to_issuer_code: Option<String>,
    pub to_holder_name: String,
    /// Minor units of `currency`.
    pub amount: i64,
    /// The wallet's fee, charged with the transfer: 0 within the same bank.
    pub fee: i64,
    /// amount + fee.
    pub total: i64,
    pub currency: String,
    /// transfer_same_bank or transfer_cross_bank: the fee schedule's rule.
    pub fee_operation: String,
    pub channel: String,
    /// For declined: the bank's reason (do_not_honor, lost_card, ...).
    pub decline_code: Option<String>,
    /// For settled: the bank's id of the credit.
    pub reference: Option<String>,
    pub trace_id: String,
    pub created_at: String,
    pub updated_at: String,
}

impl TransferView {
    pub fn from_record(transfer: &TransferRecord) -> TransferView {
        TransferView {
            id: transfer.id.to_string(),
            status: transfer.status.as_str().to_owned(),
            card_id: transfer.card_id.to_string(),
            to_card: transfer.to_masked.clone(),
            to_issuer_code: transfer.to_issuer_code.clone(),
            to_holder_name: transfer.to_holder_name.clone(),
            amount: transfer.amount,
            fee: transfer.fee,
            total: transfer.amount.saturating_add(transfer.fee),
            currency: transfer.currency.clone(),
            fee_operation: transfer.fee_operation.clone(),
            channel: transfer.channel.clone(),
            decline_code: transfer.decline_code.clone(),
            reference: transfer.reference.clone(),
            trace_id: transfer.trace_id.clone(),
            created_at: rfc3339(transfer.created_at),
            updated_at: rfc3339(transfer.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransferList {
    pub data: Vec<TransferView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TransferQuery {
    /// At most 100; 20 by default.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// One entry of the person's records: a payment (approved, or a `decline`
/// with its reason), a refund of one, or a transfer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TransactionView {
    /// pay_..., rfd_..., trf_... or rpt_...
    pub id: String,
    /// payment, decline, refund, transfer or report
    #[serde(rename = "type")]
    pub kind: String,
    /// The record's own status: payments approved, declined, failed,
    /// pending; refunds accepted, declined, failed, pending; transfers
    /// settled, declined, failed, pending.
    pub status: String,
    /// Minor units of `currency`.
    pub amount: i64,
    pub currency: String,
    /// The wallet's fee (transfers across banks); 0 for the rest.
    pub fee: i64,
    pub card_id: String,
    /// The card, masked: first six and last four digits.
    pub card: Option<String>,
    /// The merchant's name (or id), or the transfer's destination, masked.
    pub counterparty: Option<String>,
    /// Why it was declined: the bank's decline code, or the wallet's
    /// error code.
    pub decline_reason: Option<String>,
    /// A payment's risk reasons (token_velocity, new_device, ...), as the
    /// risk rules gave them; empty for the rest.
    pub risk_reasons: Vec<String>,
    /// RFC 3339, UTC.
    pub time: String,
    pub trace_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionList {
    pub data: Vec<TransactionView>,
    pub next_cursor: Option<String>,
}

/// The query `GET /v1/transactions` takes; any other parameter is refused.
#[derive(Debug, Deserialize, IntoParams)]
pub struct TransactionQuery {
    /// At most 100; 20 by default.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Only this card's records.
    pub card_id: Option<String>,
    /// payment, decline, refund or transfer.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// pending, approved, accepted, settled, declined or failed.
    pub status: Option<String>,
    /// First day (YYYY-MM-DD, in the wallet's time zone), included.
    pub from: Option<String>,
    /// Last day (YYYY-MM-DD, in the wallet's time zone), included.
    pub to: Option<String>,
    /// json (the default) or csv: every matching record as a spreadsheet,
    /// its header row in the Accept-Language.
    pub format: Option<String>,
}
