//! Refunds of payments: each one as recorded, and what the store answers
//! when a new one asks for part of a payment.

use super::*;

/// One refund of a payment. Recorded `pending` before the issuer is asked,
/// settled after; its reason is free text with card numbers masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRecord {
    pub id: RefundId,
    pub payment_id: PaymentId,
    /// The merchant key that asked for it.
    pub merchant_key_id: String,
    /// Minor units of `currency`, the payment's.
    pub amount: i64,
    pub currency: String,
    pub reason: Option<String>,
    pub status: RefundStatus,
    pub decline_code: Option<String>,
    /// The bank's id of the refund, once accepted.
    pub reference: Option<String>,
    pub trace_id: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What `Payments::begin_refund` decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundClaim {
    /// Recorded `pending`: the amount is held until the refund settles.
    Recorded,
    /// No payment has this id.
    NoPayment,
    /// The payment was not approved: nothing to give back.
    NotRefundable(PaymentStatus),
    /// The amount is more than the payment may still give back: this much
    /// (pending refunds held) is left.
    Exceeds { refundable: i64 },
}

/// How a refund settled, as `Payments::finish_refund` writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundOutcome {
    pub id: RefundId,
    pub status: RefundStatus,
    pub decline_code: Option<String>,
    pub reference: Option<String>,
    pub updated_at: DateTime<Utc>,
}
