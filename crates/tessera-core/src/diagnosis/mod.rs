//! Diagnosis: from the binding attempts a person made to a verdict that names
//! the cause (input, card not supported, network or system, or the wallet
//! rule) that stopped them, a short story of what happened in plain words,
//! and the next step for the person and for support, in zh-CN and en. Pure:
//! the server gathers the facts, this decides.

mod advice;
mod facts;
mod next;
mod payment;
mod payment_advice;
mod story;
mod verdict;

pub use facts::{
    ATTEMPTS_LEFT, AttemptFacts, Audience, CIRCUIT_OPEN, CardFacts, Circumstances, DeviceFacts,
    Ending, ISSUER_TIMEOUT, OTP_CHECKED, OTP_REFUSED, OTP_RESENT, PHONE_OF_ACCOUNT, PHONE_TYPED,
    Step, is_otp_check,
};
pub use payment::{PaymentFacts, PaymentState, TokenEventFacts, TokenFacts, diagnose_payment};
pub use verdict::VerdictKind;

use crate::error::{ErrorCode, Lang, Text};
use advice::Advice;
use story::{device_sentence, explain, story};
use verdict::headline;

/// A text in both languages, built at run time.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Bilingual {
    pub zh: String,
    pub en: String,
}

impl Bilingual {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Bilingual {
        Bilingual {
            zh: zh.into(),
            en: en.into(),
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::ZhCn => &self.zh,
            Lang::En => &self.en,
        }
    }

    fn from_text(text: Text) -> Bilingual {
        Bilingual::new(text.zh, text.en)
    }

    /// Joins two texts with a space (en) or nothing (zh).
    fn then(mut self, other: &Bilingual) -> Bilingual {
        if !other.zh.is_empty() {
            self.zh.push_str(&other.zh);
        }
        if !other.en.is_empty() {
            if !self.en.is_empty() {
                self.en.push(' ');
            }
            self.en.push_str(&other.en);
        }
        self
    }
}

/// One attempt explained, for the evidence list and a person's own view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptExplained {
    pub trace_id: String,
    /// One sentence, past tense: "You typed a wrong card number."
    pub happened: Bilingual,
    /// What the person was told (the error's message), empty for successes.
    pub message: Bilingual,
    /// What to do about it, empty for successes.
    pub remedy: Bilingual,
}

/// The whole diagnosis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    pub verdict: VerdictKind,
    /// The error code that decided the verdict, if a failure did.
    pub code: Option<ErrorCode>,
    /// The attempt the verdict is about.
    pub trace_id: Option<String>,
    /// "Card not supported: Prepaid cards can't be added".
    pub headline: Bilingual,
    /// The attempts told as a story.
    pub story: Bilingual,
    /// The device and network the attempts came from.
    pub device: Bilingual,
    pub next_step_person: Bilingual,
    pub next_step_support: Bilingual,
    /// Every attempt, oldest first.
    pub attempts: Vec<AttemptExplained>,
    /// The payment the verdict is about, for a payment's diagnosis.
    pub payment_id: Option<String>,
    /// The later attempt (or payment) with the same card that succeeded:
    /// the failure is no longer an open problem.
    pub resolved_by: Option<String>,
}

/// Diagnoses `attempts` (any order). The verdict is about `focus` (a trace
/// id) when given and found, else about the newest attempt; the story tells
/// every attempt up to the focus, then what the person did next with the
/// same card.
pub fn diagnose(
    attempts: &[AttemptFacts],
    focus: Option<&str>,
    audience: Audience,
    circumstances: &Circumstances,
) -> Diagnosis {
    let mut ordered: Vec<&AttemptFacts> = attempts.iter().collect();
    ordered.sort_by(|a, b| a.at_ms.cmp(&b.at_ms).then(a.trace_id.cmp(&b.trace_id)));
    let focus_index = focus
        .and_then(|trace| ordered.iter().position(|a| a.trace_id == trace))
        .or_else(|| ordered.len().checked_sub(1));
    let explained = ordered
        .iter()
        .map(|attempt| explain(attempt, audience))
        .collect();
    let Some(focus_index) = focus_index else {
        return no_attempts(audience);
    };
    let story_attempts = &ordered[..=focus_index];
    let focused = ordered[focus_index];
    let verdict = match focused.ending {
        Ending::Bound | Ending::Verified => VerdictKind::Bound,
        Ending::SmsSent => VerdictKind::AwaitingSmsCode,
        Ending::Failed(code) => VerdictKind::of_code(code),
    };
    let failures = story_attempts
        .iter()
        .filter(|a| matches!(a.ending, Ending::Failed(_)))
        .count();
    let advice = Advice {
        focused,
        verdict,
        failures,
        audience,
        circumstances,
    };
    let mut diagnosis = Diagnosis {
        verdict,
        code: focused.code(),
        trace_id: Some(focused.trace_id.clone()),
        headline: headline(focused, verdict),
        story: story(story_attempts, audience, circumstances),
        device: device_sentence(story_attempts),
        next_step_person: advice.for_person(),
        next_step_support: advice.for_support(),
        attempts: explained,
        payment_id: None,
        resolved_by: None,
    };
    next::what_came_next(
        &mut diagnosis,
        focused,
        &ordered[focus_index + 1..],
        audience,
    );
    diagnosis
}

fn no_attempts(audience: Audience) -> Diagnosis {
    let story = match audience {
        Audience::Support => Bilingual::new(
            "这段时间内没有这个用户的绑卡记录。",
            "No binding attempts by this person were recorded in this period.",
        ),
        Audience::Person => Bilingual::new(
            "这段时间内没有你的绑卡记录。",
            "No attempts to add a card were recorded in this period.",
        ),
    };
    Diagnosis {
        verdict: VerdictKind::NoAttempts,
        code: None,
        trace_id: None,
        headline: Bilingual::from_text(VerdictKind::NoAttempts.title()),
        story,
        device: Bilingual::default(),
        next_step_person: Bilingual::new(
            "如果添加银行卡时出现了错误提示，请记下提示中的追踪编号并联系客服。",
            "If adding a card showed an error, note the trace id it showed and contact support.",
        ),
        next_step_support: Bilingual::new(
            "请核对用户编号和时间范围；如果用户确实看到了错误，请求可能没有到达服务器（应用或网络问题），请向用户要追踪编号。",
            "Check the user id and the time window. If the person did see an error, the request may never have reached the server (an app or network problem): ask for the trace id.",
        ),
        attempts: Vec::new(),
        payment_id: None,
        resolved_by: None,
    }
}

#[cfg(test)]
mod tests;
