//! Freezing the whole wallet at once (`/v1/me/freeze`): one press, no
//! second factor, so that someone worried can stop every card; unfreezing
//! takes a confirmation (`unfreeze`).

use askama::Template;
use axum::extract::Query;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::account::{Problem, refused, see_other};
use super::confirm::{self, ConfirmFields, ConfirmOptions, Held, Purpose};
use super::safety::{CONFIRM_FIELDS, Done, FreezeState, get, status_of};
use super::{Call, Wallet, WalletForm, form_key};
use crate::web::{Chrome, words as w};

#[derive(Template)]
#[template(path = "wallet/freeze.html")]
struct FreezePage {
    chrome: Chrome,
    csrf: String,
    key: String,
    notice: Option<&'static str>,
    frozen: bool,
    since: String,
    /// What being frozen means, in the API's words.
    message: String,
    confirm: ConfirmOptions,
    problem: Problem,
}

async fn freeze_page(
    wallet: &Wallet,
    status: StatusCode,
    notice: Option<&'static str>,
    code_sent: bool,
    problem: Problem,
) -> Response {
    let state: FreezeState = match get(wallet, "/v1/me/freeze").await {
        Ok(state) => state,
        Err(page) => return page,
    };
    let mut confirm = ConfirmOptions::default();
    if state.frozen {
        confirm = match confirm::options(wallet).await {
            Ok(options) => options,
            Err(refusal) => return refused(wallet, &refusal),
        };
        confirm.code_sent = code_sent;
    }
    wallet.page(
        status,
        &FreezePage {
            chrome: wallet.chrome(wallet.t(w::FREEZE_TITLE)),
            csrf: wallet.person.csrf.clone(),
            key: form_key(),
            notice,
            frozen: state.frozen,
            since: wallet.when(state.frozen_at.as_deref().unwrap_or("")),
            message: state.message,
            confirm,
            problem,
        },
    )
}

/// `/safety/freeze`.
pub async fn freeze_form(wallet: Wallet, Query(done): Query<Done>) -> Response {
    let notice = done.notice(&wallet);
    freeze_page(&wallet, StatusCode::OK, notice, false, Problem::none()).await
}

#[derive(Debug, Deserialize)]
pub struct FreezeForm {
    #[serde(default)]
    idempotency_key: String,
}

/// Freezes at once: no second factor, so that someone worried can stop
/// everything even without their payment password.
pub async fn freeze(WalletForm { wallet, form }: WalletForm<FreezeForm>) -> Response {
    let frozen = wallet
        .send(
            Call::post("/v1/me/freeze")
                .token(wallet.token())
                .idempotency_key(&form.idempotency_key),
        )
        .await;
    match frozen {
        Ok(_) => see_other("/safety/freeze?done=frozen"),
        Err(refusal) => refused(&wallet, &refusal),
    }
}

#[derive(Debug, Deserialize)]
pub struct UnfreezeForm {
    #[serde(default)]
    idempotency_key: String,
    #[serde(flatten)]
    confirm: ConfirmFields,
}

/// Unfreezes with a confirmation (`unfreeze`).
pub async fn unfreeze(WalletForm { wallet, form }: WalletForm<UnfreezeForm>) -> Response {
    let purpose = Purpose::new("unfreeze");
    let unfrozen = match confirm::send(&wallet, &purpose, &form.confirm, || {
        Call::new(Method::DELETE, "/v1/me/freeze")
            .token(wallet.token())
            .idempotency_key(&form.idempotency_key)
    })
    .await
    {
        Ok(answer) => answer,
        Err(Held::CodeSent) => {
            return freeze_page(&wallet, StatusCode::OK, None, true, Problem::none()).await;
        }
        Err(Held::Refused(refusal)) => Err(*refusal),
    };
    match unfrozen {
        Ok(_) => see_other("/safety/freeze?done=unfrozen"),
        Err(refusal) if refusal.code == "unauthenticated" => refused(&wallet, &refusal),
        Err(refusal) => {
            let status = status_of(&refusal);
            freeze_page(
                &wallet,
                status,
                None,
                false,
                Problem::of(refusal, CONFIRM_FIELDS),
            )
            .await
        }
    }
}
