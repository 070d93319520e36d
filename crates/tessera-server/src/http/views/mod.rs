//! What the API shows: request and response bodies, documented for OpenAPI,
//! one module an area; every type is re-exported here.

pub mod admin;
pub mod cards;
pub mod fees;
pub mod payments;
pub mod support;
pub mod support_users;
pub mod tickets;
pub mod timeline;
pub mod tokens;
pub mod transfers;
pub mod users;
pub mod vault;

pub use admin::*;
pub use cards::*;
pub use fees::*;
pub use payments::*;
pub use support::*;
pub use support_users::*;
pub use tickets::*;
pub use timeline::*;
pub use tokens::*;
pub use transfers::*;
pub use users::*;
pub use vault::*;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use tessera_core::card::expiry::wallet_today;
use tessera_core::error::Lang;
use utoipa::ToSchema;

use crate::http::extract::Ctx;
use crate::state::AppState;

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
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuerView {
    pub code: Option<String>,
    pub name_zh: Option<String>,
    pub name_en: Option<String>,
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
    /// With `too_many_attempts`: the limit reached (otp_attempts,
    /// card_bindings, user_bindings, phone_sms).
    pub limit: Option<String>,
    /// When the limit lifts (RFC 3339), when it lifts by itself.
    pub locked_until: Option<String>,
    /// Who holds a suspended token: issuer, risk, wallet, cardholder.
    pub suspended_by: Option<Vec<String>>,
    /// The payment a decline was recorded as.
    pub payment_id: Option<String>,
    /// The card a `card_already_bound` or `otp_required` is about.
    pub card_id: Option<String>,
    /// The refund a `refund_declined` or `issuer_unavailable` answer to a
    /// refund was recorded as.
    pub refund_id: Option<String>,
    /// The transfer a `transfer_declined` or `issuer_unavailable` answer to
    /// a transfer was recorded as.
    pub transfer_id: Option<String>,
    /// `field_too_long`: the most characters the field named by `param`
    /// may hold.
    pub max_length: Option<u32>,
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
            "phone": "13800138000", "real_name": "张三", "id_number": "11010519491231002X", "password": "pw-123456",
            "sms_code": "296490"
        }))
        .unwrap();
        let shown = format!("{request:?}");
        assert!(
            !shown.contains("11010519491231002X")
                && !shown.contains("pw-123456")
                && !shown.contains("296490"),
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
