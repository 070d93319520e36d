//! The story: the attempts told in plain words, runs of the same event once
//! with their count, and the device and network they came from.

use super::facts::refused_subject;
use super::{
    AttemptExplained, AttemptFacts, Audience, Bilingual, Circumstances, DeviceFacts, Ending,
};
use crate::error::{DeclineCode, DomainError, ErrorCode, Lang, NotSupportedReason};

/// How a repeated event's count is said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tally {
    /// "typed a wrong number twice" / "两次输错了卡号".
    Adverb,
    /// "the card was already in the wallet (2 attempts)" / "（共2次）".
    Attempts,
}

/// One event of the story, its text with `{n}` where the count goes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Clause {
    /// The person did it ("typed ..."); else the sentence has its own subject.
    by_person: bool,
    tally: Tally,
    zh: String,
    en: String,
}

fn person(tally: Tally, zh: impl Into<String>, en: impl Into<String>) -> Clause {
    Clause {
        by_person: true,
        tally,
        zh: zh.into(),
        en: en.into(),
    }
}

fn event(tally: Tally, zh: impl Into<String>, en: impl Into<String>) -> Clause {
    Clause {
        by_person: false,
        tally,
        zh: zh.into(),
        en: en.into(),
    }
}

/// Lower-cases the first letter, for a name used inside a sentence
/// ("Prepaid cards" -> "prepaid cards"); names of brands keep theirs.
fn inside_sentence(text: &str, is_common_noun: bool) -> String {
    if !is_common_noun {
        return text.to_owned();
    }
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

pub(super) fn seconds(latency_ms: i64) -> String {
    let tenths = (latency_ms.max(0) + 50) / 100;
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// What happened in one attempt, as a clause of the story.
fn clause(attempt: &AttemptFacts) -> Clause {
    use ErrorCode as E;
    use Tally::{Adverb, Attempts};
    let code = match attempt.ending {
        Ending::Bound => {
            return event(Attempts, "这张卡绑定成功{n}", "the card was bound{n}");
        }
        Ending::SmsSent => {
            return event(
                Attempts,
                "发卡行向预留手机号发送了短信验证码{n}",
                "the bank sent an SMS code to the phone it has on file{n}",
            );
        }
        Ending::Verified => {
            return person(
                Attempts,
                "输入了正确的短信验证码，绑定完成{n}",
                "entered the right SMS code and the card was bound{n}",
            );
        }
        Ending::Failed(code) => code,
    };
    let bank = attempt.card.bank();
    match code {
        E::InvalidNumber => person(
            Adverb,
            "{n}输入了位数不对的卡号",
            "entered a card number of the wrong length{n}",
        ),
        E::IncorrectNumber => person(Adverb, "{n}输错了卡号", "typed a wrong card number{n}"),
        E::InvalidExpiryMonth => person(
            Adverb,
            "{n}填错了有效期的月份",
            "entered an impossible expiry month{n}",
        ),
        E::InvalidExpiryYear => person(
            Adverb,
            "{n}填错了有效期的年份",
            "entered an impossible expiry year{n}",
        ),
        E::ExpiredCard => person(
            Adverb,
            "{n}输入了已经过去的有效期",
            "entered an expiry date that has passed{n}",
        ),
        E::InvalidCvc => person(
            Adverb,
            "{n}输入了位数不对的安全码",
            "entered a security code of the wrong length{n}",
        ),
        E::IncorrectCvc => event(
            Adverb,
            format!("{}{{n}}提示安全码不正确", bank.zh),
            format!("{} said the security code was wrong{{n}}", bank.en),
        ),
        E::InvalidHolderName => person(
            Adverb,
            "{n}填写了格式不对的持卡人姓名",
            "entered a cardholder name that is not a valid name{n}",
        ),
        E::NameMismatch => person(
            Adverb,
            "{n}填写了与实名信息不一致的持卡人姓名",
            "gave a cardholder name that differs from the verified real name{n}",
        ),
        E::PhoneMismatch => event(
            Adverb,
            format!("{}{{n}}提示手机号与银行预留的不一致", bank.zh),
            format!(
                "{} said{{n}} that the phone number did not match the one it has on file",
                bank.en
            ),
        ),
        E::CardNotSupported => not_supported_clause(attempt),
        E::CardDeclined => declined_clause(attempt, &bank),
        E::CardAlreadyBound => event(
            Attempts,
            "这张卡已经在钱包中{n}",
            "the card was already in the wallet{n}",
        ),
        E::CardLimitReached => event(
            Attempts,
            "钱包中的卡已达到数量上限{n}",
            "the wallet already held the most cards it may{n}",
        ),
        E::CardWalletLimitReached => event(
            Attempts,
            "这张卡已绑定在允许的最多个钱包中{n}",
            "the card was already in as many wallets as it may be{n}",
        ),
        E::OtpRequired => event(
            Attempts,
            "这张卡仍在等待短信验证码{n}",
            "the card was still waiting for its SMS code{n}",
        ),
        E::OtpIncorrect => person(Adverb, "{n}输错了短信验证码", "entered a wrong SMS code{n}"),
        E::OtpExpired => person(
            Attempts,
            "在验证码过期后才输入{n}",
            "entered the SMS code after it had expired{n}",
        ),
        E::TooManyAttempts => event(
            Attempts,
            "因失败次数过多，验证被暂停{n}",
            "verification was stopped after too many failures{n}",
        ),
        E::IssuerUnavailable if attempt.held_back() => event(
            Adverb,
            format!("因{}正在出现集中故障，请求{{n}}被钱包暂缓发送", bank.zh),
            format!(
                "the attempt was held back{{n}} because {} was failing for everyone",
                bank.en
            ),
        ),
        E::IssuerUnavailable => {
            let waited = if attempt.latency_ms >= 1000 {
                (
                    format!("（等待了{}秒）", seconds(attempt.latency_ms)),
                    format!(" (after waiting {} s)", seconds(attempt.latency_ms)),
                )
            } else {
                (String::new(), String::new())
            };
            event(
                Adverb,
                format!("{}{{n}}没有应答{}", bank.zh, waited.0),
                format!("{} did not answer{{n}}{}", bank.en, waited.1),
            )
        }
        E::Maintenance => event(
            Attempts,
            "绑卡因系统维护而暂停{n}",
            "adding cards was paused for maintenance{n}",
        ),
        E::RequestInProgress => event(
            Attempts,
            "同一请求在第一次仍在处理时又被发送了一次{n}",
            "the same request was sent again while the first was still running{n}",
        ),
        E::IdempotencyConflict => event(
            Attempts,
            "应用把之前一次提交的编号用在了内容不同的提交上{n}",
            "the app reused a request key for a different request{n}",
        ),
        E::InternalError => event(
            Attempts,
            "钱包内部出现了错误{n}",
            "something failed inside the wallet{n}",
        ),
        E::DatabaseUnavailable => event(
            Attempts,
            "钱包的数据库暂时无法访问{n}",
            "the wallet's database was briefly unreachable{n}",
        ),
        other => {
            let message = attempt.error().unwrap_or_else(|| DomainError::new(other));
            event(
                Attempts,
                format!("绑卡失败：{}{{n}}", message.message(Lang::ZhCn)),
                format!(
                    "it failed with {}: {}{{n}}",
                    other.as_str(),
                    message.message(Lang::En)
                ),
            )
        }
    }
}

fn not_supported_clause(attempt: &AttemptFacts) -> Clause {
    let reason = attempt
        .reason
        .as_deref()
        .and_then(NotSupportedReason::parse)
        .unwrap_or(NotSupportedReason::UnknownBin);
    let subject = refused_subject(reason, &attempt.card);
    let (zh, en) = match reason {
        NotSupportedReason::UnknownBin => (
            "因为无法识别发卡行".to_owned(),
            "because its bank could not be recognised".to_owned(),
        ),
        NotSupportedReason::CardType => (
            format!("因为暂不支持绑定{}", subject.zh),
            format!(
                "because {} are not accepted",
                inside_sentence(&subject.en, true)
            ),
        ),
        NotSupportedReason::Brand => (
            format!("因为暂不支持绑定{}", subject.zh),
            format!("because {} are not accepted", subject.en),
        ),
        NotSupportedReason::Country => (
            format!("因为暂不支持{}发行的卡", subject.zh),
            format!("because cards issued in {} are not accepted", subject.en),
        ),
        NotSupportedReason::Issuer => (
            format!("因为{}的卡暂不支持绑定", subject.zh),
            format!("because cards from {} are not accepted", subject.en),
        ),
        NotSupportedReason::AccountClass => (
            "因为它不是一类账户的卡".to_owned(),
            "because it is not the card of a Class I account".to_owned(),
        ),
    };
    event(
        Tally::Adverb,
        format!("这张卡{{n}}被拒绝，{zh}"),
        format!("the card was refused{{n}} {en}"),
    )
}

fn declined_clause(attempt: &AttemptFacts, bank: &Bilingual) -> Clause {
    let decline = attempt.reason.as_deref().and_then(DeclineCode::parse);
    let (zh, en) = match decline {
        Some(DeclineCode::LostCard) => (
            "拒绝了这张卡，提示已挂失".to_owned(),
            "declined the card{n} because it was reported lost".to_owned(),
        ),
        Some(DeclineCode::StolenCard) => (
            "拒绝了这张卡，提示已被报告被盗".to_owned(),
            "declined the card{n} because it was reported stolen".to_owned(),
        ),
        Some(DeclineCode::DoNotHonor) | None => (
            "拒绝了这张卡，没有说明原因".to_owned(),
            "declined the card{n} without giving a reason".to_owned(),
        ),
        Some(other) => {
            let message = other.message();
            (
                format!("拒绝了这张卡：{}", message.zh),
                format!(
                    "declined the card{{n}}: {}",
                    inside_sentence(message.en, true)
                ),
            )
        }
    };
    event(
        Tally::Adverb,
        format!("{}{{n}}{zh}", bank.zh),
        format!("{} {en}", bank.en),
    )
}

fn count_words(n: usize, tally: Tally, card: Option<&str>) -> (String, String) {
    match (n, tally, card) {
        (0 | 1, _, _) => (String::new(), String::new()),
        (2, Tally::Adverb, _) => ("两次".to_owned(), " twice".to_owned()),
        (n, Tally::Adverb, _) => (format!("{n}次"), format!(" {n} times")),
        (n, Tally::Attempts, None) => (format!("（共{n}次）"), format!(" ({n} attempts)")),
        (n, Tally::Attempts, Some(last4)) => (
            format!("（尾号{last4}，共{n}次）"),
            format!(" (card ending {last4}, {n} attempts)"),
        ),
    }
}

/// A clause with its count filled in, and the card's last four digits
/// when the count is a bracket of its own.
fn counted(clause: &Clause, n: usize, card: Option<&str>) -> (String, String) {
    let (zh_n, en_n) = count_words(n, clause.tally, card);
    (
        clause.zh.replace("{n}", &zh_n),
        clause.en.replace("{n}", &en_n),
    )
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The card an attempt names in the story: a mistyped number is not
/// another card, though its ends are kept for support.
fn card_of(attempt: &AttemptFacts) -> Option<String> {
    match attempt.ending {
        Ending::Failed(ErrorCode::InvalidNumber | ErrorCode::IncorrectNumber) => None,
        _ => attempt.card.last4.clone(),
    }
}

/// The attempts as one or two sentences: runs of the same event are told
/// once with their count, joined by "then".
pub(super) fn story(
    attempts: &[&AttemptFacts],
    audience: Audience,
    circumstances: &Circumstances,
) -> Bilingual {
    let mut runs: Vec<(Clause, usize, Option<String>)> = Vec::new();
    for attempt in attempts {
        let clause = clause(attempt);
        let last4 = card_of(attempt);
        match runs.last_mut() {
            Some((previous, count, previous_last4))
                if *previous == clause && *previous_last4 == last4 =>
            {
                *count += 1;
            }
            _ => runs.push((clause, 1, last4)),
        }
    }
    let mut cards: Vec<String> = attempts.iter().filter_map(|a| card_of(a)).collect();
    cards.sort_unstable();
    cards.dedup();
    let several_cards = cards.len() > 1;
    let max_runs = circumstances.max_story_runs.unwrap_or(8).max(1);
    let skipped = runs.len().saturating_sub(max_runs);
    let skipped_attempts: usize = runs[..skipped].iter().map(|(_, n, _)| n).sum();
    let (subject_zh, subject_en, pronoun_en) = match audience {
        Audience::Support => ("此用户", "this person", "they"),
        Audience::Person => ("你", "you", "you"),
    };
    let mut zh = String::new();
    let mut en = String::new();
    if skipped_attempts > 0 {
        zh.push_str(&format!("在更早的{skipped_attempts}次尝试之后，"));
        en.push_str(&format!("After {skipped_attempts} earlier attempts, "));
    }
    let mut previous_by_person = false;
    for (index, (clause, count, last4)) in runs[skipped..].iter().enumerate() {
        let card = last4.as_deref().filter(|_| several_cards);
        let (mut clause_zh, mut clause_en) = counted(clause, *count, card);
        // A count in brackets takes the card in too: one bracket, not two
        // side by side.
        let card_in_count = *count > 1 && clause.tally == Tally::Attempts;
        if let Some(last4) = card.filter(|_| !card_in_count) {
            clause_zh.push_str(&format!("（尾号{last4}）"));
            clause_en.push_str(&format!(" (card ending {last4})"));
        }
        if index > 0 {
            zh.push_str("，随后");
            en.push_str(", then ");
        }
        if clause.by_person {
            if index == 0 {
                zh.push_str(subject_zh);
                en.push_str(subject_en);
                en.push(' ');
            } else if !previous_by_person {
                en.push_str(pronoun_en);
                en.push(' ');
            }
        }
        zh.push_str(&clause_zh);
        en.push_str(&clause_en);
        previous_by_person = clause.by_person;
    }
    zh.push('。');
    en.push('.');
    let mut story = Bilingual::new(zh, capitalise(&en));
    let failures: Vec<&&AttemptFacts> = attempts
        .iter()
        .filter(|a| matches!(a.ending, Ending::Failed(_)))
        .collect();
    if failures.len() >= 3
        && let (Some(first), Some(last)) = (attempts.first(), attempts.last())
    {
        let span = human_span(last.at_ms - first.at_ms);
        story = story.then(&Bilingual::new(
            format!("共失败{}次，历时{}。", failures.len(), span.zh),
            format!("That is {} failures in {}.", failures.len(), span.en),
        ));
    }
    story
}

fn human_span(ms: i64) -> Bilingual {
    let minutes = ms.max(0) / 60_000;
    if minutes < 1 {
        Bilingual::new("不到一分钟", "less than a minute")
    } else if minutes < 120 {
        let en = if minutes == 1 {
            "1 minute".to_owned()
        } else {
            format!("{minutes} minutes")
        };
        Bilingual::new(format!("{minutes}分钟"), en)
    } else {
        let hours = minutes / 60;
        Bilingual::new(format!("约{hours}小时"), format!("about {hours} hours"))
    }
}

fn describe_device(device: &DeviceFacts) -> Bilingual {
    let model = device.model.as_deref().unwrap_or("?");
    let mut zh_details = Vec::new();
    let mut en_details = Vec::new();
    if let Some(os) = &device.os {
        zh_details.push(os.clone());
        en_details.push(os.clone());
    }
    if let Some(app) = &device.app_version {
        zh_details.push(format!("应用版本 {app}"));
        en_details.push(format!("app {app}"));
    }
    let (mut zh, mut en) = if device.model.is_some() {
        (model.to_owned(), model.to_owned())
    } else {
        (
            "未知型号的设备".to_owned(),
            "a device of unknown model".to_owned(),
        )
    };
    if !zh_details.is_empty() {
        zh.push_str(&format!("({})", zh_details.join(",")));
        en.push_str(&format!(" ({})", en_details.join(", ")));
    }
    Bilingual::new(zh, en)
}

/// Which device and network the attempts came from.
pub(super) fn device_sentence(attempts: &[&AttemptFacts]) -> Bilingual {
    let devices: Vec<&DeviceFacts> = attempts
        .iter()
        .map(|a| &a.device)
        .filter(|d| !d.is_empty())
        .collect();
    if devices.is_empty() {
        return Bilingual::new("应用没有上报设备信息。", "The app sent no device details.");
    }
    let mut models: Vec<Bilingual> = Vec::new();
    for device in &devices {
        let described = describe_device(device);
        if !models.contains(&described) {
            models.push(described);
        }
    }
    let mut networks: Vec<String> = devices
        .iter()
        .filter_map(|d| d.network_type.clone())
        .collect();
    networks.dedup();
    let mut zh;
    let mut en;
    if let [only] = models.as_slice() {
        let all = devices.len() == attempts.len() && attempts.len() > 1;
        zh = format!("{}来自{}", if all { "所有尝试都" } else { "尝试" }, only.zh);
        en = format!(
            "{} came from {}",
            if all { "All attempts" } else { "The attempts" },
            only.en
        );
    } else {
        zh = format!(
            "尝试来自{}台设备：{}",
            models.len(),
            models
                .iter()
                .map(|m| m.zh.as_str())
                .collect::<Vec<_>>()
                .join("、")
        );
        en = format!(
            "The attempts came from {} devices: {}",
            models.len(),
            models
                .iter()
                .map(|m| m.en.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    let mut distinct = networks.clone();
    distinct.sort_unstable();
    distinct.dedup();
    match distinct.as_slice() {
        [] => {}
        [one] => {
            zh.push_str(&format!("，网络为{one}"));
            en.push_str(&format!(", on {one}"));
        }
        _ => {
            zh.push_str(&format!("，期间网络在{}之间切换", networks.join("、")));
            en.push_str(&format!(
                ", and the network changed between attempts ({})",
                networks.join(", ")
            ));
        }
    }
    if devices.iter().any(|d| d.weak_network()) {
        zh.push_str("；信号较弱的网络容易导致银行应答丢失");
        en.push_str("; on a weak network a bank's answer is easily lost");
    }
    zh.push('。');
    en.push('.');
    Bilingual::new(zh, en)
}

/// One attempt, explained on its own.
pub(super) fn explain(attempt: &AttemptFacts, audience: Audience) -> AttemptExplained {
    let clause = clause(attempt);
    let (zh, en) = counted(&clause, 1, None);
    let (zh, en) = if clause.by_person {
        match audience {
            Audience::Support => (format!("此用户{zh}。"), format!("This person {en}.")),
            Audience::Person => (format!("你{zh}。"), format!("You {en}.")),
        }
    } else {
        (format!("{zh}。"), format!("{}.", capitalise(&en)))
    };
    let (message, remedy) = match attempt.error() {
        Some(error) => (
            Bilingual::new(error.message(Lang::ZhCn), error.message(Lang::En)),
            Bilingual::new(error.remedy(Lang::ZhCn), error.remedy(Lang::En)),
        ),
        None => (Bilingual::default(), Bilingual::default()),
    };
    AttemptExplained {
        trace_id: attempt.trace_id.clone(),
        happened: Bilingual::new(zh, en),
        message,
        remedy,
    }
}
