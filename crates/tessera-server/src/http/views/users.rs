//! Signing up and signing in.

use serde::{Deserialize, Serialize};
use tessera_core::error::DomainError;
use tessera_core::identity::PhoneNumber;
use tessera_store::UserRecord;
use utoipa::ToSchema;

use crate::http::error::rfc3339;

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
    /// The 6-digit code texted to `phone` (`POST /v1/sms-codes`, purpose
    /// `sign_up`): the phone is proven before the account is made.
    pub sms_code: String,
}
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    /// Masked: 138****8000.
    pub phone: String,
    pub real_name: String,
    pub created_at: String,
}
impl UserView {
    pub fn from_record(user: &UserRecord) -> Result<UserView, DomainError> {
        Ok(UserView {
            id: user.id.to_string(),
            phone: PhoneNumber::parse(&user.phone)?.masked(),
            real_name: user.real_name.clone(),
            created_at: rfc3339(user.created_at),
        })
    }
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
// Requests that carry a secret print only what is safe, so that no `{:?}`
// anywhere can put them in a log.

impl std::fmt::Debug for CreateUserRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateUserRequest")
            .field("phone", &tessera_core::card::pan::mask(&self.phone))
            .field("real_name", &"***")
            .field("id_number", &"***")
            .field("password", &"***")
            .field("sms_code", &"***")
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

/// One of the person's sessions; the token is never shown again.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionInfoView {
    /// `ses_...`
    pub id: String,
    pub created_at: String,
    pub expires_at: String,
    /// The User-Agent that signed in, when one was sent.
    pub user_agent: Option<String>,
    /// The session this request was sent with.
    pub current: bool,
}
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    /// Newest first.
    pub data: Vec<SessionInfoView>,
}

/// Asks for a text-message code.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmsCodeRequest {
    pub phone: String,
    /// What the code is for: `sign_up` (sent to any phone),
    /// `reset_password` or `reset_payment_password` (sent only to an
    /// account's phone).
    pub purpose: String,
}
/// The same answer whether or not the phone has an account.
#[derive(Debug, Serialize, ToSchema)]
pub struct SmsCodeAccepted {
    /// `accepted`: for `sign_up` a code is sent; for `reset_password`, if
    /// the phone has an account.
    pub status: String,
    /// How long a code stays valid, in seconds.
    pub expires_in: u64,
}
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    pub phone: String,
    /// The 6-digit code from the text message.
    pub sms_code: String,
    pub new_password: String,
}
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordResetView {
    pub user_id: String,
    /// Sessions that ended with the reset.
    pub sessions_ended: u64,
}

impl std::fmt::Debug for PasswordResetRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordResetRequest")
            .field("phone", &tessera_core::card::pan::mask(&self.phone))
            .field("sms_code", &"***")
            .field("new_password", &"***")
            .finish()
    }
}

/// `PUT /v1/me/payment-password`: a new one; the old one to change it, or,
/// when it is forgotten, a `reset_payment_password` text-message code and
/// the full ID number the account was opened with.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentPasswordRequest {
    /// Six digits.
    pub payment_password: String,
    /// The current one, to change it.
    pub old_payment_password: Option<String>,
    /// To reset a forgotten one: the code texted for `reset_payment_password`.
    pub sms_code: Option<String>,
    /// To reset a forgotten one: the full ID number.
    pub id_number: Option<String>,
}

impl std::fmt::Debug for PaymentPasswordRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentPasswordRequest")
            .field("payment_password", &"***")
            .field(
                "old_payment_password",
                &self.old_payment_password.as_ref().map(|_| "***"),
            )
            .field("sms_code", &self.sms_code.as_ref().map(|_| "***"))
            .field("id_number", &self.id_number.as_ref().map(|_| "***"))
            .finish()
    }
}

/// Whether a payment password is set, and whether it is locked.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentPasswordView {
    pub set: bool,
    /// Wrong entries left before it locks (absent when none is set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<u32>,
    /// When the lock lifts, RFC 3339 (absent when not locked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locked_until: Option<String>,
}

/// `POST /v1/me/verifications`: what to confirm, and the proof.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerificationRequest {
    /// `unbind_card`, `payment`, `transfer`, `unfreeze`,
    /// `security_settings` or `close_account`.
    pub purpose: String,
    /// The card to unbind (`unbind_card`), or to send from (`transfer`).
    pub card_id: Option<String>,
    /// Minor units: the payment's or transfer's amount.
    pub amount: Option<u64>,
    /// ISO 4217 alpha code (`payment`, `transfer`).
    pub currency: Option<String>,
    /// The merchant the payment is for (`payment`).
    pub merchant_id: Option<String>,
    /// The payment password, for a person who has set one.
    pub payment_password: Option<String>,
    /// A `verification` code texted to the person's phone, for a person
    /// with no payment password.
    pub sms_code: Option<String>,
    /// A passkey's assertion (fingerprint or face), answering a challenge
    /// from `POST /v1/me/passkeys/assertions`.
    pub webauthn: Option<WebauthnAssertion>,
}

/// A passkey's answer to an assertion challenge.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebauthnAssertion {
    pub challenge_id: String,
    /// What `navigator.credentials.get` answered (PublicKeyCredential JSON).
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
}

/// `POST /v1/me/passkeys`: the authenticator's answer to a registration
/// challenge, and the person's name for it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasskeyRequest {
    pub challenge_id: String,
    pub name: Option<String>,
    /// What `navigator.credentials.create` answered
    /// (RegisterPublicKeyCredential JSON).
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
}

/// A ceremony's challenge: hand `options` to the browser's
/// `navigator.credentials.create` (registration) or `.get` (assertion),
/// and send its answer back with `challenge_id` before `expires_at`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasskeyChallengeView {
    pub challenge_id: String,
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
    pub expires_at: String,
}

/// A passkey: a fingerprint or face on one of the person's devices.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasskeyView {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

impl PasskeyView {
    pub fn from_record(record: &tessera_store::PasskeyRecord) -> PasskeyView {
        PasskeyView {
            id: record.id.clone(),
            name: record.name.clone(),
            created_at: rfc3339(record.created_at),
            last_used_at: record.last_used_at.map(rfc3339),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PasskeyList {
    pub data: Vec<PasskeyView>,
}

impl std::fmt::Debug for VerificationRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerificationRequest")
            .field("purpose", &self.purpose)
            .field("card_id", &self.card_id)
            .field("amount", &self.amount)
            .field("currency", &self.currency)
            .field("merchant_id", &self.merchant_id)
            .field(
                "payment_password",
                &self.payment_password.as_ref().map(|_| "***"),
            )
            .field("sms_code", &self.sms_code.as_ref().map(|_| "***"))
            .field("webauthn", &self.webauthn.as_ref().map(|_| "assertion"))
            .finish()
    }
}

/// A confirmation: send `verification` as the `Tessera-Verification`
/// header of the step it confirms, once, before `expires_at`.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationView {
    pub verification: String,
    pub purpose: String,
    /// `payment_password` or `sms_code`.
    pub method: String,
    pub expires_at: String,
}

/// `PUT /v1/me/payment-limits`: minor units of CNY; 0 confirms every
/// payment. `per_day` is at least `per_payment`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentLimitsRequest {
    pub per_payment: u64,
    pub per_day: u64,
}

/// A person's no-confirmation limits (小额免密), minor units of CNY: a
/// payment up to `per_payment`, while the day's unconfirmed payments stay
/// within `per_day`, needs no confirmation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentLimitsView {
    pub per_payment: i64,
    pub per_day: i64,
    /// false: the wallet's defaults, the person has not chosen.
    pub chosen: bool,
    /// The most the wallet allows for each.
    pub max_per_payment: i64,
    pub max_per_day: i64,
    /// Today's payments that went without confirmation.
    pub used_today: i64,
}

/// A closed account: what `DELETE /v1/me` and an operator's close answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountClosureView {
    pub user_id: String,
    /// Always `closed`.
    pub status: String,
    /// `self` (the person) or `operator`.
    pub closed_by: String,
    /// The operator's reason; none when the person closed it.
    pub reason: Option<String>,
    pub closed_at: String,
    /// Until when the masked payments, transfers and binding attempts are
    /// kept (`retention.closed_account_days`); then they are deleted.
    pub records_kept_until: String,
}

/// An operator closing an account: `POST /v1/admin/users/{id}/close`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseAccountRequest {
    /// Why, kept with the closure (card numbers in it are masked).
    pub reason: String,
}
