//! Fees: what an operation costs, from a schedule of rules by operation
//! and channel. Integer minor units (fen) throughout, never floats. The
//! rounding rule is stated once, here, in [`FeeRule::quote`]:
//!
//! 1. the percentage part, `amount × rate_bps / 10000`, is rounded half up
//!    to the fen (0.5 fen and above goes up);
//! 2. the fixed part is added;
//! 3. the sum is held between the minimum and the maximum: raised to the
//!    minimum, then lowered to the maximum.
//!
//! Configuration refuses a minimum above its maximum, so step 3 never has
//! to choose between them; if one slipped through, the maximum wins.
//! Binding a card is always free and has no fee at all.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::Lang;
use crate::money::Currency;

/// Basis points in one whole: 10,000 bp = 100%.
pub const BASIS_POINTS: u64 = 10_000;

/// What a fee is charged for. Room for more: a new operation is a new
/// variant with its default rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeeOperation {
    /// Money to a card of another bank.
    TransferCrossBank,
    /// Money to another card of the same bank.
    TransferSameBank,
}

impl FeeOperation {
    pub const ALL: [FeeOperation; 2] = [
        FeeOperation::TransferCrossBank,
        FeeOperation::TransferSameBank,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FeeOperation::TransferCrossBank => "transfer_cross_bank",
            FeeOperation::TransferSameBank => "transfer_same_bank",
        }
    }

    pub fn parse(name: &str) -> Option<FeeOperation> {
        FeeOperation::ALL.into_iter().find(|o| o.as_str() == name)
    }

    /// The operation in a person's words.
    pub fn name(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (FeeOperation::TransferCrossBank, Lang::ZhCn) => "跨行转账",
            (FeeOperation::TransferCrossBank, Lang::En) => "a transfer to another bank",
            (FeeOperation::TransferSameBank, Lang::ZhCn) => "本行转账",
            (FeeOperation::TransferSameBank, Lang::En) => "a transfer within the same bank",
        }
    }
}

/// Where the person asks from. A rule for `any` applies to every channel
/// that has no rule of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeeChannel {
    InApp,
    Web,
    Any,
}

impl FeeChannel {
    pub const ALL: [FeeChannel; 3] = [FeeChannel::InApp, FeeChannel::Web, FeeChannel::Any];

    pub fn as_str(self) -> &'static str {
        match self {
            FeeChannel::InApp => "in_app",
            FeeChannel::Web => "web",
            FeeChannel::Any => "any",
        }
    }

    /// A channel a request may name: `in_app` or `web` (`any` is for rules).
    pub fn parse_request(name: &str) -> Option<FeeChannel> {
        [FeeChannel::InApp, FeeChannel::Web]
            .into_iter()
            .find(|c| c.as_str() == name)
    }
}

/// One rule: a rate, a fixed part, a minimum and a maximum, in fen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeeRule {
    /// Basis points of the amount: 10 is 0.1%.
    pub rate_bps: u32,
    /// Added to the percentage part.
    pub fixed: u64,
    /// The least the fee may be.
    pub min: u64,
    /// The most the fee may be; absent, no cap.
    pub max: Option<u64>,
}

impl Default for FeeRule {
    /// Free: nothing charged. A rule written in the configuration starts
    /// from here, so what it leaves out costs nothing.
    fn default() -> Self {
        FeeRule::FREE
    }
}

/// Which end of the rule held the fee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clamp {
    /// Raised to the minimum.
    Min,
    /// Lowered to the maximum.
    Max,
}

impl Clamp {
    pub fn as_str(self) -> &'static str {
        match self {
            Clamp::Min => "min",
            Clamp::Max => "max",
        }
    }
}

/// A fee and how it was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeQuote {
    /// What is charged, in fen.
    pub fee: u64,
    /// The percentage part before rounding, in hundredths of a basis point
    /// of a fen: `amount × rate_bps`, over 10,000 to read as fen.
    pub exact_percentage: u128,
    /// The percentage part after rounding half up to the fen.
    pub rounded_percentage: u64,
    /// Whether the minimum or the maximum held the fee, if either did.
    pub clamped: Option<Clamp>,
}

impl FeeQuote {
    /// The percentage part before rounding, in fen as a decimal text with
    /// four places (`12.3450`): exactly what was rounded.
    pub fn exact_percentage_text(&self) -> String {
        let scale = u128::from(BASIS_POINTS);
        format!(
            "{}.{:04}",
            self.exact_percentage / scale,
            self.exact_percentage % scale
        )
    }
}

impl FeeRule {
    pub const FREE: FeeRule = FeeRule {
        rate_bps: 0,
        fixed: 0,
        min: 0,
        max: None,
    };

    /// The fee for `amount` fen, by the rounding rule of this module's
    /// head. Never negative (unsigned), never above `max`.
    pub fn quote(&self, amount: u64) -> FeeQuote {
        let exact = u128::from(amount) * u128::from(self.rate_bps);
        let half = u128::from(BASIS_POINTS / 2);
        let rounded = (exact + half) / u128::from(BASIS_POINTS);
        // Past u64 only for rates above 100% of amounts near u64::MAX: held
        // at the top, where the maximum (if any) then applies.
        let rounded = u64::try_from(rounded).unwrap_or(u64::MAX);
        let mut fee = rounded.saturating_add(self.fixed);
        let mut clamped = None;
        if fee < self.min {
            fee = self.min;
            clamped = Some(Clamp::Min);
        }
        if let Some(max) = self.max
            && fee > max
        {
            fee = max;
            clamped = Some(Clamp::Max);
        }
        FeeQuote {
            fee,
            exact_percentage: exact,
            rounded_percentage: rounded,
            clamped,
        }
    }

    /// Refuses a rule the arithmetic could not honour: a minimum above the
    /// maximum, or a rate above 100%.
    pub fn validate(&self) -> Result<(), String> {
        if u64::from(self.rate_bps) > BASIS_POINTS {
            return Err(format!(
                "rate_bps {} is more than 10000 (100%)",
                self.rate_bps
            ));
        }
        if let Some(max) = self.max
            && self.min > max
        {
            return Err(format!("min {} is above max {max}", self.min));
        }
        Ok(())
    }

    /// The rule in a person's words, amounts in CNY.
    pub fn describe(&self, operation: FeeOperation, lang: Lang) -> String {
        let cny = |fen: u64| Currency::CNY.format_amount(fen);
        let what = operation.name(lang);
        if *self == FeeRule::FREE || self.max == Some(0) {
            return match lang {
                Lang::ZhCn => format!("{what}免手续费"),
                Lang::En => format!("No fee for {what}"),
            };
        }
        let percent = percent_text(self.rate_bps);
        let mut parts: Vec<String> = Vec::new();
        match lang {
            Lang::ZhCn => {
                if self.rate_bps > 0 {
                    parts.push(format!("按金额的{percent}%收取"));
                }
                if self.fixed > 0 {
                    parts.push(format!("每笔另收{}元", cny(self.fixed)));
                }
                if self.min > 0 {
                    parts.push(format!("最低{}元", cny(self.min)));
                }
                if let Some(max) = self.max {
                    parts.push(format!("最高{}元", cny(max)));
                }
                format!("{what}手续费：{}", parts.join("，"))
            }
            Lang::En => {
                if self.rate_bps > 0 {
                    parts.push(format!("{percent}% of the amount"));
                }
                if self.fixed > 0 {
                    let plus = if parts.is_empty() { "" } else { "plus " };
                    parts.push(format!("{plus}{} CNY a transfer", cny(self.fixed)));
                }
                if self.min > 0 {
                    parts.push(format!("at least {} CNY", cny(self.min)));
                }
                if let Some(max) = self.max {
                    parts.push(format!("at most {} CNY", cny(max)));
                }
                format!("The fee for {what} is {}", parts.join(", "))
            }
        }
    }
}

/// The rounding rule in a person's words: what the README states.
pub fn rounding_text(lang: Lang) -> &'static str {
    match lang {
        Lang::ZhCn => {
            "按比例计算的部分四舍五入到分，加上固定部分后，不低于最低收费、不高于最高收费。"
        }
        Lang::En => {
            "The percentage part is rounded half up to the fen; the fixed part is added, \
             and the sum is kept between the minimum and the maximum."
        }
    }
}

/// Basis points as a percentage without trailing zeros: 10 is `0.1`,
/// 250 is `2.5`, 100 is `1`.
fn percent_text(rate_bps: u32) -> String {
    let whole = rate_bps / 100;
    let fraction = rate_bps % 100;
    if fraction == 0 {
        whole.to_string()
    } else {
        let text = format!("{whole}.{fraction:02}");
        text.trim_end_matches('0').to_owned()
    }
}

/// The rules, by operation and channel. A channel without a rule of its
/// own takes the operation's `any` rule; an operation without one is free.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FeeSchedule(pub BTreeMap<FeeOperation, BTreeMap<FeeChannel, FeeRule>>);

/// The rule a quote used, and which entry of the schedule it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChosenRule {
    pub operation: FeeOperation,
    /// The channel of the rule: the request's, or `any`.
    pub channel: FeeChannel,
    pub rule: FeeRule,
}

impl Default for FeeSchedule {
    /// Same bank free; another bank 0.1%, at least 1.00 CNY and at most
    /// 50.00 CNY: the shape of Chinese banks' cross-bank tariffs (a rate
    /// with a floor and a cap), at a modest rate. Defaults, for an
    /// operator to set to their own.
    fn default() -> Self {
        let mut rules = BTreeMap::new();
        rules.insert(
            FeeOperation::TransferSameBank,
            BTreeMap::from([(FeeChannel::Any, FeeRule::FREE)]),
        );
        rules.insert(
            FeeOperation::TransferCrossBank,
            BTreeMap::from([(
                FeeChannel::Any,
                FeeRule {
                    rate_bps: 10,
                    fixed: 0,
                    min: 100,
                    max: Some(5_000),
                },
            )]),
        );
        FeeSchedule(rules)
    }
}

impl FeeSchedule {
    /// The rule for an operation through a channel: the channel's own, else
    /// the operation's `any`, else free.
    pub fn rule(&self, operation: FeeOperation, channel: FeeChannel) -> ChosenRule {
        let rules = self.0.get(&operation);
        let own = rules
            .and_then(|r| r.get(&channel))
            .map(|rule| (channel, *rule));
        let any = rules
            .and_then(|r| r.get(&FeeChannel::Any))
            .map(|rule| (FeeChannel::Any, *rule));
        let (channel, rule) = own.or(any).unwrap_or((FeeChannel::Any, FeeRule::FREE));
        ChosenRule {
            operation,
            channel,
            rule,
        }
    }

    /// Checks every rule; the error names it (`fees.transfer_cross_bank.any`).
    pub fn validate(&self) -> Result<(), String> {
        for (operation, rules) in &self.0 {
            for (channel, rule) in rules {
                rule.validate().map_err(|error| {
                    format!("fees.{}.{}: {error}", operation.as_str(), channel.as_str())
                })?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
