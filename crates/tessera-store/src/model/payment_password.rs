//! The payment password as the store keeps it: only its hash and the
//! count of wrong entries (`payment_passwords`).

use chrono::{DateTime, Utc};

/// A payment password's state, as the person's security settings show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentPasswordState {
    /// Wrong entries since the last right one.
    pub failures: u32,
    /// When the lock lifts, if locked (it may lie in the past: lifted).
    pub locked_until: Option<DateTime<Utc>>,
}

/// What claiming a payment-password check answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentPasswordClaim {
    /// None is set.
    NotSet,
    /// Locked: no check, until then (the last allowed check may still be
    /// under way, and lifts the lock if it was right).
    Locked(DateTime<Utc>),
    /// Counted as wrong until `Accounts::payment_password_right` says
    /// otherwise: compare with `hash`; `failures` counts this one, and the
    /// lock is set already when it reached the limit.
    Counted { hash: String, failures: u32 },
}

/// A single-use confirmation, as kept: the keyed hash of its token only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationRecord {
    pub token_hash: String,
    pub user_id: crate::model::UserId,
    /// What it confirms (`unbind_card`).
    pub purpose: String,
    /// What it confirms it for (the card it unbinds).
    pub scope: String,
    /// How the person proved it was them (`payment_password`, `sms_code`).
    pub method: String,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}
