//! Adding a card (`POST /v1/cards`), its text-message step (`verify`,
//! `otp`), the card's own page, the default card and unbinding with a
//! confirmation: each the API's own route, with the form's own
//! idempotency key, its refusals shown beside the field they concern. A
//! card number, expiry or security code is never written back into a page.

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tessera_core::error::{DomainError, ErrorCode, Lang};

use super::account::{Problem, refused, see_other};
use super::confirm::{self, ConfirmFields, ConfirmOptions, Held, Purpose};
use super::home::Card;
use super::{Call, Refusal, Visit, Wallet, WalletForm, form_key};
use crate::web::{Chrome, assets, words as w};

impl Card {
    /// The brand as people call it.
    pub fn brand_name(&self, chrome: &Chrome) -> String {
        brand_name(&self.brand, chrome.lang)
    }

    /// Debit card, credit card, ...: when the bank's table says.
    pub fn kind(&self, chrome: &Chrome) -> Option<&'static str> {
        self.card_type
            .as_deref()
            .and_then(type_name)
            .map(|text| chrome.t(text))
    }

    /// Whether the card's token can pay, in words.
    pub fn payments(&self, chrome: &Chrome) -> &'static str {
        if self.payable {
            return chrome.t(w::CAN_PAY);
        }
        let text = match self.token.as_ref().map(|t| t.status.as_str()) {
            Some("suspended") => w::TOKEN_SUSPENDED,
            Some("inactive") => w::TOKEN_INACTIVE,
            Some("deleted") => w::TOKEN_DELETED,
            _ => w::CANNOT_PAY_NOW,
        };
        chrome.t(text)
    }

    pub fn is_pending(&self) -> bool {
        self.status == "pending_verification"
    }

    pub fn is_active(&self) -> bool {
        self.status == "active"
    }

    /// What became of a card that is neither active nor waiting.
    pub fn ended(&self, chrome: &Chrome) -> Option<&'static str> {
        let text = match self.status.as_str() {
            "verification_expired" => w::CARD_CODE_EXPIRED,
            "verification_failed" => w::CARD_CODE_FAILED,
            "unbound" => w::CARD_WAS_REMOVED,
            "closed" => w::CARD_CLOSED_BY_BANK,
            _ => return None,
        };
        Some(chrome.t(text))
    }
}

fn brand_name(code: &str, lang: Lang) -> String {
    let text = match code {
        "unionpay" => w::BRAND_UNIONPAY,
        "mastercard" => w::BRAND_MASTERCARD,
        "amex" => w::BRAND_AMEX,
        "diners" => w::BRAND_DINERS,
        "cn_domestic" => w::BRAND_CN_DOMESTIC,
        // Visa, JCB and the rest are written the same in both languages.
        "visa" => return "Visa".to_owned(),
        "rupay" => return "RuPay".to_owned(),
        other => return other.replace('_', " ").to_uppercase(),
    };
    text.get(lang).to_owned()
}

fn type_name(code: &str) -> Option<tessera_core::error::Text> {
    match code {
        "debit" => Some(w::TYPE_DEBIT),
        "credit" => Some(w::TYPE_CREDIT),
        "semi_credit" => Some(w::TYPE_SEMI_CREDIT),
        "prepaid" => Some(w::TYPE_PREPAID),
        _ => None,
    }
}

/// The card checks the page's script makes before sending, each worded
/// by the API's catalogue entry for the refusal the API would give.
#[derive(Debug)]
pub struct Checks {
    pub number_format: Refusal,
    pub number_digit: Refusal,
    pub expiry_format: Refusal,
    pub expiry_past: Refusal,
    pub cvc: Refusal,
}

impl Checks {
    fn of(visit: &Visit) -> Checks {
        let local = |code: ErrorCode, param: &'static str| {
            Refusal::local(&DomainError::new(code).with_param(param), visit.lang, "")
        };
        Checks {
            number_format: local(ErrorCode::InvalidNumber, "number"),
            number_digit: local(ErrorCode::IncorrectNumber, "number"),
            expiry_format: local(ErrorCode::InvalidExpiryMonth, "expiry"),
            expiry_past: local(ErrorCode::ExpiredCard, "expiry"),
            cvc: local(ErrorCode::InvalidCvc, "cvc"),
        }
    }
}

#[derive(Template)]
#[template(path = "wallet/card_new.html")]
struct AddCardPage {
    chrome: Chrome,
    csrf: String,
    key: String,
    holder: String,
    bank_phone: String,
    checks: Checks,
    /// A refusal came back: the card's details are to be typed again.
    retype: bool,
    problem: Problem,
}

const ADD_FIELDS: &[&str] = &["number", "expiry", "cvc", "holder_name", "bank_phone"];

#[derive(Debug, Deserialize)]
struct Me {
    real_name: String,
}

impl Visit {
    /// The add-card page's layout: the wallet's script and the card's.
    fn card_chrome(&self, title: &str) -> Chrome {
        let mut chrome = self.chrome(title);
        chrome
            .scripts
            .push(format!("/assets/{}", assets::CARD_SCRIPT.served_as));
        chrome
    }
}

fn add_card_page(
    wallet: &Wallet,
    holder: String,
    bank_phone: String,
    refusal: Option<Refusal>,
) -> Response {
    let status = status_of(refusal.as_ref());
    let retype = refusal.is_some();
    let problem = refusal.map_or_else(Problem::none, |r| Problem::of(r, ADD_FIELDS));
    wallet.page(
        status,
        &AddCardPage {
            chrome: wallet.card_chrome(wallet.t(w::ADD_CARD)),
            csrf: wallet.person.csrf.clone(),
            key: form_key(),
            holder,
            bank_phone,
            checks: Checks::of(wallet),
            retype,
            problem,
        },
    )
}

/// `GET /cards/new`: the add-card form.
pub async fn add_page(wallet: Wallet) -> Response {
    let me: Me = match wallet.read(Call::get("/v1/me").token(wallet.token())).await {
        Ok(me) => me,
        Err(refusal) => return refused(&wallet, &refusal),
    };
    add_card_page(&wallet, me.real_name, String::new(), None)
}

#[derive(Default, Deserialize)]
pub struct AddCardForm {
    #[serde(default)]
    number: String,
    #[serde(default)]
    expiry: String,
    #[serde(default)]
    cvc: String,
    #[serde(default)]
    bank_phone: String,
    #[serde(default)]
    idempotency_key: String,
}

// The form carries a card number and a security code: its `Debug` never
// shows them.
impl std::fmt::Debug for AddCardForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AddCardForm")
    }
}

/// "MM/YY" (or "MMYY", or "MM/YYYY") as the API's month and year; the
/// API's own check words whatever is wrong with it.
fn expiry_parts(expiry: &str) -> Option<(String, String)> {
    let expiry: String = expiry.chars().filter(|c| !c.is_whitespace()).collect();
    if expiry.is_empty() {
        return None;
    }
    if let Some((month, year)) = expiry.split_once('/') {
        return Some((month.to_owned(), year.to_owned()));
    }
    if expiry.len() == 4 && expiry.bytes().all(|b| b.is_ascii_digit()) {
        let (month, year) = expiry.split_at(2);
        return Some((month.to_owned(), year.to_owned()));
    }
    Some((expiry, String::new()))
}

/// The page's field a refusal of `POST /v1/cards` concerns: the API's
/// expiry month and year are one field here, and a refusal of the card
/// itself (declined, not supported, already added) is about its number.
fn on_add_form(mut refusal: Refusal) -> Refusal {
    refusal.param = match refusal.param.as_deref() {
        Some("expiry_month" | "expiry_year") => Some("expiry".to_owned()),
        Some(other) => Some(other.to_owned()),
        None => match refusal.code.as_str() {
            "card_declined"
            | "card_not_supported"
            | "card_already_bound"
            | "otp_required"
            | "card_wallet_limit_reached" => Some("number".to_owned()),
            "phone_mismatch" => Some("bank_phone".to_owned()),
            "incorrect_cvc" => Some("cvc".to_owned()),
            _ => None,
        },
    };
    refusal
}

/// `POST /cards/new`: `POST /v1/cards` with the form's own key. Bound:
/// to the cards; waiting for a code: to the card's text-message step.
pub async fn add(WalletForm { wallet, form }: WalletForm<AddCardForm>) -> Response {
    let me: Me = match wallet.read(Call::get("/v1/me").token(wallet.token())).await {
        Ok(me) => me,
        Err(refusal) => return refused(&wallet, &refusal),
    };
    // Spaces and dashes are how people group it; anything else is the
    // API's to refuse.
    let number: String = form
        .number
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    let mut body = json!({
        "number": number,
        "holder_name": me.real_name,
    });
    if let Value::Object(map) = &mut body {
        if let Some((month, year)) = expiry_parts(&form.expiry) {
            map.insert("expiry_month".into(), Value::String(month));
            map.insert("expiry_year".into(), Value::String(year));
        }
        if !form.cvc.trim().is_empty() {
            map.insert("cvc".into(), Value::String(form.cvc.trim().to_owned()));
        }
        if !form.bank_phone.trim().is_empty() {
            map.insert(
                "bank_phone".into(),
                Value::String(form.bank_phone.trim().to_owned()),
            );
        }
    }
    let answer = wallet
        .send(
            Call::post("/v1/cards")
                .token(wallet.token())
                .idempotency_key(&form.idempotency_key)
                .json(&body),
        )
        .await;
    match answer {
        Ok((status, card)) => {
            let id = card["id"].as_str().unwrap_or_default();
            if status == StatusCode::ACCEPTED && !id.is_empty() {
                see_other(&format!("/cards/{id}?sent=1"))
            } else {
                see_other("/?added=1")
            }
        }
        Err(refusal) if refusal.code == "unauthenticated" => wallet.to_sign_in(),
        Err(refusal) => add_card_page(
            &wallet,
            me.real_name,
            form.bank_phone.trim().to_owned(),
            Some(on_add_form(refusal)),
        ),
    }
}

/// `GET /cards/bin/{first6}`: what the add-card page's script shows as
/// the number is typed, from `GET /v1/bins/{first6}` (the script cannot
/// hold the person's token).
pub async fn bin(wallet: Wallet, Path(first6): Path<String>) -> Response {
    let answer = wallet
        .send(Call::get(format!("/v1/bins/{first6}")).token(wallet.token()))
        .await;
    let lang = wallet.lang;
    let body = match answer {
        Ok((_, bin)) => {
            let bank = match lang {
                Lang::ZhCn => bin["issuer"]["name_zh"]
                    .as_str()
                    .or(bin["issuer"]["name_en"].as_str()),
                Lang::En => bin["issuer"]["name_en"]
                    .as_str()
                    .or(bin["issuer"]["name_zh"].as_str()),
            };
            let mut parts: Vec<String> = bank.map(str::to_owned).into_iter().collect();
            parts.push(brand_name(bin["brand"].as_str().unwrap_or_default(), lang));
            if let Some(kind) = bin["card_type"].as_str().and_then(type_name) {
                parts.push(kind.get(lang).to_owned());
            }
            json!({
                "known": true,
                "label": parts.join(" · "),
                "needs_expiry_and_cvc": bin["needs_expiry_and_cvc"],
                "cvc_length": bin["cvc_length"],
                "pan_lengths": bin["pan_lengths"],
                "supported": bin["supported"],
                "message": bin["not_supported"]["message"],
            })
        }
        Err(refusal) if refusal.status == 404 => {
            json!({"known": false, "message": wallet.t(w::CARD_BIN_UNKNOWN)})
        }
        // Too many lookups, or anything else: the page says nothing, and
        // the binding's own checks still answer.
        Err(_) => json!({"known": false}),
    };
    let mut response = Json(body).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

#[derive(Template)]
#[template(path = "wallet/card.html")]
struct CardPage {
    chrome: Chrome,
    card: Card,
    csrf: String,
    verify_key: String,
    resend_key: String,
    default_key: String,
    unbind_key: String,
    /// Seconds until another code may be sent.
    resend_in: u64,
    expires: String,
    confirm: ConfirmOptions,
    problem: Problem,
}

const SMS_FIELDS: &[&str] = &["otp"];
const UNBIND_FIELDS: &[&str] = &["payment_password", "sms_code"];

/// Seconds the page waits before offering another code after one was
/// sent (`otp_resend_after_secs`' default); the API's `retry_after`, when
/// it refuses one, says better.
const RESEND_AFTER: u64 = 60;

/// The status a page shows a refusal with: the API's.
fn status_of(refusal: Option<&Refusal>) -> StatusCode {
    refusal.map_or(StatusCode::OK, |r| {
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_REQUEST)
    })
}

/// The card's page: its text-message step while it waits for its code,
/// its details, default and unbinding once active, and what became of it
/// otherwise.
async fn show_card(
    wallet: &Wallet,
    id: &str,
    resend_in: u64,
    refusal: Option<(Refusal, &'static [&'static str])>,
    code_sent: bool,
) -> Response {
    let card: Card = match wallet
        .read(Call::get(format!("/v1/cards/{id}")).token(wallet.token()))
        .await
    {
        Ok(card) => card,
        Err(refusal) => return refused(wallet, &refusal),
    };
    let mut confirm = ConfirmOptions::default();
    if card.is_active() {
        confirm = match confirm::options(wallet).await {
            Ok(options) => options,
            Err(refusal) => return refused(wallet, &refusal),
        };
        confirm.code_sent = code_sent;
    }
    let status = status_of(refusal.as_ref().map(|(r, _)| r));
    // Beside its field while the card's form is there; above everything
    // once the card has ended.
    let problem = match refusal {
        Some((refusal, fields)) if card.is_pending() || card.is_active() => {
            Problem::of(refusal, fields)
        }
        Some((refusal, _)) => Problem::of(refusal, &[]),
        None => Problem::none(),
    };
    let expires = card
        .next_action
        .as_ref()
        .map(|next| wallet.when(&next.expires_at))
        .unwrap_or_default();
    wallet.page(
        status,
        &CardPage {
            chrome: wallet.chrome(wallet.t(if card.is_pending() {
                w::SMS_STEP
            } else {
                w::CARD_PAGE
            })),
            csrf: wallet.person.csrf.clone(),
            verify_key: form_key(),
            resend_key: form_key(),
            default_key: form_key(),
            unbind_key: form_key(),
            resend_in,
            expires,
            confirm,
            problem,
            card,
        },
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct CardQuery {
    #[serde(default)]
    sent: Option<String>,
}

/// `GET /cards/{id}`.
pub async fn card_page(
    wallet: Wallet,
    Path(id): Path<String>,
    Query(query): Query<CardQuery>,
) -> Response {
    let resend_in = if query.sent.is_some() {
        RESEND_AFTER
    } else {
        0
    };
    show_card(&wallet, &id, resend_in, None, false).await
}

#[derive(Deserialize)]
pub struct VerifyForm {
    #[serde(default)]
    otp: String,
    #[serde(default)]
    idempotency_key: String,
}

impl std::fmt::Debug for VerifyForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VerifyForm")
    }
}

/// `POST /cards/{id}/verify`: the code, through `POST /v1/cards/{id}/verify`.
pub async fn verify(
    Path(id): Path<String>,
    WalletForm { wallet, form }: WalletForm<VerifyForm>,
) -> Response {
    let answer = wallet
        .send(
            Call::post(format!("/v1/cards/{id}/verify"))
                .token(wallet.token())
                .idempotency_key(&form.idempotency_key)
                .json(&json!({"otp": form.otp.trim()})),
        )
        .await;
    match answer {
        Ok(_) => see_other("/?added=1"),
        Err(refusal) if refusal.code == "unauthenticated" => wallet.to_sign_in(),
        Err(refusal) => show_card(&wallet, &id, 0, Some((refusal, SMS_FIELDS)), false).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct KeyOnlyForm {
    #[serde(default)]
    idempotency_key: String,
}

/// `POST /cards/{id}/otp`: another code, through `POST /v1/cards/{id}/otp`.
pub async fn resend(
    Path(id): Path<String>,
    WalletForm { wallet, form }: WalletForm<KeyOnlyForm>,
) -> Response {
    let answer = wallet
        .send(
            Call::post(format!("/v1/cards/{id}/otp"))
                .token(wallet.token())
                .idempotency_key(&form.idempotency_key),
        )
        .await;
    match answer {
        Ok(_) => see_other(&format!("/cards/{id}?sent=1")),
        Err(refusal) if refusal.code == "unauthenticated" => wallet.to_sign_in(),
        Err(refusal) => {
            let wait = refusal.retry_after.unwrap_or(0);
            show_card(&wallet, &id, wait, Some((refusal, SMS_FIELDS)), false).await
        }
    }
}

/// `POST /cards/{id}/default`, from the cards or the card's page.
pub async fn make_default(
    Path(id): Path<String>,
    WalletForm { wallet, form }: WalletForm<KeyOnlyForm>,
) -> Response {
    let answer = wallet
        .send(
            Call::post(format!("/v1/cards/{id}/default"))
                .token(wallet.token())
                .idempotency_key(&form.idempotency_key),
        )
        .await;
    match answer {
        Ok(_) => see_other("/?default=1"),
        Err(refusal) => refused(&wallet, &refusal),
    }
}

#[derive(Debug, Deserialize)]
pub struct UnbindForm {
    #[serde(flatten)]
    confirm: ConfirmFields,
    #[serde(default)]
    idempotency_key: String,
}

/// `POST /cards/{id}/unbind`: a confirmation for `unbind_card` and this
/// card (or the code asked for), then `DELETE /v1/cards/{id}` with it.
pub async fn unbind(
    Path(id): Path<String>,
    WalletForm { wallet, form }: WalletForm<UnbindForm>,
) -> Response {
    let mut purpose = Purpose::new("unbind_card");
    purpose.card_id = Some(id.clone());
    let answer = match confirm::send(&wallet, &purpose, &form.confirm, || {
        Call::new(Method::DELETE, format!("/v1/cards/{id}"))
            .token(wallet.token())
            .idempotency_key(&form.idempotency_key)
    })
    .await
    {
        Ok(answer) => answer,
        Err(Held::CodeSent) => return show_card(&wallet, &id, 0, None, true).await,
        Err(Held::Refused(refusal)) => Err(*refusal),
    };
    match answer {
        Ok(_) => see_other("/?removed=1"),
        Err(refusal) if refusal.code == "unauthenticated" => wallet.to_sign_in(),
        Err(refusal) => show_card(&wallet, &id, 0, Some((refusal, UNBIND_FIELDS)), false).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expiry_is_read_as_people_write_it() {
        let parts = |text: &str| expiry_parts(text);
        let pair = |m: &str, y: &str| Some((m.to_owned(), y.to_owned()));
        assert_eq!(parts("08/29"), pair("08", "29"));
        assert_eq!(parts(" 8 / 2031 "), pair("8", "2031"));
        assert_eq!(parts("0829"), pair("08", "29"));
        assert_eq!(parts(""), None);
        // Whatever else is left to the API's check, blamed on the month.
        assert_eq!(parts("Aug"), pair("Aug", ""));
    }

    #[test]
    fn a_refusal_of_the_card_itself_is_shown_beside_its_number() {
        let refusal = |code: &str, param: Option<&str>| Refusal {
            code: code.to_owned(),
            param: param.map(str::to_owned),
            ..Refusal::default()
        };
        let at = |r: Refusal| on_add_form(r).param;
        assert_eq!(
            at(refusal("card_declined", None)).as_deref(),
            Some("number")
        );
        assert_eq!(
            at(refusal("expired_card", Some("expiry_year"))).as_deref(),
            Some("expiry")
        );
        assert_eq!(
            at(refusal("phone_mismatch", None)).as_deref(),
            Some("bank_phone")
        );
        assert_eq!(at(refusal("maintenance", None)), None);
    }
}
