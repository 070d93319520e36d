//! The sandbox issuer. Its answer is chosen by the three digits just before
//! a card's check digit, so anyone can try every path with any BIN
//! (`tessera sandbox card --bin 622848 --outcome otp`). Latency and failure
//! rate are configuration, changed at run time through the store so that
//! every node sees the same sandbox. Payments, and refunds likewise, are
//! answered by the amount's last two digits in minor units, after the ISO
//! 8583 response codes (`PaymentOutcome`).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tessera_core::error::{DeclineCode, DomainError, ErrorCode, NotSupported, NotSupportedReason};
use tessera_store::Store;

use super::{
    AuthorizationAnswer, BindingVerification, Issuer, IssuerAnswer, PaymentAuthorization,
    RefundOrder, TransferAnswer, TransferOrder,
};
use crate::config::SandboxIssuerConfig;

/// The settings row that holds run-time overrides.
pub const SETTING: &str = "sandbox_issuer";

/// Every outcome the sandbox can be asked for, with its digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Approve,
    Otp,
    DoNotHonor,
    LostCard,
    StolenCard,
    IncorrectCvc,
    PhoneMismatch,
    NotParticipating,
    Unavailable,
    Slow,
    AccountClass,
}

impl Outcome {
    pub const ALL: [Outcome; 11] = [
        Outcome::Approve,
        Outcome::Otp,
        Outcome::DoNotHonor,
        Outcome::LostCard,
        Outcome::StolenCard,
        Outcome::IncorrectCvc,
        Outcome::PhoneMismatch,
        Outcome::NotParticipating,
        Outcome::Unavailable,
        Outcome::Slow,
        Outcome::AccountClass,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Outcome::Approve => "approve",
            Outcome::Otp => "otp",
            Outcome::DoNotHonor => "do_not_honor",
            Outcome::LostCard => "lost_card",
            Outcome::StolenCard => "stolen_card",
            Outcome::IncorrectCvc => "incorrect_cvc",
            Outcome::PhoneMismatch => "phone_mismatch",
            Outcome::NotParticipating => "not_participating",
            Outcome::Unavailable => "unavailable",
            Outcome::Slow => "slow",
            Outcome::AccountClass => "account_class",
        }
    }

    pub fn parse(name: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.name() == name)
    }

    /// The three digits before the check digit that choose this outcome.
    pub fn digits(self) -> &'static str {
        match self {
            Outcome::Approve => "000",
            Outcome::Otp => "100",
            Outcome::DoNotHonor => "200",
            Outcome::LostCard => "201",
            Outcome::StolenCard => "202",
            Outcome::IncorrectCvc => "300",
            Outcome::PhoneMismatch => "320",
            Outcome::NotParticipating => "400",
            Outcome::Unavailable => "500",
            Outcome::Slow => "510",
            Outcome::AccountClass => "410",
        }
    }

    /// What the person sees, for the README and `tessera demo`.
    pub fn description(self) -> &'static str {
        match self {
            Outcome::Approve => "bound at once (201)",
            Outcome::Otp => "SMS code step-up (202), code in the sandbox phone",
            Outcome::DoNotHonor => "402 card_declined, decline_code do_not_honor",
            Outcome::LostCard => "402 card_declined, decline_code lost_card",
            Outcome::StolenCard => "402 card_declined, decline_code stolen_card",
            Outcome::IncorrectCvc => "402 incorrect_cvc",
            Outcome::PhoneMismatch => "402 phone_mismatch (the bank has another phone on file)",
            Outcome::NotParticipating => "422 card_not_supported, reason issuer",
            Outcome::Unavailable => "503 issuer_unavailable with Retry-After",
            Outcome::Slow => "the issuer takes the slow time (2 s), then binds",
            Outcome::AccountClass => {
                "422 card_not_supported, reason account_class (a Class II or III account)"
            }
        }
    }

    /// The outcome a card number asks for: digits before the check digit.
    pub fn of_number(digits: &str) -> Outcome {
        let len = digits.len();
        let chosen = if len >= 4 {
            &digits[len - 4..len - 1]
        } else {
            ""
        };
        Outcome::ALL
            .into_iter()
            .find(|o| o.digits() == chosen)
            .unwrap_or(Outcome::Approve)
    }
}

/// How the sandbox answers a payment: chosen by the last two digits of the
/// amount in minor units (12.51 CNY is 1251: `51`), after the ISO 8583
/// response codes; every other amount is approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentOutcome {
    Approve,
    Decline(DeclineCode),
    Unavailable,
}

impl PaymentOutcome {
    /// (last two digits, outcome, what the merchant sees), for the README.
    pub const MAGIC: [(u64, PaymentOutcome, &'static str); 9] = [
        (
            5,
            PaymentOutcome::Decline(DeclineCode::DoNotHonor),
            "402 card_declined, decline_code do_not_honor",
        ),
        (
            41,
            PaymentOutcome::Decline(DeclineCode::LostCard),
            "402 card_declined, decline_code lost_card",
        ),
        (
            43,
            PaymentOutcome::Decline(DeclineCode::StolenCard),
            "402 card_declined, decline_code stolen_card",
        ),
        (
            51,
            PaymentOutcome::Decline(DeclineCode::InsufficientFunds),
            "402 card_declined, decline_code insufficient_funds",
        ),
        (
            56,
            PaymentOutcome::Decline(DeclineCode::CardReissued),
            "402 card_declined, decline_code card_reissued (later payments refused at once)",
        ),
        (
            57,
            PaymentOutcome::Decline(DeclineCode::OnlinePaymentDisabled),
            "402 card_declined, decline_code online_payment_disabled",
        ),
        (
            61,
            PaymentOutcome::Decline(DeclineCode::ExceedsLimit),
            "402 card_declined, decline_code exceeds_limit",
        ),
        (
            65,
            PaymentOutcome::Decline(DeclineCode::QuickPayLimitExceeded),
            "402 card_declined, decline_code quick_pay_limit_exceeded",
        ),
        (
            91,
            PaymentOutcome::Unavailable,
            "503 issuer_unavailable with Retry-After (the cryptogram stays usable)",
        ),
    ];

    pub fn of_amount(amount: u64) -> PaymentOutcome {
        let cents = amount % 100;
        PaymentOutcome::MAGIC
            .iter()
            .find(|(digits, _, _)| *digits == cents)
            .map_or(PaymentOutcome::Approve, |(_, outcome, _)| *outcome)
    }
}

/// A Luhn-valid test card number of `length` digits that starts with
/// `prefix` and asks the sandbox for `outcome`. The digits between are
/// random, so each call gives a new card.
pub fn card_number(prefix: &str, length: usize, outcome: Outcome) -> Result<String, String> {
    if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("the BIN {prefix:?} must be digits"));
    }
    if !(12..=19).contains(&length) {
        return Err(format!("a card number has 12 to 19 digits, not {length}"));
    }
    let filler = length
        .checked_sub(prefix.len() + 3 + 1)
        .ok_or_else(|| format!("a {length}-digit card has no room after the BIN {prefix}"))?;
    let mut random = vec![0u8; filler];
    tessera_core::crypto::random_digits(&mut random).map_err(|e| e.to_string())?;
    let mut payload = String::with_capacity(length);
    payload.push_str(prefix);
    payload.extend(random.iter().map(|d| char::from(*d)));
    payload.push_str(outcome.digits());
    let check = tessera_core::card::luhn::check_digit(&payload)
        .ok_or_else(|| "the card number is not digits".to_owned())?;
    payload.push(char::from(b'0' + check));
    Ok(payload)
}

/// Run-time behaviour, for all issuers and per issuer code.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SandboxBehaviour {
    #[serde(default)]
    pub all: Option<Tuning>,
    #[serde(default)]
    pub issuers: std::collections::BTreeMap<String, Tuning>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Tuning {
    pub latency_ms: u64,
    pub failure_rate: f64,
}

impl SandboxBehaviour {
    pub fn tuning_for(&self, issuer_code: Option<&str>, defaults: &SandboxIssuerConfig) -> Tuning {
        issuer_code
            .and_then(|code| self.issuers.get(code))
            .copied()
            .or(self.all)
            .unwrap_or(Tuning {
                latency_ms: defaults.latency_ms,
                failure_rate: defaults.failure_rate,
            })
    }
}

/// What the sandbox bank answers a binding once it is reached, chosen by
/// the card number's digits: the in-process sandbox and `tessera
/// issuer-sim` answer from this one table. The `slow` outcome approves;
/// the caller waits its slow time first.
pub fn binding_answer(
    digits: &str,
    bank_phone: &str,
    wallet_phone: &str,
) -> (Outcome, IssuerAnswer) {
    let outcome = Outcome::of_number(digits);
    // The sandbox bank keeps the wallet account's phone on file, except
    // for phone_mismatch cards, where it keeps some other number.
    let phone_on_file_matches = outcome != Outcome::PhoneMismatch && bank_phone == wallet_phone;
    let answer = match outcome {
        Outcome::Unavailable => IssuerAnswer::Unavailable,
        Outcome::DoNotHonor => {
            IssuerAnswer::Refused(DomainError::declined(DeclineCode::DoNotHonor))
        }
        Outcome::LostCard => IssuerAnswer::Refused(DomainError::declined(DeclineCode::LostCard)),
        Outcome::StolenCard => {
            IssuerAnswer::Refused(DomainError::declined(DeclineCode::StolenCard))
        }
        Outcome::NotParticipating => IssuerAnswer::Refused(not_participating()),
        Outcome::AccountClass => IssuerAnswer::Refused(not_class_one()),
        _ if !phone_on_file_matches => IssuerAnswer::Refused(
            DomainError::new(ErrorCode::PhoneMismatch).with_param("bank_phone"),
        ),
        Outcome::IncorrectCvc => {
            IssuerAnswer::Refused(DomainError::new(ErrorCode::IncorrectCvc).with_param("cvc"))
        }
        Outcome::Otp => IssuerAnswer::StepUp,
        Outcome::Slow | Outcome::Approve | Outcome::PhoneMismatch => IssuerAnswer::Approved,
    };
    (outcome, answer)
}

/// The refusal of a bank that takes no part in tokenisation.
pub fn not_participating() -> DomainError {
    DomainError::not_supported(NotSupported {
        reason: NotSupportedReason::Issuer,
        subject_zh: "发卡行".to_owned(),
        subject_en: "this bank".to_owned(),
    })
}

/// The refusal of a card whose account is Class II or Class III (二类户、
/// 三类户): banks let only Class I accounts bind to a wallet.
pub fn not_class_one() -> DomainError {
    DomainError::not_supported(NotSupported {
        reason: NotSupportedReason::AccountClass,
        subject_zh: "二类或三类账户".to_owned(),
        subject_en: "Class II or Class III account".to_owned(),
    })
}

/// What the sandbox bank answers a payment of `amount` (minor units) once
/// it is reached (`PaymentOutcome`), with a fresh authorisation code.
pub fn payment_answer(amount: u64) -> AuthorizationAnswer {
    match PaymentOutcome::of_amount(amount) {
        PaymentOutcome::Approve => {
            let mut digits = [0u8; 6];
            if tessera_core::crypto::random_digits(&mut digits).is_err() {
                return AuthorizationAnswer::Unavailable;
            }
            AuthorizationAnswer::Approved {
                authorization_code: digits.iter().map(|d| char::from(*d)).collect(),
            }
        }
        PaymentOutcome::Decline(code) => AuthorizationAnswer::Declined(code),
        PaymentOutcome::Unavailable => AuthorizationAnswer::Unavailable,
    }
}

/// What the sandbox bank answers a refund (or a credit) of `amount` once it
/// is reached: by the amount's last two digits, as payments
/// (`PaymentOutcome`), with a fresh reference starting with `prefix`.
pub fn transfer_answer(amount: u64, prefix: &str) -> TransferAnswer {
    match PaymentOutcome::of_amount(amount) {
        PaymentOutcome::Approve => TransferAnswer::Accepted {
            reference: crate::ids::random_id(prefix, 16),
        },
        PaymentOutcome::Decline(code) => TransferAnswer::Declined(code),
        PaymentOutcome::Unavailable => TransferAnswer::Unavailable,
    }
}

/// What the sandbox bank answers a credit (a transfer) onto `number` once
/// it is reached: first by the destination number's outcome digits, the
/// same as binding (`do_not_honor`, `lost_card`, `stolen_card` decline,
/// `unavailable` gives no answer, `slow` accepts after the slow time, which
/// the caller waits: the second value); a number that asks for none of
/// these goes by the amount's last two digits, as a refund.
pub fn credit_answer(number: &str, amount: u64) -> (TransferAnswer, bool) {
    let answer = match Outcome::of_number(number) {
        Outcome::DoNotHonor => TransferAnswer::Declined(DeclineCode::DoNotHonor),
        Outcome::LostCard => TransferAnswer::Declined(DeclineCode::LostCard),
        Outcome::StolenCard => TransferAnswer::Declined(DeclineCode::StolenCard),
        Outcome::Unavailable => TransferAnswer::Unavailable,
        _ => transfer_answer(amount, "crd_"),
    };
    (answer, Outcome::of_number(number) == Outcome::Slow)
}

#[derive(Debug)]
pub struct SandboxIssuer {
    store: Arc<dyn Store>,
    defaults: SandboxIssuerConfig,
}

impl SandboxIssuer {
    pub fn new(store: Arc<dyn Store>, defaults: SandboxIssuerConfig) -> SandboxIssuer {
        SandboxIssuer { store, defaults }
    }

    /// The simulated network to the bank: the configured latency, then
    /// whether this call gets through (false at the failure rate).
    async fn reachable(&self, issuer_code: Option<&str>, behaviour: SandboxBehaviour) -> bool {
        let tuning = behaviour.tuning_for(issuer_code, &self.defaults);
        if tuning.latency_ms > 0 {
            tokio::time::sleep(Duration::from_millis(tuning.latency_ms)).await;
        }
        !(tuning.failure_rate > 0.0 && draw() < tuning.failure_rate)
    }

    async fn behaviour(&self) -> SandboxBehaviour {
        match self.store.setting(SETTING).await {
            Ok(Some(json)) => parse_behaviour(&json),
            _ => SandboxBehaviour::default(),
        }
    }
}

fn parse_behaviour(json: &str) -> SandboxBehaviour {
    serde_json::from_str(json).unwrap_or_default()
}

/// A uniform draw in [0, 1) from the OS CSPRNG.
fn draw() -> f64 {
    let mut bytes = [0u8; 8];
    if tessera_core::crypto::random_bytes(&mut bytes).is_err() {
        return 1.0;
    }
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

#[async_trait]
impl Issuer for SandboxIssuer {
    fn name(&self) -> &'static str {
        "sandbox"
    }

    fn binding_setting(&self) -> Option<&'static str> {
        Some(SETTING)
    }

    async fn verify_binding(&self, request: &BindingVerification<'_>) -> IssuerAnswer {
        let behaviour = request.setting.map(parse_behaviour).unwrap_or_default();
        if !self.reachable(request.issuer_code, behaviour).await {
            return IssuerAnswer::Unavailable;
        }
        let (outcome, answer) = binding_answer(
            request.pan.expose_digits(),
            request.bank_phone.expose(),
            request.user_phone.expose(),
        );
        if outcome == Outcome::Slow {
            tokio::time::sleep(Duration::from_millis(self.defaults.slow_ms)).await;
        }
        answer
    }

    async fn authorize_payment(&self, request: &PaymentAuthorization<'_>) -> AuthorizationAnswer {
        if !self
            .reachable(request.issuer_code, self.behaviour().await)
            .await
        {
            return AuthorizationAnswer::Unavailable;
        }
        payment_answer(request.amount)
    }

    async fn refund_payment(&self, order: &RefundOrder<'_>) -> TransferAnswer {
        if !self
            .reachable(order.issuer_code, self.behaviour().await)
            .await
        {
            return TransferAnswer::Unavailable;
        }
        transfer_answer(order.amount, "rfd_")
    }

    async fn transfer(&self, order: &TransferOrder<'_>) -> TransferAnswer {
        if !self
            .reachable(order.issuer_code, self.behaviour().await)
            .await
        {
            return TransferAnswer::Unavailable;
        }
        let (answer, slow) = credit_answer(order.to_pan.expose_digits(), order.amount);
        if slow {
            tokio::time::sleep(Duration::from_millis(self.defaults.slow_ms)).await;
        }
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_before_the_check_digit_choose() {
        assert_eq!(Outcome::of_number("6228480000000001009"), Outcome::Otp);
        assert_eq!(Outcome::of_number("6228480000000005107"), Outcome::Slow);
        assert_eq!(Outcome::of_number("6228480000000009997"), Outcome::Approve);
        for outcome in Outcome::ALL {
            assert_eq!(Outcome::parse(outcome.name()), Some(outcome));
            let number = card_number("622848", 19, outcome).unwrap();
            assert_eq!(number.len(), 19);
            assert!(number.starts_with("622848"));
            assert!(tessera_core::card::luhn::is_valid(&number));
            assert_eq!(Outcome::of_number(&number), outcome);
        }
        assert!(card_number("62284812345678", 16, Outcome::Otp).is_err());
    }

    #[test]
    fn the_amount_s_last_two_digits_choose_the_payment_outcome() {
        assert_eq!(
            PaymentOutcome::of_amount(1251),
            PaymentOutcome::Decline(DeclineCode::InsufficientFunds)
        );
        assert_eq!(
            PaymentOutcome::of_amount(5),
            PaymentOutcome::Decline(DeclineCode::DoNotHonor)
        );
        assert_eq!(PaymentOutcome::of_amount(9991), PaymentOutcome::Unavailable);
        assert_eq!(PaymentOutcome::of_amount(1234), PaymentOutcome::Approve);
        assert_eq!(PaymentOutcome::of_amount(1250), PaymentOutcome::Approve);
        assert!(card_number("62x848", 16, Outcome::Otp).is_err());
    }

    #[test]
    fn the_destination_s_digits_choose_a_credit_then_its_amount() {
        let to = |outcome| card_number("621226", 19, outcome).unwrap();
        assert_eq!(
            credit_answer(&to(Outcome::LostCard), 1234).0,
            TransferAnswer::Declined(DeclineCode::LostCard)
        );
        assert_eq!(
            credit_answer(&to(Outcome::Unavailable), 1234).0,
            TransferAnswer::Unavailable
        );
        let (slow, waits) = credit_answer(&to(Outcome::Slow), 1234);
        assert!(matches!(slow, TransferAnswer::Accepted { .. }) && waits);
        let (accepted, waits) = credit_answer(&to(Outcome::Approve), 1234);
        assert!(matches!(accepted, TransferAnswer::Accepted { .. }) && !waits);
        assert_eq!(
            credit_answer(&to(Outcome::Approve), 1251).0,
            TransferAnswer::Declined(DeclineCode::InsufficientFunds)
        );
    }
}
