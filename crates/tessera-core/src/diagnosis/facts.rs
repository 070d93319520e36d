//! The facts diagnosis reads: the attempts, the card and device they came
//! from, who reads the result and what the server knows beyond them.

use super::Bilingual;
use crate::bins::policy::country_names;
use crate::bins::{Brand, CardType};
use crate::error::{DeclineCode, DomainError, ErrorCode, NotSupported, NotSupportedReason};

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
    pub brand: Option<Brand>,
    pub issuer_code: Option<String>,
    pub issuer_name_zh: Option<String>,
    pub issuer_name_en: Option<String>,
    pub card_type: Option<CardType>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
}

impl CardFacts {
    pub(super) fn issuer(&self) -> Option<Bilingual> {
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

    pub(super) fn bank(&self) -> Bilingual {
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
    pub(super) fn is_empty(&self) -> bool {
        self.model.is_none()
            && self.os.is_none()
            && self.app_version.is_none()
            && self.network_type.is_none()
    }

    /// A network on which a bank's answer often gets lost.
    pub(super) fn weak_network(&self) -> bool {
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
    pub(super) fn code(&self) -> Option<ErrorCode> {
        match self.ending {
            Ending::Failed(code) => Some(code),
            _ => None,
        }
    }

    /// How many more tries the SMS code had, when the attempt recorded it.
    pub(super) fn otp_attempts_left(&self) -> Option<u32> {
        self.reason
            .as_deref()?
            .strip_prefix(ATTEMPTS_LEFT)?
            .parse()
            .ok()
    }

    pub(super) fn held_back(&self) -> bool {
        self.issuer_response.as_deref() == Some(CIRCUIT_OPEN)
    }

    /// The error as the person was told it, rebuilt from the record.
    pub(super) fn error(&self) -> Option<DomainError> {
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
/// The `issuer_response` of a binding sent to the bank that had no answer
/// within the issuer timeout (an answer of `unavailable` came back, or the
/// connection failed, before it).
pub const ISSUER_TIMEOUT: &str = "timeout";

/// The `reason` of a `phone_mismatch`: the person typed the bank phone.
pub const PHONE_TYPED: &str = "bank_phone_typed";
/// The `reason` of a `phone_mismatch`: none was typed, so the wallet
/// account's phone was compared.
pub const PHONE_OF_ACCOUNT: &str = "account_phone";
/// The `reason` of an `otp_incorrect`: `attempts_left:N`.
pub const ATTEMPTS_LEFT: &str = "attempts_left:";

/// The `issuer_response` of an SMS-code check that compared the code.
pub const OTP_CHECKED: &str = "otp";
/// The `issuer_response` of an SMS-code check answered without comparing
/// any code (the challenge's comparisons were all used, or it had ended).
pub const OTP_REFUSED: &str = "otp_refused";
/// The `issuer_response` of a request for a pending card's code to be sent
/// again.
pub const OTP_RESENT: &str = "otp_resent";

/// Whether an attempt was a step of an SMS code (a check, or a code sent
/// again) rather than a binding.
pub fn is_otp_check(issuer_response: Option<&str>) -> bool {
    matches!(
        issuer_response,
        Some(OTP_CHECKED | OTP_REFUSED | OTP_RESENT)
    )
}

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

/// What a `card_not_supported` refusal names, from the card's BIN data.
pub(super) fn refused_subject(reason: NotSupportedReason, card: &CardFacts) -> Bilingual {
    match reason {
        NotSupportedReason::UnknownBin => Bilingual::new("未知卡号段", "an unknown BIN"),
        NotSupportedReason::CardType => card.card_type.map_or_else(
            || Bilingual::new("这类卡", "Cards of this type"),
            |t| Bilingual::new(t.cards_name_zh(), t.cards_name_en()),
        ),
        NotSupportedReason::Brand => card.brand.as_ref().map_or_else(
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
        NotSupportedReason::AccountClass => {
            Bilingual::new("二类或三类账户", "Class II or Class III account")
        }
    }
}
