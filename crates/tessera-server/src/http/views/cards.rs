//! A user's cards: binding, the SMS code, and how a card is shown (its first
//! 6 and last 4 digits at most, never a CVC).

use serde::{Deserialize, Serialize};
use tessera_core::card::CardStatus;
use tessera_core::card::expiry::Expiry;
use tessera_core::token::lifecycle::{TokenState, payability};
use tessera_store::CardRecord;
use utoipa::{IntoParams, ToSchema};

use super::{IssuerView, StringOrNumber, Viewer};
use crate::http::error::rfc3339;

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Device {
    /// The app's own id for the device (tokens are bound to it).
    pub id: Option<String>,
    pub model: Option<String>,
    pub os: Option<String>,
    pub app_version: Option<String>,
    /// wifi, 4g, 5g, ...
    pub network_type: Option<String>,
    pub locale: Option<String>,
}
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BindCardRequest {
    /// The card number; spaces and dashes are fine.
    pub number: String,
    pub holder_name: String,
    /// Required for credit cards, optional for debit cards.
    #[schema(value_type = Option<String>)]
    pub expiry_month: Option<StringOrNumber>,
    /// Two or four digits. Required for credit cards, optional for debit cards.
    #[schema(value_type = Option<String>)]
    pub expiry_year: Option<StringOrNumber>,
    /// Required for credit cards, optional for debit cards. Never stored.
    pub cvc: Option<String>,
    /// The phone the bank has on file; the account's phone when absent.
    pub bank_phone: Option<String>,
    pub device: Option<Device>,
}
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyCardRequest {
    /// The 6-digit code from the SMS.
    pub otp: String,
}
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ResendOtpRequest {
    /// The bank phone given when the card was bound, when it was not the
    /// account's own: the new code goes to the same number as the first.
    pub bank_phone: Option<String>,
}
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    #[serde(rename = "ref")]
    pub token_ref: String,
    pub last4: String,
    /// inactive, active, suspended, deleted
    pub status: String,
    /// Who holds it suspended: issuer, risk, wallet, cardholder (active
    /// again only when every one has resumed).
    pub suspended_by: Vec<String>,
    /// MM/YY
    pub expiry: String,
}
/// Why a card cannot pay now: the error a payment would get.
#[derive(Debug, Serialize, ToSchema)]
pub struct PayabilityReason {
    /// token_suspended, card_unbound, token_expired, otp_required,
    /// card_declined (with decline_code card_reissued)
    pub code: String,
    /// In the Accept-Language: "此卡已被发卡行暂停使用" / "Suspended by your bank".
    pub message: String,
    pub remedy: String,
    /// With `card_declined`: `card_reissued` (the bank replaced the card).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decline_code: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suspended_by: Vec<String>,
}
#[derive(Debug, Serialize, ToSchema)]
pub struct NextAction {
    /// Always `otp` for now.
    #[serde(rename = "type")]
    pub action_type: String,
    /// The masked phone the code went to.
    pub sent_to: String,
    pub expires_at: String,
}
#[derive(Debug, Serialize, ToSchema)]
pub struct CardView {
    pub id: String,
    /// pending_verification, active, verification_failed, verification_expired,
    /// unbound, closed (by the issuer)
    pub status: String,
    pub brand: String,
    pub issuer: IssuerView,
    pub card_type: Option<String>,
    pub country: Option<String>,
    pub first6: String,
    pub last4: String,
    pub expiry_month: Option<u8>,
    pub expiry_year: Option<u16>,
    pub holder_name: String,
    /// Payment Account Reference: the same for every token of this card.
    pub par: String,
    pub token: Option<TokenView>,
    pub is_default: bool,
    /// Whether the card can pay now; when not, `reason` says why.
    pub payable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<PayabilityReason>,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_action: Option<NextAction>,
}
impl CardView {
    pub fn from_record(card: &CardRecord, viewer: &Viewer) -> CardView {
        let token_state = card
            .token
            .as_ref()
            .and_then(|t| TokenState::from_stored(t.status, &t.suspenders).ok());
        let token_expiry = card
            .token
            .as_ref()
            .and_then(|t| Expiry::new(t.expiry_month, t.expiry_year).ok());
        let reason = payability(
            card.status,
            card.reissued_at.is_some(),
            token_state.as_ref(),
            token_expiry,
            viewer.today,
        )
        .err()
        .map(|error| PayabilityReason {
            code: error.code.as_str().to_owned(),
            message: error.message(viewer.lang),
            remedy: error.remedy(viewer.lang),
            decline_code: error.decline_code.map(|d| d.as_str().to_owned()),
            suspended_by: error.suspended_by.clone(),
        });
        let next_action = match (&card.otp_sent_to, card.otp_expires_at) {
            (Some(sent_to), Some(expires_at)) if card.status == CardStatus::PendingVerification => {
                Some(NextAction {
                    action_type: "otp".to_owned(),
                    sent_to: sent_to.clone(),
                    expires_at: rfc3339(expires_at),
                })
            }
            _ => None,
        };
        CardView {
            id: card.id.to_string(),
            status: card.status.as_str().to_owned(),
            brand: card.brand.code().to_owned(),
            issuer: IssuerView {
                code: card.issuer_code.clone(),
                name_zh: card.issuer_name_zh.clone(),
                name_en: card.issuer_name_en.clone(),
            },
            card_type: card.card_type.map(|t| t.code().to_owned()),
            country: card.country.clone(),
            first6: card.first6.clone(),
            last4: card.last4.clone(),
            expiry_month: card.expiry_month,
            expiry_year: card.expiry_year,
            holder_name: card.holder_name.clone(),
            par: card.par.clone(),
            token: card.token.as_ref().map(|token| TokenView {
                token_ref: token.token_ref.clone(),
                last4: token.token_last4.clone(),
                status: token.status.as_str().to_owned(),
                suspended_by: token.suspenders.clone(),
                expiry: format!("{:02}/{:02}", token.expiry_month, token.expiry_year % 100),
            }),
            is_default: card.is_default,
            payable: reason.is_none(),
            reason,
            created_at: rfc3339(card.created_at),
            next_action,
        }
    }
}
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `live` (the default: active cards and those waiting for their SMS
    /// code), `all` (unbound, closed and failed ones too), or one status:
    /// `active`, `pending_verification`, `verification_failed`,
    /// `verification_expired`, `unbound`, `closed`.
    pub status: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MyAttemptsQuery {
    /// `true` lists every attempt; failed ones only by default.
    pub all: Option<bool>,
    /// RFC 3339 time, or a duration back from now (`1h`, `7d`); 7 days by
    /// default.
    pub since: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CardList {
    pub data: Vec<CardView>,
    pub next_cursor: Option<String>,
}

impl CardList {
    pub fn of(cards: &[CardRecord], viewer: &Viewer) -> CardList {
        CardList {
            data: cards
                .iter()
                .map(|card| CardView::from_record(card, viewer))
                .collect(),
            next_cursor: None,
        }
    }
}
// Requests that carry a secret print only what is safe, so that no `{:?}`
// anywhere can put them in a log.

impl std::fmt::Debug for BindCardRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BindCardRequest")
            .field("number", &tessera_core::card::pan::mask(&self.number))
            .field("cvc", &self.cvc.as_ref().map(|_| "***"))
            .field("device", &self.device)
            .finish_non_exhaustive()
    }
}
impl std::fmt::Debug for VerifyCardRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyCardRequest")
            .field("otp", &"***")
            .finish()
    }
}
