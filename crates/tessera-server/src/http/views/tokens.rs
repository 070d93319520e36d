//! A token's lifecycle: suspend, resume and delete, its history, and the
//! issuers' signed events about their cards.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::StringOrNumber;

/// Suspends or resumes a token. The caller's role names the suspender: a
/// user session is the cardholder, an operator key the wallet, an issuer key
/// the issuer.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenChangeRequest {
    /// Kept in the token's history for support: one line of at most
    /// `limits.reason_chars` (200) characters, card numbers masked.
    pub reason: Option<String>,
}
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeleteQuery {
    /// Kept in the token's history for support.
    pub reason: Option<String>,
}

/// The token after a lifecycle change.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenStateView {
    #[serde(rename = "ref")]
    pub token_ref: String,
    pub card_id: String,
    /// inactive, active, suspended, deleted
    pub status: String,
    pub suspended_by: Vec<String>,
    pub payable: bool,
}
/// One change in a token's life, as support reads it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenEventView {
    /// suspend, resume, delete, renewed, card_replaced, expiry_updated, card_closed
    pub kind: String,
    /// cardholder, wallet, issuer, risk
    pub actor: String,
    pub reason: Option<String>,
    /// The token's status after it.
    pub status_after: String,
    pub created_at: String,
}
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenEventList {
    pub data: Vec<TokenEventView>,
    pub next_cursor: Option<String>,
}
/// An issuer event. Signed: `Tessera-Signature: t=<unix seconds>,v1=<hex>`,
/// the HMAC-SHA256 under the issuer's API key of `<t>.<raw body>`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssuerEventRequest {
    /// The issuer's own id: a retried event with the same id is applied once.
    pub id: String,
    /// card.replaced, card.expiry_updated, card.closed
    #[serde(rename = "type")]
    pub event_type: String,
    /// RFC 3339: an event older than the card's newest applied one changes nothing.
    pub occurred_at: String,
    /// The card's Payment Account Reference, or
    pub par: Option<String>,
    /// its current card number.
    pub pan: Option<String>,
    /// card.replaced: the new card number.
    pub new_pan: Option<String>,
    /// card.replaced (optional) and card.expiry_updated.
    #[schema(value_type = Option<String>)]
    pub expiry_month: Option<StringOrNumber>,
    #[schema(value_type = Option<String>)]
    pub expiry_year: Option<StringOrNumber>,
    pub reason: Option<String>,
}
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuerEventResult {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    /// applied, stale (a newer event came first), no_card, ignored
    /// (the cards are no longer live), conflict, or processing
    pub outcome: String,
    /// Cards the event changed.
    pub cards: u32,
    /// True when this id was seen before: nothing was applied again.
    pub duplicate: bool,
}
// An event may carry card numbers: it prints them masked.

impl std::fmt::Debug for IssuerEventRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuerEventRequest")
            .field("id", &self.id)
            .field("event_type", &self.event_type)
            .field("occurred_at", &self.occurred_at)
            .field("par", &self.par)
            .field(
                "pan",
                &self.pan.as_deref().map(tessera_core::card::pan::mask),
            )
            .field(
                "new_pan",
                &self.new_pan.as_deref().map(tessera_core::card::pan::mask),
            )
            .finish_non_exhaustive()
    }
}
