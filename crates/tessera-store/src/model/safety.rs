//! What protects a person's money: their no-confirmation limits, what the
//! risk rules and those limits read before a payment, a frozen wallet, and
//! the payments they reported as not theirs.

use super::*;

/// A person's no-confirmation limits (小额免密), minor units of CNY; 0
/// turns one off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsentLimits {
    pub per_payment: i64,
    pub per_day: i64,
}

/// What `Safety::payment_history` is asked for.
#[derive(Debug, Clone)]
pub struct HistoryQuery {
    pub user_id: UserId,
    /// The device the paying card was added from, if any.
    pub device_id: Option<String>,
    /// The start of the wallet's day: the day's unconfirmed payments are
    /// those since.
    pub day_start: DateTime<Utc>,
    /// Sum the day's unconfirmed payments only when a daily limit could
    /// refuse this one: under `default_per_day` (the wallet's, for a
    /// person who chose none), when that is below `i64::MAX`.
    pub sum_unconfirmed: bool,
    pub default_per_day: i64,
    /// How many of the latest payments to read.
    pub recent: u32,
}

/// What a payment reads before it claims its ATC
/// (`Payments::payment_context`): its token by the token PAN's keyed
/// fingerprint, the single-use cryptogram handed out for its ATC if any,
/// and its owner's history in the shape of a `HistoryQuery` (whose person
/// and device are the token's).
#[derive(Debug, Clone)]
pub struct PaymentContextQuery {
    pub token_pan_fingerprint: String,
    pub atc: u16,
    pub day_start: DateTime<Utc>,
    pub sum_unconfirmed: bool,
    pub default_per_day: i64,
    pub recent: u32,
}

impl PaymentContextQuery {
    /// The history query for `token`'s owner and device.
    pub fn history_of(&self, token: &PaymentToken) -> HistoryQuery {
        HistoryQuery {
            user_id: token.user_id.clone(),
            device_id: token.token.device_id.clone(),
            day_start: self.day_start,
            sum_unconfirmed: self.sum_unconfirmed,
            default_per_day: self.default_per_day,
            recent: self.recent,
        }
    }
}

/// What `PaymentContextQuery` found, read at one point in time.
#[derive(Debug, Clone)]
pub struct PaymentContext {
    pub token: PaymentToken,
    pub cryptogram: Option<CryptogramRecord>,
    pub history: PaymentHistory,
}

/// One of the person's latest payments, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentPaymentRow {
    pub token_ref: String,
    pub status: PaymentStatus,
    pub amount: i64,
    pub created_at: DateTime<Utc>,
}

/// Everything a payment's risk rules and consent limits read, in one
/// round trip.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentHistory {
    pub frozen_at: Option<DateTime<Utc>>,
    pub credentials_reset_at: Option<DateTime<Utc>>,
    /// The person's own limits; None: the wallet's defaults.
    pub consent: Option<ConsentLimits>,
    /// Today's approved and pending payments that went without
    /// confirmation (0 when not summed).
    pub unconfirmed_today: i64,
    /// When the paying card's device first added a card to this wallet,
    /// and when the wallet's first card was added.
    pub device_since: Option<DateTime<Utc>>,
    pub wallet_since: Option<DateTime<Utc>>,
    pub recent: Vec<RecentPaymentRow>,
}

/// "This payment was not me".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentReport {
    pub id: String,
    pub payment_id: PaymentId,
    pub user_id: UserId,
    pub token_ref: String,
    /// The ticket support answers it on.
    pub ticket_id: String,
    pub trace_id: String,
    pub created_at: DateTime<Utc>,
}

/// What `Safety::report_payment` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportOutcome {
    Recorded,
    /// The payment was reported before: that report.
    AlreadyReported(PaymentReport),
}

/// A passkey: a fingerprint or face on one of the person's devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyRecord {
    pub id: String,
    pub user_id: UserId,
    /// The authenticator's credential id (base64url).
    pub credential_id: String,
    /// The person's name for it ("我的手机").
    pub name: String,
    /// The credential as webauthn-rs keeps it (JSON; public key only).
    pub credential: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A WebAuthn ceremony's state between its two requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebauthnChallenge {
    pub id: String,
    pub user_id: UserId,
    /// `registration` or `authentication`.
    pub kind: String,
    /// As webauthn-rs serialises it.
    pub state: String,
    pub expires_at: DateTime<Utc>,
}
