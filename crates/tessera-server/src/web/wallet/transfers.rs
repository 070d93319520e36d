//! Transfers from a bound card to a bank card: the details, then the fee
//! (`POST /v1/fees/quote`) shown before anything moves, then the transfer
//! itself (`POST /v1/transfers`) confirmed with a second factor and sent
//! under the form's idempotency key; the result, and the person's
//! transfers (`GET /v1/transfers`).
//!
//! The destination number is typed once. Between the quote and the
//! confirmation it travels in the form sealed by the vault, bound to the
//! person and the form's key, so the page itself only ever shows it masked.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use tessera_core::error::{DomainError, ErrorCode};
use tessera_core::vault::Sealed;
use zeroize::Zeroizing;

use super::account::{Problem, refused, see_other};
use super::confirm::{self, ConfirmFields, ConfirmOptions, Confirmed, Purpose};
use super::home::Card;
use super::records::{amount_text, decline_text, plain_id, status_text};
use super::{Call, Refusal, Wallet, WalletForm, form_key};
use crate::state::AppState;
use crate::web::{Chrome, words as w};

/// Transfers are in yuan: the fee schedule is written in fen.
const CURRENCY: &str = "CNY";
/// The vault context the destination is sealed under in the form.
const SEAL_CONTEXT: &str = "web_transfer_destination";

#[derive(Debug, Deserialize)]
struct Cards {
    data: Vec<Card>,
}

/// The person's cards that can pay now.
async fn payable_cards(wallet: &Wallet) -> Result<Vec<Card>, Refusal> {
    let cards: Cards = wallet
        .read(Call::get("/v1/cards").token(wallet.token()))
        .await?;
    Ok(cards.data.into_iter().filter(|c| c.payable).collect())
}

/// A refusal of an amount the page could not read, worded by the
/// catalogue, beside the amount field.
pub fn bad_amount(wallet: &Wallet) -> Refusal {
    let mut refusal = Refusal::local(
        &DomainError::new(ErrorCode::InvalidRequest).with_param("amount"),
        wallet.lang,
        wallet.origin.trace_id(),
    );
    refusal.message = wallet.t(w::TRANSFER_AMOUNT_INVALID).to_owned();
    refusal.remedy = wallet.t(w::TRANSFER_AMOUNT_REMEDY).to_owned();
    refusal.param = Some("amount".to_owned());
    refusal
}

/// Yuan as typed (`100`, `100.5`, `100.50`) in fen, exactly: never
/// through a float. Zero is no amount.
pub fn fen_of(text: &str) -> Option<u64> {
    super::safety::parse_yuan(text).filter(|fen| *fen > 0)
}

/// The form's fields the API's refusals name, as the form names them.
fn own_param(refusal: &mut Refusal) {
    let renamed = match refusal.param.as_deref() {
        Some("destination_card_number") => "to_card_number",
        Some("source_card_id") => "card_id",
        _ => return,
    };
    refusal.param = Some(renamed.to_owned());
}

const DETAIL_FIELDS: &[&str] = &["card_id", "to_card_number", "to_holder_name", "amount"];
const CONFIRM_FIELDS: &[&str] = &["payment_password", "sms_code"];

#[derive(Template)]
#[template(path = "wallet/transfer_new.html")]
struct DetailsPage {
    chrome: Chrome,
    cards: Vec<Card>,
    card_id: String,
    holder: String,
    amount: String,
    csrf: String,
    problem: Problem,
}

/// The quote as the page shows it.
#[derive(Debug, Deserialize)]
struct Quote {
    operation: String,
    amount: u64,
    fee: u64,
    total: u64,
    rule: Rule,
    #[serde(default)]
    destination: Option<Destination>,
}

#[derive(Debug, Deserialize)]
struct Rule {
    description: String,
}

#[derive(Debug, Deserialize)]
struct Destination {
    number: String,
    #[serde(default)]
    issuer_name: Option<String>,
}

#[derive(Template)]
#[template(path = "wallet/transfer_quote.html")]
struct QuotePage {
    chrome: Chrome,
    from_card: String,
    card_id: String,
    holder: String,
    amount_typed: String,
    amount: String,
    fee: String,
    total: String,
    same_bank: bool,
    rule: String,
    to_card: String,
    to_bank: String,
    sealed: String,
    key: String,
    csrf: String,
    confirm: ConfirmOptions,
    problem: Problem,
}

fn details_page(
    wallet: &Wallet,
    status: StatusCode,
    cards: Vec<Card>,
    form: &TransferForm,
    problem: Problem,
) -> Response {
    wallet.page(
        status,
        &DetailsPage {
            chrome: wallet.chrome(wallet.t(w::TRANSFER_NEW)),
            cards,
            card_id: form.card_id.clone(),
            holder: form.to_holder_name.trim().to_owned(),
            amount: form.amount.trim().to_owned(),
            csrf: wallet.person.csrf.clone(),
            problem,
        },
    )
}

fn status_of(refusal: &Refusal) -> StatusCode {
    StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::BAD_REQUEST)
}

/// `/transfers/new`: the transfer's details.
pub async fn new_page(wallet: Wallet) -> Response {
    let cards = match payable_cards(&wallet).await {
        Ok(cards) => cards,
        Err(refusal) => return refused(&wallet, &refusal),
    };
    let form = TransferForm::default();
    details_page(&wallet, StatusCode::OK, cards, &form, Problem::none())
}

/// Its `Debug` masks the card number and leaves the second factor out.
#[derive(Default, Deserialize)]
pub struct TransferForm {
    #[serde(default)]
    card_id: String,
    #[serde(default)]
    to_card_number: String,
    #[serde(default)]
    to_holder_name: String,
    #[serde(default)]
    amount: String,
    /// The destination as the quote step sealed it.
    #[serde(default)]
    sealed: String,
    #[serde(default)]
    idempotency_key: String,
    /// The second factor (`wallet/confirm.html`).
    #[serde(flatten)]
    confirm: ConfirmFields,
    /// `quote` (the details step) or `send` (confirmed on the quote step).
    #[serde(default)]
    intent: String,
}

impl std::fmt::Debug for TransferForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransferForm")
            .field("card_id", &self.card_id)
            .field(
                "to_card_number",
                &tessera_core::card::pan::mask(&self.to_card_number),
            )
            .field("amount", &self.amount)
            .field("intent", &self.intent)
            .finish_non_exhaustive()
    }
}

/// The record id a destination is sealed under: the person and the form.
fn seal_id(wallet: &Wallet, key: &str) -> String {
    format!("{}:{key}", wallet.person.user.id)
}

fn seal(state: &AppState, wallet: &Wallet, key: &str, number: &str) -> Option<String> {
    let sealed = state
        .keys
        .seal_bytes(SEAL_CONTEXT, &seal_id(wallet, key), number.as_bytes())
        .ok()?;
    Some(format!(
        "{}.{}",
        sealed.key_version,
        hex::encode(sealed.blob)
    ))
}

fn unseal(state: &AppState, wallet: &Wallet, key: &str, text: &str) -> Option<Zeroizing<String>> {
    let (version, blob) = text.split_once('.')?;
    let sealed = Sealed {
        key_version: version.parse().ok()?,
        blob: hex::decode(blob).ok()?,
    };
    let bytes = state
        .keys
        .open_bytes(SEAL_CONTEXT, &seal_id(wallet, key), &sealed)
        .ok()?;
    Some(Zeroizing::new(String::from_utf8(bytes.to_vec()).ok()?))
}

/// Renders the quote step for `number`: asks the API for the fee again
/// (a quote writes nothing), under a fresh form key.
#[allow(clippy::too_many_arguments)]
async fn quote_step(
    state: &AppState,
    wallet: &Wallet,
    cards: &[Card],
    form: &TransferForm,
    fen: u64,
    number: &str,
    code_sent: bool,
    problem: Option<Refusal>,
) -> Result<Response, Refusal> {
    let mut quote: Quote = wallet
        .read(
            Call::post("/v1/fees/quote")
                .token(wallet.token())
                .json(&json!({
                    "source_card_id": form.card_id,
                    "destination_card_number": number,
                    "amount": fen,
                    "currency": CURRENCY,
                    "channel": "web",
                })),
        )
        .await?;
    let mut confirm = confirm::options(wallet).await?;
    confirm.code_sent = code_sent;
    let key = form_key();
    let Some(sealed) = seal(state, wallet, &key, number) else {
        return Err(Refusal::local(
            &DomainError::new(ErrorCode::InternalError),
            wallet.lang,
            wallet.origin.trace_id(),
        ));
    };
    let chrome = wallet.chrome(wallet.t(w::TRANSFER_QUOTE));
    let from_card = cards
        .iter()
        .find(|c| c.id == form.card_id)
        .map(|card| card.named(&chrome))
        .unwrap_or_default();
    let destination = quote.destination.take();
    let lang = wallet.lang;
    let as_amount = |fen: u64| amount_text(lang, i64::try_from(fen).unwrap_or(i64::MAX), CURRENCY);
    let status = problem.as_ref().map_or(StatusCode::OK, status_of);
    Ok(wallet.page(
        status,
        &QuotePage {
            chrome,
            from_card,
            card_id: form.card_id.clone(),
            holder: form.to_holder_name.trim().to_owned(),
            amount_typed: form.amount.trim().to_owned(),
            amount: as_amount(quote.amount),
            fee: as_amount(quote.fee),
            total: as_amount(quote.total),
            // Said only when it is so: the fee schedule is configurable.
            same_bank: quote.operation == "transfer_same_bank" && quote.fee == 0,
            rule: quote.rule.description,
            to_card: destination
                .as_ref()
                .map(|d| d.number.clone())
                .unwrap_or_default(),
            to_bank: destination.and_then(|d| d.issuer_name).unwrap_or_default(),
            sealed,
            key,
            csrf: wallet.person.csrf.clone(),
            confirm,
            problem: problem.map_or_else(Problem::none, |r| Problem::of(r, CONFIRM_FIELDS)),
        },
    ))
}

#[derive(Debug, Deserialize)]
struct Sent {
    id: String,
}

/// The transfer form: `quote` shows the fee, `send` confirms and sends.
pub async fn transfer(
    State(state): State<AppState>,
    WalletForm { wallet, form }: WalletForm<TransferForm>,
) -> Response {
    let cards = match payable_cards(&wallet).await {
        Ok(cards) => cards,
        Err(refusal) => return refused(&wallet, &refusal),
    };
    let Some(fen) = fen_of(&form.amount) else {
        let problem = Problem::of(bad_amount(&wallet), DETAIL_FIELDS);
        return details_page(&wallet, StatusCode::BAD_REQUEST, cards, &form, problem);
    };
    if form.intent != "send" && form.confirm.send_code.is_empty() {
        let number = form.to_card_number.trim().to_owned();
        return match quote_step(&state, &wallet, &cards, &form, fen, &number, false, None).await {
            Ok(page) => page,
            Err(mut refusal) if refusal.code != "unauthenticated" => {
                own_param(&mut refusal);
                let status = status_of(&refusal);
                details_page(
                    &wallet,
                    status,
                    cards,
                    &form,
                    Problem::of(refusal, DETAIL_FIELDS),
                )
            }
            Err(refusal) => refused(&wallet, &refusal),
        };
    }
    // The quote step: the destination comes back sealed, never typed again.
    let Some(number) = unseal(&state, &wallet, &form.idempotency_key, &form.sealed) else {
        return see_other("/transfers/new");
    };
    let requote = |code_sent: bool, problem: Option<Refusal>| {
        let (state, wallet, cards, form, number) = (&state, &wallet, &cards, &form, &number);
        async move {
            match quote_step(state, wallet, cards, form, fen, number, code_sent, problem).await {
                Ok(page) => page,
                Err(refusal) => refused(wallet, &refusal),
            }
        }
    };
    let fields = &form.confirm;
    let mut purpose = Purpose::new("transfer");
    purpose.card_id = Some(form.card_id.clone());
    purpose.amount = Some(fen);
    purpose.currency = Some(CURRENCY.to_owned());
    let transfer = |verification: Option<String>| {
        let call = Call::post("/v1/transfers")
            .token(wallet.token())
            .idempotency_key(&form.idempotency_key)
            .json(&json!({
                "card_id": form.card_id,
                "to_card_number": number.as_str(),
                "to_holder_name": form.to_holder_name.trim(),
                "amount": fen,
                "currency": CURRENCY,
                "channel": "web",
            }));
        match verification {
            Some(verification) => call.header("tessera-verification", verification),
            None => call,
        }
    };
    let sent = match confirm::replay(&wallet, fields, transfer(None)).await {
        Some(answer) => answer,
        None => {
            let verification = match confirm::obtain(&wallet, &purpose, fields).await {
                Ok(Confirmed::CodeSent) => return requote(true, None).await,
                Ok(Confirmed::Verification(verification)) => verification,
                Err(refusal) if refusal.code == "unauthenticated" => return wallet.to_sign_in(),
                Err(refusal) => return requote(false, Some(refusal)).await,
            };
            wallet.send(transfer(Some(verification))).await
        }
    }
    .map(|(_, value)| serde_json::from_value::<Sent>(value).ok());
    match sent {
        Ok(Some(sent)) => see_other(&format!("/transfers/{}", sent.id)),
        // Sent, but its answer did not read as a transfer: the list has it.
        Ok(None) => see_other("/transfers"),
        Err(refusal) if refusal.code == "unauthenticated" => wallet.to_sign_in(),
        // A declined or failed transfer was recorded: its page says so.
        Err(refusal) => match refusal
            .body
            .get("transfer_id")
            .and_then(|id| id.as_str())
            .filter(|id| plain_id(id))
        {
            Some(id) => see_other(&format!("/transfers/{id}")),
            None => requote(false, Some(refusal)).await,
        },
    }
}

/// A transfer as its pages read it.
#[derive(Debug, Deserialize)]
struct Transfer {
    id: String,
    status: String,
    card_id: String,
    to_card: String,
    to_holder_name: String,
    amount: i64,
    fee: i64,
    total: i64,
    currency: String,
    #[serde(default)]
    decline_code: Option<String>,
    created_at: String,
}

/// A transfer as the page shows it.
#[derive(Debug)]
struct TransferRow {
    id: String,
    status: String,
    settled: bool,
    to_card: String,
    to_holder: String,
    amount: String,
    fee: String,
    total: String,
    why: Option<String>,
    when: String,
    card_id: String,
}

fn transfer_row(wallet: &Wallet, t: Transfer) -> TransferRow {
    let lang = wallet.lang;
    TransferRow {
        status: status_text(&t.status).map_or(t.status.clone(), |s| wallet.t(s).to_owned()),
        settled: t.status == "settled",
        to_card: t.to_card,
        to_holder: t.to_holder_name,
        amount: amount_text(lang, t.amount, &t.currency),
        fee: amount_text(lang, t.fee, &t.currency),
        total: amount_text(lang, t.total, &t.currency),
        why: t
            .decline_code
            .as_deref()
            .map(|code| decline_text(lang, code))
            .filter(|text| !text.is_empty()),
        when: wallet.when(&t.created_at),
        card_id: t.card_id,
        id: t.id,
    }
}

#[derive(Template)]
#[template(path = "wallet/transfer.html")]
struct TransferPage {
    chrome: Chrome,
    transfer: TransferRow,
    from_card: String,
}

/// `/transfers/{id}`: one transfer, and what became of it.
pub async fn transfer_page(wallet: Wallet, Path(id): Path<String>) -> Response {
    if !plain_id(&id) {
        return see_other("/transfers");
    }
    let transfer: Transfer = match wallet
        .read(Call::get(format!("/v1/transfers/{id}")).token(wallet.token()))
        .await
    {
        Ok(transfer) => transfer,
        Err(refusal) => return refused(&wallet, &refusal),
    };
    let row = transfer_row(&wallet, transfer);
    let chrome = wallet.chrome(wallet.t(w::TRANSFER_DONE));
    let from_card = wallet
        .read::<Card>(Call::get(format!("/v1/cards/{}", row.card_id)).token(wallet.token()))
        .await
        .map(|card| card.named(&chrome))
        .unwrap_or_default();
    wallet.page(
        StatusCode::OK,
        &TransferPage {
            chrome,
            transfer: row,
            from_card,
        },
    )
}

#[derive(Debug, Deserialize)]
struct Transfers {
    data: Vec<Transfer>,
    #[serde(default)]
    next_cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    cursor: String,
}

#[derive(Template)]
#[template(path = "wallet/transfers.html")]
struct TransfersPage {
    chrome: Chrome,
    rows: Vec<TransferRow>,
    more: Option<String>,
}

/// `/transfers`: the person's transfers, newest first.
pub async fn transfers(
    wallet: Wallet,
    axum::extract::Query(query): axum::extract::Query<ListQuery>,
) -> Response {
    let mut path = "/v1/transfers".to_owned();
    if !query.cursor.trim().is_empty() {
        let cursor = form_urlencoded::Serializer::new(String::new())
            .append_pair("cursor", query.cursor.trim())
            .finish();
        path = format!("{path}?{cursor}");
    }
    let list: Transfers = match wallet.read(Call::get(path).token(wallet.token())).await {
        Ok(list) => list,
        Err(refusal) => return refused(&wallet, &refusal),
    };
    let more = list.next_cursor.map(|next| {
        let cursor = form_urlencoded::Serializer::new(String::new())
            .append_pair("cursor", &next)
            .finish();
        format!("/transfers?{cursor}")
    });
    wallet.page(
        StatusCode::OK,
        &TransfersPage {
            chrome: wallet.chrome(wallet.t(w::TRANSFER_LIST)),
            rows: list
                .data
                .into_iter()
                .map(|t| transfer_row(&wallet, t))
                .collect(),
            more,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_are_read_exactly_into_fen() {
        assert_eq!(fen_of("100"), Some(10_000));
        assert_eq!(fen_of("100.5"), Some(10_050));
        assert_eq!(fen_of(" 0.01 "), Some(1));
        assert_eq!(fen_of("19.99"), Some(1_999));
        assert_eq!(fen_of("0"), None);
        assert_eq!(fen_of("1.005"), None);
        assert_eq!(fen_of("-1"), None);
        assert_eq!(fen_of("1e3"), None);
        assert_eq!(fen_of("１00"), None);
    }
}
