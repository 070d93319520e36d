//! A person's right to leave: an account closed, and how long what it
//! leaves behind is kept before the background purges delete it.

use super::*;

/// Who closed an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClosedBy {
    /// The person, with a confirmation (`DELETE /v1/me`).
    Holder,
    /// An operator, with a reason (`POST /v1/admin/users/{id}/close`).
    Operator,
}

impl ClosedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            ClosedBy::Holder => "self",
            ClosedBy::Operator => "operator",
        }
    }

    pub fn parse(name: &str) -> Option<ClosedBy> {
        match name {
            "self" => Some(ClosedBy::Holder),
            "operator" => Some(ClosedBy::Operator),
            _ => None,
        }
    }
}

/// An account's closure, as recorded: who, why, when; `purged_at` once its
/// masked records outlived their retention and were deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountClosure {
    pub user_id: UserId,
    pub closed_by: ClosedBy,
    /// The operator's API key id; None when the person closed it.
    pub key_id: Option<String>,
    pub reason: Option<String>,
    pub closed_at: DateTime<Utc>,
    pub purged_at: Option<DateTime<Utc>>,
}

/// What each background purge deletes: rows older than its cutoff.
#[derive(Debug, Clone, Copy)]
pub struct RetentionCutoffs {
    /// Binding attempts made before this.
    pub attempts_before: DateTime<Utc>,
    /// Sessions that expired before this.
    pub sessions_before: DateTime<Utc>,
    /// Text-message codes that expired before this.
    pub sms_codes_before: DateTime<Utc>,
    /// Closed accounts closed before this: their masked records go, their
    /// user row is scrubbed.
    pub closed_before: DateTime<Utc>,
    /// When the purge runs, recorded as the closures' `purged_at`.
    pub now: DateTime<Utc>,
}

/// How many rows each purge deleted (accounts: how many were purged).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgedRecords {
    pub attempts: u64,
    pub sessions: u64,
    pub sms_codes: u64,
    pub closed_accounts: u64,
}
