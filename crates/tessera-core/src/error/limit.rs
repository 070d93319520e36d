//! The particulars of `too_many_attempts`: which limit was hit, how many it
//! allows, and how long until it lifts, so that the message and the remedy
//! say what the code really does.

use super::lang::Lang;

/// The rolling window every binding and SMS limit counts in. The texts
/// below say "24 hours" because of it.
pub const LIMIT_WINDOW_SECS: u64 = 24 * 3600;

/// Which limit a `too_many_attempts` refusal hit (`limit` in the API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttemptLimit {
    /// Codes compared for one SMS challenge.
    OtpAttempts,
    /// Binding attempts that reached the issuer, per card (PAN).
    CardBindings,
    /// Binding attempts that reached the issuer, per person.
    UserBindings,
    /// SMS codes sent to one phone.
    PhoneSms,
}

impl AttemptLimit {
    pub const ALL: [AttemptLimit; 4] = [
        AttemptLimit::OtpAttempts,
        AttemptLimit::CardBindings,
        AttemptLimit::UserBindings,
        AttemptLimit::PhoneSms,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AttemptLimit::OtpAttempts => "otp_attempts",
            AttemptLimit::CardBindings => "card_bindings",
            AttemptLimit::UserBindings => "user_bindings",
            AttemptLimit::PhoneSms => "phone_sms",
        }
    }

    pub fn parse(name: &str) -> Option<AttemptLimit> {
        AttemptLimit::ALL.into_iter().find(|l| l.as_str() == name)
    }

    /// What happened, with the number the limit allows.
    pub(super) fn message(self, max: u32, lang: Lang) -> String {
        match (self, lang) {
            (AttemptLimit::OtpAttempts, Lang::ZhCn) => {
                format!("验证码已输错{max}次，这次验证已停止")
            }
            (AttemptLimit::OtpAttempts, Lang::En) => {
                format!("The code was entered wrongly {max} times: this verification has stopped")
            }
            (AttemptLimit::CardBindings, Lang::ZhCn) => {
                format!("这张卡的绑卡尝试次数已达上限（24小时内最多{max}次）")
            }
            (AttemptLimit::CardBindings, Lang::En) => {
                format!("This card has reached its limit of binding attempts ({max} in 24 hours)")
            }
            (AttemptLimit::UserBindings, Lang::ZhCn) => {
                format!("你的绑卡尝试次数已达上限（24小时内最多{max}次）")
            }
            (AttemptLimit::UserBindings, Lang::En) => {
                format!("You have reached your limit of binding attempts ({max} in 24 hours)")
            }
            (AttemptLimit::PhoneSms, Lang::ZhCn) => {
                format!("发往这个手机号的验证码短信已达上限（24小时内最多{max}条）")
            }
            (AttemptLimit::PhoneSms, Lang::En) => format!(
                "This phone has received as many verification codes as allowed ({max} in 24 hours)"
            ),
        }
    }

    /// What to do: wait `retry_after_secs` when the limit lifts by itself,
    /// or ask for a new code when the challenge is over.
    pub(super) fn remedy(self, retry_after_secs: Option<u32>, lang: Lang) -> String {
        match (self, retry_after_secs, lang) {
            (AttemptLimit::OtpAttempts, _, Lang::ZhCn) => {
                "这条验证码已失效。如需继续，请重新添加这张卡以获取新的验证码；请不要把验证码告诉任何人。"
                    .to_owned()
            }
            (AttemptLimit::OtpAttempts, _, Lang::En) => {
                "This code can no longer be used. To go on, add the card again to get a new code, and never share a code with anyone."
                    .to_owned()
            }
            (_, Some(secs), Lang::ZhCn) => format!(
                "请在{}后再试；在此之前再试不会成功。",
                wait_zh(secs)
            ),
            (_, Some(secs), Lang::En) => format!(
                "Try again in {}; trying before then will not work.",
                wait_en(secs)
            ),
            (_, None, Lang::ZhCn) => "请等到最早的一次尝试满24小时后再试。".to_owned(),
            (_, None, Lang::En) => {
                "Try again once the earliest attempt is 24 hours old.".to_owned()
            }
        }
    }
}

/// Minutes to wait, rounded up, never zero.
fn wait_minutes(secs: u32) -> u32 {
    secs.div_ceil(60).max(1)
}

/// "3小时5分钟", "40分钟".
pub fn wait_zh(secs: u32) -> String {
    let minutes = wait_minutes(secs);
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m}分钟"),
        (h, 0) => format!("{h}小时"),
        (h, m) => format!("{h}小时{m}分钟"),
    }
}

/// "3 hours 5 minutes", "1 minute".
pub fn wait_en(secs: u32) -> String {
    let minutes = wait_minutes(secs);
    let unit = |n: u32, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    match (minutes / 60, minutes % 60) {
        (0, m) => unit(m, "minute", "minutes"),
        (h, 0) => unit(h, "hour", "hours"),
        (h, m) => format!(
            "{} {}",
            unit(h, "hour", "hours"),
            unit(m, "minute", "minutes")
        ),
    }
}
