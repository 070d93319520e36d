//! What the API shows: request and response bodies, documented for OpenAPI.
//! A card shows its first 6 and last 4 digits at most, never a CVC.

use serde::{Deserialize, Serialize};
use tessera_store::{AttemptRecord, CardRecord};
use utoipa::ToSchema;

use crate::error::rfc3339;
use crate::state::from_millis;

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
    /// MM/YY
    pub expiry: String,
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
    /// pending_verification, active, verification_failed, verification_expired, unbound
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
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_action: Option<NextAction>,
}

impl CardView {
    pub fn from_record(card: &CardRecord) -> CardView {
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
                expiry: format!("{:02}/{:02}", token.expiry_month, token.expiry_year % 100),
            }),
            is_default: card.is_default,
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
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MaintenanceStatus {
    pub active: bool,
    pub window: Option<MaintenanceWindow>,
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
    }
}
