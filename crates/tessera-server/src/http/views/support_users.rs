//! The support desk's search for a person: one way of searching a query,
//! and the people found, masked.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// One way of searching: `phone`; `user_id`; `id_last4` with `name`; or
/// `card_first6` with `card_last4`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UserSearchQuery {
    /// The account's phone, 11 digits.
    pub phone: Option<String>,
    /// `usr_...`.
    pub user_id: Option<String>,
    /// The ID number's last four characters (with `name`).
    pub id_last4: Option<String>,
    /// The real name, as on the ID card (with `id_last4`).
    pub name: Option<String>,
    /// A card's first six digits (with `card_last4`).
    pub card_first6: Option<String>,
    /// A card's last four digits (with `card_first6`).
    pub card_last4: Option<String>,
}

/// A card of a person found: first six and last four at most.
#[derive(Debug, Serialize, ToSchema)]
pub struct FoundCardView {
    pub id: String,
    /// The issuing bank's code and names.
    pub issuer_code: Option<String>,
    pub issuer_name_zh: Option<String>,
    pub issuer_name_en: Option<String>,
    pub brand: String,
    pub card_type: Option<String>,
    pub first6: String,
    pub last4: String,
    /// pending_verification, active, verification_failed,
    /// verification_expired, unbound or closed.
    pub status: String,
}

/// A person found, masked as support views mask people.
#[derive(Debug, Serialize, ToSchema)]
pub struct FoundUserView {
    pub user_id: String,
    /// First three and last four digits: `137****7007`.
    pub phone: String,
    /// A Chinese name keeps its last character (`*三`), a Latin one the
    /// first letter of each word.
    pub name: String,
    /// The last four characters only: `**************002X`.
    pub id_number: String,
    /// When the person signed up.
    pub created_at: String,
    /// Whether the person froze the wallet.
    pub frozen: bool,
    /// Cards that hold a place in the wallet (active, or waiting for the
    /// text-message code).
    pub live_cards: u32,
    /// Every card the person added, newest first.
    pub cards: Vec<FoundCardView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FoundUserList {
    /// Oldest account first; at most 20.
    pub data: Vec<FoundUserView>,
}
