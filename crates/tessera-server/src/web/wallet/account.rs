//! Signing up (the phone proven by a text-message code, the real name and
//! ID number checked), signing in and out, and a forgotten password: each
//! the API's own route, its refusals shown beside the field they concern.

use askama::Template;
use axum::extract::Query;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;
use tessera_core::error::Text;

use super::{Call, Posted, Refusal, Visit, WalletForm, cookie, safe_next};
use crate::state::AppState;
use crate::web::{Chrome, words as w};

/// A refusal and the fields a form shows: shown beside its field when the
/// form has it, above the form otherwise.
#[derive(Debug, Default)]
pub struct Problem {
    refusal: Option<Refusal>,
    fields: &'static [&'static str],
}

impl Problem {
    pub fn none() -> Problem {
        Problem::default()
    }

    pub fn of(refusal: Refusal, fields: &'static [&'static str]) -> Problem {
        Problem {
            refusal: Some(refusal),
            fields,
        }
    }

    /// The page's status: the refusal's, or 200 without one.
    pub fn status(&self) -> StatusCode {
        self.refusal.as_ref().map_or(StatusCode::OK, |r| {
            StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_REQUEST)
        })
    }

    /// The refusal about `field`, if there is one.
    pub fn at(&self, field: &str) -> Option<&Refusal> {
        self.refusal.as_ref().filter(|r| r.is_about(field))
    }

    /// The refusal about none of the form's fields.
    pub fn general(&self) -> Option<&Refusal> {
        self.refusal.as_ref().filter(|r| {
            r.param
                .as_deref()
                .is_none_or(|param| !self.fields.contains(&param))
        })
    }
}

#[derive(Template)]
#[template(path = "wallet/message.html")]
struct MessagePage {
    chrome: Chrome,
    heading: &'static str,
    message: String,
    refusal: Option<Refusal>,
}

/// A page that only says something.
pub fn message_page(visit: &Visit, status: StatusCode, heading: Text, message: String) -> Response {
    let heading = visit.t(heading);
    visit.page(
        status,
        &MessagePage {
            chrome: visit.chrome(heading),
            heading,
            message,
            refusal: None,
        },
    )
}

/// The API's refusal as a page of its own: what happened, what to do, the
/// help page and the trace id.
pub fn failure_page(visit: &Visit, refusal: &Refusal) -> Response {
    let heading = visit.t(w::SOMETHING_WRONG);
    let status = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    visit.page(
        status,
        &MessagePage {
            chrome: visit.chrome(heading),
            heading,
            message: String::new(),
            refusal: Some(refusal.clone()),
        },
    )
}

/// A refusal that needs the person signed in again sends them there;
/// any other is shown as a page.
pub fn refused(visit: &Visit, refusal: &Refusal) -> Response {
    if refusal.code == "unauthenticated" {
        return visit.to_sign_in();
    }
    failure_page(visit, refusal)
}

/// The answer to a signed-in form: where the person goes next.
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

#[derive(Debug, Default, Deserialize)]
pub struct SignInQuery {
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    ended: Option<String>,
    #[serde(default)]
    reset: Option<String>,
    #[serde(default)]
    signed_out: Option<String>,
    /// The account was just closed (`wallet/close.rs`).
    #[serde(default)]
    closed: Option<String>,
}

#[derive(Template)]
#[template(path = "wallet/sign_in.html")]
struct SignInPage {
    chrome: Chrome,
    next: String,
    phone: String,
    notice: Option<&'static str>,
    problem: Problem,
}

const SIGN_IN_FIELDS: &[&str] = &["phone", "password"];

pub async fn sign_in_page(visit: Visit, Query(query): Query<SignInQuery>) -> Response {
    let next = safe_next(query.next.as_deref());
    if visit.person.is_some() {
        return see_other(&next);
    }
    let notice = if query.ended.is_some() {
        Some(visit.t(w::WALLET_SESSION_ENDED))
    } else if query.reset.is_some() {
        Some(visit.t(w::PASSWORD_WAS_RESET))
    } else if query.signed_out.is_some() {
        Some(visit.t(w::SIGNED_OUT))
    } else if query.closed.is_some() {
        Some(visit.t(w::ACCOUNT_CLOSED_NOTICE))
    } else {
        None
    };
    visit.page(
        StatusCode::OK,
        &SignInPage {
            chrome: visit.chrome(visit.t(w::SIGN_IN)),
            next,
            phone: String::new(),
            notice,
            problem: Problem::none(),
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    phone: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SessionAnswer {
    token: String,
}

/// Signs in through `POST /v1/sessions` and keeps the session's token in
/// the wallet's cookie.
async fn start_session(
    state: &AppState,
    visit: &Visit,
    phone: &str,
    password: &str,
    to: &str,
) -> Result<Response, Refusal> {
    let session: SessionAnswer = visit
        .read(Call::post("/v1/sessions").json(&json!({"phone": phone, "password": password})))
        .await?;
    let mut response = see_other(to);
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cookie(state, &session.token, false));
    Ok(response)
}

pub async fn sign_in(
    axum::extract::State(state): axum::extract::State<AppState>,
    Posted { visit, form }: Posted<SignInForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let phone = form.phone.trim();
    match start_session(&state, &visit, phone, &form.password, &next).await {
        Ok(response) => response,
        Err(refusal) => {
            let status = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::BAD_REQUEST);
            visit.page(
                status,
                &SignInPage {
                    chrome: visit.chrome(visit.t(w::SIGN_IN)),
                    next,
                    phone: phone.to_owned(),
                    notice: None,
                    problem: Problem::of(refusal, SIGN_IN_FIELDS),
                },
            )
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct SignOutForm {}

/// Signs out: `DELETE /v1/sessions/current`, and the cookie cleared.
pub async fn sign_out(
    axum::extract::State(state): axum::extract::State<AppState>,
    WalletForm { wallet, .. }: WalletForm<SignOutForm>,
) -> Response {
    let answer = wallet
        .send(Call::new(axum::http::Method::DELETE, "/v1/sessions/current").token(wallet.token()))
        .await;
    if let Err(refusal) = answer.as_ref()
        && refusal.code != "unauthenticated"
    {
        return failure_page(&wallet, refusal);
    }
    let mut response = see_other("/sign-in?signed_out=1");
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cookie(&state, "", true));
    response
}

/// The two steps of a form proven by a text-message code: the phone
/// first, then the code with the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Phone,
    Code,
}

#[derive(Template)]
#[template(path = "wallet/sign_up.html")]
struct SignUpPage {
    chrome: Chrome,
    step: Step,
    phone: String,
    real_name: String,
    /// Seconds until another code may be sent.
    resend_in: u64,
    problem: Problem,
}

const SIGN_UP_FIELDS: &[&str] = &["phone", "sms_code", "real_name", "id_number", "password"];

/// Seconds the page waits before offering another code; the API's
/// `retry_after`, when it refuses one, says better.
const RESEND_AFTER: u64 = 60;

pub async fn sign_up_page(visit: Visit) -> Response {
    if visit.person.is_some() {
        return see_other("/");
    }
    visit.page(
        StatusCode::OK,
        &SignUpPage {
            chrome: visit.chrome(visit.t(w::SIGN_UP)),
            step: Step::Phone,
            phone: String::new(),
            real_name: String::new(),
            resend_in: 0,
            problem: Problem::none(),
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct SignUpForm {
    #[serde(default)]
    phone: String,
    #[serde(default)]
    sms_code: String,
    #[serde(default)]
    real_name: String,
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    password: String,
    /// `code` or `resend`: send the code; `create`: make the account.
    #[serde(default)]
    intent: String,
}

/// Asks for a text-message code; the seconds until another may be asked.
async fn send_code(visit: &Visit, phone: &str, purpose: &str) -> Result<u64, Refusal> {
    visit
        .send(Call::post("/v1/sms-codes").json(&json!({"phone": phone, "purpose": purpose})))
        .await?;
    Ok(RESEND_AFTER)
}

/// What a form proven by a texted code shows after "send the code" or
/// "send it again": the code step with the seconds until another may be
/// sent, or the refusal (on the code step when resending, where the API's
/// `retry_after` says how long to wait).
async fn code_step(
    visit: &Visit,
    intent: &str,
    phone: &str,
    purpose: &str,
    fields: &'static [&'static str],
) -> (Step, u64, Problem) {
    match send_code(visit, phone, purpose).await {
        Ok(wait) => (Step::Code, wait, Problem::none()),
        Err(refusal) if intent == "resend" => (
            Step::Code,
            refusal.retry_after.unwrap_or(0),
            Problem::of(refusal, fields),
        ),
        Err(refusal) => (Step::Phone, 0, Problem::of(refusal, fields)),
    }
}

pub async fn sign_up(
    axum::extract::State(state): axum::extract::State<AppState>,
    Posted { visit, form }: Posted<SignUpForm>,
) -> Response {
    let phone = form.phone.trim().to_owned();
    let render = |step: Step, resend_in: u64, problem: Problem| {
        let status = problem.status();
        visit.page(
            status,
            &SignUpPage {
                chrome: visit.chrome(visit.t(w::SIGN_UP)),
                step,
                phone: phone.clone(),
                real_name: form.real_name.trim().to_owned(),
                resend_in,
                problem,
            },
        )
    };
    if form.intent != "create" {
        let (step, wait, problem) =
            code_step(&visit, &form.intent, &phone, "sign_up", SIGN_UP_FIELDS).await;
        return render(step, wait, problem);
    }
    let created = visit
        .send(Call::post("/v1/users").json(&json!({
            "phone": phone,
            "real_name": form.real_name.trim(),
            "id_number": form.id_number.trim(),
            "password": form.password,
            "sms_code": form.sms_code.trim(),
        })))
        .await;
    if let Err(refusal) = created {
        return render(Step::Code, 0, Problem::of(refusal, SIGN_UP_FIELDS));
    }
    match start_session(&state, &visit, &phone, &form.password, "/").await {
        Ok(response) => response,
        Err(refusal) => failure_page(&visit, &refusal),
    }
}

#[derive(Template)]
#[template(path = "wallet/forgot.html")]
struct ForgotPage {
    chrome: Chrome,
    step: Step,
    phone: String,
    resend_in: u64,
    problem: Problem,
}

const FORGOT_FIELDS: &[&str] = &["phone", "sms_code", "new_password"];

pub async fn forgot_page(visit: Visit) -> Response {
    visit.page(
        StatusCode::OK,
        &ForgotPage {
            chrome: visit.chrome(visit.t(w::FORGOT_PASSWORD)),
            step: Step::Phone,
            phone: String::new(),
            resend_in: 0,
            problem: Problem::none(),
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    phone: String,
    #[serde(default)]
    sms_code: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    intent: String,
}

/// A new sign-in password through `POST /v1/password-resets`: every
/// session ends with it, this browser's too.
pub async fn forgot(
    axum::extract::State(state): axum::extract::State<AppState>,
    Posted { visit, form }: Posted<ForgotForm>,
) -> Response {
    let phone = form.phone.trim().to_owned();
    let render = |step: Step, resend_in: u64, problem: Problem| {
        let status = problem.status();
        visit.page(
            status,
            &ForgotPage {
                chrome: visit.chrome(visit.t(w::FORGOT_PASSWORD)),
                step,
                phone: phone.clone(),
                resend_in,
                problem,
            },
        )
    };
    if form.intent != "reset" {
        let (step, wait, problem) = code_step(
            &visit,
            &form.intent,
            &phone,
            "reset_password",
            FORGOT_FIELDS,
        )
        .await;
        return render(step, wait, problem);
    }
    let reset = visit
        .send(Call::post("/v1/password-resets").json(&json!({
            "phone": phone,
            "sms_code": form.sms_code.trim(),
            "new_password": form.new_password,
        })))
        .await;
    match reset {
        Ok(_) => {
            let mut response = see_other("/sign-in?reset=1");
            response
                .headers_mut()
                .insert(header::SET_COOKIE, cookie(&state, "", true));
            response
        }
        Err(refusal) => render(Step::Code, 0, Problem::of(refusal, FORGOT_FIELDS)),
    }
}
