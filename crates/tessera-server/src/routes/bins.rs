//! What the first six digits of a card number say, asked while a person
//! types it: the brand, the card type, the bank, which fields the card
//! needs and whether the wallet takes it. The same BIN index and support
//! policy a binding uses (`flows/binding.rs`), so the answer cannot
//! disagree with the binding that follows.

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use tessera_core::card::cvc::Cvc;
use tessera_core::error::{DomainError, ErrorCode};
use utoipa::ToSchema;

use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::extract::Ctx;
use crate::http::views::{ErrorEnvelope, IssuerView};
use crate::state::AppState;

/// Why the wallet does not take cards of this prefix.
#[derive(Debug, Serialize, ToSchema)]
pub struct BinNotSupported {
    /// unknown_bin, brand, card_type, country, issuer, account_class
    pub reason: String,
    /// In the Accept-Language, as a binding would refuse it.
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BinView {
    pub first6: String,
    /// unionpay, visa, mastercard, amex, jcb, ... (as on a card)
    pub brand: String,
    /// debit, credit, semi_credit, prepaid; null when the table does not say
    pub card_type: Option<String>,
    pub issuer: IssuerView,
    /// ISO 3166-1 alpha-2, when known.
    pub country: Option<String>,
    /// Whether a binding needs the expiry date and the CVC (credit and
    /// semi-credit cards).
    pub needs_expiry_and_cvc: bool,
    /// Digits of the CVC, when it is needed.
    pub cvc_length: u8,
    /// The lengths numbers of this prefix are issued at, ascending; empty
    /// when unknown (12 to 19 digits then).
    pub pan_lengths: Vec<u8>,
    /// Whether the wallet takes these cards; when not, `not_supported`
    /// says why.
    pub supported: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_supported: Option<BinNotSupported>,
}

/// Look up a card number's first six digits, as it is typed. Each person
/// has a budget of `limits.bin_lookups_per_minute` a minute on a node
/// (`429 rate_limited` with `Retry-After` beyond it). A prefix nobody
/// issues is 404.
#[utoipa::path(get, path = "/v1/bins/{first6}", tag = "cards", security(("bearer" = [])),
    params(("first6" = String, Path, description = "the card number's first six digits")),
    responses((status = 200, body = BinView),
        (status = 400, description = "invalid_request (first6): not six digits", body = ErrorEnvelope),
        (status = 401, body = ErrorEnvelope),
        (status = 404, description = "not_found (first6): no bank issues cards of this prefix", body = ErrorEnvelope),
        (status = 429, description = "rate_limited (Retry-After)", body = ErrorEnvelope)))]
pub async fn lookup_bin(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    Path(first6): Path<String>,
) -> Result<Json<BinView>, ApiError> {
    let person = caller.user()?;
    state.public_rate_limits.check_person(person.as_str())?;
    if first6.len() != 6 || !first6.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DomainError::new(ErrorCode::InvalidRequest)
            .with_param("first6")
            .into());
    }
    let Some(bin) = state.bins.lookup(&first6) else {
        return Err(DomainError::new(ErrorCode::NotFound)
            .with_param("first6")
            .into());
    };
    let not_supported = state
        .config
        .policy
        .check(Some(&bin))
        .err()
        .map(|error| BinNotSupported {
            reason: error
                .not_supported
                .as_ref()
                .map_or("unknown_bin", |n| n.reason.as_str())
                .to_owned(),
            message: error.message(ctx.lang),
        });
    let needs_expiry_and_cvc = bin.card_type.is_some_and(|t| t.requires_expiry_and_cvc());
    Ok(Json(BinView {
        first6,
        brand: bin.brand.code().to_owned(),
        card_type: bin.card_type.map(|t| t.code().to_owned()),
        issuer: IssuerView {
            code: bin.issuer_code.clone(),
            name_zh: bin.issuer_name_zh.clone(),
            name_en: bin.issuer_name_en.clone(),
        },
        country: bin.country.clone(),
        needs_expiry_and_cvc,
        cvc_length: u8::try_from(Cvc::length_for(&bin.brand)).unwrap_or(3),
        pan_lengths: bin.pan_lengths.clone(),
        supported: not_supported.is_none(),
        not_supported,
    }))
}
