//! The person's safety settings, each on its JSON route: the payment
//! password (`/v1/me/payment-password`), the no-confirmation limits
//! (`/v1/me/payment-limits`), and the overview of them all. Freezing the
//! wallet is `freeze.rs`, fingerprint or face `passkeys.rs`. Every rule is the API's; the
//! pages check only what a form can see for itself (the new password typed
//! the same twice, an amount written as yuan).

use askama::Template;
use axum::extract::Query;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use tessera_core::error::Text;

use super::account::{Problem, Step, refused, see_other};
use super::confirm::{self, ConfirmFields, ConfirmOptions, Confirmed, PasswordState, Purpose};
use super::{Call, Refusal, Visit, Wallet, WalletForm, form_key};
use crate::web::{Chrome, words as w};

/// `?done=`: what the last form did, said once on the page it leads to.
#[derive(Debug, Default, Deserialize)]
pub struct Done {
    #[serde(default)]
    done: Option<String>,
}

impl Done {
    pub(super) fn notice(&self, visit: &Visit) -> Option<&'static str> {
        let text: Text = match self.done.as_deref()? {
            "password_set" => w::PP_DONE_SET,
            "password_changed" => w::PP_DONE_CHANGED,
            "password_reset" => w::PP_DONE_RESET,
            "passkey_added" => w::PK_DONE_ADDED,
            "passkey_removed" => w::PK_DONE_REMOVED,
            "limits" => w::LIMITS_DONE,
            "frozen" => w::FREEZE_DONE,
            "unfrozen" => w::UNFREEZE_DONE,
            _ => return None,
        };
        Some(visit.t(text))
    }
}

pub(super) fn status_of(refusal: &Refusal) -> StatusCode {
    StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::BAD_REQUEST)
}

/// Reads `path` for the person; a refusal is the page's answer.
pub(super) async fn get<T: DeserializeOwned>(visit: &Visit, path: &str) -> Result<T, Response> {
    visit
        .read(Call::get(path).token(visit.token()))
        .await
        .map_err(|refusal| refused(visit, &refusal))
}

/// A form's secrets never reach a log.
macro_rules! redacted_debug {
    ($form:ident $(, $shown:ident)*) => {
        impl std::fmt::Debug for $form {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($form))
                    $(.field(stringify!($shown), &self.$shown))*
                    .finish_non_exhaustive()
            }
        }
    };
}
pub(super) use redacted_debug;

/// The fields of `wallet/confirm.html`, for `Problem`.
pub const CONFIRM_FIELDS: &[&str] = &["payment_password", "sms_code"];

/// `GET /v1/me/payment-limits`, minor units of CNY.
#[derive(Debug, Deserialize)]
struct Limits {
    per_payment: i64,
    per_day: i64,
    chosen: bool,
    max_per_payment: i64,
    max_per_day: i64,
    used_today: i64,
}

#[derive(Debug, Deserialize)]
pub(super) struct FreezeState {
    pub(super) frozen: bool,
    #[serde(default)]
    pub(super) frozen_at: Option<String>,
    #[serde(default)]
    pub(super) message: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct Passkey {
    pub id: String,
    pub name: String,
    pub created_at: String,
    #[serde(default)]
    pub last_used_at: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Passkeys {
    pub data: Vec<Passkey>,
}

/// Minor units as a person writes yuan: `300`, `300.50`.
pub fn yuan(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let minor = minor.unsigned_abs();
    if minor.is_multiple_of(100) {
        format!("{sign}{}", minor / 100)
    } else {
        format!("{sign}{}.{:02}", minor / 100, minor % 100)
    }
}

/// Yuan as a person writes them (`300`, `300.5`, `300.50`) in minor
/// units, exactly, by the currency's own rule (`Currency::parse_amount`):
/// digits, and at most two after a point. No floats, so 0.1 + 0.2 is never
/// 0.30000000000000004 yuan.
pub fn parse_yuan(text: &str) -> Option<u64> {
    tessera_core::money::Currency::parse("CNY")?.parse_amount(text)
}

#[derive(Template)]
#[template(path = "wallet/safety.html")]
struct SafetyPage {
    chrome: Chrome,
    notice: Option<&'static str>,
    password_set: bool,
    locked_until: Option<String>,
    passkeys: usize,
    limits_chosen: bool,
    limits_off: bool,
    per_payment: String,
    per_day: String,
    used_today: String,
    frozen_since: Option<String>,
}

/// `/safety`: every setting at a glance.
pub async fn overview(wallet: Wallet, Query(done): Query<Done>) -> Response {
    let password: PasswordState = match get(&wallet, "/v1/me/payment-password").await {
        Ok(read) => read,
        Err(page) => return page,
    };
    let passkeys: Passkeys = match get(&wallet, "/v1/me/passkeys").await {
        Ok(read) => read,
        Err(page) => return page,
    };
    let limits: Limits = match get(&wallet, "/v1/me/payment-limits").await {
        Ok(read) => read,
        Err(page) => return page,
    };
    let freeze: FreezeState = match get(&wallet, "/v1/me/freeze").await {
        Ok(read) => read,
        Err(page) => return page,
    };
    let frozen_since = freeze
        .frozen
        .then(|| wallet.when(freeze.frozen_at.as_deref().unwrap_or("")));
    wallet.page(
        StatusCode::OK,
        &SafetyPage {
            chrome: wallet.chrome(wallet.t(w::SAFETY)),
            notice: done.notice(&wallet),
            password_set: password.set,
            locked_until: password.locked_until.map(|until| wallet.when(&until)),
            passkeys: passkeys.data.len(),
            limits_chosen: limits.chosen,
            limits_off: limits.per_payment == 0,
            per_payment: yuan(limits.per_payment),
            per_day: yuan(limits.per_day),
            used_today: yuan(limits.used_today),
            frozen_since,
        },
    )
}

#[derive(Template)]
#[template(path = "wallet/payment_password.html")]
struct PasswordPage {
    chrome: Chrome,
    csrf: String,
    key: String,
    set: bool,
    /// When a lock lifts, as the person reads it.
    locked_until: Option<String>,
    /// The two entries of the new one differ.
    mismatch: bool,
    problem: Problem,
}

const PASSWORD_FIELDS: &[&str] = &[
    "old_payment_password",
    "payment_password",
    "payment_password_again",
];

fn password_page(
    wallet: &Wallet,
    status: StatusCode,
    state: &PasswordState,
    mismatch: bool,
    problem: Problem,
    refusal_lock: Option<String>,
) -> Response {
    let title = if state.set {
        w::PP_CHANGE_ACTION
    } else {
        w::PP_SET_ACTION
    };
    wallet.page(
        status,
        &PasswordPage {
            chrome: wallet.chrome(wallet.t(title)),
            csrf: wallet.person.csrf.clone(),
            key: form_key(),
            set: state.set,
            locked_until: refusal_lock
                .or_else(|| state.locked_until.as_ref().map(|until| wallet.when(until))),
            mismatch,
            problem,
        },
    )
}

/// `/safety/payment-password`: set the first one, or change it.
pub async fn password_form(wallet: Wallet) -> Response {
    match get::<PasswordState>(&wallet, "/v1/me/payment-password").await {
        Ok(state) => password_page(
            &wallet,
            StatusCode::OK,
            &state,
            false,
            Problem::none(),
            None,
        ),
        Err(page) => page,
    }
}

redacted_debug!(PasswordForm, intent);

/// A new payment password typed twice; never echoed back into the form.
#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    old_payment_password: String,
    #[serde(default)]
    payment_password: String,
    #[serde(default)]
    payment_password_again: String,
    #[serde(default)]
    sms_code: String,
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    idempotency_key: String,
    #[serde(default)]
    intent: String,
}

/// `PUT /v1/me/payment-password` with `body`.
async fn put_password(wallet: &Wallet, key: &str, body: &serde_json::Value) -> Result<(), Refusal> {
    wallet
        .send(
            Call::new(Method::PUT, "/v1/me/payment-password")
                .token(wallet.token())
                .idempotency_key(key)
                .json(body),
        )
        .await
        .map(|_| ())
}

pub async fn set_password(WalletForm { wallet, form }: WalletForm<PasswordForm>) -> Response {
    let state: PasswordState = match get(&wallet, "/v1/me/payment-password").await {
        Ok(state) => state,
        Err(page) => return page,
    };
    if form.payment_password != form.payment_password_again {
        return password_page(
            &wallet,
            StatusCode::UNPROCESSABLE_ENTITY,
            &state,
            true,
            Problem::none(),
            None,
        );
    }
    let mut body = json!({"payment_password": form.payment_password});
    // An empty old one is left out rather than checked: the API then names
    // the field without counting a wrong entry.
    if state.set && !form.old_payment_password.is_empty() {
        body["old_payment_password"] = json!(form.old_payment_password);
    }
    match put_password(&wallet, &form.idempotency_key, &body).await {
        Ok(()) if state.set => see_other("/safety?done=password_changed"),
        Ok(()) => see_other("/safety?done=password_set"),
        Err(refusal) if refusal.code == "unauthenticated" => refused(&wallet, &refusal),
        Err(refusal) => {
            let lock = refusal.locked_until.as_ref().map(|u| wallet.when(u));
            password_page(
                &wallet,
                status_of(&refusal),
                &state,
                false,
                Problem::of(refusal, PASSWORD_FIELDS),
                lock,
            )
        }
    }
}

#[derive(Template)]
#[template(path = "wallet/payment_password_forgot.html")]
struct ForgotPasswordPage {
    chrome: Chrome,
    csrf: String,
    key: String,
    step: Step,
    /// The person's phone, masked.
    phone: String,
    resend_in: u64,
    mismatch: bool,
    problem: Problem,
}

const FORGOT_FIELDS: &[&str] = &[
    "sms_code",
    "id_number",
    "payment_password",
    "payment_password_again",
];

fn forgot_page(
    wallet: &Wallet,
    status: StatusCode,
    step: Step,
    resend_in: u64,
    mismatch: bool,
    problem: Problem,
) -> Response {
    let phone = tessera_core::identity::PhoneNumber::parse(&wallet.person.user.phone)
        .map(|phone| phone.masked())
        .unwrap_or_default();
    wallet.page(
        status,
        &ForgotPasswordPage {
            chrome: wallet.chrome(wallet.t(w::PP_FORGOT_ACTION)),
            csrf: wallet.person.csrf.clone(),
            key: form_key(),
            step,
            phone,
            resend_in,
            mismatch,
            problem,
        },
    )
}

/// `/safety/payment-password/forgot`: a texted code and the full ID
/// number instead of the old one.
pub async fn forgot_form(wallet: Wallet) -> Response {
    forgot_page(
        &wallet,
        StatusCode::OK,
        Step::Phone,
        0,
        false,
        Problem::none(),
    )
}

/// Seconds before another code may be asked for; the API's
/// `retry_after`, when it refuses one, says better.
const RESEND_AFTER: u64 = 60;

pub async fn forgot(WalletForm { wallet, form }: WalletForm<PasswordForm>) -> Response {
    if form.intent != "reset" {
        let sent = wallet
            .send(Call::post("/v1/sms-codes").json(&json!({
                "phone": wallet.person.user.phone,
                "purpose": "reset_payment_password",
            })))
            .await;
        return match sent {
            Ok(_) => forgot_page(
                &wallet,
                StatusCode::OK,
                Step::Code,
                RESEND_AFTER,
                false,
                Problem::none(),
            ),
            Err(refusal) => {
                let step = if form.intent == "resend" {
                    Step::Code
                } else {
                    Step::Phone
                };
                forgot_page(
                    &wallet,
                    status_of(&refusal),
                    step,
                    refusal.retry_after.unwrap_or(0),
                    false,
                    Problem::of(refusal, FORGOT_FIELDS),
                )
            }
        };
    }
    if form.payment_password != form.payment_password_again {
        return forgot_page(
            &wallet,
            StatusCode::UNPROCESSABLE_ENTITY,
            Step::Code,
            0,
            true,
            Problem::none(),
        );
    }
    let body = json!({
        "payment_password": form.payment_password,
        "sms_code": form.sms_code.trim(),
        "id_number": form.id_number.trim(),
    });
    match put_password(&wallet, &form.idempotency_key, &body).await {
        Ok(()) => see_other("/safety?done=password_reset"),
        Err(refusal) if refusal.code == "unauthenticated" => refused(&wallet, &refusal),
        Err(refusal) => forgot_page(
            &wallet,
            status_of(&refusal),
            Step::Code,
            0,
            false,
            Problem::of(refusal, FORGOT_FIELDS),
        ),
    }
}

#[derive(Template)]
#[template(path = "wallet/limits.html")]
struct LimitsPage {
    chrome: Chrome,
    csrf: String,
    key: String,
    chosen: bool,
    max_per_payment: String,
    max_per_day: String,
    used_today: String,
    per_payment: String,
    per_day: String,
    /// The field whose amount is not written as yuan.
    unreadable: Option<&'static str>,
    /// Raising a limit: how the person confirms.
    confirming: Option<ConfirmOptions>,
    problem: Problem,
}

const LIMITS_FIELDS: &[&str] = &["per_payment", "per_day", "payment_password", "sms_code"];

struct LimitsView {
    status: StatusCode,
    per_payment: String,
    per_day: String,
    unreadable: Option<&'static str>,
    confirming: Option<ConfirmOptions>,
    problem: Problem,
}

fn limits_page(wallet: &Wallet, limits: &Limits, view: LimitsView) -> Response {
    wallet.page(
        view.status,
        &LimitsPage {
            chrome: wallet.chrome(wallet.t(w::LIMITS_TITLE)),
            csrf: wallet.person.csrf.clone(),
            key: form_key(),
            chosen: limits.chosen,
            max_per_payment: yuan(limits.max_per_payment),
            max_per_day: yuan(limits.max_per_day),
            used_today: yuan(limits.used_today),
            per_payment: view.per_payment,
            per_day: view.per_day,
            unreadable: view.unreadable,
            confirming: view.confirming,
            problem: view.problem,
        },
    )
}

/// `/safety/limits`.
pub async fn limits_form(wallet: Wallet) -> Response {
    match get::<Limits>(&wallet, "/v1/me/payment-limits").await {
        Ok(limits) => {
            let view = LimitsView {
                status: StatusCode::OK,
                per_payment: yuan(limits.per_payment),
                per_day: yuan(limits.per_day),
                unreadable: None,
                confirming: None,
                problem: Problem::none(),
            };
            limits_page(&wallet, &limits, view)
        }
        Err(page) => page,
    }
}

redacted_debug!(LimitsForm, per_payment, per_day);

#[derive(Deserialize)]
pub struct LimitsForm {
    #[serde(default)]
    per_payment: String,
    #[serde(default)]
    per_day: String,
    #[serde(default)]
    idempotency_key: String,
    /// The confirmation fields are on the form: raising a limit.
    #[serde(default)]
    confirming: String,
    /// The second factor (`wallet/confirm.html`).
    #[serde(flatten)]
    confirm: ConfirmFields,
}

pub async fn set_limits(WalletForm { wallet, form }: WalletForm<LimitsForm>) -> Response {
    let limits: Limits = match get(&wallet, "/v1/me/payment-limits").await {
        Ok(limits) => limits,
        Err(page) => return page,
    };
    let view = |status: StatusCode,
                unreadable: Option<&'static str>,
                confirming: Option<ConfirmOptions>,
                problem: Problem| LimitsView {
        status,
        per_payment: form.per_payment.trim().to_owned(),
        per_day: form.per_day.trim().to_owned(),
        unreadable,
        confirming,
        problem,
    };
    let (Some(per_payment), Some(per_day)) =
        (parse_yuan(&form.per_payment), parse_yuan(&form.per_day))
    else {
        let field = if parse_yuan(&form.per_payment).is_none() {
            "per_payment"
        } else {
            "per_day"
        };
        let confirming = if form.confirming.is_empty() {
            None
        } else {
            confirm::options(&wallet).await.ok()
        };
        let page = view(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(field),
            confirming,
            Problem::none(),
        );
        return limits_page(&wallet, &limits, page);
    };
    let limits_call = || {
        Call::new(Method::PUT, "/v1/me/payment-limits")
            .token(wallet.token())
            .idempotency_key(&form.idempotency_key)
            .json(&json!({"per_payment": per_payment, "per_day": per_day}))
    };
    let mut call = limits_call();
    if !form.confirming.is_empty() {
        let fields = &form.confirm;
        if let Some(answer) = confirm::replay(&wallet, fields, limits_call()).await {
            return match answer {
                Ok(_) => see_other("/safety?done=limits"),
                Err(refusal) => confirm_again(&wallet, &limits, refusal, view).await,
            };
        }
        let purpose = Purpose::new("security_settings");
        match confirm::obtain(&wallet, &purpose, fields).await {
            Ok(Confirmed::Verification(verification)) => {
                call = call.header("tessera-verification", verification);
            }
            Ok(Confirmed::CodeSent) => {
                let mut options = match confirm::options(&wallet).await {
                    Ok(options) => options,
                    Err(refusal) => return refused(&wallet, &refusal),
                };
                options.code_sent = true;
                let page = view(StatusCode::OK, None, Some(options), Problem::none());
                return limits_page(&wallet, &limits, page);
            }
            Err(refusal) => return confirm_again(&wallet, &limits, refusal, view).await,
        }
    }
    match wallet.send(call).await {
        Ok(_) => see_other("/safety?done=limits"),
        Err(refusal) if refusal.code == "verification_required" => {
            let options = match confirm::options(&wallet).await {
                Ok(options) => options,
                Err(refusal) => return refused(&wallet, &refusal),
            };
            let page = view(StatusCode::OK, None, Some(options), Problem::none());
            limits_page(&wallet, &limits, page)
        }
        Err(refusal) if refusal.code == "unauthenticated" => refused(&wallet, &refusal),
        Err(refusal) => confirm_again(&wallet, &limits, refusal, view).await,
    }
}

/// The limits form again with a refusal; the confirmation fields stay
/// when they were on it.
async fn confirm_again(
    wallet: &Wallet,
    limits: &Limits,
    refusal: Refusal,
    view: impl Fn(StatusCode, Option<&'static str>, Option<ConfirmOptions>, Problem) -> LimitsView,
) -> Response {
    if refusal.code == "unauthenticated" {
        return refused(wallet, &refusal);
    }
    let confirming = if refusal.code == "verification_required"
        || refusal.is_about("payment_password")
        || refusal.is_about("sms_code")
        || refusal.code.starts_with("payment_password")
        || refusal.code.starts_with("verification")
    {
        confirm::options(wallet).await.ok().map(|mut options| {
            if let Some(until) = &refusal.locked_until {
                options.locked_until = Some(wallet.when(until));
            }
            options
        })
    } else {
        None
    };
    let status = status_of(&refusal);
    let page = view(
        status,
        None,
        confirming,
        Problem::of(refusal, LIMITS_FIELDS),
    );
    limits_page(wallet, limits, page)
}

#[cfg(test)]
mod tests {
    use super::{parse_yuan, yuan};

    #[test]
    fn yuan_are_read_exactly_as_written() {
        assert_eq!(parse_yuan("300"), Some(30_000));
        assert_eq!(parse_yuan(" 300.5 "), Some(30_050));
        assert_eq!(parse_yuan("300.50"), Some(30_050));
        assert_eq!(parse_yuan("0.07"), Some(7));
        assert_eq!(parse_yuan("0"), Some(0));
        for unreadable in [
            "", "300.", ".5", "300.505", "-1", "3e2", "1,000", "三百", "300 元",
        ] {
            assert_eq!(parse_yuan(unreadable), None, "{unreadable:?}");
        }
        assert_eq!(parse_yuan("999999999999999"), Some(99_999_999_999_999_900));
        assert_eq!(parse_yuan("999999999999999999999"), None, "beyond u64");
        assert_eq!(yuan(30_000), "300");
        assert_eq!(yuan(30_050), "300.50");
        assert_eq!(yuan(7), "0.07");
    }
}
