//! What the API shows: request and response bodies, documented for OpenAPI.
//! A card shows its first 6 and last 4 digits at most, never a CVC.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use tessera_core::card::expiry::{Expiry, wallet_today};
use tessera_core::error::Lang;
use tessera_core::token::lifecycle::{TokenState, payability};
use tessera_store::{AttemptRecord, CardRecord};
use utoipa::ToSchema;

pub mod support;

pub use support::*;

use crate::http::error::rfc3339;
use crate::http::extract::Ctx;
use crate::state::{AppState, from_millis};

/// Who a view is rendered for: their language, and the wallet's date (a
/// token's expiry is judged on it).
#[derive(Debug, Clone, Copy)]
pub struct Viewer {
    pub lang: Lang,
    pub today: NaiveDate,
}

impl Viewer {
    pub fn new(state: &AppState, ctx: &Ctx) -> Viewer {
        Viewer {
            lang: ctx.lang,
            today: wallet_today(ctx.now, state.time_zone),
        }
    }
}

/// An expiry month or year as people send it: a string or a number.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum StringOrNumber {
    Text(String),
    Number(u64),
}

impl StringOrNumber {
    pub fn as_text(&self) -> String {
        match self {
            StringOrNumber::Text(text) => text.clone(),
            StringOrNumber::Number(number) => number.to_string(),
        }
    }
}

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
pub struct CreateUserRequest {
    /// Mainland China mobile number.
    pub phone: String,
    /// The verified real name (实名).
    pub real_name: String,
    /// 18-character resident ID number; stored only as a keyed hash + last 4.
    pub id_number: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    /// Masked: 138****8000.
    pub phone: String,
    pub real_name: String,
    pub created_at: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSessionRequest {
    pub phone: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: String,
    pub user_id: String,
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

#[derive(Debug, Serialize, ToSchema)]
pub struct IssuerView {
    pub code: Option<String>,
    pub name_zh: Option<String>,
    pub name_en: Option<String>,
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
    /// token_suspended, card_unbound, token_expired, otp_required
    pub code: String,
    /// In the Accept-Language: "此卡已被发卡行暂停使用" / "Suspended by your bank".
    pub message: String,
    pub remedy: String,
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
            .and_then(|t| TokenState::from_stored(&t.status, &t.suspenders).ok());
        let token_expiry = card
            .token
            .as_ref()
            .and_then(|t| Expiry::new(t.expiry_month, t.expiry_year).ok());
        let reason = payability(
            &card.status,
            token_state.as_ref(),
            token_expiry,
            viewer.today,
        )
        .err()
        .map(|error| PayabilityReason {
            code: error.code.as_str().to_owned(),
            message: error.message(viewer.lang),
            remedy: error.remedy(viewer.lang),
            suspended_by: error.suspended_by.clone(),
        });
        let next_action = match (&card.otp_sent_to, card.otp_expires_at) {
            (Some(sent_to), Some(expires_at)) if card.status == "pending_verification" => {
                Some(NextAction {
                    action_type: "otp".to_owned(),
                    sent_to: sent_to.clone(),
                    expires_at: rfc3339(from_millis(expires_at)),
                })
            }
            _ => None,
        };
        CardView {
            id: card.id.clone(),
            status: card.status.clone(),
            brand: card.brand.clone(),
            issuer: IssuerView {
                code: card.issuer_code.clone(),
                name_zh: card.issuer_name_zh.clone(),
                name_en: card.issuer_name_en.clone(),
            },
            card_type: card.card_type.clone(),
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
                status: token.status.clone(),
                suspended_by: token.suspenders.clone(),
                expiry: format!("{:02}/{:02}", token.expiry_month, token.expiry_year % 100),
            }),
            is_default: card.is_default,
            payable: reason.is_none(),
            reason,
            created_at: rfc3339(from_millis(card.created_at)),
            next_action,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CardList {
    pub data: Vec<CardView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceWindow {
    /// RFC 3339; binding resumes then.
    pub until: String,
    #[serde(default)]
    pub message_zh: String,
    #[serde(default)]
    pub message_en: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptView {
    pub trace_id: String,
    pub user_id: String,
    pub card_id: Option<String>,
    /// First 6 and last 4 only.
    pub masked_pan: Option<String>,
    pub brand: Option<String>,
    pub issuer_code: Option<String>,
    pub issuer_name: Option<String>,
    pub card_type: Option<String>,
    pub country: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub device: Option<serde_json::Value>,
    /// success, pending_verification, verified or error
    pub outcome: String,
    pub error_code: Option<String>,
    pub cause: Option<String>,
    pub param: Option<String>,
    pub reason: Option<String>,
    pub issuer_response: Option<String>,
    pub latency_ms: i64,
    pub created_at: String,
}

impl AttemptView {
    pub fn from_record(attempt: &AttemptRecord) -> AttemptView {
        AttemptView {
            trace_id: attempt.trace_id.clone(),
            user_id: attempt.user_id.clone(),
            card_id: attempt.card_id.clone(),
            masked_pan: attempt.masked_pan.clone(),
            brand: attempt.brand.clone(),
            issuer_code: attempt.issuer_code.clone(),
            issuer_name: attempt.issuer_name.clone(),
            card_type: attempt.card_type.clone(),
            country: attempt.country.clone(),
            device: attempt
                .device
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok()),
            outcome: attempt.outcome.clone(),
            error_code: attempt.error_code.clone(),
            cause: attempt.cause.clone(),
            param: attempt.error_param.clone(),
            reason: attempt.error_reason.clone(),
            issuer_response: attempt.issuer_response.clone(),
            latency_ms: attempt.latency_ms,
            created_at: rfc3339(from_millis(attempt.created_at)),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptList {
    pub data: Vec<AttemptView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SmsView {
    pub phone: String,
    pub body: String,
    pub created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SmsList {
    pub data: Vec<SmsView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SandboxIssuerRequest {
    /// One issuer (e.g. ICBC), or all issuers when absent.
    pub issuer_code: Option<String>,
    pub latency_ms: u64,
    /// 0.0 to 1.0: the share of verifications that answer issuer_unavailable.
    pub failure_rate: f64,
}

/// The error object every failure answers with.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorObject,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorObject {
    /// card_error, invalid_request_error, authentication_error, ...
    #[serde(rename = "type")]
    pub error_type: String,
    pub code: String,
    pub param: Option<String>,
    /// In the Accept-Language (zh-CN by default, or en).
    pub message: String,
    pub remedy: String,
    /// input, card_not_supported, network, system, account, security
    pub cause: String,
    pub retryable: bool,
    pub trace_id: String,
    pub doc_url: String,
    pub reason: Option<String>,
    pub decline_code: Option<String>,
    pub attempts_left: Option<u32>,
    pub retry_after: Option<u64>,
    /// Who holds a suspended token: issuer, risk, wallet, cardholder.
    pub suspended_by: Option<Vec<String>>,
    /// The payment a decline was recorded as.
    pub payment_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MaintenanceStatus {
    pub active: bool,
    pub window: Option<MaintenanceWindow>,
}

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
/// that carries keys (DESIGN section 7): keep them in the device's secure
/// storage, use each once, ask again for more.
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
    pub created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentList {
    pub data: Vec<PaymentView>,
    pub next_cursor: Option<String>,
}

/// Suspends or resumes a token. The caller's role names the suspender: a
/// user session is the cardholder, an operator key the wallet, an issuer key
/// the issuer.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenChangeRequest {
    /// Kept in the token's history for support (at most 200 characters).
    pub reason: Option<String>,
}

/// The token after a lifecycle change.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenStateView {
    #[serde(rename = "ref")]
    pub token_ref: String,
    pub card_id: String,
    /// inactive, active, suspended, deleted
    pub status: String,
    pub suspended_by: Vec<String>,
    pub payable: bool,
}

/// One change in a token's life, as support reads it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenEventView {
    /// suspend, resume, delete, card_replaced, expiry_updated, card_closed
    pub kind: String,
    /// cardholder, wallet, issuer, risk
    pub actor: String,
    pub reason: Option<String>,
    /// The token's status after it.
    pub status_after: String,
    pub created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenEventList {
    pub data: Vec<TokenEventView>,
    pub next_cursor: Option<String>,
}

/// An issuer event. Signed: `Tessera-Signature: t=<unix seconds>,v1=<hex>`,
/// the HMAC-SHA256 under the issuer's API key of `<t>.<raw body>`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssuerEventRequest {
    /// The issuer's own id: a retried event with the same id is applied once.
    pub id: String,
    /// card.replaced, card.expiry_updated, card.closed
    #[serde(rename = "type")]
    pub event_type: String,
    /// RFC 3339: an event older than the card's newest applied one changes nothing.
    pub occurred_at: String,
    /// The card's Payment Account Reference, or
    pub par: Option<String>,
    /// its current card number.
    pub pan: Option<String>,
    /// card.replaced: the new card number.
    pub new_pan: Option<String>,
    /// card.replaced (optional) and card.expiry_updated.
    #[schema(value_type = Option<String>)]
    pub expiry_month: Option<StringOrNumber>,
    #[schema(value_type = Option<String>)]
    pub expiry_year: Option<StringOrNumber>,
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IssuerEventResult {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    /// applied, stale (a newer event came first), no_card, ignored
    /// (the cards are no longer live), conflict, or processing
    pub outcome: String,
    /// Cards the event changed.
    pub cards: u32,
    /// True when this id was seen before: nothing was applied again.
    pub duplicate: bool,
}

// Requests that carry a PAN, CVC, ID number, password or OTP print only what
// is safe, so that no `{:?}` anywhere can put them in a log.

impl std::fmt::Debug for CreateUserRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateUserRequest")
            .field("phone", &tessera_core::card::pan::mask(&self.phone))
            .field("real_name", &"***")
            .field("id_number", &"***")
            .field("password", &"***")
            .finish()
    }
}

impl std::fmt::Debug for CreateSessionRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateSessionRequest")
            .field("phone", &tessera_core::card::pan::mask(&self.phone))
            .field("password", &"***")
            .finish()
    }
}

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

impl std::fmt::Debug for IssuerEventRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuerEventRequest")
            .field("id", &self.id)
            .field("event_type", &self.event_type)
            .field("occurred_at", &self.occurred_at)
            .field("par", &self.par)
            .field(
                "pan",
                &self.pan.as_deref().map(tessera_core::card::pan::mask),
            )
            .field(
                "new_pan",
                &self.new_pan.as_deref().map(tessera_core::card::pan::mask),
            )
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_with_secrets_debug_print_masked() {
        let request: BindCardRequest = serde_json::from_value(serde_json::json!({
            "number": "6228480000000000019", "holder_name": "张三", "cvc": "739"
        }))
        .unwrap();
        let shown = format!("{request:?}");
        assert!(
            !shown.contains("6228480000000000019") && !shown.contains("739"),
            "{shown}"
        );
        let request: CreateUserRequest = serde_json::from_value(serde_json::json!({
            "phone": "13800138000", "real_name": "张三", "id_number": "11010519491231002X", "password": "pw-123456"
        }))
        .unwrap();
        let shown = format!("{request:?}");
        assert!(
            !shown.contains("11010519491231002X") && !shown.contains("pw-123456"),
            "{shown}"
        );
        let keys = LimitedUseKeys {
            token_ref: "tok_x".to_owned(),
            token_pan: "6299901234567890128".to_owned(),
            token_expiry: "12/29".to_owned(),
            psn: "00".to_owned(),
            profile: ProfileView {
                aip: "1880".to_owned(),
                iad: "06011203000000".to_owned(),
                derivation: "B".to_owned(),
            },
            keys: vec![SessionKeyView {
                atc: "0001".to_owned(),
                session_key: "0123456789ABCDEFFEDCBA9876543210".to_owned(),
            }],
        };
        let shown = format!("{keys:?}");
        assert!(
            !shown.contains("6299901234567890128") && !shown.contains("0123456789ABCDEF"),
            "{shown}"
        );
    }
}
