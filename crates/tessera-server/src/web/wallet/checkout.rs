//! The sandbox's demo shop (`/demo/checkout`): a merchant's checkout on
//! the wallet, end to end. The person picks a card; the page asks the API
//! for the wallet's single-use cryptogram for this amount and shop
//! (`POST /v1/tokens/{ref}/cryptograms`, confirmed when the amount is
//! above the person's no-confirmation limit), then pays with it as the
//! shop would (`POST /v1/payments`, under the shop's merchant key).
//!
//! The shop's key is made at start-up in sandbox mode only ([`DemoShop`]):
//! derived from the key ring, so a restart finds the same key on record
//! instead of making another. It is held in memory for these pages and is
//! never shown or logged. Without it (outside the sandbox) every page here
//! is 404.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use tessera_core::error::{DomainError, ErrorCode};
use tessera_core::vault::LookupPurpose;
use tessera_store::ApiKeyRecord;
use zeroize::Zeroizing;

use super::account::{Problem, message_page, refused, see_other};
use super::confirm::{self, ConfirmFields, ConfirmOptions, Confirmed, Purpose};
use super::home::Card;
use super::records::{amount_text, not_found_page, plain_id};
use super::transfers::{bad_amount, fen_of};
use super::{Call, Refusal, Visit, Wallet, WalletForm, form_key};
use crate::http::auth::{API_KEY_PREFIX, Role, hash_bearer};
use crate::state::AppState;
use crate::web::{Chrome, words as w};

/// The merchant id the demo shop pays as.
pub const DEMO_SHOP_MERCHANT: &str = "TESSERA-DEMO-SHOP";
/// The label of its key, as operators see it listed.
pub const DEMO_SHOP_LABEL: &str = "demo shop";
const CURRENCY: &str = "CNY";
/// What the key's secret is derived from, under the key ring's API-key
/// hashing key; a label of its own, so it never equals a stored hash.
const KEY_LABEL: &str = "demo-shop-key\0";

/// The demo shop's merchant key, for the checkout pages only.
#[derive(Clone)]
pub struct DemoShop {
    key: Arc<Zeroizing<String>>,
}

impl std::fmt::Debug for DemoShop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DemoShop")
    }
}

impl DemoShop {
    /// The shop's key: found on record when an earlier start made it,
    /// made now otherwise. None outside sandbox mode, or when the key on
    /// record was revoked (an operator's decision: the shop stays closed).
    pub async fn open(state: &AppState) -> Result<Option<DemoShop>, String> {
        if !state.config.sandbox {
            return Ok(None);
        }
        let derived = hash_bearer(&state.keys, LookupPurpose::ApiKey, KEY_LABEL);
        let key = Zeroizing::new(format!(
            "{API_KEY_PREFIX}{}_{}",
            Role::Merchant.as_str(),
            derived.get(..52).unwrap_or(&derived)
        ));
        let key_hash = hash_bearer(&state.keys, LookupPurpose::ApiKey, &key);
        match state
            .store
            .api_key(&key_hash)
            .await
            .map_err(|e| e.to_string())?
        {
            Some(record) if record.revoked_at.is_some() => return Ok(None),
            Some(_) => {}
            None => {
                let scope = crate::flows::keys::check_scope(
                    state,
                    Role::Merchant,
                    &[DEMO_SHOP_MERCHANT.to_owned()],
                )
                .map_err(|e| e.0)?;
                let made = state
                    .store
                    .create_api_key(&ApiKeyRecord {
                        id: crate::ids::random_id("key_", 16),
                        key_hash: key_hash.clone(),
                        role: Role::Merchant.as_str().to_owned(),
                        label: DEMO_SHOP_LABEL.to_owned(),
                        holder: "the sandbox's demo checkout".to_owned(),
                        scope,
                        signing_secret: None,
                        created_at: state.now(),
                        revoked_at: None,
                    })
                    .await;
                // Another node sharing the database may have made it first.
                if let Err(error) = made {
                    let found = state.store.api_key(&key_hash).await;
                    if !matches!(found, Ok(Some(ref record)) if record.revoked_at.is_none()) {
                        return Err(error.to_string());
                    }
                }
            }
        }
        Ok(Some(DemoShop { key: Arc::new(key) }))
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct OrderQuery {
    #[serde(default)]
    order: String,
    #[serde(default)]
    amount: String,
}

/// An order number: the one given when it is plain, a new one otherwise.
fn order_of(given: &str) -> String {
    let given = given.trim();
    if plain_id(&given.replace('-', "_")) && given.len() <= 32 {
        given.to_owned()
    } else {
        crate::ids::random_id("DEMO-", 10)
    }
}

#[derive(Template)]
#[template(path = "wallet/checkout.html")]
struct ShopPage {
    chrome: Chrome,
    order: String,
    amount: String,
    problem: Problem,
}

/// `/demo/checkout`: the shop's order, and "pay with Tessera".
pub async fn shop(
    visit: Visit,
    shop: Option<axum::Extension<DemoShop>>,
    Query(query): Query<OrderQuery>,
) -> Response {
    if shop.is_none() {
        return not_found_page(&visit);
    }
    let amount = query.amount.trim();
    visit.page(
        StatusCode::OK,
        &ShopPage {
            chrome: visit.chrome(visit.t(w::CHECKOUT_SHOP)),
            order: order_of(&query.order),
            amount: if amount.is_empty() { "12.34" } else { amount }.to_owned(),
            problem: Problem::none(),
        },
    )
}

#[derive(Debug, Deserialize)]
struct Cards {
    data: Vec<PayCard>,
}

/// A card as the checkout reads it: the wallet's card and its token.
#[derive(Debug, Deserialize)]
struct PayCard {
    #[serde(flatten)]
    card: Card,
    #[serde(default)]
    token: Option<TokenRef>,
}

#[derive(Debug, Deserialize)]
struct TokenRef {
    #[serde(rename = "ref")]
    token_ref: String,
}

async fn payable_cards(wallet: &Wallet) -> Result<Vec<PayCard>, Refusal> {
    let cards: Cards = wallet
        .read(Call::get("/v1/cards").token(wallet.token()))
        .await?;
    Ok(cards
        .data
        .into_iter()
        .filter(|c| c.card.payable && c.token.is_some())
        .collect())
}

#[derive(Template)]
#[template(path = "wallet/checkout_pay.html")]
struct PayPage {
    chrome: Chrome,
    order: String,
    amount_typed: String,
    amount: String,
    cards: Vec<Card>,
    card_id: String,
    key: String,
    csrf: String,
    /// The amount needs a confirmation: the fields to give it.
    confirm: Option<ConfirmOptions>,
    problem: Problem,
}

const PAY_FIELDS: &[&str] = &["card_id", "payment_password", "sms_code"];

#[allow(clippy::too_many_arguments)]
async fn pay_page(
    wallet: &Wallet,
    status: StatusCode,
    cards: Vec<PayCard>,
    order: &str,
    amount_typed: &str,
    fen: u64,
    card_id: &str,
    confirm: Option<ConfirmOptions>,
    problem: Problem,
) -> Response {
    let card_id = if card_id.is_empty() {
        cards
            .iter()
            .find(|c| c.card.is_default)
            .or(cards.first())
            .map(|c| c.card.id.clone())
            .unwrap_or_default()
    } else {
        card_id.to_owned()
    };
    wallet.page(
        status,
        &PayPage {
            chrome: wallet.chrome(wallet.t(w::CHECKOUT_PAY_WITH)),
            order: order.to_owned(),
            amount_typed: amount_typed.to_owned(),
            amount: amount_text(
                wallet.lang,
                i64::try_from(fen).unwrap_or(i64::MAX),
                CURRENCY,
            ),
            cards: cards.into_iter().map(|c| c.card).collect(),
            card_id,
            key: form_key(),
            csrf: wallet.person.csrf.clone(),
            confirm,
            problem,
        },
    )
}

/// `/demo/checkout/pay`: the signed-in person picks the card to pay with.
pub async fn pay_form(
    wallet: Wallet,
    shop: Option<axum::Extension<DemoShop>>,
    Query(query): Query<OrderQuery>,
) -> Response {
    if shop.is_none() {
        return not_found_page(&wallet);
    }
    let order = order_of(&query.order);
    let Some(fen) = fen_of(&query.amount) else {
        return wallet.page(
            StatusCode::BAD_REQUEST,
            &ShopPage {
                chrome: wallet.chrome(wallet.t(w::CHECKOUT_SHOP)),
                order,
                amount: query.amount.trim().to_owned(),
                problem: Problem::of(bad_amount(&wallet), &["amount"]),
            },
        );
    };
    let cards = match payable_cards(&wallet).await {
        Ok(cards) => cards,
        Err(refusal) => return refused(&wallet, &refusal),
    };
    pay_page(
        &wallet,
        StatusCode::OK,
        cards,
        &order,
        query.amount.trim(),
        fen,
        "",
        None,
        Problem::none(),
    )
    .await
}

/// Its `Debug` leaves the second factor out.
#[derive(Default, Deserialize)]
pub struct PayForm {
    #[serde(default)]
    order: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    card_id: String,
    #[serde(default)]
    idempotency_key: String,
    /// The second factor (`wallet/confirm.html`).
    #[serde(flatten)]
    confirm: ConfirmFields,
    /// The page showed the confirmation fields.
    #[serde(default)]
    confirming: String,
}

impl std::fmt::Debug for PayForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PayForm")
            .field("order", &self.order)
            .field("amount", &self.amount)
            .field("card_id", &self.card_id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Deserialize)]
struct Paid {
    id: String,
}

/// Pays: the wallet's cryptogram for this amount and shop, then the
/// shop's payment with it, under the form's idempotency key.
pub async fn pay(
    shop: Option<axum::Extension<DemoShop>>,
    WalletForm { wallet, form }: WalletForm<PayForm>,
) -> Response {
    let Some(axum::Extension(shop)) = shop else {
        return not_found_page(&wallet);
    };
    let order = order_of(&form.order);
    let Some(fen) = fen_of(&form.amount) else {
        return see_other("/demo/checkout");
    };
    let cards = match payable_cards(&wallet).await {
        Ok(cards) => cards,
        Err(refusal) => return refused(&wallet, &refusal),
    };
    let render = |status: StatusCode, confirm: Option<ConfirmOptions>, problem: Problem| {
        let (wallet, order, form) = (&wallet, &order, &form);
        let cards = cards
            .iter()
            .map(|c| PayCard {
                card: c.card.clone(),
                token: None,
            })
            .collect();
        async move {
            pay_page(
                wallet,
                status,
                cards,
                order,
                form.amount.trim(),
                fen,
                &form.card_id,
                confirm,
                problem,
            )
            .await
        }
    };
    let confirm_options = || async {
        match confirm::options(&wallet).await {
            Ok(options) => Ok(options),
            Err(refusal) => Err(refused(&wallet, &refusal)),
        }
    };
    let Some(token_ref) = cards
        .iter()
        .find(|c| c.card.id == form.card_id)
        .and_then(|c| c.token.as_ref())
        .map(|t| t.token_ref.clone())
        .filter(|r| plain_id(r))
    else {
        let refusal = Refusal::local(
            &DomainError::new(ErrorCode::NotFound).with_param("card_id"),
            wallet.lang,
            wallet.origin.trace_id(),
        );
        return render(
            StatusCode::NOT_FOUND,
            None,
            Problem::of(refusal, PAY_FIELDS),
        )
        .await;
    };
    let fields = &form.confirm;
    let mut purpose = Purpose::new("payment");
    purpose.amount = Some(fen);
    purpose.currency = Some(CURRENCY.to_owned());
    purpose.merchant_id = Some(DEMO_SHOP_MERCHANT.to_owned());
    let mut verification = None;
    if !form.confirming.is_empty() {
        match confirm::obtain(&wallet, &purpose, fields).await {
            Ok(Confirmed::CodeSent) => {
                let mut options = match confirm_options().await {
                    Ok(options) => options,
                    Err(page) => return page,
                };
                options.code_sent = true;
                return render(StatusCode::OK, Some(options), Problem::none()).await;
            }
            Ok(Confirmed::Verification(given)) => verification = Some(given),
            Err(refusal) if refusal.code == "unauthenticated" => return wallet.to_sign_in(),
            Err(refusal) => {
                let options = match confirm_options().await {
                    Ok(options) => options,
                    Err(page) => return page,
                };
                let status =
                    StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::BAD_REQUEST);
                return render(status, Some(options), Problem::of(refusal, PAY_FIELDS)).await;
            }
        }
    }
    let mut call = Call::post(format!("/v1/tokens/{token_ref}/cryptograms"))
        .token(wallet.token())
        .json(&json!({
            "amount": fen,
            "currency": CURRENCY,
            "merchant_id": DEMO_SHOP_MERCHANT,
        }));
    if let Some(verification) = verification {
        call = call.header("tessera-verification", verification);
    }
    let cryptogram: Value = match wallet.read(call).await {
        Ok(cryptogram) => cryptogram,
        Err(refusal) if refusal.code == "unauthenticated" => return wallet.to_sign_in(),
        // Above the no-confirmation limit: the same order again, with the
        // fields to confirm it.
        Err(refusal) => {
            let status = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::BAD_REQUEST);
            let options = if refusal.code == "authentication_required" {
                match confirm_options().await {
                    Ok(options) => Some(options),
                    Err(page) => return page,
                }
            } else {
                None
            };
            return render(status, options, Problem::of(refusal, PAY_FIELDS)).await;
        }
    };
    // The shop's side: the cryptogram as the wallet handed it over.
    let mut payment = cryptogram;
    if let Value::Object(map) = &mut payment {
        map.remove("expires_at");
        map.insert("channel".into(), Value::from("ecommerce"));
        map.insert(
            "merchant_name".into(),
            Value::from(wallet.t(w::CHECKOUT_MERCHANT)),
        );
    }
    let paid = wallet
        .read::<Paid>(
            Call::post("/v1/payments")
                .token(shop.key.as_str())
                .idempotency_key(&form.idempotency_key)
                .json(&payment),
        )
        .await;
    match paid {
        Ok(paid) if plain_id(&paid.id) => see_other(&format!("/demo/checkout/paid/{}", paid.id)),
        Ok(_) => see_other("/records"),
        // The same form sent again after it paid: a new cryptogram makes
        // another body under the same key.
        Err(refusal) if refusal.code == "idempotency_conflict" => message_page(
            &wallet,
            StatusCode::CONFLICT,
            w::CHECKOUT_PAY_WITH,
            wallet.t(w::CHECKOUT_ALREADY).to_owned(),
        ),
        Err(refusal) => {
            let status = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::BAD_REQUEST);
            render(status, None, Problem::of(refusal, PAY_FIELDS)).await
        }
    }
}

#[derive(Debug, Deserialize)]
struct Payment {
    amount: i64,
    currency: String,
    #[serde(default)]
    merchant_name: Option<String>,
    card_id: String,
    created_at: String,
}

#[derive(Template)]
#[template(path = "wallet/checkout_paid.html")]
struct PaidPage {
    chrome: Chrome,
    amount: String,
    merchant: String,
    card: String,
    when: String,
}

/// `/demo/checkout/paid/{id}`: the paid order, as the person's own record
/// of the payment says it.
pub async fn paid(
    wallet: Wallet,
    shop: Option<axum::Extension<DemoShop>>,
    Path(id): Path<String>,
) -> Response {
    if shop.is_none() {
        return not_found_page(&wallet);
    }
    if !plain_id(&id) {
        return see_other("/records");
    }
    let payment: Payment = match wallet
        .read(Call::get(format!("/v1/payments/{id}")).token(wallet.token()))
        .await
    {
        Ok(payment) => payment,
        Err(refusal) => return refused(&wallet, &refusal),
    };
    let chrome = wallet.chrome(wallet.t(w::CHECKOUT_PAID));
    let card = wallet
        .read::<Card>(Call::get(format!("/v1/cards/{}", payment.card_id)).token(wallet.token()))
        .await
        .map(|card| card.named(&chrome))
        .unwrap_or_default();
    wallet.page(
        StatusCode::OK,
        &PaidPage {
            chrome,
            amount: amount_text(wallet.lang, payment.amount, &payment.currency),
            merchant: payment
                .merchant_name
                .unwrap_or_else(|| DEMO_SHOP_MERCHANT.to_owned()),
            card,
            when: wallet.when(&payment.created_at),
        },
    )
}
