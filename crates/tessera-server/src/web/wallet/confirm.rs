//! Confirming with a second factor on a page: the payment password, a
//! passkey (fingerprint or face, through the page's script) or, for a
//! person with neither, a text-message code. Each form that needs one
//! includes `wallet/confirm.html` and hands its fields to [`obtain`],
//! which asks `POST /v1/me/verifications` for the single-use verification
//! the API route then takes in its `Tessera-Verification` header.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Answer, Call, Refusal, Visit};

/// The confirmation fields of a form. Its `Debug` names no secret.
#[derive(Default, Clone, Deserialize)]
pub struct ConfirmFields {
    #[serde(default)]
    pub payment_password: String,
    #[serde(default)]
    pub sms_code: String,
    /// A passkey's assertion, as the page's script put it: the challenge
    /// id and the credential, in JSON.
    #[serde(default)]
    pub webauthn: String,
    /// "Send me a code" was pressed instead of confirming.
    #[serde(default)]
    pub send_code: String,
    /// The page's Retry sent this form again after a dropped connection
    /// (`web/assets/wallet.js`).
    #[serde(default)]
    pub retry: String,
}

impl std::fmt::Debug for ConfirmFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfirmFields")
            .field("send_code", &self.send_code)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// How this person can confirm, for `wallet/confirm.html`.
#[derive(Debug, Default, Clone)]
pub struct ConfirmOptions {
    pub payment_password: bool,
    pub passkey: bool,
    /// Neither: a text-message code.
    pub sms: bool,
    /// When a locked payment password lifts, as a person reads it.
    pub locked_until: Option<String>,
    /// A code was just sent (the notice, and the resend countdown).
    pub code_sent: bool,
}

/// `GET /v1/me/payment-password`.
#[derive(Debug, Deserialize)]
pub(super) struct PasswordState {
    pub(super) set: bool,
    #[serde(default)]
    pub(super) locked_until: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Passkeys {
    #[serde(default)]
    data: Vec<Value>,
}

/// Which ways of confirming the person has.
pub async fn options(visit: &Visit) -> Result<ConfirmOptions, Refusal> {
    let password: PasswordState = visit
        .read(Call::get("/v1/me/payment-password").token(visit.token()))
        .await?;
    let passkeys: Passkeys = visit
        .read(Call::get("/v1/me/passkeys").token(visit.token()))
        .await?;
    let passkey = !passkeys.data.is_empty();
    Ok(ConfirmOptions {
        payment_password: password.set,
        passkey,
        sms: !password.set && !passkey,
        locked_until: password.locked_until.map(|until| visit.when(&until)),
        code_sent: false,
    })
}

/// What a confirmation is for: the body of `POST /v1/me/verifications`
/// without its proof.
#[derive(Debug, Clone, Serialize)]
pub struct Purpose {
    pub purpose: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant_id: Option<String>,
}

impl Purpose {
    pub fn new(purpose: &'static str) -> Purpose {
        Purpose {
            purpose,
            card_id: None,
            amount: None,
            currency: None,
            merchant_id: None,
        }
    }
}

/// What became of a form's confirmation.
#[derive(Debug)]
pub enum Confirmed {
    /// The verification to send in `Tessera-Verification`.
    Verification(String),
    /// The person asked for a text-message code, and it is on its way.
    CodeSent,
}

#[derive(Debug, Deserialize)]
struct VerificationAnswer {
    verification: String,
}

/// Confirms `purpose` with the form's fields, or sends the code asked for.
pub async fn obtain(
    visit: &Visit,
    purpose: &Purpose,
    fields: &ConfirmFields,
) -> Result<Confirmed, Refusal> {
    if !fields.send_code.is_empty() {
        let phone = visit
            .person
            .as_ref()
            .map(|p| p.user.phone.clone())
            .unwrap_or_default();
        visit
            .send(
                Call::post("/v1/sms-codes")
                    .json(&serde_json::json!({"phone": phone, "purpose": "verification"})),
            )
            .await?;
        return Ok(Confirmed::CodeSent);
    }
    let mut body = serde_json::to_value(purpose).unwrap_or_default();
    if let Value::Object(map) = &mut body {
        let given = |value: &str| (!value.trim().is_empty()).then(|| value.trim().to_owned());
        if let Some(webauthn) = given(&fields.webauthn) {
            map.insert(
                "webauthn".into(),
                serde_json::from_str(&webauthn).unwrap_or(Value::Null),
            );
        } else if let Some(password) = given(&fields.payment_password) {
            map.insert("payment_password".into(), Value::String(password));
        } else if let Some(code) = given(&fields.sms_code) {
            map.insert("sms_code".into(), Value::String(code));
        }
    }
    let answer: VerificationAnswer = visit
        .read(
            Call::post("/v1/me/verifications")
                .token(visit.token())
                .json(&body),
        )
        .await?;
    Ok(Confirmed::Verification(answer.verification))
}

/// A retried form's first answer, if its first sending went through: the
/// retry's code or passkey answer was spent by it, so asking for a new
/// verification would be refused though the work is done. `call` is the
/// form's API request with its idempotency key and without a
/// verification: the API answers a request it has done before with the
/// first answer, and refuses one that needs a verification without doing
/// anything. None when this is not a retry, or the first never arrived.
pub async fn replay(visit: &Visit, fields: &ConfirmFields, call: Call<'_>) -> Option<Answer> {
    if fields.retry.is_empty() {
        return None;
    }
    match visit.send(call).await {
        Err(refusal)
            if matches!(
                refusal.code.as_str(),
                "verification_required" | "verification_invalid"
            ) =>
        {
            None
        }
        answer => Some(answer),
    }
}

/// Why `send` answered no call: a code was texted for the person to type,
/// or the confirmation was refused.
#[derive(Debug)]
pub enum Held {
    CodeSent,
    Refused(Box<Refusal>),
}

/// Sends the form's API request (`call`, with its idempotency key) under a
/// confirmation of `purpose`: a retried form gets its first answer
/// (`replay`); otherwise a verification is obtained from the form's fields
/// and sent in the `tessera-verification` header.
pub async fn send<'a>(
    visit: &Visit,
    purpose: &Purpose,
    fields: &ConfirmFields,
    call: impl Fn() -> Call<'a>,
) -> Result<Answer, Held> {
    if let Some(answer) = replay(visit, fields, call()).await {
        return Ok(answer);
    }
    match obtain(visit, purpose, fields).await {
        Ok(Confirmed::Verification(verification)) => Ok(visit
            .send(call().header("tessera-verification", verification))
            .await),
        Ok(Confirmed::CodeSent) => Err(Held::CodeSent),
        Err(refusal) => Err(Held::Refused(Box::new(refusal))),
    }
}
