//! The wallet's first page: the person's cards.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::account::refused;
use super::{Call, Wallet};
use crate::web::{Chrome, words as w};

/// A card as the wallet's pages read it from `GET /v1/cards`.
#[derive(Debug, Clone, Deserialize)]
pub struct Card {
    pub id: String,
    pub status: String,
    pub brand: String,
    pub issuer: Issuer,
    #[serde(default)]
    pub card_type: Option<String>,
    pub last4: String,
    pub is_default: bool,
    pub payable: bool,
    #[serde(default)]
    pub reason: Option<Reason>,
    #[serde(default)]
    pub token: Option<Token>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Issuer {
    #[serde(default)]
    pub name_zh: Option<String>,
    #[serde(default)]
    pub name_en: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Token {
    pub status: String,
}

/// Why a card cannot pay now, and what to do.
#[derive(Debug, Clone, Deserialize)]
pub struct Reason {
    pub code: String,
    pub message: String,
    pub remedy: String,
}

#[derive(Debug, Deserialize)]
struct Cards {
    data: Vec<Card>,
}

impl Card {
    /// The bank's name in the page's language (the other when only it is
    /// known).
    pub fn bank(&self, chrome: &Chrome) -> String {
        let (first, second) = match chrome.lang {
            tessera_core::error::Lang::ZhCn => (&self.issuer.name_zh, &self.issuer.name_en),
            tessera_core::error::Lang::En => (&self.issuer.name_en, &self.issuer.name_zh),
        };
        first
            .clone()
            .or_else(|| second.clone())
            .unwrap_or_else(|| chrome.t(w::UNKNOWN_BANK).to_owned())
    }
}

#[derive(Template)]
#[template(path = "wallet/home.html")]
struct HomePage {
    chrome: Chrome,
    cards: Vec<Card>,
}

/// `/`: the person's cards.
pub async fn home(wallet: Wallet) -> Response {
    let cards: Cards = match wallet
        .read(Call::get("/v1/cards").token(wallet.token()))
        .await
    {
        Ok(cards) => cards,
        Err(refusal) => return refused(&wallet, &refusal),
    };
    wallet.page(
        StatusCode::OK,
        &HomePage {
            chrome: wallet.chrome(wallet.t(w::MY_CARDS)),
            cards: cards.data,
        },
    )
}
