//! Closing the account for good (`DELETE /v1/me`), with a confirmation
//! (`close_account`) as unfreezing takes one. Once closed, the wallet's
//! cookie is cleared and the sign-in page says what happened.

use askama::Template;
use axum::extract::State;
use axum::http::{Method, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;

use super::account::{Problem, refused, see_other};
use super::confirm::{self, ConfirmFields, ConfirmOptions, Held, Purpose};
use super::safety::{CONFIRM_FIELDS, status_of};
use super::{Call, Wallet, WalletForm, cookie, form_key};
use crate::state::AppState;
use crate::web::{Chrome, words as w};

#[derive(Template)]
#[template(path = "wallet/close.html")]
struct ClosePage {
    chrome: Chrome,
    csrf: String,
    key: String,
    confirm: ConfirmOptions,
    problem: Problem,
}

async fn close_page(
    wallet: &Wallet,
    status: StatusCode,
    code_sent: bool,
    problem: Problem,
) -> Response {
    let mut confirm = match confirm::options(wallet).await {
        Ok(options) => options,
        Err(refusal) => return refused(wallet, &refusal),
    };
    confirm.code_sent = code_sent;
    wallet.page(
        status,
        &ClosePage {
            chrome: wallet.chrome(wallet.t(w::CLOSE_TITLE)),
            csrf: wallet.person.csrf.clone(),
            key: form_key(),
            confirm,
            problem,
        },
    )
}

/// `/safety/close`: what closing does and keeps, and its confirmation.
pub async fn close_form(wallet: Wallet) -> Response {
    close_page(&wallet, StatusCode::OK, false, Problem::none()).await
}

#[derive(Debug, Deserialize)]
pub struct CloseForm {
    #[serde(default)]
    idempotency_key: String,
    #[serde(flatten)]
    confirm: ConfirmFields,
}

/// Closes the account with a confirmation (`close_account`).
pub async fn close(
    State(state): State<AppState>,
    WalletForm { wallet, form }: WalletForm<CloseForm>,
) -> Response {
    let purpose = Purpose::new("close_account");
    let closed = match confirm::send(&wallet, &purpose, &form.confirm, || {
        Call::new(Method::DELETE, "/v1/me")
            .token(wallet.token())
            .idempotency_key(&form.idempotency_key)
    })
    .await
    {
        Ok(answer) => answer,
        Err(Held::CodeSent) => {
            return close_page(&wallet, StatusCode::OK, true, Problem::none()).await;
        }
        Err(Held::Refused(refusal)) => Err(*refusal),
    };
    match closed {
        Ok(_) => {
            let mut response = see_other("/sign-in?closed=1");
            response
                .headers_mut()
                .insert(header::SET_COOKIE, cookie(&state, "", true));
            response
        }
        Err(refusal) if refusal.code == "unauthenticated" => refused(&wallet, &refusal),
        Err(refusal) => {
            let status = status_of(&refusal);
            close_page(&wallet, status, false, Problem::of(refusal, CONFIRM_FIELDS)).await
        }
    }
}
