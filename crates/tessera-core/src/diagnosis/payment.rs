//! A payment's diagnosis: from what is on record about the payment (its
//! status, error and decline codes, cryptogram check, risk score and
//! reasons, consent), its token's history and its card, the same verdicts,
//! story and next steps as a binding's.

use super::next::{capitalised, later_by, solved_by_retry, subject};
use super::payment_advice::{person_step, support_step};
use super::{AttemptExplained, Audience, Bilingual, CardFacts, Diagnosis, VerdictKind};
use crate::error::{DeclineCode, DomainError, ErrorCode, Lang};
use crate::risk::RiskReason;

/// How a payment ended, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentState {
    Approved,
    Declined,
    /// The issuer could not be reached.
    Failed,
    /// The ATC was claimed and the issuer asked; no outcome on record yet.
    Pending,
}

/// One recorded payment, as diagnosis reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentFacts {
    pub payment_id: String,
    pub trace_id: String,
    /// Unix milliseconds.
    pub at_ms: i64,
    pub state: PaymentState,
    pub code: Option<ErrorCode>,
    pub decline_code: Option<DeclineCode>,
    /// verified, invalid or not_checked.
    pub cryptogram_result: String,
    pub risk_score: Option<i64>,
    pub risk_reasons: Vec<RiskReason>,
    /// none, payment_password, sms_code or device; None when the payment
    /// stopped before consent was asked.
    pub consent: Option<String>,
    pub atc: Option<u16>,
    /// The amount as people read it ("12.00 CNY").
    pub amount: String,
    /// The merchant's name, else its id.
    pub merchant: String,
    /// nfc, in_app or ecommerce.
    pub channel: String,
    pub token_ref: String,
    /// For a `domain_mismatch`: `channel` or `merchant_id`, when the record
    /// tells which.
    pub mismatch: Option<String>,
    pub card: CardFacts,
}

impl PaymentFacts {
    /// The error as the payer's terminal was told it, rebuilt.
    pub(super) fn error(&self) -> Option<DomainError> {
        let code = self.code?;
        let mut error = DomainError::new(code);
        error.decline_code = self.decline_code;
        if code == ErrorCode::RiskDeclined {
            error = error.with_risk_reasons(&self.risk_reasons);
        }
        Some(error)
    }

    pub(super) fn failed(&self) -> bool {
        matches!(self.state, PaymentState::Declined | PaymentState::Failed)
    }
}

/// One event of a token's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenEventFacts {
    /// suspend, resume, delete, renewed, card_replaced, expiry_updated,
    /// card_closed.
    pub kind: String,
    /// cardholder, wallet, issuer, risk.
    pub actor: String,
    pub reason: Option<String>,
    pub at_ms: i64,
}

/// The token and card a payment used, as they are now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenFacts {
    /// active, suspended or deleted.
    pub status: String,
    /// Who holds the token suspended now.
    pub suspended_by: Vec<String>,
    /// Its history, any order.
    pub events: Vec<TokenEventFacts>,
    /// active, unbound, closed, ...
    pub card_status: Option<String>,
    pub card_reissued_at_ms: Option<i64>,
}

impl TokenFacts {
    /// The latest event of `kinds` at or before `at_ms`.
    pub(super) fn last_before(&self, kinds: &[&str], at_ms: i64) -> Option<&TokenEventFacts> {
        self.events
            .iter()
            .filter(|e| kinds.contains(&e.kind.as_str()) && e.at_ms <= at_ms)
            .max_by_key(|e| e.at_ms)
    }

    /// Who suspended the token a payment at `at_ms` found suspended.
    pub(super) fn suspender(&self, at_ms: i64) -> Option<String> {
        self.last_before(&["suspend"], at_ms)
            .map(|e| e.actor.clone())
            .or_else(|| self.suspended_by.first().cloned())
    }
}

/// The verdict of one payment.
pub(super) fn verdict_of(payment: &PaymentFacts) -> VerdictKind {
    match (payment.state, payment.code) {
        (PaymentState::Approved, _) => VerdictKind::Approved,
        (PaymentState::Pending, _) => VerdictKind::PaymentPending,
        (_, Some(ErrorCode::CardDeclined))
            if payment.decline_code == Some(DeclineCode::CardReissued) =>
        {
            VerdictKind::CardReissued
        }
        (_, Some(code)) => VerdictKind::of_code(code),
        (PaymentState::Failed, None) => VerdictKind::NetworkOrIssuer,
        (PaymentState::Declined, None) => VerdictKind::DeclinedByIssuer,
    }
}

/// The facts one payment's advice reads.
pub(super) struct PaymentCase<'a> {
    pub(super) payment: &'a PaymentFacts,
    pub(super) verdict: VerdictKind,
    pub(super) token: Option<&'a TokenFacts>,
}

/// Diagnoses the payment `focus` (a payment id or a trace id) among
/// `payments` (the same person's, any order), with the token it used. The
/// story tells the payments with the same card up to the focus, then what
/// came after it. None when `focus` is not among `payments`.
pub fn diagnose_payment(
    payments: &[PaymentFacts],
    focus: &str,
    token: Option<&TokenFacts>,
    audience: Audience,
) -> Option<Diagnosis> {
    let mut ordered: Vec<&PaymentFacts> = payments.iter().collect();
    ordered.sort_by(|a, b| a.at_ms.cmp(&b.at_ms).then(a.payment_id.cmp(&b.payment_id)));
    let index = ordered
        .iter()
        .position(|p| p.payment_id == focus || p.trace_id == focus)?;
    let focused = ordered[index];
    let verdict = verdict_of(focused);
    let case = PaymentCase {
        payment: focused,
        verdict,
        token,
    };
    let same_token = |p: &&&PaymentFacts| p.token_ref == focused.token_ref;
    let before: Vec<&PaymentFacts> = ordered[..=index]
        .iter()
        .filter(same_token)
        .copied()
        .collect();
    let after: Vec<&PaymentFacts> = ordered[index + 1..]
        .iter()
        .filter(same_token)
        .copied()
        .collect();
    let mut story = story(&before, audience);
    if let Some(sentence) = token_sentence(&case) {
        story = story.then(&sentence);
    }
    let mut diagnosis = Diagnosis {
        verdict,
        code: focused.code,
        trace_id: Some(focused.trace_id.clone()),
        headline: headline(focused, verdict),
        story,
        device: Bilingual::new(
            format!("支付渠道：{}。", channel_name(&focused.channel).zh),
            format!("Paid by {}.", channel_name(&focused.channel).en),
        ),
        next_step_person: person_step(&case),
        next_step_support: support_step(&case),
        attempts: ordered.iter().map(|p| explain(p, audience)).collect(),
        payment_id: Some(focused.payment_id.clone()),
        resolved_by: None,
    };
    what_came_next(&mut diagnosis, focused, &after, audience);
    Some(diagnosis)
}

fn headline(payment: &PaymentFacts, verdict: VerdictKind) -> Bilingual {
    let title = verdict.title();
    match payment.error() {
        Some(error) => Bilingual::new(
            format!("{}：{}", title.zh, error.message(Lang::ZhCn)),
            format!("{}: {}", title.en, error.message(Lang::En)),
        ),
        None => Bilingual::new(title.zh, title.en),
    }
}

pub(super) fn channel_name(channel: &str) -> Bilingual {
    match channel {
        "nfc" => Bilingual::new("手机碰一碰（NFC）", "tap to pay (NFC)"),
        "in_app" => Bilingual::new("应用内支付", "in-app payment"),
        "ecommerce" => Bilingual::new("网上支付", "online payment"),
        other => Bilingual::new(other, other),
    }
}

/// One payment as a clause: "在星巴克支付12.00 CNY，被发卡行拒绝：…".
fn clause(payment: &PaymentFacts) -> Bilingual {
    let (amount, merchant) = (&payment.amount, &payment.merchant);
    match (payment.state, payment.error()) {
        (PaymentState::Approved, _) => Bilingual::new(
            format!("在{merchant}支付{amount}，支付成功"),
            format!("paid {amount} at {merchant}, approved"),
        ),
        (PaymentState::Pending, _) => Bilingual::new(
            format!("在{merchant}支付{amount}，结果尚未记录"),
            format!("paid {amount} at {merchant}, with no outcome on record yet"),
        ),
        (_, Some(error)) => Bilingual::new(
            format!(
                "在{merchant}支付{amount}，没有成功：{}",
                error.message(Lang::ZhCn)
            ),
            format!(
                "tried to pay {amount} at {merchant}, which failed: {}",
                lower_first(&error.message(Lang::En))
            ),
        ),
        (_, None) => Bilingual::new(
            format!("在{merchant}支付{amount}，没有成功"),
            format!("tried to pay {amount} at {merchant}, which failed"),
        ),
    }
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The payments with this card up to the focus, oldest first, at most the
/// last five told (older ones counted).
fn story(payments: &[&PaymentFacts], audience: Audience) -> Bilingual {
    let (who_zh, who_en) = subject(audience);
    let skipped = payments.len().saturating_sub(5);
    let mut zh = String::new();
    let mut en = String::new();
    if skipped > 0 {
        zh.push_str(&format!("在更早的{skipped}笔支付之后，"));
        en.push_str(&format!("After {skipped} earlier payments, "));
    }
    for (index, payment) in payments[skipped..].iter().enumerate() {
        let told = clause(payment);
        if index == 0 {
            zh.push_str(who_zh);
            en.push_str(who_en);
            en.push(' ');
        } else {
            zh.push_str("，随后");
            en.push_str(", then ");
        }
        zh.push_str(&told.zh);
        en.push_str(&told.en);
    }
    zh.push('。');
    en.push('.');
    Bilingual::new(zh, capitalised(&en))
}

pub(super) fn actor_name(actor: &str) -> Bilingual {
    match actor {
        "cardholder" => Bilingual::new("持卡人本人", "the cardholder"),
        "issuer" => Bilingual::new("发卡行", "the bank"),
        "wallet" => Bilingual::new("钱包", "the wallet"),
        "risk" => Bilingual::new("钱包的风控", "the wallet's risk checks"),
        other => Bilingual::new(other, other),
    }
}

/// What the token's history says about a payment the token stopped.
fn token_sentence(case: &PaymentCase<'_>) -> Option<Bilingual> {
    let token = case.token?;
    let at = case.payment.at_ms;
    let (kinds, zh, en): (&[&str], &str, &str) = match case.verdict {
        VerdictKind::TokenSuspended => (&["suspend"], "暂停", "suspended"),
        VerdictKind::CardUnbound => (
            &["delete", "card_closed"],
            "删除（解绑）",
            "deleted (removed)",
        ),
        VerdictKind::CardReissued => (&["card_replaced"], "标记为已换新卡", "marked replaced"),
        // Keys a phone held from before a renewal fail their check.
        VerdictKind::CryptogramInvalid => (
            &["renewed"],
            "续期（换了新密钥，之前的密钥不能再支付）",
            "renewed (new keys: the ones from before pay no more)",
        ),
        _ => return None,
    };
    let event = token.last_before(kinds, at)?;
    let gap = later_by(at - event.at_ms);
    let actor = actor_name(&event.actor);
    let (reason_zh, reason_en) = match event.reason.as_deref().filter(|r| !r.trim().is_empty()) {
        Some(reason) => (format!("，原因：{reason}"), format!(" (reason: {reason})")),
        None => (String::new(), String::new()),
    };
    Some(Bilingual::new(
        format!(
            "这张卡在这笔支付的{}被{}{zh}{reason_zh}。",
            before_words(&gap.zh),
            actor.zh
        ),
        format!(
            "The card had been {en} by {}{reason_en}, {} before this payment.",
            actor.en,
            gap.en.trim_end_matches(" later")
        ),
    ))
}

/// "3分钟后" -> "3分钟前".
fn before_words(later: &str) -> String {
    format!("{}前", later.trim_end_matches('后'))
}

/// Adds what came after the focused payment with the same token.
fn what_came_next(
    diagnosis: &mut Diagnosis,
    focused: &PaymentFacts,
    after: &[&PaymentFacts],
    audience: Audience,
) {
    if !focused.failed() || after.is_empty() {
        return;
    }
    let (who_zh, who_en) = subject(audience);
    if let Some(approved) = after.iter().find(|p| p.state == PaymentState::Approved) {
        let gap_ms = approved.at_ms - focused.at_ms;
        let gap = later_by(gap_ms);
        let story = Bilingual::new(
            format!(
                "{}，{who_zh}用同一张卡在{}支付{}，支付成功。",
                gap.zh, approved.merchant, approved.amount
            ),
            format!(
                "{}, {who_en} paid {} at {} with the same card, approved.",
                capitalised(&gap.en),
                approved.amount,
                approved.merchant
            ),
        );
        let person = Bilingual::new(
            "无需操作：之后用这张卡再次支付已经成功，这张卡可以正常使用。",
            "Nothing to do: a later payment with this card went through, and the card works.",
        );
        solved_by_retry(diagnosis, gap_ms, &approved.trace_id, story, person);
        return;
    }
    let n = after.len();
    diagnosis.story = diagnosis.story.clone().then(&Bilingual::new(
        format!("之后{who_zh}又用同一张卡支付了{n}次，都没有成功。"),
        format!(
            "Afterwards {who_en} tried to pay with the same card {} more, without success.",
            super::next::times_en(n)
        ),
    ));
}

fn explain(payment: &PaymentFacts, audience: Audience) -> AttemptExplained {
    let (who_zh, who_en) = subject(audience);
    let told = clause(payment);
    let (message, remedy) = match payment.error() {
        Some(error) => (
            Bilingual::new(error.message(Lang::ZhCn), error.message(Lang::En)),
            Bilingual::new(error.remedy(Lang::ZhCn), error.remedy(Lang::En)),
        ),
        None => (Bilingual::default(), Bilingual::default()),
    };
    AttemptExplained {
        trace_id: payment.trace_id.clone(),
        happened: Bilingual::new(
            format!("{who_zh}{}。", told.zh),
            format!("{} {}.", capitalised(who_en), told.en),
        ),
        message,
        remedy,
    }
}
