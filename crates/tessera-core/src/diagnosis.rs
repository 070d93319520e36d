//! Diagnosis: from the binding attempts a person made to a verdict that names
//! the seed's cause (or the wallet rule) that stopped them, a short story of
//! what happened in plain words, and the next step for the person and for
//! support, in zh-CN and en. Pure: the server gathers the facts, this decides.

use crate::bins::policy::country_names;
use crate::bins::{Brand, CardType};
use crate::error::{
    Cause, DeclineCode, DomainError, ErrorCode, Lang, NotSupported, NotSupportedReason, Text,
};

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

/// Which step of a binding an attempt was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Adding the card (`POST /v1/cards`).
    Bind,
    /// Entering the SMS code (`POST /v1/cards/{id}/verify`).
    Verify,
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Bound,
    /// The bank sent an SMS code; the card waits for it.
    SmsSent,
    /// The SMS code was right: bound.
    Verified,
    Failed(ErrorCode),
}

/// What the BIN data and the masked number say about the card tried.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardFacts {
    /// First 6 and last 4 at most.
    pub masked_pan: Option<String>,
    pub last4: Option<String>,
    /// Brand code (`unionpay`, `visa`).
    pub brand: Option<String>,
    pub issuer_code: Option<String>,
    pub issuer_name_zh: Option<String>,
    pub issuer_name_en: Option<String>,
    /// Card type code (`debit`, `prepaid`).
    pub card_type: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
}

impl CardFacts {
    fn issuer(&self) -> Option<Bilingual> {
        let zh = self
            .issuer_name_zh
            .clone()
            .or_else(|| self.issuer_name_en.clone())
            .or_else(|| self.issuer_code.clone())?;
        let en = self
            .issuer_name_en
            .clone()
            .or_else(|| self.issuer_code.clone())
            .unwrap_or_else(|| zh.clone());
        Some(Bilingual { zh, en })
    }

    fn bank(&self) -> Bilingual {
        self.issuer()
            .unwrap_or_else(|| Bilingual::new("发卡行", "the bank"))
    }
}

/// The device the app said it runs on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceFacts {
    pub model: Option<String>,
    pub os: Option<String>,
    pub app_version: Option<String>,
    /// wifi, 4g, 5g, 3g, ...
    pub network_type: Option<String>,
    pub locale: Option<String>,
}

impl DeviceFacts {
    fn is_empty(&self) -> bool {
        self.model.is_none()
            && self.os.is_none()
            && self.app_version.is_none()
            && self.network_type.is_none()
    }

    /// A network on which a bank's answer often gets lost.
    fn weak_network(&self) -> bool {
        self.network_type.as_deref().is_some_and(|n| {
            matches!(
                n.trim().to_ascii_lowercase().as_str(),
                "2g" | "3g" | "edge" | "gprs" | "none" | "offline" | "weak"
            )
        })
    }
}

/// One recorded attempt, as diagnosis reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptFacts {
    pub trace_id: String,
    /// Unix milliseconds.
    pub at_ms: i64,
    pub step: Step,
    pub ending: Ending,
    /// The field at fault.
    pub param: Option<String>,
    /// `card_not_supported`'s reason or `card_declined`'s decline code.
    pub reason: Option<String>,
    /// The issuer's answer as recorded (`approved`, `unavailable`,
    /// `circuit_open` when the wallet held the attempt back, ...).
    pub issuer_response: Option<String>,
    pub latency_ms: i64,
    pub card: CardFacts,
    pub device: DeviceFacts,
}

impl AttemptFacts {
    fn code(&self) -> Option<ErrorCode> {
        match self.ending {
            Ending::Failed(code) => Some(code),
            _ => None,
        }
    }

    fn held_back(&self) -> bool {
        self.issuer_response.as_deref() == Some(CIRCUIT_OPEN)
    }

    /// The error as the person was told it, rebuilt from the record.
    fn error(&self) -> Option<DomainError> {
        let code = self.code()?;
        let mut error = DomainError::new(code);
        if let Some(param) = &self.param {
            error = error.with_param(param.clone());
        }
        match code {
            ErrorCode::CardNotSupported => {
                let reason = self
                    .reason
                    .as_deref()
                    .and_then(NotSupportedReason::parse)
                    .unwrap_or(NotSupportedReason::UnknownBin);
                let subject = refused_subject(reason, &self.card);
                error.not_supported = Some(Box::new(NotSupported {
                    reason,
                    subject_zh: subject.zh,
                    subject_en: subject.en,
                }));
            }
            ErrorCode::CardDeclined => {
                error.decline_code = self.reason.as_deref().and_then(DeclineCode::parse);
            }
            _ => {}
        }
        Some(error)
    }
}

/// The `issuer_response` of an attempt the circuit breaker answered itself.
pub const CIRCUIT_OPEN: &str = "circuit_open";

/// Who reads the story: support ("this person") or the person ("you").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Support,
    Person,
}

/// What the server knows beyond the attempts.
#[derive(Debug, Clone, Default)]
pub struct Circumstances {
    /// Issuer codes with an open incident (failing for everyone).
    pub issuers_in_incident: Vec<String>,
    /// When binding can be tried again (maintenance end, breaker probe), as
    /// local time ("14:30"), when one is known.
    pub retry_at_local: Option<String>,
    /// Attempts shown in the story at most; older ones are counted.
    pub max_story_runs: Option<usize>,
}

/// The verdict: what stopped the binding, in the seed's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerdictKind {
    NoAttempts,
    Bound,
    AwaitingSmsCode,
    InputMistake,
    CardNotSupported,
    DeclinedByIssuer,
    NetworkOrIssuer,
    SystemOrMaintenance,
    RealName,
    PhoneOnFile,
    CardLimit,
    Duplicate,
    SecurityLock,
    /// The card or account is no longer in a state to pay (unbound, expired).
    AccountState,
}

impl VerdictKind {
    pub const ALL: [VerdictKind; 14] = [
        VerdictKind::NoAttempts,
        VerdictKind::Bound,
        VerdictKind::AwaitingSmsCode,
        VerdictKind::InputMistake,
        VerdictKind::CardNotSupported,
        VerdictKind::DeclinedByIssuer,
        VerdictKind::NetworkOrIssuer,
        VerdictKind::SystemOrMaintenance,
        VerdictKind::RealName,
        VerdictKind::PhoneOnFile,
        VerdictKind::CardLimit,
        VerdictKind::Duplicate,
        VerdictKind::SecurityLock,
        VerdictKind::AccountState,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VerdictKind::NoAttempts => "no_attempts",
            VerdictKind::Bound => "bound",
            VerdictKind::AwaitingSmsCode => "awaiting_sms_code",
            VerdictKind::InputMistake => "input_mistake",
            VerdictKind::CardNotSupported => "card_not_supported",
            VerdictKind::DeclinedByIssuer => "declined_by_issuer",
            VerdictKind::NetworkOrIssuer => "network_or_issuer",
            VerdictKind::SystemOrMaintenance => "system_or_maintenance",
            VerdictKind::RealName => "real_name",
            VerdictKind::PhoneOnFile => "phone_on_file",
            VerdictKind::CardLimit => "card_limit",
            VerdictKind::Duplicate => "duplicate",
            VerdictKind::SecurityLock => "security_lock",
            VerdictKind::AccountState => "account_state",
        }
    }

    /// The seed's cause (or the wallet's own rule) this verdict belongs to.
    pub fn cause(self) -> Option<Cause> {
        match self {
            VerdictKind::NoAttempts | VerdictKind::Bound | VerdictKind::AwaitingSmsCode => None,
            VerdictKind::InputMistake => Some(Cause::Input),
            VerdictKind::CardNotSupported | VerdictKind::DeclinedByIssuer => {
                Some(Cause::CardNotSupported)
            }
            VerdictKind::NetworkOrIssuer => Some(Cause::Network),
            VerdictKind::SystemOrMaintenance => Some(Cause::System),
            VerdictKind::RealName
            | VerdictKind::PhoneOnFile
            | VerdictKind::CardLimit
            | VerdictKind::Duplicate
            | VerdictKind::AccountState => Some(Cause::Account),
            VerdictKind::SecurityLock => Some(Cause::Security),
        }
    }

    pub fn title(self) -> Text {
        let t = |zh, en| Text { zh, en };
        match self {
            VerdictKind::NoAttempts => t("没有绑卡记录", "No binding attempts"),
            VerdictKind::Bound => t("已绑定成功", "Bound"),
            VerdictKind::AwaitingSmsCode => t("等待短信验证", "Waiting for the SMS code"),
            VerdictKind::InputMistake => t("输入有误", "Input mistake"),
            VerdictKind::CardNotSupported => t("卡片不受支持", "Card not supported"),
            VerdictKind::DeclinedByIssuer => t("发卡行拒绝", "Declined by the bank"),
            VerdictKind::NetworkOrIssuer => t("网络或发卡行不稳定", "Unstable network or bank"),
            VerdictKind::SystemOrMaintenance => {
                t("系统故障或维护", "System failure or maintenance")
            }
            VerdictKind::RealName => t("与实名信息不一致", "Real name does not match"),
            VerdictKind::PhoneOnFile => t(
                "与银行预留手机号不一致",
                "Phone number on file at the bank does not match",
            ),
            VerdictKind::CardLimit => t("绑卡数量已达上限", "Card limit reached"),
            VerdictKind::Duplicate => t("这张卡已绑定", "Card already added"),
            VerdictKind::SecurityLock => t("安全锁定", "Security lock"),
            VerdictKind::AccountState => t("卡片状态不可用", "Card no longer usable"),
        }
    }

    /// The verdict a failure with this code gives.
    pub fn of_code(code: ErrorCode) -> VerdictKind {
        use ErrorCode as E;
        match code {
            E::CardNotSupported => VerdictKind::CardNotSupported,
            E::CardDeclined => VerdictKind::DeclinedByIssuer,
            E::NameMismatch => VerdictKind::RealName,
            E::PhoneMismatch => VerdictKind::PhoneOnFile,
            E::CardLimitReached => VerdictKind::CardLimit,
            E::CardAlreadyBound => VerdictKind::Duplicate,
            E::OtpRequired => VerdictKind::AwaitingSmsCode,
            E::IssuerUnavailable | E::RequestInProgress => VerdictKind::NetworkOrIssuer,
            E::Maintenance | E::InternalError | E::DatabaseUnavailable => {
                VerdictKind::SystemOrMaintenance
            }
            other => match other.cause() {
                Cause::Input => VerdictKind::InputMistake,
                Cause::CardNotSupported => VerdictKind::CardNotSupported,
                Cause::Network => VerdictKind::NetworkOrIssuer,
                Cause::System => VerdictKind::SystemOrMaintenance,
                Cause::Account => VerdictKind::AccountState,
                Cause::Security => VerdictKind::SecurityLock,
            },
        }
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
}

/// Diagnoses `attempts` (any order). The verdict is about `focus` (a trace
/// id) when given and found, else about the newest attempt; the story tells
/// every attempt up to the focus.
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
    Diagnosis {
        verdict,
        code: focused.code(),
        trace_id: Some(focused.trace_id.clone()),
        headline: headline(focused, verdict),
        story: story(story_attempts, audience, circumstances),
        device: device_sentence(story_attempts),
        next_step_person: advice.for_person(),
        next_step_support: advice.for_support(),
        attempts: explained,
    }
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
            "如果添加银行卡时出现了错误提示,请记下提示中的追踪编号并联系客服。",
            "If adding a card showed an error, note the trace id it showed and contact support.",
        ),
        next_step_support: Bilingual::new(
            "请核对用户编号和时间范围;如果用户确实看到了错误,请求可能没有到达服务器(应用或网络问题),请向用户要追踪编号。",
            "Check the user id and the time window. If the person did see an error, the request may never have reached the server (an app or network problem): ask for the trace id.",
        ),
        attempts: Vec::new(),
    }
}

/// What a `card_not_supported` refusal names, from the card's BIN data.
fn refused_subject(reason: NotSupportedReason, card: &CardFacts) -> Bilingual {
    match reason {
        NotSupportedReason::UnknownBin => Bilingual::new("未知卡号段", "an unknown BIN"),
        NotSupportedReason::CardType => card
            .card_type
            .as_deref()
            .and_then(CardType::parse)
            .map_or_else(
                || Bilingual::new("这类卡", "Cards of this type"),
                |t| Bilingual::new(t.cards_name_zh(), t.cards_name_en()),
            ),
        NotSupportedReason::Brand => card.brand.as_deref().map(Brand::parse).map_or_else(
            || Bilingual::new("这个卡组织的卡", "Cards of this brand"),
            |b| Bilingual::new(b.cards_name_zh(), b.cards_name_en()),
        ),
        NotSupportedReason::Country => card.country.as_deref().map_or_else(
            || Bilingual::new("该地区", "this country"),
            |c| {
                let (zh, en) = country_names(c);
                Bilingual::new(zh, en)
            },
        ),
        NotSupportedReason::Issuer => card
            .issuer()
            .unwrap_or_else(|| Bilingual::new("该发卡行", "this bank")),
    }
}

fn headline(focused: &AttemptFacts, verdict: VerdictKind) -> Bilingual {
    let title = verdict.title();
    match focused.error() {
        Some(error) => Bilingual::new(
            format!("{}:{}", title.zh, error.message(Lang::ZhCn)),
            format!("{}: {}", title.en, error.message(Lang::En)),
        ),
        None => Bilingual::from_text(title),
    }
}

/// How a repeated event's count is said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tally {
    /// "typed a wrong number twice" / "两次输错了卡号".
    Adverb,
    /// "the card was already in the wallet (2 attempts)" / "(共2次)".
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

fn seconds(latency_ms: i64) -> String {
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
                "输入了正确的短信验证码,绑定完成{n}",
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
            "因失败次数过多,验证被暂停{n}",
            "verification was stopped after too many failures{n}",
        ),
        E::IssuerUnavailable if attempt.held_back() => event(
            Adverb,
            format!("因{}正在出现集中故障,请求{{n}}被钱包暂缓发送", bank.zh),
            format!(
                "the attempt was held back{{n}} because {} was failing for everyone",
                bank.en
            ),
        ),
        E::IssuerUnavailable => {
            let waited = if attempt.latency_ms >= 1000 {
                (
                    format!("(等待了{}秒)", seconds(attempt.latency_ms)),
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
            "应用用同一个幂等键发送了不同的请求{n}",
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
                format!("绑卡失败:{}{{n}}", message.message(Lang::ZhCn)),
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
    };
    event(
        Tally::Adverb,
        format!("这张卡{{n}}被拒绝,{zh}"),
        format!("the card was refused{{n}} {en}"),
    )
}

fn declined_clause(attempt: &AttemptFacts, bank: &Bilingual) -> Clause {
    let decline = attempt.reason.as_deref().and_then(DeclineCode::parse);
    let (zh, en) = match decline {
        Some(DeclineCode::LostCard) => (
            "拒绝了这张卡,提示已挂失".to_owned(),
            "declined the card{n} because it was reported lost".to_owned(),
        ),
        Some(DeclineCode::StolenCard) => (
            "拒绝了这张卡,提示已被报告被盗".to_owned(),
            "declined the card{n} because it was reported stolen".to_owned(),
        ),
        Some(DeclineCode::DoNotHonor) | None => (
            "拒绝了这张卡,没有说明原因".to_owned(),
            "declined the card{n} without giving a reason".to_owned(),
        ),
        Some(other) => {
            let message = other.message();
            (
                format!("拒绝了这张卡:{}", message.zh),
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

fn count_words(n: usize, tally: Tally) -> (String, String) {
    match (n, tally) {
        (0 | 1, _) => (String::new(), String::new()),
        (2, Tally::Adverb) => ("两次".to_owned(), " twice".to_owned()),
        (n, Tally::Adverb) => (format!("{n}次"), format!(" {n} times")),
        (n, Tally::Attempts) => (format!("(共{n}次)"), format!(" ({n} attempts)")),
    }
}

/// A clause with its count filled in.
fn counted(clause: &Clause, n: usize) -> (String, String) {
    let (zh_n, en_n) = count_words(n, clause.tally);
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

/// The attempts as one or two sentences: runs of the same event are told
/// once with their count, joined by "then".
fn story(
    attempts: &[&AttemptFacts],
    audience: Audience,
    circumstances: &Circumstances,
) -> Bilingual {
    let mut runs: Vec<(Clause, usize, Option<String>)> = Vec::new();
    for attempt in attempts {
        let clause = clause(attempt);
        let last4 = attempt.card.last4.clone();
        match runs.last_mut() {
            Some((previous, count, previous_last4))
                if *previous == clause && *previous_last4 == last4 =>
            {
                *count += 1;
            }
            _ => runs.push((clause, 1, last4)),
        }
    }
    let mut cards: Vec<&str> = attempts
        .iter()
        .filter_map(|a| a.card.last4.as_deref())
        .collect();
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
        zh.push_str(&format!("在更早的{skipped_attempts}次尝试之后,"));
        en.push_str(&format!("After {skipped_attempts} earlier attempts, "));
    }
    let mut previous_by_person = false;
    for (index, (clause, count, last4)) in runs[skipped..].iter().enumerate() {
        let (mut clause_zh, mut clause_en) = counted(clause, *count);
        if several_cards && let Some(last4) = last4 {
            clause_zh.push_str(&format!("(尾号{last4})"));
            clause_en.push_str(&format!(" (card ending {last4})"));
        }
        if index > 0 {
            zh.push_str(",随后");
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
            format!("共失败{}次,历时{}。", failures.len(), span.zh),
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
fn device_sentence(attempts: &[&AttemptFacts]) -> Bilingual {
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
            "尝试来自{}台设备:{}",
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
            zh.push_str(&format!(",网络为{one}"));
            en.push_str(&format!(", on {one}"));
        }
        _ => {
            zh.push_str(&format!(",期间网络在{}之间切换", networks.join("、")));
            en.push_str(&format!(
                ", and the network changed between attempts ({})",
                networks.join(", ")
            ));
        }
    }
    if devices.iter().any(|d| d.weak_network()) {
        zh.push_str(";信号较弱的网络容易导致银行应答丢失");
        en.push_str("; on a weak network a bank's answer is easily lost");
    }
    zh.push('。');
    en.push('.');
    Bilingual::new(zh, en)
}

/// One attempt, explained on its own.
fn explain(attempt: &AttemptFacts, audience: Audience) -> AttemptExplained {
    let clause = clause(attempt);
    let (zh, en) = counted(&clause, 1);
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

/// The next steps, chosen from the verdict and the particulars of the
/// decisive attempt.
struct Advice<'a> {
    focused: &'a AttemptFacts,
    verdict: VerdictKind,
    failures: usize,
    audience: Audience,
    circumstances: &'a Circumstances,
}

impl Advice<'_> {
    fn bank(&self) -> Bilingual {
        self.focused.card.bank()
    }

    fn in_incident(&self) -> bool {
        self.focused.held_back()
            || self
                .focused
                .card
                .issuer_code
                .as_deref()
                .is_some_and(|code| {
                    self.circumstances
                        .issuers_in_incident
                        .iter()
                        .any(|c| c.eq_ignore_ascii_case(code))
                })
    }

    fn retry_when(&self) -> Bilingual {
        match &self.circumstances.retry_at_local {
            Some(at) => {
                Bilingual::new(format!("请在{at}之后重试"), format!("Try again after {at}"))
            }
            None => Bilingual::new("请过几分钟再试", "Try again in a few minutes"),
        }
    }

    fn for_person(&self) -> Bilingual {
        let mut advice = self.person_step();
        let repeated = self.failures >= 3
            && !matches!(
                self.verdict,
                VerdictKind::SecurityLock
                    | VerdictKind::NetworkOrIssuer
                    | VerdictKind::SystemOrMaintenance
                    | VerdictKind::Bound
                    | VerdictKind::Duplicate
                    | VerdictKind::CardLimit
            );
        if repeated {
            advice = advice.then(&Bilingual::new(
                "已经连续失败多次:如果仍不成功,请等24小时后再试,以免触发银行的风控。",
                "There have been several failures in a row: if it still fails, wait 24 hours before trying again so that the bank's fraud checks are not triggered.",
            ));
        }
        advice
    }

    fn person_step(&self) -> Bilingual {
        use ErrorCode as E;
        let code = self.focused.code();
        let bank = self.bank();
        match self.verdict {
            VerdictKind::NoAttempts => no_attempts(self.audience).next_step_person,
            VerdictKind::Bound => Bilingual::new(
                "无需操作:这张卡已在钱包中,可以使用。",
                "Nothing to do: the card is in the wallet and ready to use.",
            ),
            VerdictKind::AwaitingSmsCode => Bilingual::new(
                "请输入银行发送到预留手机号的6位验证码,验证码5分钟内有效;如果没有收到,说明银行预留的可能是另一个号码,请致电银行确认。",
                "Enter the 6-digit code your bank sent to the phone number it has on file; it is valid for 5 minutes. If no code arrived, the bank may have another number on file: call the bank to check.",
            ),
            VerdictKind::InputMistake => self.input_step(code),
            VerdictKind::CardNotSupported => self.not_supported_step(),
            VerdictKind::DeclinedByIssuer => {
                let decline = self.focused.reason.as_deref().and_then(DeclineCode::parse);
                match decline {
                    Some(DeclineCode::LostCard | DeclineCode::StolenCard) => Bilingual::new(
                        format!(
                            "{}登记这张卡已挂失或被盗:请联系银行补办新卡,然后绑定新卡。",
                            bank.zh
                        ),
                        format!(
                            "{} has this card down as lost or stolen: ask the bank for a replacement card, then add the new one.",
                            bank.en
                        ),
                    ),
                    _ => Bilingual::new(
                        format!(
                            "请拨打卡背面的电话联系{}:卡片可能被冻结、尚未激活(首张网申信用卡可能还需面签)、额度已用完,或被银行风控拦截。也可以换一张卡。",
                            bank.zh
                        ),
                        format!(
                            "Call {} on the number on the back of the card: the card may be frozen, not yet activated (a first credit card applied for online may need signing for in person), out of credit, or stopped by the bank's fraud checks. Or use another card.",
                            bank.en
                        ),
                    ),
                }
            }
            VerdictKind::PhoneOnFile => Bilingual::new(
                "请填写开户时在银行预留的手机号。如果不确定或已经换号,请致电银行或到柜台查询并更正预留手机号;新号码通常约一天后才会在银行系统生效,请第二天再试。单位统一办理的工资卡常登记了同一个号码,也需要到银行修改。",
                "Enter the phone number you gave the bank when you opened the account. If you are not sure, or it has changed, call the bank or visit a branch to check and correct the number on file; a new number usually takes about a day to reach the bank's systems, so try again the next day. Payroll cards opened by an employer often carry one shared number, which the bank must change too.",
            ),
            VerdictKind::RealName => Bilingual::new(
                "只能绑定本人名下的卡:请检查持卡人姓名是否有错别字(信用卡还会核对姓名拼音),或使用本人的卡。",
                "Only cards in your own name can be added: check the cardholder name for typos (credit cards also check the pinyin of the name), or use a card in your own name.",
            ),
            VerdictKind::CardLimit => Bilingual::new(
                "请先在\"我的-银行卡\"中解绑一张不常用的卡(等待验证的卡也计入数量),再绑定新卡。",
                "Remove a card you no longer use (Me > Cards > Remove; cards waiting for a code count too), then add the new one.",
            ),
            VerdictKind::Duplicate => Bilingual::new(
                "无需重复绑定:这张卡已经在你的银行卡列表中。",
                "Nothing to do: the card is already in your list of cards.",
            ),
            VerdictKind::SecurityLock => Bilingual::new(
                "为保护资金安全,验证已暂停:请在24小时后再试,以免触发银行的风控。请不要把短信验证码告诉任何人。",
                "For your safety, verification is paused: wait 24 hours before trying again so that the bank's fraud checks are not triggered. Never share SMS codes with anyone.",
            ),
            VerdictKind::NetworkOrIssuer => {
                if code == Some(E::RequestInProgress) {
                    return Bilingual::new(
                        "第一次提交还在处理中:请等待结果,不要重复提交。",
                        "The first submission is still being processed: wait for its answer instead of submitting again.",
                    );
                }
                let when = self.retry_when();
                if self.in_incident() {
                    Bilingual::new(
                        format!(
                            "这不是你的问题:{}目前对所有用户都没有应答。{};重试不会重复绑卡。",
                            bank.zh, when.zh
                        ),
                        format!(
                            "This is not your fault: {} is not answering anyone right now. {}; retrying never adds the card twice.",
                            bank.en, when.en
                        ),
                    )
                } else if self.focused.device.weak_network() {
                    Bilingual::new(
                        format!(
                            "你的手机当时使用{}网络:请换到信号更好的Wi-Fi或移动网络后重试;重试不会重复绑卡。",
                            self.focused.device.network_type.as_deref().unwrap_or("")
                        ),
                        format!(
                            "Your phone was on {}: move to a stronger Wi-Fi or mobile signal and try again; retrying never adds the card twice.",
                            self.focused
                                .device
                                .network_type
                                .as_deref()
                                .unwrap_or("a weak network")
                        ),
                    )
                } else {
                    Bilingual::new(
                        format!(
                            "这不是你的问题:{}暂时没有应答。{},如网络不稳定请先切换网络;重试不会重复绑卡。",
                            bank.zh, when.zh
                        ),
                        format!(
                            "This is not your fault: {} did not answer. {}, on a steady network if you can; retrying never adds the card twice.",
                            bank.en, when.en
                        ),
                    )
                }
            }
            VerdictKind::SystemOrMaintenance => {
                if code == Some(E::Maintenance) {
                    let when = self.retry_when();
                    Bilingual::new(
                        format!("绑卡功能正在维护:{};已绑定的卡不受影响。", when.zh),
                        format!(
                            "Adding cards is paused for maintenance. {}; cards already added are not affected.",
                            when.en
                        ),
                    )
                } else {
                    Bilingual::new(
                        "这是钱包自身的问题,不是你的错:请稍后重试。客服已能通过追踪编号查到这次失败。",
                        "This was a problem on our side, not yours: try again later. Support can find this failure by its trace id.",
                    )
                }
            }
            VerdictKind::AccountState => code.map_or_else(Bilingual::default, |code| {
                Bilingual::from_text(code.entry().remedy)
            }),
        }
    }

    fn input_step(&self, code: Option<ErrorCode>) -> Bilingual {
        use ErrorCode as E;
        let field = self.focused.param.as_deref().unwrap_or("");
        match (code, field) {
            (Some(E::InvalidNumber | E::IncorrectNumber), _) | (_, "number") => Bilingual::new(
                "请对照银行卡正面逐位核对卡号后重新输入,注意不要漏输、多输或颠倒相邻数字。",
                "Check the card number digit by digit against the front of the card and type it again; watch for a missing, extra or swapped digit.",
            ),
            (Some(E::InvalidExpiryMonth | E::InvalidExpiryYear | E::ExpiredCard), _) => {
                Bilingual::new(
                    "请核对卡面上的有效期(月/年);如果卡确已过期,请向银行申领新卡并绑定新卡。",
                    "Check the expiry date (month/year) printed on the card; if the card really has expired, ask the bank for the new card and add that one.",
                )
            }
            (Some(E::InvalidCvc | E::IncorrectCvc), _) => Bilingual::new(
                "请核对卡背面签名栏旁的3位安全码;多次输错可能导致银行暂时锁定这张卡。",
                "Check the 3-digit security code next to the signature on the back of the card; repeated mistakes can make the bank lock the card for a while.",
            ),
            (Some(E::InvalidHolderName), _) => Bilingual::new(
                "请填写与银行预留一致的姓名:中文姓名,或卡面上的拼音/英文姓名。",
                "Enter the name your bank has on file: your Chinese name, or the Latin name printed on the card.",
            ),
            (Some(E::OtpIncorrect | E::OtpExpired), _) | (_, "otp") => Bilingual::new(
                "请输入银行最新一条短信中的6位验证码,并在5分钟内输入;验证码过期时,请重新添加这张卡以获取新验证码。",
                "Enter the 6-digit code from the bank's newest text message within 5 minutes; if it has expired, add the card again to get a new code.",
            ),
            (Some(code), _) => Bilingual::from_text(code.entry().remedy),
            (None, _) => Bilingual::default(),
        }
    }

    fn not_supported_step(&self) -> Bilingual {
        let reason = self
            .focused
            .reason
            .as_deref()
            .and_then(NotSupportedReason::parse)
            .unwrap_or(NotSupportedReason::UnknownBin);
        let subject = refused_subject(reason, &self.focused.card);
        match reason {
            NotSupportedReason::UnknownBin => Bilingual::new(
                "无法从卡号前几位识别发卡行:请先核对卡号;如果卡号无误,请换一张主流银行发行的借记卡或信用卡。",
                "The bank could not be recognised from the first digits: check the number first; if it is right, use a debit or credit card from a major bank.",
            ),
            NotSupportedReason::CardType => Bilingual::new(
                format!(
                    "{}暂不支持绑定:请换一张本人名下的借记卡或信用卡。",
                    subject.zh
                ),
                format!(
                    "{} can't be added: use a debit or credit card in your own name.",
                    subject.en
                ),
            ),
            NotSupportedReason::Brand => Bilingual::new(
                format!(
                    "{}暂不支持绑定:请换一张其他卡组织(如银联)的卡。",
                    subject.zh
                ),
                format!(
                    "{} can't be added: use a card of another brand, such as UnionPay.",
                    subject.en
                ),
            ),
            NotSupportedReason::Country => Bilingual::new(
                format!(
                    "暂不支持{}发行的卡:请换一张中国大陆银行发行的卡。",
                    subject.zh
                ),
                format!(
                    "Cards issued in {} can't be added: use a card from a bank in mainland China.",
                    subject.en
                ),
            ),
            NotSupportedReason::Issuer => Bilingual::new(
                format!(
                    "{}的这张卡暂不能绑定:许多银行只允许一类账户绑定第三方支付,二类、三类账户会被拒绝。请向银行确认账户类别,或换一张一类账户的借记卡。",
                    subject.zh
                ),
                format!(
                    "This card from {} can't be added. Many banks let only Class I accounts bind to third-party payment and refuse Class II and III accounts: ask the bank which class this account is, or use a Class I debit card.",
                    subject.en
                ),
            ),
        }
    }

    fn for_support(&self) -> Bilingual {
        use ErrorCode as E;
        let code = self.focused.code();
        let bank = self.bank();
        let card = self.focused.card.masked_pan.clone().unwrap_or_default();
        let bin: String = card.chars().take(6).collect();
        let trace = &self.focused.trace_id;
        match self.verdict {
            VerdictKind::NoAttempts => no_attempts(self.audience).next_step_support,
            VerdictKind::Bound => Bilingual::new(
                "最终已绑定成功;之前的失败见上文,无需处理。",
                "The card was bound in the end; the earlier failures are told above and need nothing.",
            ),
            VerdictKind::AwaitingSmsCode => Bilingual::new(
                "银行要求短信验证,验证码已发送到银行预留的手机号。若用户说没有收到,多半是银行预留了另一个号码:请用户联系银行核实。",
                "The bank stepped up to an SMS code, sent to the phone it has on file. If the person says none arrived, the bank most likely has another number on file: ask them to check with the bank.",
            ),
            VerdictKind::InputMistake => Bilingual::new(
                format!(
                    "钱包和银行都没有故障:用户输入的{}有误,在询问银行之前就被拦下。若用户坚持输入无误,请核对卡号前6位和后4位({card})与实体卡是否一致。",
                    field_name_zh(self.focused.param.as_deref())
                ),
                format!(
                    "Nothing failed on our side or the bank's: the {} was wrong and was stopped before the bank was asked. If the person insists it was right, compare the first 6 and last 4 digits ({card}) with the card.",
                    field_name_en(self.focused.param.as_deref())
                ),
            ),
            VerdictKind::CardNotSupported => Bilingual::new(
                format!(
                    "支持规则按\"{}\"拒绝了这张卡(卡号段 {}:卡组织、卡种、地区、发卡行见证据)。如果钱包应当接受这类卡,请调整支持规则或BIN表;否则无需处理。",
                    self.focused.reason.as_deref().unwrap_or("unknown_bin"),
                    bin
                ),
                format!(
                    "The support policy refused the card by {} (BIN {}: see the brand, type, country and issuer in the evidence). If the wallet should accept such cards, change the policy or the BIN table; otherwise nothing to do.",
                    self.focused.reason.as_deref().unwrap_or("unknown_bin"),
                    bin
                ),
            ),
            VerdictKind::DeclinedByIssuer => Bilingual::new(
                format!(
                    "{}拒绝了这张卡(decline_code {})。只有银行能说明具体原因,钱包无法代为解除:请用户拨打卡背面的银行电话。若为挂失或被盗,请勿协助绑定。",
                    bank.zh,
                    self.focused.reason.as_deref().unwrap_or("do_not_honor")
                ),
                format!(
                    "{} declined the card (decline_code {}). Only the bank can say why and the wallet cannot lift it: ask the person to call the number on the back of the card. If it is reported lost or stolen, do not help bind it.",
                    bank.en,
                    self.focused.reason.as_deref().unwrap_or("do_not_honor")
                ),
            ),
            VerdictKind::PhoneOnFile => Bilingual::new(
                format!(
                    "{}的四要素核验在手机号上未通过。钱包无法修改银行的记录,需要用户致电银行或到柜台更正预留手机号;最常见的原因是开户时登记错了一位,换号后约需一天生效。",
                    bank.zh
                ),
                format!(
                    "{}'s four-element check failed on the phone number. The wallet cannot change the bank's record: the person must correct it by calling the bank or at a branch. Most often a digit was mistyped when the account was opened; a changed number takes about a day to reach the bank.",
                    bank.en
                ),
            ),
            VerdictKind::RealName => Bilingual::new(
                "持卡人姓名与钱包的实名信息不一致,钱包只允许绑定本人的卡。若用户确认姓名无误而银行仍拒绝,可能是银行仍登记着旧的15位身份证号码,需要到银行柜台更新。",
                "The cardholder name differs from the wallet's verified real name, and only the owner's cards may be added. If the person is sure the name is right and the bank still refuses, the bank may still hold an old 15-digit ID number, which is updated at a bank counter.",
            ),
            VerdictKind::CardLimit => Bilingual::new(
                "用户已达到绑卡数量上限(等待验证的卡也计入),这是钱包规则而非故障;解绑一张卡后即可添加。",
                "The person holds the most cards the wallet allows (pending ones count). This is a wallet rule, not a fault: removing a card frees a place.",
            ),
            VerdictKind::Duplicate => Bilingual::new(
                "同一张卡(按卡号指纹)已在用户钱包中或正在等待验证;无需处理,或请用户完成短信验证。",
                "The same card (by its number's fingerprint) is already in the wallet or waiting for its SMS code: nothing to do, or ask the person to finish the code.",
            ),
            VerdictKind::SecurityLock => Bilingual::new(
                "多次失败后触发了安全锁定,请不要应用户要求提前解除。若用户表示这些尝试并非本人所为,请冻结账户并按异常上报处理。",
                "A security lock after repeated failures: do not lift it on request. If the person says the attempts were not theirs, freeze the account and report it as an anomaly.",
            ),
            VerdictKind::NetworkOrIssuer => {
                if code == Some(E::RequestInProgress) {
                    Bilingual::new(
                        "同一请求被重复提交(常见于网络不稳定时应用自动重试),第一次的结果以幂等记录为准,不会重复绑卡。",
                        "The same request was submitted twice (often an app retrying on an unstable network); the first one's answer stands and nothing is bound twice.",
                    )
                } else if self.in_incident() {
                    Bilingual::new(
                        format!(
                            "{}正处于故障事件中(见 /v1/support/incidents):问题在银行一侧,影响所有用户,无需逐个处理;熔断恢复后用户重试即可。",
                            bank.zh
                        ),
                        format!(
                            "{} is in an open incident (see /v1/support/incidents): the failure is on the bank's side and hits everyone, so nothing needs doing per person; once the breaker closes the person can retry.",
                            bank.en
                        ),
                    )
                } else {
                    let network = self.focused.device.network_type.as_deref().unwrap_or("?");
                    Bilingual::new(
                        format!(
                            "{}目前没有故障事件:若只有此用户失败,多半是用户的网络问题(网络类型 {network},耗时 {} 秒);请查看 /v1/support/health/binding 中该银行的情况。",
                            bank.zh,
                            seconds(self.focused.latency_ms)
                        ),
                        format!(
                            "No incident is open for {}: if only this person fails, suspect their network (network {network}, {} s). Check the bank in /v1/support/health/binding.",
                            bank.en,
                            seconds(self.focused.latency_ms)
                        ),
                    )
                }
            }
            VerdictKind::SystemOrMaintenance => {
                if code == Some(E::Maintenance) {
                    Bilingual::new(
                        "绑卡处于维护窗口中,无需处理;维护结束后用户即可重试。",
                        "Binding was in a maintenance window: nothing to do, the person can retry when it ends.",
                    )
                } else {
                    Bilingual::new(
                        format!(
                            "钱包内部错误:请用追踪编号 {trace} 在服务日志中查找原因;错误应答本身不含任何内部细节。"
                        ),
                        format!(
                            "An internal failure: look up trace id {trace} in the service logs; the error answer itself carries no internal detail."
                        ),
                    )
                }
            }
            VerdictKind::AccountState => Bilingual::new(
                "卡片或账户状态不允许此操作,详见卡片生命周期记录。",
                "The card's or account's state does not allow this; see the card's lifecycle.",
            ),
        }
    }
}

fn field_name_zh(param: Option<&str>) -> &'static str {
    match param {
        Some("number") => "卡号",
        Some("expiry_month" | "expiry_year") => "有效期",
        Some("cvc") => "安全码",
        Some("holder_name") => "持卡人姓名",
        Some("otp") => "短信验证码",
        Some("bank_phone") => "手机号",
        _ => "信息",
    }
}

fn field_name_en(param: Option<&str>) -> &'static str {
    match param {
        Some("number") => "card number",
        Some("expiry_month" | "expiry_year") => "expiry date",
        Some("cvc") => "security code",
        Some("holder_name") => "cardholder name",
        Some("otp") => "SMS code",
        Some("bank_phone") => "phone number",
        _ => "input",
    }
}

#[cfg(test)]
mod tests;
