//! Payments as recorded, and the filter their listing takes.

use super::*;

/// One payment, approved or not, as the user's records and support show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRecord {
    pub id: PaymentId,
    pub user_id: UserId,
    pub card_id: CardId,
    pub token_ref: String,
    pub merchant_key_id: String,
    pub merchant_id: String,
    pub merchant_name: Option<String>,
    /// nfc, in_app, ecommerce
    pub channel: Channel,
    pub amount: i64,
    /// ISO 4217 alphabetic.
    pub currency: String,
    pub atc: Option<u16>,
    /// verified, invalid or not_checked
    pub cryptogram_result: String,
    /// pending (ATC claimed, issuer asked), approved, declined, or failed
    /// (the issuer could not be reached)
    pub status: PaymentStatus,
    pub error_code: Option<String>,
    pub decline_code: Option<String>,
    pub authorization_code: Option<String>,
    /// How the person consented: `none` (within their no-confirmation
    /// limits), `payment_password`, `sms_code` or `device`; None when the
    /// payment stopped before it was asked.
    pub consent: Option<String>,
    /// The risk rules' score (0-100) and its reasons, comma-separated.
    pub risk_score: Option<i64>,
    pub risk_reasons: Option<String>,
    pub trace_id: String,
    pub created_at: DateTime<Utc>,
    /// The terminal disconnected before the answer; the payment was
    /// finished all the same. Set by `mark_client_gone`, never at insert.
    pub client_gone: bool,
}

impl PaymentRecord {
    /// The risk rules' reasons as they are stored, one name each.
    pub fn risk_reason_names(&self) -> impl Iterator<Item = &str> {
        self.risk_reasons
            .as_deref()
            .unwrap_or("")
            .split(',')
            .filter(|r| !r.is_empty())
    }
}

#[derive(Debug, Clone, Default)]
pub struct PaymentFilter {
    pub user_id: UserId,
    /// The previous page's last (created_at, id).
    pub before: Option<(DateTime<Utc>, String)>,
    pub limit: u32,
}
