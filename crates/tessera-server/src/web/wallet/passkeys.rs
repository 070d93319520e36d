//! Fingerprint or face (passkeys, WebAuthn) on the JSON API's
//! `/v1/me/passkeys` routes: add one, list them, remove one. The browser's
//! ceremony runs in `web/assets/passkey.js`, which cannot hold the
//! person's bearer token: it asks this page's own endpoints (CSRF-checked,
//! as the signed-in person) for each challenge, and they ask the API.

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::account::{Problem, failure_page, refused, see_other};
use super::confirm::{self, ConfirmFields, ConfirmOptions, Confirmed, Held, Purpose};
use super::safety::{CONFIRM_FIELDS, Done, Passkeys, get, redacted_debug, status_of};
use super::{Call, Refusal, Wallet, WalletForm, form_key};
use crate::web::{Chrome, words as w};

/// A passkey as the page lists it, its times as the person reads them.
#[derive(Debug)]
struct Listed {
    id: String,
    name: String,
    added: String,
    last_used: Option<String>,
}

#[derive(Template)]
#[template(path = "wallet/passkeys.html")]
struct PasskeysPage {
    chrome: Chrome,
    csrf: String,
    key: String,
    notice: Option<&'static str>,
    /// This browser sent the form without a passkey's answer.
    unsupported: bool,
    passkeys: Vec<Listed>,
    name: String,
    confirm: ConfirmOptions,
    problem: Problem,
}

const ADD_FIELDS: &[&str] = &["name", "payment_password", "sms_code"];

/// What the passkeys page says besides the list.
#[derive(Debug, Clone, Copy)]
enum Shown {
    Nothing,
    Notice(Option<&'static str>),
    CodeSent,
    Unsupported,
}

async fn passkeys_page(
    wallet: &Wallet,
    status: StatusCode,
    shown: Shown,
    name: String,
    problem: Problem,
) -> Response {
    let notice = match shown {
        Shown::Notice(notice) => notice,
        _ => None,
    };
    let held: Passkeys = match get(wallet, "/v1/me/passkeys").await {
        Ok(held) => held,
        Err(page) => return page,
    };
    let mut confirm = match confirm::options(wallet).await {
        Ok(options) => options,
        Err(refusal) => return refused(wallet, &refusal),
    };
    confirm.code_sent = matches!(shown, Shown::CodeSent);
    let passkeys = held
        .data
        .into_iter()
        .map(|passkey| Listed {
            added: wallet.when(&passkey.created_at),
            last_used: passkey.last_used_at.map(|at| wallet.when(&at)),
            id: passkey.id,
            name: passkey.name,
        })
        .collect();
    let mut chrome = wallet.chrome(wallet.t(w::PK_TITLE));
    chrome.scripts.push(crate::web::assets::passkey_script());
    wallet.page(
        status,
        &PasskeysPage {
            chrome,
            csrf: wallet.person.csrf.clone(),
            key: form_key(),
            notice,
            unsupported: matches!(shown, Shown::Unsupported),
            passkeys,
            name,
            confirm,
            problem,
        },
    )
}

/// `/safety/passkeys`: the person's passkeys, and adding one.
pub async fn list(wallet: Wallet, Query(done): Query<Done>) -> Response {
    let notice = done.notice(&wallet);
    passkeys_page(
        &wallet,
        StatusCode::OK,
        Shown::Notice(notice),
        String::new(),
        Problem::none(),
    )
    .await
}

/// Adding a passkey: the confirmation first (to get the challenge), then
/// the authenticator's answer.
#[derive(Deserialize)]
pub struct AddForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    challenge_id: String,
    #[serde(default)]
    credential: String,
    #[serde(default)]
    idempotency_key: String,
    #[serde(flatten)]
    confirm: ConfirmFields,
}

redacted_debug!(AddForm, name);

/// A challenge for `passkey.js`, never kept by the browser's cache.
fn challenge(value: &Value) -> Response {
    let mut response = (
        StatusCode::CREATED,
        Json(json!({
            "challenge_id": value["challenge_id"],
            "options": value["options"],
        })),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `POST /safety/passkeys/registrations` (from `passkey.js`): confirms
/// (`security_settings`) and answers the options for
/// `navigator.credentials.create`; a refusal is the page again, shown
/// beside the field it concerns.
pub async fn start_registration(WalletForm { wallet, form }: WalletForm<AddForm>) -> Response {
    let name = form.name.trim().to_owned();
    let purpose = Purpose::new("security_settings");
    let verification = match confirm::obtain(&wallet, &purpose, &form.confirm).await {
        Ok(Confirmed::Verification(verification)) => verification,
        Ok(Confirmed::CodeSent) => {
            return passkeys_page(
                &wallet,
                StatusCode::OK,
                Shown::CodeSent,
                name,
                Problem::none(),
            )
            .await;
        }
        Err(refusal) => return again(&wallet, name, refusal).await,
    };
    let started = wallet
        .send(
            Call::post("/v1/me/passkeys/registrations")
                .token(wallet.token())
                .header("tessera-verification", verification),
        )
        .await;
    match started {
        Ok((_, value)) => challenge(&value),
        Err(refusal) => again(&wallet, name, refusal).await,
    }
}

/// The passkeys page again with `refusal`.
async fn again(wallet: &Wallet, name: String, refusal: Refusal) -> Response {
    if refusal.code == "unauthenticated" {
        return refused(wallet, &refusal);
    }
    let status = status_of(&refusal);
    passkeys_page(
        wallet,
        status,
        Shown::Nothing,
        name,
        Problem::of(refusal, ADD_FIELDS),
    )
    .await
}

/// `POST /safety/passkeys`: the authenticator's answer, kept by the API;
/// or ("send me a code") the code to confirm with.
pub async fn add(WalletForm { wallet, form }: WalletForm<AddForm>) -> Response {
    let name = form.name.trim().to_owned();
    if !form.confirm.send_code.is_empty() {
        let purpose = Purpose::new("security_settings");
        return match confirm::obtain(&wallet, &purpose, &form.confirm).await {
            Ok(_) => {
                passkeys_page(
                    &wallet,
                    StatusCode::OK,
                    Shown::CodeSent,
                    name,
                    Problem::none(),
                )
                .await
            }
            Err(refusal) => again(&wallet, name, refusal).await,
        };
    }
    if form.credential.trim().is_empty() {
        // Only a browser without the script or without WebAuthn sends the
        // form as it is.
        return passkeys_page(
            &wallet,
            StatusCode::BAD_REQUEST,
            Shown::Unsupported,
            name,
            Problem::none(),
        )
        .await;
    }
    let credential: Value = serde_json::from_str(&form.credential).unwrap_or(Value::Null);
    let mut body = json!({"challenge_id": form.challenge_id, "credential": credential});
    if !name.is_empty() {
        body["name"] = json!(name);
    }
    let added = wallet
        .send(
            Call::post("/v1/me/passkeys")
                .token(wallet.token())
                .idempotency_key(&form.idempotency_key)
                .json(&body),
        )
        .await;
    match added {
        Ok(_) => see_other("/safety/passkeys?done=passkey_added"),
        Err(refusal) => again(&wallet, name, refusal).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct NoFields {}

/// `POST /safety/passkeys/assertions` (from `passkey.js`): the options for
/// `navigator.credentials.get`, to confirm a form's step with. A refusal
/// is its words, for the script to show.
pub async fn start_assertion(WalletForm { wallet, .. }: WalletForm<NoFields>) -> Response {
    let started = wallet
        .send(Call::post("/v1/me/passkeys/assertions").token(wallet.token()))
        .await;
    match started {
        Ok((_, value)) => challenge(&value),
        Err(refusal) => (
            status_of(&refusal),
            Json(json!({"message": refusal.message, "remedy": refusal.remedy})),
        )
            .into_response(),
    }
}

#[derive(Template)]
#[template(path = "wallet/passkey_remove.html")]
struct RemovePage {
    chrome: Chrome,
    csrf: String,
    key: String,
    id: String,
    name: String,
    confirm: ConfirmOptions,
    problem: Problem,
}

/// A passkey id as the API writes them; anything else is no passkey (and
/// never reaches an API path).
fn plain_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

async fn remove_page(
    wallet: &Wallet,
    id: &str,
    status: StatusCode,
    code_sent: bool,
    problem: Problem,
) -> Response {
    let held: Passkeys = match get(wallet, "/v1/me/passkeys").await {
        Ok(held) => held,
        Err(page) => return page,
    };
    let Some(passkey) = held.data.into_iter().find(|p| p.id == id) else {
        let missing =
            tessera_core::error::DomainError::new(tessera_core::error::ErrorCode::NotFound);
        let refusal = Refusal::local(&missing, wallet.lang, wallet.origin.trace_id());
        return failure_page(wallet, &refusal);
    };
    let mut confirm = match confirm::options(wallet).await {
        Ok(options) => options,
        Err(refusal) => return refused(wallet, &refusal),
    };
    confirm.code_sent = code_sent;
    wallet.page(
        status,
        &RemovePage {
            chrome: wallet.chrome(wallet.t(w::PK_REMOVE_TITLE)),
            csrf: wallet.person.csrf.clone(),
            key: form_key(),
            id: passkey.id,
            name: passkey.name,
            confirm,
            problem,
        },
    )
}

/// `/safety/passkeys/{id}/remove`: confirm, then remove.
pub async fn remove_form(wallet: Wallet, Path(id): Path<String>) -> Response {
    remove_page(&wallet, &id, StatusCode::OK, false, Problem::none()).await
}

#[derive(Debug, Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    idempotency_key: String,
    #[serde(flatten)]
    confirm: ConfirmFields,
}

pub async fn remove(
    Path(id): Path<String>,
    WalletForm { wallet, form }: WalletForm<RemoveForm>,
) -> Response {
    if !plain_id(&id) {
        return remove_page(&wallet, "", StatusCode::NOT_FOUND, false, Problem::none()).await;
    }
    let purpose = Purpose::new("security_settings");
    let removed = match confirm::send(&wallet, &purpose, &form.confirm, || {
        Call::new(Method::DELETE, format!("/v1/me/passkeys/{id}"))
            .token(wallet.token())
            .idempotency_key(&form.idempotency_key)
    })
    .await
    {
        Ok(answer) => answer,
        Err(Held::CodeSent) => {
            return remove_page(&wallet, &id, StatusCode::OK, true, Problem::none()).await;
        }
        Err(Held::Refused(refusal)) => Err(*refusal),
    };
    match removed {
        Ok(_) => see_other("/safety/passkeys?done=passkey_removed"),
        Err(refusal) if refusal.code == "unauthenticated" => refused(&wallet, &refusal),
        Err(refusal) => {
            let status = status_of(&refusal);
            let problem = Problem::of(refusal, CONFIRM_FIELDS);
            remove_page(&wallet, &id, status, false, problem).await
        }
    }
}
