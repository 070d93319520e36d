//! The issuer connector: how Tessera asks a card's bank to verify a binding,
//! authorise a payment, give a refund and credit a transfer.
//! Chinese banks check four elements (card number, name, ID number, the
//! phone on file) and may step up with an SMS code. The built-in sandbox
//! answers deterministically so every path can be tried; banks configured
//! in `[issuers]` are asked over HTTP (`http.rs`, `routed.rs`,
//! docs/issuer-protocol.md).

use async_trait::async_trait;
use tessera_core::card::cvc::Cvc;
use tessera_core::card::expiry::Expiry;
use tessera_core::card::pan::Pan;
use tessera_core::error::{DeclineCode, DomainError, NotSupportedReason};
use tessera_core::identity::phone::PhoneNumber;
use tessera_core::money::Currency;

pub mod http;
pub mod protocol;
pub mod routed;
pub mod sandbox;
pub mod signature;

/// What the issuer is asked at binding.
#[derive(Debug)]
pub struct BindingVerification<'a> {
    pub pan: &'a Pan,
    pub holder_name: &'a str,
    /// Keyed hash of the user's ID number: the clear number is never kept.
    pub id_number_hash: &'a str,
    /// The phone the person says the bank has on file.
    pub bank_phone: &'a PhoneNumber,
    /// The wallet account's own phone.
    pub user_phone: &'a PhoneNumber,
    pub expiry: Option<&'a Expiry>,
    pub cvc: Option<&'a Cvc>,
    pub issuer_code: Option<&'a str>,
    /// The value of the issuer's `binding_setting`, read by the binding
    /// with the maintenance window (None when unset or when it has none).
    pub setting: Option<&'a str>,
}

/// The issuer's answer.
#[derive(Debug)]
pub enum IssuerAnswer {
    Approved,
    /// The issuer wants an SMS code sent to the phone it has on file.
    StepUp,
    /// A definite refusal, already in the catalogue's words.
    Refused(DomainError),
    /// No answer in time, or the issuer said it is unavailable.
    Unavailable,
}

impl IssuerAnswer {
    /// A short label for the binding attempt's record.
    pub fn label(&self) -> String {
        match self {
            IssuerAnswer::Approved => "approved".to_owned(),
            IssuerAnswer::StepUp => "step_up:otp".to_owned(),
            IssuerAnswer::Refused(error) => match (error.decline_code, &error.not_supported) {
                (Some(decline), _) => format!("declined:{}", decline.as_str()),
                (None, Some(refusal)) => match refusal.reason {
                    NotSupportedReason::Issuer => "not_participating".to_owned(),
                    reason => format!("not_supported:{}", reason.as_str()),
                },
                (None, None) => format!("refused:{}", error.code.as_str()),
            },
            IssuerAnswer::Unavailable => "unavailable".to_owned(),
        }
    }
}

/// What the issuer is asked to authorise: the real card behind a token.
#[derive(Debug)]
pub struct PaymentAuthorization<'a> {
    pub pan: &'a Pan,
    /// Minor units of `currency`.
    pub amount: u64,
    pub currency: Currency,
    pub merchant_id: &'a str,
    pub issuer_code: Option<&'a str>,
}

/// The issuer's authorisation answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizationAnswer {
    Approved {
        authorization_code: String,
    },
    Declined(DeclineCode),
    /// No answer in time, or the issuer said it is unavailable: nothing
    /// was authorised.
    Unavailable,
}

/// What the issuer is asked to give back on a payment it authorised.
#[derive(Debug)]
pub struct RefundOrder<'a> {
    /// The code the issuer gave the payment.
    pub authorization_code: &'a str,
    /// Minor units of `currency`; the payment's refunds never add up to
    /// more than it.
    pub amount: u64,
    pub currency: Currency,
    pub merchant_id: &'a str,
    pub issuer_code: Option<&'a str>,
}

/// What the destination card's bank is asked to credit: a transfer from a
/// card bound in the wallet onto a bank card.
#[derive(Debug)]
pub struct TransferOrder<'a> {
    /// The destination card, opened from the vault for this call only.
    pub to_pan: &'a Pan,
    /// Minor units of `currency`; the fee is the wallet's, not the bank's.
    pub amount: u64,
    pub currency: Currency,
    /// Who sends it, for the recipient's statement: the sender's real name.
    pub sender_name: &'a str,
    /// The destination card's issuer, which the call is routed to.
    pub issuer_code: Option<&'a str>,
}

/// The issuer's answer to a refund or a transfer (a credit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferAnswer {
    /// Carried out; `reference` is the bank's id of it.
    Accepted {
        reference: String,
    },
    Declined(DeclineCode),
    /// No answer in time, or the issuer said it is unavailable: nothing
    /// was given back.
    Unavailable,
}

impl TransferAnswer {
    /// A short label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            TransferAnswer::Accepted { .. } => "accepted",
            TransferAnswer::Declined(code) => code.as_str(),
            TransferAnswer::Unavailable => "unavailable",
        }
    }
}

#[async_trait]
pub trait Issuer: Send + Sync + std::fmt::Debug {
    /// A short name for logs and attempts ("sandbox").
    fn name(&self) -> &'static str;
    /// A stored setting this issuer reads for every binding: the binding
    /// reads it in the same query as the maintenance window and hands it
    /// over in `BindingVerification::setting`. Read for each binding, never
    /// kept: any node may change it.
    fn binding_setting(&self) -> Option<&'static str> {
        None
    }
    async fn verify_binding(&self, request: &BindingVerification<'_>) -> IssuerAnswer;
    async fn authorize_payment(&self, request: &PaymentAuthorization<'_>) -> AuthorizationAnswer;
    async fn refund_payment(&self, order: &RefundOrder<'_>) -> TransferAnswer;
    /// Credits a transfer onto the destination card.
    async fn transfer(&self, order: &TransferOrder<'_>) -> TransferAnswer;
}
