//! Explainable risk rules. Each payment is scored from what the wallet
//! knows of the person, the card and the device; every point comes with
//! the reason that gave it, and the reasons are kept with the payment so
//! that support can read why it was stopped. The rules and the thresholds
//! are the operator's (`[risk]`); scoring is pure, the facts are read by
//! the caller.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Text;
use crate::error::lang::t;

/// Why a payment scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RiskReason {
    /// Many payments with this card in a short time.
    TokenVelocity,
    /// Many payments by this person in a short time.
    PersonVelocity,
    /// Far more than this person usually pays.
    UnusualAmount,
    /// The card was added from a phone this wallet has only just seen.
    NewDevice,
    /// Several declined payments just before.
    RepeatedDeclines,
    /// The card was added minutes ago.
    CardJustBound,
    /// A password was reset just before.
    AfterPasswordReset,
}

impl RiskReason {
    pub const ALL: [RiskReason; 7] = [
        RiskReason::TokenVelocity,
        RiskReason::PersonVelocity,
        RiskReason::UnusualAmount,
        RiskReason::NewDevice,
        RiskReason::RepeatedDeclines,
        RiskReason::CardJustBound,
        RiskReason::AfterPasswordReset,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RiskReason::TokenVelocity => "token_velocity",
            RiskReason::PersonVelocity => "person_velocity",
            RiskReason::UnusualAmount => "unusual_amount",
            RiskReason::NewDevice => "new_device",
            RiskReason::RepeatedDeclines => "repeated_declines",
            RiskReason::CardJustBound => "card_just_bound",
            RiskReason::AfterPasswordReset => "after_password_reset",
        }
    }

    pub fn parse(text: &str) -> Option<RiskReason> {
        RiskReason::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// The reason in words the person understands.
    pub fn message(self) -> Text {
        match self {
            RiskReason::TokenVelocity => t(
                "这张卡短时间内支付次数过多",
                "This card was used for many payments in a short time",
            ),
            RiskReason::PersonVelocity => t(
                "您的账户短时间内支付次数过多",
                "Your wallet made many payments in a short time",
            ),
            RiskReason::UnusualAmount => t(
                "这笔金额远高于您平时的支付金额",
                "This amount is far above what you usually pay",
            ),
            RiskReason::NewDevice => t(
                "这张卡是在一台新手机上添加的",
                "This card was added on a phone new to your wallet",
            ),
            RiskReason::RepeatedDeclines => t(
                "刚才已有多笔支付被拒绝",
                "Several payments were declined just before this one",
            ),
            RiskReason::CardJustBound => t(
                "这张卡刚刚添加到钱包",
                "This card was added to your wallet only minutes ago",
            ),
            RiskReason::AfterPasswordReset => t(
                "您刚刚重置过密码",
                "A password was reset on your wallet just before",
            ),
        }
    }
}

/// More than `max` events within `window_secs` adds `points`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CountRule {
    pub max: u32,
    pub window_secs: u64,
    pub points: u32,
}

impl Default for CountRule {
    fn default() -> Self {
        CountRule {
            max: 5,
            window_secs: 600,
            points: 40,
        }
    }
}

/// Something that happened less than `within_secs` ago adds `points`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecentRule {
    pub within_secs: u64,
    pub points: u32,
}

impl Default for RecentRule {
    fn default() -> Self {
        RecentRule {
            within_secs: 1800,
            points: 20,
        }
    }
}

/// An amount above `multiple` times the largest of the person's recent
/// approved payments, and at least `floor` (minor units), adds `points`,
/// once the person has `min_history` approved payments to compare with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AmountRule {
    pub multiple: u32,
    pub floor: u64,
    pub min_history: u32,
    pub points: u32,
}

impl Default for AmountRule {
    fn default() -> Self {
        AmountRule {
            multiple: 5,
            floor: 50_000,
            min_history: 3,
            points: 40,
        }
    }
}

/// `[risk]`: the rules and what their score decides. A score at or above
/// `step_up_at` asks the person to confirm the payment; at or above
/// `decline_at` it is declined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskRules {
    pub step_up_at: u32,
    pub decline_at: u32,
    pub token_velocity: CountRule,
    pub person_velocity: CountRule,
    pub unusual_amount: AmountRule,
    pub new_device: RecentRule,
    pub repeated_declines: CountRule,
    pub card_just_bound: RecentRule,
    pub after_password_reset: RecentRule,
}

impl Default for RiskRules {
    fn default() -> Self {
        RiskRules {
            step_up_at: 40,
            decline_at: 80,
            token_velocity: CountRule::default(),
            person_velocity: CountRule {
                max: 20,
                window_secs: 3600,
                points: 40,
            },
            unusual_amount: AmountRule::default(),
            new_device: RecentRule {
                within_secs: 86_400,
                points: 30,
            },
            repeated_declines: CountRule {
                max: 2,
                window_secs: 3600,
                points: 40,
            },
            card_just_bound: RecentRule {
                within_secs: 600,
                points: 20,
            },
            after_password_reset: RecentRule {
                within_secs: 86_400,
                points: 30,
            },
        }
    }
}

impl RiskRules {
    /// For load tests: every payment is still scored, none is stopped.
    pub fn raise_for_load_test(&mut self) {
        self.step_up_at = u32::MAX;
        self.decline_at = u32::MAX;
    }
}

/// One of the person's recent payments, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecentPayment {
    pub same_token: bool,
    pub approved: bool,
    pub declined: bool,
    pub amount: i64,
    pub at: DateTime<Utc>,
}

/// What the rules look at for one payment.
#[derive(Debug, Clone, Copy)]
pub struct PaymentFacts<'a> {
    pub amount: i64,
    pub now: DateTime<Utc>,
    /// The person's latest payments (the caller reads a bounded number).
    pub recent: &'a [RecentPayment],
    pub token_bound_at: DateTime<Utc>,
    /// When the device the card was added from first added a card to this
    /// wallet, and when the wallet's first card was added.
    pub device_since: Option<DateTime<Utc>>,
    pub wallet_since: Option<DateTime<Utc>>,
    pub credentials_reset_at: Option<DateTime<Utc>>,
}

/// What the score decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    StepUp,
    Decline,
}

/// A payment's score (0-100) and the reasons behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub score: u32,
    /// Highest points first.
    pub reasons: Vec<RiskReason>,
    pub decision: Decision,
}

impl Assessment {
    /// The reasons as they are stored: their names, comma-separated.
    pub fn reasons_text(&self) -> String {
        self.reasons
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn within(at: DateTime<Utc>, now: DateTime<Utc>, secs: u64) -> bool {
    let secs = i64::try_from(secs).unwrap_or(i64::MAX);
    now.signed_duration_since(at) < TimeDelta::try_seconds(secs).unwrap_or(TimeDelta::MAX)
}

/// Scores a payment.
pub fn assess(rules: &RiskRules, facts: &PaymentFacts<'_>) -> Assessment {
    let mut scored: Vec<(u32, RiskReason)> = Vec::new();
    let count = |rule: &CountRule, keep: &dyn Fn(&RecentPayment) -> bool| {
        facts
            .recent
            .iter()
            .filter(|p| keep(p) && within(p.at, facts.now, rule.window_secs))
            .count()
    };
    let over = |rule: &CountRule, n: usize| u32::try_from(n).unwrap_or(u32::MAX) > rule.max;
    if over(
        &rules.token_velocity,
        count(&rules.token_velocity, &|p| p.same_token),
    ) {
        scored.push((rules.token_velocity.points, RiskReason::TokenVelocity));
    }
    if over(
        &rules.person_velocity,
        count(&rules.person_velocity, &|_| true),
    ) {
        scored.push((rules.person_velocity.points, RiskReason::PersonVelocity));
    }
    if over(
        &rules.repeated_declines,
        count(&rules.repeated_declines, &|p| p.declined),
    ) {
        scored.push((rules.repeated_declines.points, RiskReason::RepeatedDeclines));
    }
    let amount_rule = &rules.unusual_amount;
    let approved: Vec<i64> = facts
        .recent
        .iter()
        .filter(|p| p.approved)
        .map(|p| p.amount)
        .collect();
    if u32::try_from(approved.len()).unwrap_or(u32::MAX) >= amount_rule.min_history.max(1) {
        let usual = approved.iter().copied().max().unwrap_or(0);
        let amount = u64::try_from(facts.amount).unwrap_or(0);
        let usual = u64::try_from(usual).unwrap_or(0);
        if amount >= amount_rule.floor
            && amount > usual.saturating_mul(u64::from(amount_rule.multiple))
        {
            scored.push((amount_rule.points, RiskReason::UnusualAmount));
        }
    }
    // A phone seen only lately, in a wallet that had cards before it.
    if let (Some(device), Some(wallet)) = (facts.device_since, facts.wallet_since)
        && device > wallet
        && within(device, facts.now, rules.new_device.within_secs)
    {
        scored.push((rules.new_device.points, RiskReason::NewDevice));
    }
    if within(
        facts.token_bound_at,
        facts.now,
        rules.card_just_bound.within_secs,
    ) {
        scored.push((rules.card_just_bound.points, RiskReason::CardJustBound));
    }
    if let Some(reset) = facts.credentials_reset_at
        && within(reset, facts.now, rules.after_password_reset.within_secs)
    {
        scored.push((
            rules.after_password_reset.points,
            RiskReason::AfterPasswordReset,
        ));
    }
    scored.retain(|(points, _)| *points > 0);
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let score = scored
        .iter()
        .map(|(points, _)| *points)
        .fold(0u32, u32::saturating_add)
        .min(100);
    let decision = if score >= rules.decline_at {
        Decision::Decline
    } else if score >= rules.step_up_at {
        Decision::StepUp
    } else {
        Decision::Approve
    };
    Assessment {
        score,
        reasons: scored.into_iter().map(|(_, reason)| reason).collect(),
        decision,
    }
}

#[cfg(test)]
mod tests;
