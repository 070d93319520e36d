//! The issuer protocol's messages as they travel (docs/issuer-protocol.md):
//! what the HTTP connector (`issuer/http.rs`) sends a bank and reads back,
//! and what `tessera issuer-sim` reads and answers. One definition for
//! both ends, so they cannot drift apart.

use serde::{Deserialize, Serialize};
use tessera_core::error::{DeclineCode, DomainError, ErrorCode, NotSupportedReason};

use super::{
    AuthorizationAnswer, BindingVerification, IssuerAnswer, PaymentAuthorization, RefundOrder,
    TransferAnswer, TransferOrder,
};

/// The version every path starts with.
pub const VERSION: &str = "v1";
pub const BINDING_PATH: &str = "/v1/bindings/verify";
pub const AUTHORIZATION_PATH: &str = "/v1/authorizations";
pub const REFUND_PATH: &str = "/v1/refunds";
pub const CREDIT_PATH: &str = "/v1/credits";
/// The same for every retry of one call: the bank answers a repeat with
/// its first answer.
pub const REQUEST_ID_HEADER: &str = "tessera-request-id";
/// Which issuer code Tessera thinks it is talking to.
pub const ISSUER_HEADER: &str = "tessera-issuer";

/// A card as the bank needs it. Never logged: its `Debug` shows the last
/// four digits only.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CardData {
    pub number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_month: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_year: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvc: Option<String>,
}

impl std::fmt::Debug for CardData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let last4 = self
            .number
            .get(self.number.len().saturating_sub(4)..)
            .unwrap_or("");
        f.debug_struct("CardData")
            .field("last4", &last4)
            .finish_non_exhaustive()
    }
}

impl Drop for CardData {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.number.zeroize();
        self.cvc.zeroize();
    }
}

/// `POST /v1/bindings/verify`: the four elements (card number, name, ID
/// number, the phone the bank has on file) and, for credit cards, expiry
/// and CVC.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BindingRequest {
    pub card: CardData,
    pub holder_name: String,
    /// Tessera keeps no clear ID number, only this keyed hash of it; a bank
    /// that checks ID numbers receives the same hash of its own records
    /// from Tessera's operator.
    pub id_number_hash: String,
    pub bank_phone: String,
    /// The wallet account's phone: a risk signal.
    pub wallet_phone: String,
}

impl BindingRequest {
    pub fn of(request: &BindingVerification<'_>) -> BindingRequest {
        BindingRequest {
            card: CardData {
                number: request.pan.expose_digits().to_owned(),
                expiry_month: request.expiry.map(|e| e.month()),
                expiry_year: request.expiry.map(|e| e.year()),
                cvc: request.cvc.map(|c| c.expose_digits().to_owned()),
            },
            holder_name: request.holder_name.to_owned(),
            id_number_hash: request.id_number_hash.to_owned(),
            bank_phone: request.bank_phone.expose().to_owned(),
            wallet_phone: request.user_phone.expose().to_owned(),
        }
    }
}

/// The bank's answer to a binding.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum BindingResponse {
    Approved,
    /// An SMS code to the phone the bank has on file (`method`: `otp`).
    StepUp {
        method: String,
    },
    /// `decline_code`: do_not_honor, lost_card, stolen_card,
    /// insufficient_funds, exceeds_limit, incorrect_cvc, phone_mismatch or
    /// account_class (a Class II or III account: `card_not_supported`).
    Declined {
        decline_code: String,
    },
    NotParticipating,
    Unavailable,
}

impl BindingResponse {
    pub fn of(answer: &IssuerAnswer) -> BindingResponse {
        match answer {
            IssuerAnswer::Approved => BindingResponse::Approved,
            IssuerAnswer::StepUp => BindingResponse::StepUp {
                method: "otp".to_owned(),
            },
            IssuerAnswer::Refused(error) => match (error.decline_code, error.code) {
                (Some(decline), _) => BindingResponse::Declined {
                    decline_code: decline.as_str().to_owned(),
                },
                (None, ErrorCode::IncorrectCvc | ErrorCode::PhoneMismatch) => {
                    BindingResponse::Declined {
                        decline_code: error.code.as_str().to_owned(),
                    }
                }
                // Travels as a decline code, so that a version that does
                // not know it still reads a refusal.
                (None, _)
                    if error
                        .not_supported
                        .as_ref()
                        .is_some_and(|n| n.reason == NotSupportedReason::AccountClass) =>
                {
                    BindingResponse::Declined {
                        decline_code: NotSupportedReason::AccountClass.as_str().to_owned(),
                    }
                }
                (None, _) if error.not_supported.is_some() => BindingResponse::NotParticipating,
                (None, _) => BindingResponse::Declined {
                    decline_code: DeclineCode::DoNotHonor.as_str().to_owned(),
                },
            },
            IssuerAnswer::Unavailable => BindingResponse::Unavailable,
        }
    }

    /// The answer in the catalogue's words. A decline code this version
    /// does not know is still a refusal: `do_not_honor`.
    pub fn answer(self) -> IssuerAnswer {
        match self {
            BindingResponse::Approved => IssuerAnswer::Approved,
            BindingResponse::StepUp { .. } => IssuerAnswer::StepUp,
            BindingResponse::Declined { decline_code } => {
                IssuerAnswer::Refused(match decline_code.as_str() {
                    "incorrect_cvc" => DomainError::new(ErrorCode::IncorrectCvc).with_param("cvc"),
                    "phone_mismatch" => {
                        DomainError::new(ErrorCode::PhoneMismatch).with_param("bank_phone")
                    }
                    "account_class" => super::sandbox::not_class_one(),
                    code => DomainError::declined(
                        DeclineCode::parse(code).unwrap_or(DeclineCode::DoNotHonor),
                    ),
                })
            }
            BindingResponse::NotParticipating => {
                IssuerAnswer::Refused(super::sandbox::not_participating())
            }
            BindingResponse::Unavailable => IssuerAnswer::Unavailable,
        }
    }
}

/// `POST /v1/authorizations`: a payment on the real card behind a token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AuthorizationRequest {
    pub card: CardData,
    /// Minor units of `currency`.
    pub amount: u64,
    /// ISO 4217 alphabetic code.
    pub currency: String,
    pub merchant_id: String,
}

impl AuthorizationRequest {
    pub fn of(request: &PaymentAuthorization<'_>) -> AuthorizationRequest {
        AuthorizationRequest {
            card: CardData {
                number: request.pan.expose_digits().to_owned(),
                expiry_month: None,
                expiry_year: None,
                cvc: None,
            },
            amount: request.amount,
            currency: request.currency.alpha().to_owned(),
            merchant_id: request.merchant_id.to_owned(),
        }
    }
}

/// The bank's answer to an authorisation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum AuthorizationResponse {
    Approved { authorization_code: String },
    Declined { decline_code: String },
    Unavailable,
}

impl AuthorizationResponse {
    pub fn of(answer: &AuthorizationAnswer) -> AuthorizationResponse {
        match answer {
            AuthorizationAnswer::Approved { authorization_code } => {
                AuthorizationResponse::Approved {
                    authorization_code: authorization_code.clone(),
                }
            }
            AuthorizationAnswer::Declined(code) => AuthorizationResponse::Declined {
                decline_code: code.as_str().to_owned(),
            },
            AuthorizationAnswer::Unavailable => AuthorizationResponse::Unavailable,
        }
    }

    /// An approval without a code is no approval: nothing to show the
    /// merchant, so it counts as no answer.
    pub fn answer(self) -> AuthorizationAnswer {
        match self {
            AuthorizationResponse::Approved { authorization_code }
                if !authorization_code.is_empty() && authorization_code.len() <= 12 =>
            {
                AuthorizationAnswer::Approved { authorization_code }
            }
            AuthorizationResponse::Approved { .. } => AuthorizationAnswer::Unavailable,
            AuthorizationResponse::Declined { decline_code } => AuthorizationAnswer::Declined(
                DeclineCode::parse(&decline_code).unwrap_or(DeclineCode::DoNotHonor),
            ),
            AuthorizationResponse::Unavailable => AuthorizationAnswer::Unavailable,
        }
    }
}

/// `POST /v1/refunds`: money back on an authorised payment.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    /// The code the bank gave the payment.
    pub authorization_code: String,
    /// Minor units; at most the payment's amount, over all its refunds.
    pub amount: u64,
    pub currency: String,
    pub merchant_id: String,
}

impl RefundRequest {
    pub fn of(order: &RefundOrder<'_>) -> RefundRequest {
        RefundRequest {
            authorization_code: order.authorization_code.to_owned(),
            amount: order.amount,
            currency: order.currency.alpha().to_owned(),
            merchant_id: order.merchant_id.to_owned(),
        }
    }
}

/// `POST /v1/credits`: a transfer of money onto a card.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CreditRequest {
    pub card: CardData,
    pub amount: u64,
    pub currency: String,
    /// Who sends it, for the cardholder's statement.
    pub sender_name: String,
}

impl CreditRequest {
    pub fn of(order: &TransferOrder<'_>) -> CreditRequest {
        CreditRequest {
            card: CardData {
                number: order.to_pan.expose_digits().to_owned(),
                expiry_month: None,
                expiry_year: None,
                cvc: None,
            },
            amount: order.amount,
            currency: order.currency.alpha().to_owned(),
            sender_name: order.sender_name.to_owned(),
        }
    }
}

/// The bank's answer to a refund or a credit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum TransferResponse {
    Accepted { reference: String },
    Declined { decline_code: String },
    Unavailable,
}

impl TransferResponse {
    pub fn of(answer: &TransferAnswer) -> TransferResponse {
        match answer {
            TransferAnswer::Accepted { reference } => TransferResponse::Accepted {
                reference: reference.clone(),
            },
            TransferAnswer::Declined(code) => TransferResponse::Declined {
                decline_code: code.as_str().to_owned(),
            },
            TransferAnswer::Unavailable => TransferResponse::Unavailable,
        }
    }

    /// The answer in the catalogue's words. An acceptance without a
    /// reference of 1 to 64 characters leaves nothing to trace the money
    /// by: it counts as no answer. An unknown decline code is
    /// `do_not_honor`.
    pub fn answer(self) -> TransferAnswer {
        match self {
            TransferResponse::Accepted { reference }
                if !reference.is_empty() && reference.len() <= 64 =>
            {
                TransferAnswer::Accepted { reference }
            }
            TransferResponse::Accepted { .. } => TransferAnswer::Unavailable,
            TransferResponse::Declined { decline_code } => TransferAnswer::Declined(
                DeclineCode::parse(&decline_code).unwrap_or(DeclineCode::DoNotHonor),
            ),
            TransferResponse::Unavailable => TransferAnswer::Unavailable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refund_answers_travel_and_an_empty_reference_is_no_answer() {
        for amount in [1234, 1205, 1291] {
            let answer = crate::issuer::sandbox::transfer_answer(amount, "rfd_");
            let wire = serde_json::to_string(&TransferResponse::of(&answer)).unwrap();
            let back: TransferResponse = serde_json::from_str(&wire).unwrap();
            assert_eq!(back.answer(), answer, "{wire}");
        }
        let empty = TransferResponse::Accepted {
            reference: String::new(),
        };
        assert_eq!(empty.answer(), TransferAnswer::Unavailable);
    }

    #[test]
    fn every_binding_answer_travels_and_comes_back_the_same() {
        use crate::issuer::sandbox::{Outcome, binding_answer, card_number};
        for outcome in Outcome::ALL {
            let number = card_number("622848", 19, outcome).unwrap();
            let (_, answer) = binding_answer(&number, "13800138000", "13800138000");
            let wire = serde_json::to_string(&BindingResponse::of(&answer)).unwrap();
            let back: BindingResponse = serde_json::from_str(&wire).unwrap();
            assert_eq!(back.answer().label(), answer.label(), "{wire}");
        }
        let unknown: BindingResponse =
            serde_json::from_str(r#"{"result":"declined","decline_code":"pick_up_card"}"#).unwrap();
        assert_eq!(unknown.answer().label(), "declined:do_not_honor");
    }

    #[test]
    fn authorization_answers_travel_and_an_empty_code_is_no_approval() {
        for amount in [1234, 1251, 9991, 5] {
            let answer = crate::issuer::sandbox::payment_answer(amount);
            let wire = serde_json::to_string(&AuthorizationResponse::of(&answer)).unwrap();
            let back: AuthorizationResponse = serde_json::from_str(&wire).unwrap();
            assert_eq!(back.answer(), answer, "{wire}");
        }
        let empty = AuthorizationResponse::Approved {
            authorization_code: String::new(),
        };
        assert_eq!(empty.answer(), AuthorizationAnswer::Unavailable);
    }

    #[test]
    fn a_card_s_debug_shows_only_its_last_four_digits() {
        let card = CardData {
            number: "6228480000000000001".to_owned(),
            expiry_month: None,
            expiry_year: None,
            cvc: Some("123".to_owned()),
        };
        let shown = format!("{card:?}");
        assert!(shown.contains("0001") && !shown.contains("622848") && !shown.contains("123"));
    }
}
