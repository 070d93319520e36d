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
