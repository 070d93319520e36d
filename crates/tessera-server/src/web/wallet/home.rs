//! The wallet's first page: the person's cards.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use axum::extract::Query;

use super::account::refused;
use super::{Call, Wallet, form_key};
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
    /// The text-message step of a card waiting for its code.
    #[serde(default)]
    pub next_action: Option<NextAction>,
}

/// Where a pending card's code went, and until when it is good.
#[derive(Debug, Clone, Deserialize)]
pub struct NextAction {
    pub sent_to: String,
    pub expires_at: String,
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
    /// The card as a person names it: its bank and last four digits.
    pub fn named(&self, chrome: &Chrome) -> String {
        format!(
            "{} · {}{}",
            self.bank(chrome),
            chrome.t(w::ENDING_IN),
            self.last4
        )
    }

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
    csrf: String,
    /// A key for each card's "make default" form, in the cards' order.
    default_keys: Vec<String>,
    notice: Option<&'static str>,
}

/// What a card page sent the person back here to say.
#[derive(Debug, Default, Deserialize)]
pub struct HomeQuery {
    #[serde(default)]
    added: Option<String>,
    #[serde(default)]
    removed: Option<String>,
    #[serde(default)]
    default: Option<String>,
}

/// `/`: the person's cards.
pub async fn home(wallet: Wallet, Query(query): Query<HomeQuery>) -> Response {
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
            default_keys: cards.data.iter().map(|_| form_key()).collect(),
            cards: cards.data,
            csrf: wallet.person.csrf.clone(),
            notice: if query.added.is_some() {
                Some(wallet.t(w::CARD_ADDED))
            } else if query.removed.is_some() {
                Some(wallet.t(w::CARD_REMOVED))
            } else if query.default.is_some() {
                Some(wallet.t(w::DEFAULT_CHANGED))
            } else {
                None
            },
        },
    )
}
