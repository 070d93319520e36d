//! A person's timeline as support reads it: what happened to them, from
//! every table that records it, newest first.

use chrono::{DateTime, Utc};

use super::{AttemptRecord, UserId};

/// What a timeline entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TimelineType {
    #[default]
    Signup,
    SignIn,
    SignInFailed,
    SignInLocked,
    BindingAttempt,
    CardBound,
    CardUnbound,
    TokenEvent,
    Payment,
    PaymentDeclined,
    Refund,
    Transfer,
    PaymentReport,
    WalletFrozen,
    WalletUnfrozen,
    Ticket,
}

impl TimelineType {
    pub const ALL: [TimelineType; 16] = [
        TimelineType::Signup,
        TimelineType::SignIn,
        TimelineType::SignInFailed,
        TimelineType::SignInLocked,
        TimelineType::BindingAttempt,
        TimelineType::CardBound,
        TimelineType::CardUnbound,
        TimelineType::TokenEvent,
        TimelineType::Payment,
        TimelineType::PaymentDeclined,
        TimelineType::Refund,
        TimelineType::Transfer,
        TimelineType::PaymentReport,
        TimelineType::WalletFrozen,
        TimelineType::WalletUnfrozen,
        TimelineType::Ticket,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TimelineType::Signup => "signup",
            TimelineType::SignIn => "sign_in",
            TimelineType::SignInFailed => "sign_in_failed",
            TimelineType::SignInLocked => "sign_in_locked",
            TimelineType::BindingAttempt => "binding_attempt",
            TimelineType::CardBound => "card_bound",
            TimelineType::CardUnbound => "card_unbound",
            TimelineType::TokenEvent => "token_event",
            TimelineType::Payment => "payment",
            TimelineType::PaymentDeclined => "payment_declined",
            TimelineType::Refund => "refund",
            TimelineType::Transfer => "transfer",
            TimelineType::PaymentReport => "payment_report",
            TimelineType::WalletFrozen => "wallet_frozen",
            TimelineType::WalletUnfrozen => "wallet_unfrozen",
            TimelineType::Ticket => "ticket",
        }
    }

    pub fn parse(name: &str) -> Option<TimelineType> {
        TimelineType::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The kinds `account_events` holds.
    pub fn is_account_event(self) -> bool {
        matches!(
            self,
            TimelineType::SignIn
                | TimelineType::SignInFailed
                | TimelineType::SignInLocked
                | TimelineType::WalletFrozen
                | TimelineType::WalletUnfrozen
        )
    }
}

/// A sign-in, failed sign-in, lockout, freeze or unfreeze, as it happens.
/// Never a password or anything derived from one.
#[derive(Debug, Clone)]
pub struct AccountEvent {
    pub user_id: UserId,
    /// One of `TimelineType::is_account_event`.
    pub kind: TimelineType,
    pub trace_id: Option<String>,
    /// The device's user agent (sign-ins), or when a lockout lifts.
    pub detail: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// One page of a person's timeline.
#[derive(Debug, Clone)]
pub struct TimelineQuery {
    pub user_id: UserId,
    /// The previous page's last entry: its time and `TimelineRow::key`.
    pub before: Option<(DateTime<Utc>, String)>,
    pub since: Option<DateTime<Utc>>,
    pub only: Option<TimelineType>,
    pub limit: u32,
}

/// One entry, as read from its table: the ids it concerns and the masked
/// card (first six and last four digits), never more.
#[derive(Debug, Clone, Default)]
pub struct TimelineRow {
    /// The table it comes from (`users`, `account_events`, ...).
    pub source: &'static str,
    pub id: String,
    /// Token and account events are numbered; other rows have text ids.
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub kind: TimelineType,
    /// The row's own word: an account event's or token event's kind, an
    /// attempt's outcome, a payment's, refund's or transfer's status.
    pub word: Option<String>,
    pub trace_id: Option<String>,
    pub card_id: Option<String>,
    pub token_ref: Option<String>,
    pub payment_id: Option<String>,
    pub transfer_id: Option<String>,
    pub ticket_id: Option<String>,
    pub first6: Option<String>,
    pub last4: Option<String>,
    pub pan_length: Option<i64>,
    pub amount: Option<i64>,
    pub currency: Option<String>,
    pub merchant: Option<String>,
    pub error_code: Option<String>,
    pub decline_code: Option<String>,
    /// Who made a token event; a transfer's masked destination; a
    /// ticket's kind.
    pub actor: Option<String>,
    pub detail: Option<String>,
    /// A binding attempt's whole record, for its diagnosis.
    pub attempt: Option<Box<AttemptRecord>>,
}

impl TimelineRow {
    /// The entry's key in a cursor: its table and id, unique across
    /// tables.
    pub fn key(&self) -> String {
        format!("{}:{}", self.source, self.id)
    }
}
