//! What the person did next with the same card, after the attempt a
//! diagnosis is about: a failure that a retry fixed is not an open problem,
//! and support should not chase it.

use super::story::seconds;
use super::{AttemptFacts, Audience, Bilingual, CardFacts, Diagnosis, Ending};

/// The same card, as far as masked data tells.
pub(super) fn same_card(a: &CardFacts, b: &CardFacts) -> bool {
    match (&a.masked_pan, &b.masked_pan) {
        (Some(x), Some(y)) => x == y,
        _ => a.last4.is_some() && a.last4 == b.last4,
    }
}

/// "0.3秒后" / "0.3 s later".
pub(super) fn later_by(ms: i64) -> Bilingual {
    let ms = ms.max(0);
    if ms < 60_000 {
        let s = seconds(ms);
        Bilingual::new(format!("{s}秒后"), format!("{s} s later"))
    } else if ms < 2 * 3_600_000 {
        let minutes = ms / 60_000;
        let en = if minutes == 1 {
            "1 minute later".to_owned()
        } else {
            format!("{minutes} minutes later")
        };
        Bilingual::new(format!("{minutes}分钟后"), en)
    } else {
        let hours = ms / 3_600_000;
        Bilingual::new(
            format!("约{hours}小时后"),
            format!("about {hours} hours later"),
        )
    }
}

pub(super) fn subject(audience: Audience) -> (&'static str, &'static str) {
    match audience {
        Audience::Support => ("此用户", "this person"),
        Audience::Person => ("你", "you"),
    }
}

/// A retry that worked, told in the story and the next steps.
pub(super) fn solved_by_retry(
    diagnosis: &mut Diagnosis,
    gap_ms: i64,
    trace_id: &str,
    story: Bilingual,
    person: Bilingual,
) {
    let gap = later_by(gap_ms);
    diagnosis.story = diagnosis.story.clone().then(&story);
    diagnosis.next_step_person = person;
    diagnosis.next_step_support = Bilingual::new(
        format!(
            "无需处理：这次失败已由{}的重试解决（追踪编号 {trace_id}），不是未解决的问题。",
            gap.zh
        ),
        format!(
            "Nothing to do: the retry {} solved this failure (trace id {trace_id}); it is not an open problem.",
            gap.en
        ),
    );
    diagnosis.resolved_by = Some(trace_id.to_owned());
}

/// Adds to a binding's diagnosis what came after the focused attempt with
/// the same card (`later` is oldest first).
pub(super) fn what_came_next(
    diagnosis: &mut Diagnosis,
    focused: &AttemptFacts,
    later: &[&AttemptFacts],
    audience: Audience,
) {
    if focused.code().is_none() {
        return;
    }
    let same: Vec<&AttemptFacts> = later
        .iter()
        .copied()
        .filter(|a| same_card(&a.card, &focused.card))
        .collect();
    let Some(last) = same.last() else {
        return;
    };
    let (who_zh, who_en) = subject(audience);
    if let Some(success) = same
        .iter()
        .find(|a| matches!(a.ending, Ending::Bound | Ending::Verified))
    {
        let gap_ms = success.at_ms - focused.at_ms;
        let gap = later_by(gap_ms);
        let story = Bilingual::new(
            format!("{}，{who_zh}用同一张卡重试，绑定成功。", gap.zh),
            format!(
                "{}, {who_en} tried the same card again and it was bound.",
                capitalised(&gap.en)
            ),
        );
        let person = Bilingual::new(
            "无需操作：重试已经成功，这张卡已在钱包中，可以使用。",
            "Nothing to do: the retry worked and the card is in the wallet, ready to use.",
        );
        solved_by_retry(diagnosis, gap_ms, &success.trace_id, story, person);
        return;
    }
    let n = same.len();
    let sentence = if last.ending == Ending::SmsSent {
        Bilingual::new(
            format!(
                "之后{who_zh}又用同一张卡尝试了{n}次，银行已发送短信验证码，这张卡正在等待验证。"
            ),
            format!(
                "Afterwards {who_en} tried the same card {} more, and the bank sent an SMS code: the card is waiting for it.",
                times_en(n)
            ),
        )
    } else {
        Bilingual::new(
            format!("之后{who_zh}又用同一张卡尝试了{n}次，仍未成功。"),
            format!(
                "Afterwards {who_en} tried the same card {} more, still without success.",
                times_en(n)
            ),
        )
    };
    diagnosis.story = diagnosis.story.clone().then(&sentence);
}

pub(super) fn times_en(n: usize) -> String {
    match n {
        1 => "once".to_owned(),
        2 => "twice".to_owned(),
        n => format!("{n} times"),
    }
}

pub(super) fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
