//! `[retention]`: how long what people leave behind is kept before the
//! background purges (`flows/housekeeping.rs`) delete it, in days.

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionConfig {
    /// Binding attempts (masked: first six and last four digits), which
    /// diagnosis and issuer health read, after they were made.
    pub attempt_days: u32,
    /// Sessions after they expired (they can no longer sign anyone in; the
    /// person's list of devices shows only live ones).
    pub session_days: u32,
    /// Text-message codes (kept as keyed hashes) after they expired.
    pub sms_code_days: u32,
    /// A closed account's masked payments, transfers, binding attempts and
    /// tickets after its closure; then they are deleted and the user row
    /// keeps nothing that tells who the person was. Five years: China's
    /// anti-money-laundering rules keep transaction records that long
    /// after the business relationship ends.
    pub closed_account_days: u32,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            attempt_days: 180,
            session_days: 30,
            sms_code_days: 1,
            closed_account_days: 5 * 365,
        }
    }
}

impl RetentionConfig {
    pub fn attempts(&self) -> TimeDelta {
        TimeDelta::days(i64::from(self.attempt_days))
    }

    pub fn sessions(&self) -> TimeDelta {
        TimeDelta::days(i64::from(self.session_days))
    }

    pub fn sms_codes(&self) -> TimeDelta {
        TimeDelta::days(i64::from(self.sms_code_days))
    }

    pub fn closed_accounts(&self) -> TimeDelta {
        TimeDelta::days(i64::from(self.closed_account_days))
    }

    pub(super) fn check(&self) -> Result<(), String> {
        // Binding health and diagnosis read a week of attempts; a shorter
        // retention would hide what they judge.
        if self.attempt_days < 7 {
            return Err("retention.attempt_days must be at least 7".to_owned());
        }
        if self.session_days == 0 || self.sms_code_days == 0 || self.closed_account_days == 0 {
            return Err(
                "retention.session_days, sms_code_days and closed_account_days must be at least 1"
                    .to_owned(),
            );
        }
        Ok(())
    }
}
