//! `DomainError`: an error code with the detail the API shows beside it.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, Utc};

use super::lang::t;
use super::{
    AttemptLimit, CatalogEntry, DeclineCode, ErrorCode, Lang, NotSupported, Text, wait_en, wait_zh,
};
use crate::payment_password::TooSimple;
use crate::risk::RiskReason;
use crate::token::lifecycle::suspension_text;

/// An error from the domain, with the detail the API shows inside the error
/// object. It never holds a PAN, CVC, OTP, password or key: only codes,
/// field names and counters.
#[derive(Debug, Clone, PartialEq)]
pub struct DomainError {
    pub code: ErrorCode,
    /// The request field at fault, when one is.
    pub param: Option<Cow<'static, str>>,
    pub not_supported: Option<Box<NotSupported>>,
    pub decline_code: Option<DeclineCode>,
    /// u16 keeps the error small (clippy's large-error bound).
    pub attempts_left: Option<u16>,
    /// When a lock that is not one of the counted limits lifts (a sign-in
    /// lock); a limit's own time is in `limit`.
    pub locked_until: Option<Box<DateTime<Utc>>>,
    /// Seconds; u32 keeps the error small (clippy's large-error bound).
    pub retry_after_secs: Option<u32>,
    /// Who suspended a token (issuer, wallet, cardholder, risk).
    pub suspended_by: Vec<String>,
    /// A text shown in place of the catalogue's message, in both
    /// languages: an operator's (a maintenance notice), or what was wrong
    /// with a value the request sent (see [`Notice`]; boxed: most errors
    /// have none, and the error stays small).
    pub notice: Option<Box<Notice>>,
    /// The record the error is about, so that the caller and support can
    /// find it: the payment a decline was recorded as, the card already
    /// bound.
    pub record: Option<Box<ErrorRecord>>,
    /// The limit a `too_many_attempts` hit (boxed: most errors have none,
    /// and the error stays small).
    pub limit: Option<Box<LimitHit>>,
    /// Which lock a `too_many_attempts` is, when it is not a binding's:
    /// its message and remedy say how that lock ends.
    pub lockout: Option<Lockout>,
    /// The most characters the field named by `param` may hold
    /// (`field_too_long`; u16 keeps the error small, and no field is
    /// longer).
    pub max_length: Option<u16>,
    /// Why a new payment password was refused
    /// (`payment_password_too_simple`).
    pub too_simple: Option<TooSimple>,
    /// How the person may confirm, and the risk rules' reasons
    /// (`authentication_required`, `risk_declined`; boxed: most errors
    /// have none, and the error stays small).
    pub safety: Option<Box<SafetyDetail>>,
    /// The field named by `param` was left empty: the message says so,
    /// rather than calling an empty field a wrong one.
    pub missing: bool,
}

/// A text shown in place of the catalogue's message, in zh-CN and en.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub zh: String,
    pub en: String,
    /// It says what was wrong with the value of the parameter named by
    /// `param` (a query parameter a route does not take, or whose value
    /// does not parse): it replaces the remedy too, which speaks of a
    /// JSON body ([`DomainError::with_detail`]).
    pub about_value: bool,
}

/// What stopped a payment for the person's safety.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SafetyDetail {
    /// How the person may confirm (`authentication_required`).
    pub next_action: Option<NextAction>,
    /// The risk rules' reasons (`risk_declined`, and an
    /// `authentication_required` the rules asked for), highest first.
    pub risk_reasons: Vec<RiskReason>,
}

/// What the person does to go on after `authentication_required`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextAction {
    /// The ways they may confirm: `payment_password` or `sms_code` (a
    /// confirmation from `POST /v1/me/verifications`, purpose `payment`),
    /// or `device` (fingerprint, face or passcode on the phone, reported in
    /// the cryptogram).
    pub methods: Vec<&'static str>,
    /// Why: `above_payment_limit`, `above_daily_limit` or `risk`.
    pub reason: &'static str,
}

/// Which limit a `too_many_attempts` hit, the number it allows, and when
/// it lifts, when it lifts by itself (`locked_until` in the API).
#[derive(Debug, Clone, PartialEq)]
pub struct LimitHit {
    pub limit: AttemptLimit,
    pub max: u32,
    pub until: Option<DateTime<Utc>>,
}

/// A lock on something other than a card binding, each with its own way
/// out (the catalogue's `too_many_attempts` text speaks of binding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lockout {
    /// Too many wrong passwords for one phone number: lifts at
    /// `locked_until`, or when the password is reset.
    SignIn,
    /// Too many wrong tries of one text-message code: the code is spent.
    SmsCode,
}

impl Lockout {
    fn message(self) -> Text {
        match self {
            Lockout::SignIn => t(
                "登录失败次数过多，这个手机号已被暂时锁定",
                "Too many failed sign-ins: this phone number is locked for now",
            ),
            Lockout::SmsCode => t(
                "验证码输错次数过多，这个验证码已作废",
                "Too many wrong tries: this code no longer works",
            ),
        }
    }

    fn remedy(self) -> Text {
        match self {
            Lockout::SignIn => t(
                "请在解锁后再试；忘记密码的话，点“忘记密码”，用短信验证码重设密码，重设后立即解锁。",
                "Try again once it unlocks, or choose Forgot password and reset your password with a text-message code, which lifts the lock at once.",
            ),
            Lockout::SmsCode => t(
                "请重新获取验证码后再试。",
                "Request a new code and try again.",
            ),
        }
    }
}

/// A record an error names (`DomainError::record`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorRecord {
    /// `payment_id`: the payment a decline was recorded as (`pay_...`).
    Payment(String),
    /// `card_id`: the card a `card_already_bound` or `otp_required` is
    /// about.
    Card(String),
    /// `refund_id`: the refund a declined or failed refund was recorded as
    /// (`rfd_...`).
    Refund(String),
    /// `transfer_id`: the transfer a declined or failed transfer was
    /// recorded as (`trf_...`).
    Transfer(String),
}

impl DomainError {
    pub fn new(code: ErrorCode) -> Self {
        DomainError {
            code,
            param: None,
            not_supported: None,
            decline_code: None,
            attempts_left: None,
            locked_until: None,
            retry_after_secs: None,
            suspended_by: Vec::new(),
            notice: None,
            record: None,
            limit: None,
            lockout: None,
            max_length: None,
            too_simple: None,
            safety: None,
            missing: false,
        }
    }

    /// `code` for the field `param` left empty (a credit card's expiry or
    /// security code, say): its own words, not those of a wrong value.
    pub fn missing(code: ErrorCode, param: &'static str) -> Self {
        let mut error = DomainError::new(code).with_param(param);
        error.missing = missing_text(param).is_some();
        error
    }

    /// `authentication_required`: confirm with one of `methods`, because of
    /// `reason`.
    pub fn confirm_first(methods: Vec<&'static str>, reason: &'static str) -> Self {
        let mut error = DomainError::new(ErrorCode::AuthenticationRequired);
        error.safety = Some(Box::new(SafetyDetail {
            next_action: Some(NextAction { methods, reason }),
            risk_reasons: Vec::new(),
        }));
        error
    }

    /// The risk rules' reasons, for the person and for support.
    pub fn with_risk_reasons(mut self, reasons: &[RiskReason]) -> Self {
        if !reasons.is_empty() {
            self.safety.get_or_insert_default().risk_reasons = reasons.to_vec();
        }
        self
    }

    /// `payment_password_too_simple`, for `reason`.
    pub fn too_simple(reason: TooSimple) -> Self {
        let mut error =
            DomainError::new(ErrorCode::PaymentPasswordTooSimple).with_param("payment_password");
        error.too_simple = Some(reason);
        error
    }

    /// `too_many_attempts` for `limit`, which allows `max`; `until` is when
    /// it lifts, when it lifts by itself (`now` is the time of the answer).
    pub fn limit_hit(
        limit: AttemptLimit,
        max: u32,
        until: Option<(DateTime<Utc>, DateTime<Utc>)>,
    ) -> Self {
        let mut error = DomainError::new(ErrorCode::TooManyAttempts);
        if let Some((until, now)) = until {
            // Rounded up: a retry at the announced second is allowed.
            let millis = (until - now).num_milliseconds().max(0);
            let secs = u64::try_from(millis).unwrap_or(0).div_ceil(1000).max(1);
            error = error.with_retry_after(secs);
        }
        error.limit = Some(Box::new(LimitHit {
            limit,
            max,
            until: until.map(|(until, _)| until),
        }));
        error
    }

    /// A `too_many_attempts` for `lockout`.
    pub fn locked_out(lockout: Lockout) -> Self {
        let mut error = DomainError::new(ErrorCode::TooManyAttempts);
        error.lockout = Some(lockout);
        error
    }

    pub fn with_param(mut self, param: impl Into<Cow<'static, str>>) -> Self {
        self.param = Some(param.into());
        self
    }

    pub fn not_supported(not_supported: NotSupported) -> Self {
        let mut error = DomainError::new(ErrorCode::CardNotSupported).with_param("number");
        error.not_supported = Some(Box::new(not_supported));
        error
    }

    pub fn declined(decline_code: DeclineCode) -> Self {
        let mut error = DomainError::new(ErrorCode::CardDeclined);
        error.decline_code = Some(decline_code);
        error
    }

    /// The bank's reason for a refusal other than `card_declined`.
    pub fn with_decline_code(mut self, decline_code: DeclineCode) -> Self {
        self.decline_code = Some(decline_code);
        self
    }

    pub fn with_attempts_left(mut self, attempts_left: u32) -> Self {
        self.attempts_left = Some(u16::try_from(attempts_left).unwrap_or(u16::MAX));
        self
    }

    pub fn with_locked_until(mut self, locked_until: DateTime<Utc>) -> Self {
        self.locked_until = Some(Box::new(locked_until));
        self
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after_secs = Some(u32::try_from(seconds).unwrap_or(u32::MAX));
        self
    }

    pub fn with_notice(mut self, zh: impl Into<String>, en: impl Into<String>) -> Self {
        self.notice = Some(Box::new(Notice {
            zh: zh.into(),
            en: en.into(),
            about_value: false,
        }));
        self
    }

    pub fn with_suspenders(mut self, suspended_by: Vec<String>) -> Self {
        self.suspended_by = suspended_by;
        self
    }

    pub fn with_payment_id(mut self, payment_id: impl Into<String>) -> Self {
        self.record = Some(Box::new(ErrorRecord::Payment(payment_id.into())));
        self
    }

    pub fn with_refund_id(mut self, refund_id: impl Into<String>) -> Self {
        self.record = Some(Box::new(ErrorRecord::Refund(refund_id.into())));
        self
    }

    pub fn with_transfer_id(mut self, transfer_id: impl Into<String>) -> Self {
        self.record = Some(Box::new(ErrorRecord::Transfer(transfer_id.into())));
        self
    }

    pub fn with_card_id(mut self, card_id: impl Into<String>) -> Self {
        self.record = Some(Box::new(ErrorRecord::Card(card_id.into())));
        self
    }

    /// Says what was wrong with the value of `param`, in zh-CN and en (see
    /// `detail`).
    pub fn with_detail(mut self, zh: impl Into<String>, en: impl Into<String>) -> Self {
        self.notice = Some(Box::new(Notice {
            zh: zh.into(),
            en: en.into(),
            about_value: true,
        }));
        self
    }

    /// Whether the message says what was wrong with a value (`with_detail`).
    pub fn has_detail(&self) -> bool {
        self.notice.as_ref().is_some_and(|n| n.about_value)
    }

    pub fn with_max_length(mut self, max_chars: usize) -> Self {
        self.max_length = Some(u16::try_from(max_chars).unwrap_or(u16::MAX));
        self
    }

    pub fn entry(&self) -> &'static CatalogEntry {
        self.code.entry()
    }

    /// The reason a `card_declined` gives, whose texts speak of the
    /// person's own card; another refusal (a transfer's, about the
    /// destination card) keeps its own texts and carries the code alone.
    fn card_decline(&self) -> Option<DeclineCode> {
        self.decline_code
            .filter(|_| self.code == ErrorCode::CardDeclined)
    }

    /// The message for this error, made specific where the detail allows.
    pub fn message(&self, lang: Lang) -> String {
        if let Some(notice) = &self.notice {
            let text = match lang {
                Lang::ZhCn => &notice.zh,
                Lang::En => &notice.en,
            };
            if notice.about_value || !text.trim().is_empty() {
                return text.clone();
            }
        }
        if let Some(not_supported) = &self.not_supported {
            return not_supported.message(lang);
        }
        if let Some((message, _)) = self.missing_text() {
            return message.get(lang).to_owned();
        }
        if let Some(lockout) = self.lockout {
            return with_wait(lockout.message().get(lang), self.lock_wait(), lang);
        }
        if let Some(reason) = self.too_simple {
            return reason.message().get(lang).to_owned();
        }
        if let Some(decline) = self.card_decline() {
            return decline.message().get(lang).to_owned();
        }
        if let Some((message, _)) = suspension_text(&self.suspended_by, lang) {
            return message.to_owned();
        }
        if let Some(hit) = &self.limit {
            return hit.limit.message(hit.max, lang);
        }
        let base = self.code.entry().message.get(lang);
        if self.code == ErrorCode::PaymentPasswordLocked {
            return with_wait(base, self.lock_wait(), lang);
        }
        if let Some(max) = self.max_length {
            return match lang {
                Lang::ZhCn => format!("{base}：最多{max}个字符"),
                Lang::En => format!("{base}: at most {max} characters"),
            };
        }
        // A lock says when it lifts instead (`locked_until`).
        let left = self
            .attempts_left
            .filter(|_| self.code != ErrorCode::PaymentPasswordLocked);
        match (left, lang) {
            (Some(left), Lang::ZhCn) => format!("{base}，还可尝试{left}次"),
            (Some(1), Lang::En) => format!("{base}: 1 attempt left"),
            (Some(left), Lang::En) => format!("{base}: {left} attempts left"),
            (None, _) => base.to_owned(),
        }
    }

    /// What the person can do, made specific where the detail allows.
    pub fn remedy(&self, lang: Lang) -> String {
        if self.has_detail() {
            return t(
                "请按上面的提示改正后再试。",
                "Correct it as the message says, then try again.",
            )
            .get(lang)
            .to_owned();
        }
        if let Some((_, remedy)) = self.missing_text() {
            return remedy.get(lang).to_owned();
        }
        if let Some(decline) = self.card_decline() {
            return decline.remedy().get(lang).to_owned();
        }
        if let Some(remedy) = self.not_supported.as_ref().and_then(|n| n.remedy()) {
            return remedy.get(lang).to_owned();
        }
        if let Some(lockout) = self.lockout {
            return lockout.remedy().get(lang).to_owned();
        }
        if let Some(reason) = self.too_simple {
            return reason.remedy().get(lang).to_owned();
        }
        if let Some((_, remedy)) = suspension_text(&self.suspended_by, lang) {
            return remedy.to_owned();
        }
        if let Some(hit) = &self.limit {
            return hit.limit.remedy(self.retry_after_secs, lang);
        }
        if let Some(remedy) = self.wait_remedy(lang) {
            return remedy;
        }
        self.code.entry().remedy.get(lang).to_owned()
    }
}

impl DomainError {
    fn missing_text(&self) -> Option<(Text, Text)> {
        self.param
            .as_deref()
            .filter(|_| self.missing)
            .and_then(missing_text)
    }

    /// How long to wait, for the refusals that ask the person to come back
    /// shortly, when the error says (`retry_after`).
    fn wait_remedy(&self, lang: Lang) -> Option<String> {
        let secs = self.retry_after_secs?;
        let wait = match lang {
            Lang::ZhCn if secs < 60 => format!("{secs}秒"),
            Lang::ZhCn => wait_zh(secs),
            Lang::En if secs == 1 => "1 second".to_owned(),
            Lang::En if secs < 60 => format!("{secs} seconds"),
            Lang::En => wait_en(secs),
        };
        Some(match (self.code, lang) {
            (ErrorCode::RateLimited, Lang::ZhCn) => format!("请过{wait}再试。"),
            (ErrorCode::RateLimited, Lang::En) => format!("Try again in {wait}."),
            (ErrorCode::Overloaded, Lang::ZhCn) => {
                format!("这不是你的问题，请过{wait}再试。这次请求没有被处理，也不计入错误次数。")
            }
            (ErrorCode::Overloaded, Lang::En) => format!(
                "This is not your fault: try again in {wait}. Nothing was done with this request, and it does not count as a wrong try."
            ),
            (ErrorCode::OtpResendTooSoon, Lang::ZhCn) => {
                format!("请先查看手机短信；如果还没有收到，请过{wait}再重新发送验证码。")
            }
            (ErrorCode::OtpResendTooSoon, Lang::En) => format!(
                "Check your text messages first; if the code has not arrived, send it again in {wait}."
            ),
            _ => return None,
        })
    }

    /// The seconds until a lock lifts, when the error says.
    fn lock_wait(&self) -> Option<u32> {
        self.retry_after_secs
            .filter(|_| self.locked_until.is_some())
    }
}

/// "…. It unlocks in 12 minutes": how long a lock lasts, from the seconds
/// the error carries.
fn with_wait(base: &str, wait: Option<u32>, lang: Lang) -> String {
    match (wait, lang) {
        (Some(secs), Lang::ZhCn) => format!("{base}，{}后自动解锁", wait_zh(secs)),
        (Some(secs), Lang::En) => format!("{base}. It unlocks in {}", wait_en(secs)),
        (None, _) => base.to_owned(),
    }
}

/// The message and remedy of a field left empty, for the fields a card
/// binding may leave out.
fn missing_text(param: &str) -> Option<(Text, Text)> {
    Some(match param {
        "number" => (
            t("还没有填写卡号", "The card number is missing"),
            t(
                "请输入银行卡正面的卡号。",
                "Enter the number from the front of the card.",
            ),
        ),
        "expiry_month" => (
            t("还没有填写有效期的月份", "The expiry month is missing"),
            t(
                "信用卡需要填写有效期：请输入卡面上有效期的月份（01到12）和年份。",
                "A credit card needs its expiry date: enter the month (01 to 12) and the year printed on the card.",
            ),
        ),
        "expiry_year" => (
            t("还没有填写有效期的年份", "The expiry year is missing"),
            t(
                "请输入卡面上有效期的年份（两位或四位，例如 28 或 2028）。",
                "Enter the year printed on the card, two or four digits (for example 28 or 2028).",
            ),
        ),
        "cvc" => (
            t("还没有填写安全码", "The security code is missing"),
            t(
                "信用卡需要填写安全码：卡背面签名栏旁的3位数字（美国运通卡为卡正面的4位数字）。",
                "A credit card needs its security code: the 3 digits next to the signature on the back (4 digits on the front for American Express).",
            ),
        ),
        _ => return None,
    })
}

impl From<ErrorCode> for DomainError {
    fn from(code: ErrorCode) -> Self {
        DomainError::new(code)
    }
}

impl fmt::Display for DomainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message(Lang::En))?;
        if let Some(param) = &self.param {
            write!(f, " (param {param})")?;
        }
        Ok(())
    }
}

impl std::error::Error for DomainError {}
