//! Token 2.0 payments: limited-use keys, single-use cryptograms, payments
//! and how they are shown.

use serde::{Deserialize, Serialize};
use tessera_core::error::{DeclineCode, DomainError, ErrorCode, Lang};
use tessera_store::{PaymentRecord, RefundRecord, RefundStatus};
use utoipa::{IntoParams, ToSchema};

use super::StringOrNumber;
use crate::http::error::rfc3339;

/// Asks for limited-use keys.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeysRequest {
    /// The device the card was bound from; required when it was bound with one.
    pub device_id: Option<String>,
    /// How many keys (ATCs); `payments.key_batch_size` (10) when absent.
    pub count: Option<u16>,
}
/// How the token's cryptograms are made.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileView {
    /// Application Interchange Profile (82), hex.
    pub aip: String,
    /// Issuer Application Data (9F10), hex; appended to the CDOL1 data.
    pub iad: String,
    /// ICC master key derivation: `A` (PAN up to 16 digits) or `B`.
    pub derivation: String,
}
/// One limited-use key: the EMV common session key for one ATC.
#[derive(Serialize, ToSchema)]
pub struct SessionKeyView {
    /// Application Transaction Counter (9F36), 4 hex digits.
    pub atc: String,
    /// 16-byte TDES session key, hex. Secret: for this device only.
    pub session_key: String,
}

/// A batch of limited-use keys for the token's own device. The one response
/// that carries keys (session keys only; master keys never leave the
/// server): keep them in the device's secure storage, use each once, ask
/// again for more.
#[derive(Serialize, ToSchema)]
pub struct LimitedUseKeys {
    #[serde(rename = "ref")]
    pub token_ref: String,
    /// The token PAN the device presents. Never the card number.
    pub token_pan: String,
    /// MM/YY
    pub token_expiry: String,
    /// PAN Sequence Number, 2 digits.
    pub psn: String,
    pub profile: ProfileView,
    pub keys: Vec<SessionKeyView>,
}
/// Asks for a single-use cryptogram for an in-app or web payment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CryptogramRequest {
    /// Minor units (1234 is 12.34 CNY).
    pub amount: u64,
    /// ISO 4217: CNY, HKD, USD, ...
    pub currency: String,
    /// The merchant it may be spent with.
    pub merchant_id: String,
}
/// A single-use cryptogram and the transaction data it covers: hand it to
/// the merchant, who sends it to `POST /v1/payments` as it is (adding
/// `channel`, in_app or ecommerce, and `merchant_name`).
#[derive(Serialize, ToSchema)]
pub struct CryptogramView {
    pub token_pan: String,
    /// MM/YY
    pub token_expiry: String,
    pub amount: u64,
    pub other_amount: u64,
    pub currency: String,
    pub terminal_country: u16,
    /// 10 hex digits.
    pub tvr: String,
    /// YYYY-MM-DD
    pub transaction_date: String,
    /// 2 digits: 00 purchase.
    pub transaction_type: String,
    pub merchant_id: String,
    /// 4 hex digits.
    pub atc: String,
    /// 8 hex digits.
    pub unpredictable_number: String,
    /// The ARQC, 16 hex digits.
    pub cryptogram: String,
    pub expires_at: String,
}
/// A payment as a merchant (or a terminal) submits it. The ARQC covers, in
/// CDOL1 order: amount, other_amount, terminal_country, tvr, currency,
/// transaction_date, transaction_type, unpredictable_number, then the
/// token's AIP and the ATC, then its IAD (`POST /v1/tokens/{ref}/keys`
/// shows the profile).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    /// The token PAN, as read from the device or sent by the wallet.
    pub token_pan: String,
    /// MM/YY (or MMYY).
    pub token_expiry: String,
    /// Minor units (1234 is 12.34 CNY); 1 to 999999999999.
    pub amount: u64,
    /// Cashback, minor units. Default 0.
    #[serde(default)]
    pub other_amount: u64,
    /// ISO 4217 alphabetic: CNY, HKD, USD, ...
    pub currency: String,
    /// ISO 3166-1 numeric. Default 156 (China).
    #[serde(default = "default_country")]
    pub terminal_country: u16,
    /// Terminal Verification Results, 10 hex digits. Default 0000000000.
    #[serde(default = "default_tvr")]
    pub tvr: String,
    /// YYYY-MM-DD, as the cryptogram covers it.
    pub transaction_date: String,
    /// 2 digits (or a number): 00 purchase. Default 00.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub transaction_type: Option<StringOrNumber>,
    pub merchant_id: String,
    pub merchant_name: Option<String>,
    /// nfc, in_app or ecommerce.
    pub channel: String,
    /// Application Transaction Counter, 1 to 4 hex digits.
    pub atc: String,
    /// 8 hex digits.
    pub unpredictable_number: String,
    /// The ARQC, 16 hex digits.
    pub cryptogram: String,
    /// The issuer application data the device signed (9F10, 14 hex
    /// digits), when it reports how it verified its holder (fingerprint,
    /// face or passcode): the profile's IAD with that method in its fifth
    /// byte. Without it, the profile's own (not verified).
    pub iad: Option<String>,
}
fn default_country() -> u16 {
    156
}
fn default_tvr() -> String {
    "0000000000".to_owned()
}
/// Why a payment was declined, in the viewer's language.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeclineView {
    /// The error code the merchant got: card_declined, token_suspended, ...
    pub code: String,
    /// For card_declined: insufficient_funds, do_not_honor, ...
    pub decline_code: Option<String>,
    pub message: String,
}
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentView {
    pub id: String,
    /// approved, declined, failed (the issuer could not be reached), or
    /// pending (the issuer was asked; the answer was not recorded)
    pub status: String,
    pub amount: i64,
    pub currency: String,
    pub merchant_id: String,
    pub merchant_name: Option<String>,
    pub channel: String,
    pub card_id: String,
    pub token_ref: String,
    /// 4 hex digits.
    pub atc: Option<String>,
    pub authorization_code: Option<String>,
    /// The ARPC (method 1, ARC 00) for the device; approvals only, in the
    /// merchant's answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arpc: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decline: Option<DeclineView>,
    /// Minor units given back so far: the sum of the accepted refunds.
    pub refunded: i64,
    /// Every refund asked for, oldest first, whatever became of it.
    pub refunds: Vec<RefundView>,
    /// How the person consented: `none` (within their no-confirmation
    /// limits), `payment_password` or `sms_code` (a confirmation), or
    /// `device` (fingerprint, face or passcode on the phone); null when the
    /// payment stopped before.
    pub consent: Option<String>,
    /// The risk rules' score (0-100) and reasons, once it was scored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk: Option<RiskView>,
    pub created_at: String,
}

/// What the risk rules made of a payment.
#[derive(Debug, Serialize, ToSchema)]
pub struct RiskView {
    pub score: i64,
    /// token_velocity, person_velocity, unusual_amount, new_device,
    /// repeated_declines, card_just_bound, after_password_reset.
    pub reasons: Vec<String>,
}
impl PaymentView {
    /// A payment as the user (or, with its ARPC, the merchant) sees it: a
    /// decline with its reason in `lang`.
    pub fn from_record(payment: &PaymentRecord, lang: Lang) -> PaymentView {
        let decline = payment.error_code.as_deref().map(|code| {
            let decline_code = payment.decline_code.as_deref().and_then(DeclineCode::parse);
            let message = match (ErrorCode::parse(code), decline_code) {
                (_, Some(decline)) => DomainError::declined(decline).message(lang),
                (Some(code), None) => DomainError::new(code).message(lang),
                (None, None) => code.to_owned(),
            };
            DeclineView {
                code: code.to_owned(),
                decline_code: payment.decline_code.clone(),
                message,
            }
        });
        PaymentView {
            id: payment.id.to_string(),
            status: payment.status.as_str().to_owned(),
            amount: payment.amount,
            currency: payment.currency.clone(),
            merchant_id: payment.merchant_id.clone(),
            merchant_name: payment.merchant_name.clone(),
            channel: payment.channel.as_str().to_owned(),
            card_id: payment.card_id.to_string(),
            token_ref: payment.token_ref.clone(),
            atc: payment.atc.map(|atc| format!("{atc:04X}")),
            authorization_code: payment.authorization_code.clone(),
            arpc: None,
            decline,
            refunded: 0,
            refunds: Vec::new(),
            consent: payment.consent.clone(),
            risk: payment.risk_score.map(|score| RiskView {
                score,
                reasons: payment.risk_reason_names().map(str::to_owned).collect(),
            }),
            created_at: rfc3339(payment.created_at),
        }
    }

    /// The payment with its refunds (any order; shown oldest first).
    pub fn with_refunds(mut self, refunds: &[RefundRecord]) -> PaymentView {
        let mut own: Vec<&RefundRecord> =
            refunds.iter().filter(|r| r.payment_id == self.id).collect();
        own.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        self.refunded = own
            .iter()
            .filter(|r| r.status == RefundStatus::Accepted)
            .map(|r| r.amount)
            .sum();
        self.refunds = own.into_iter().map(RefundView::from_record).collect();
        self
    }
}

/// A refund of a payment, asked by the merchant that took it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    /// Minor units to give back (500 is 5.00 CNY): 1 up to what the
    /// payment's earlier refunds left of it.
    pub amount: i64,
    /// Why, in the merchant's words (one line, `limits.reason_chars`);
    /// card numbers in it are masked before it is stored.
    pub reason: Option<String>,
}

/// A refund as the merchant and the cardholder see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RefundView {
    pub id: String,
    pub payment_id: String,
    /// pending (the bank was asked; no answer recorded yet), accepted,
    /// declined, or failed (the bank could not be reached: the amount may
    /// be refunded again)
    pub status: String,
    pub amount: i64,
    pub currency: String,
    pub reason: Option<String>,
    /// For declined: the bank's reason (do_not_honor, ...).
    pub decline_code: Option<String>,
    /// For accepted: the bank's id of the refund.
    pub reference: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl RefundView {
    pub fn from_record(refund: &RefundRecord) -> RefundView {
        RefundView {
            id: refund.id.to_string(),
            payment_id: refund.payment_id.to_string(),
            status: refund.status.as_str().to_owned(),
            amount: refund.amount,
            currency: refund.currency.clone(),
            reason: refund.reason.clone(),
            decline_code: refund.decline_code.clone(),
            reference: refund.reference.clone(),
            created_at: rfc3339(refund.created_at),
            updated_at: rfc3339(refund.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PaymentQuery {
    /// At most 100; 20 by default.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentList {
    pub data: Vec<PaymentView>,
    pub next_cursor: Option<String>,
}
// Requests that carry a secret print only what is safe, so that no `{:?}`
// anywhere can put them in a log.

impl std::fmt::Debug for SessionKeyView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionKeyView")
            .field("atc", &self.atc)
            .field("session_key", &"***")
            .finish()
    }
}
impl std::fmt::Debug for LimitedUseKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LimitedUseKeys")
            .field("token_ref", &self.token_ref)
            .field("token_pan", &tessera_core::card::pan::mask(&self.token_pan))
            .field("keys", &self.keys.len())
            .finish_non_exhaustive()
    }
}
impl std::fmt::Debug for CryptogramView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CryptogramView")
            .field("token_pan", &tessera_core::card::pan::mask(&self.token_pan))
            .field("amount", &self.amount)
            .field("currency", &self.currency)
            .field("merchant_id", &self.merchant_id)
            .field("atc", &self.atc)
            .field("cryptogram", &"***")
            .finish_non_exhaustive()
    }
}
impl std::fmt::Debug for PaymentRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentRequest")
            .field("token_pan", &tessera_core::card::pan::mask(&self.token_pan))
            .field("amount", &self.amount)
            .field("currency", &self.currency)
            .field("merchant_id", &self.merchant_id)
            .field("channel", &self.channel)
            .field("atc", &self.atc)
            .field("cryptogram", &"***")
            .finish_non_exhaustive()
    }
}

/// `POST /v1/payments/{id}/report`: what the person says happened.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentReportRequest {
    /// In the person's words (card numbers in it are masked).
    pub message: Option<String>,
}

/// A payment reported as not the person's.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentReportView {
    pub id: String,
    pub payment_id: String,
    /// The ticket support answers on.
    pub ticket_id: String,
    pub card_id: String,
    /// The card's token is paused (as its cardholder): it pays no more
    /// until the person resumes it.
    pub card_paused: bool,
    /// What happens next, in the request's language.
    pub next_steps: String,
    pub created_at: String,
}

/// Whether the wallet is frozen.
#[derive(Debug, Serialize, ToSchema)]
pub struct WalletFreezeView {
    pub frozen: bool,
    pub frozen_at: Option<String>,
    /// Cards this request paused or resumed.
    pub cards_changed: u32,
    /// What it means, in the request's language (empty when not frozen).
    pub message: String,
}
