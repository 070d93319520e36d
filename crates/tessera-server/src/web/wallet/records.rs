//! The person's transaction records (`GET /v1/transactions`): payments,
//! declines, refunds, transfers and reports in one list, newest first,
//! filtered and paged as the API does it; the same records as a CSV file
//! (`?format=csv`, passed through as the API makes it); and reporting a
//! payment that was not theirs (`POST /v1/payments/{id}/report`).

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use tessera_core::error::{DeclineCode, DomainError, ErrorCode, Lang, Text};
use tessera_core::money::Currency;

use super::account::{Problem, failure_page, refused};
use super::home::Card;
use super::{Call, Refusal, Visit, Wallet, WalletForm, form_key};
use crate::web::{Chrome, words as w};

/// Minor units as a person reads an amount: `12.34 元` in Chinese for
/// yuan, `CNY 12.34` in English, the currency's code for the rest.
pub fn amount_text(lang: Lang, minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let Some(parsed) = Currency::parse(currency) else {
        return format!("{minor} {currency}");
    };
    let decimal = format!("{sign}{}", parsed.format_amount(minor.unsigned_abs()));
    match lang {
        Lang::ZhCn if currency == "CNY" => format!("{decimal} 元"),
        Lang::ZhCn => format!("{decimal} {currency}"),
        Lang::En => format!("{currency} {decimal}"),
    }
}

/// A record's type in words.
pub fn kind_text(kind: &str) -> Option<Text> {
    Some(match kind {
        "payment" => w::KIND_PAYMENT,
        "decline" => w::KIND_DECLINE,
        "refund" => w::KIND_REFUND,
        "transfer" => w::KIND_TRANSFER,
        "report" => w::KIND_REPORT,
        _ => return None,
    })
}

/// A record's status in words.
pub fn status_text(status: &str) -> Option<Text> {
    Some(match status {
        "pending" => w::STATE_PENDING,
        "approved" => w::STATE_APPROVED,
        "failed" => w::STATE_FAILED,
        "declined" => w::STATE_DECLINED,
        "accepted" => w::STATE_ACCEPTED,
        "settled" => w::STATE_SETTLED,
        "reported" => w::STATE_REPORTED,
        _ => return None,
    })
}

/// Why something was declined, in words: the bank's decline code or the
/// wallet's error code, each from its catalogue.
pub fn decline_text(lang: Lang, code: &str) -> String {
    if let Some(decline) = DeclineCode::parse(code) {
        return decline.message().get(lang).to_owned();
    }
    ErrorCode::parse(code).map_or_else(String::new, |code| DomainError::new(code).message(lang))
}

/// An id that may go into an API path: letters, digits and `_`.
pub fn plain_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The types and statuses the filters offer, as the API names them.
const KINDS: [&str; 5] = ["payment", "decline", "refund", "transfer", "report"];
const STATUSES: [&str; 7] = [
    "approved", "pending", "settled", "accepted", "declined", "failed", "reported",
];

/// The records page's query: its filters and where the page starts.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Filters {
    #[serde(default)]
    card_id: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    cursor: String,
}

impl Filters {
    /// The filters as the API's query, without the cursor.
    fn pairs(&self) -> Vec<(&'static str, &str)> {
        [
            ("card_id", self.card_id.trim()),
            ("type", self.kind.trim()),
            ("status", self.status.trim()),
            ("from", self.from.trim()),
            ("to", self.to.trim()),
        ]
        .into_iter()
        .filter(|(_, value)| !value.is_empty())
        .collect()
    }

    fn query(&self, extra: &[(&str, &str)]) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in self.pairs().into_iter().chain(extra.iter().copied()) {
            query.append_pair(name, value);
        }
        query.finish()
    }

    fn any(&self) -> bool {
        !self.pairs().is_empty()
    }
}

/// One record as the API lists it.
#[derive(Debug, Deserialize)]
struct Record {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    status: String,
    amount: i64,
    currency: String,
    fee: i64,
    #[serde(default)]
    card: Option<String>,
    #[serde(default)]
    counterparty: Option<String>,
    #[serde(default)]
    decline_reason: Option<String>,
    time: String,
}

#[derive(Debug, Deserialize)]
struct Records {
    data: Vec<Record>,
    #[serde(default)]
    next_cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Cards {
    data: Vec<Card>,
}

/// A record as the page shows it.
#[derive(Debug)]
struct Row {
    kind: String,
    status: String,
    amount: String,
    fee: Option<String>,
    card: String,
    counterparty: String,
    time: String,
    why: Option<String>,
    /// An approved payment's id: it may be reported.
    report: Option<String>,
    settled: bool,
}

#[derive(Template)]
#[template(path = "wallet/records.html")]
struct RecordsPage {
    chrome: Chrome,
    filters: Filters,
    cards: Vec<Card>,
    kinds: Vec<(&'static str, &'static str)>,
    statuses: Vec<(&'static str, &'static str)>,
    rows: Vec<Row>,
    more: Option<String>,
    csv: String,
    clear: bool,
    problem: Problem,
}

const FILTER_FIELDS: &[&str] = &["card_id", "type", "status", "from", "to"];

fn row(visit: &Visit, record: Record) -> Row {
    let lang = visit.lang;
    Row {
        kind: kind_text(&record.kind).map_or(record.kind.clone(), |t| visit.t(t).to_owned()),
        status: status_text(&record.status)
            .map_or(record.status.clone(), |t| visit.t(t).to_owned()),
        amount: amount_text(lang, record.amount, &record.currency),
        fee: (record.fee != 0).then(|| amount_text(lang, record.fee, &record.currency)),
        card: record.card.unwrap_or_default(),
        counterparty: record.counterparty.unwrap_or_default(),
        time: visit.when(&record.time),
        why: record
            .decline_reason
            .as_deref()
            .map(|code| decline_text(lang, code))
            .filter(|text| !text.is_empty()),
        report: (record.kind == "payment" && record.status == "approved").then_some(record.id),
        settled: matches!(record.status.as_str(), "approved" | "settled" | "accepted"),
    }
}

/// `/records`: the person's records under the filters, a page at a time.
pub async fn records(wallet: Wallet, Query(filters): Query<Filters>) -> Response {
    let cards: Cards = match wallet
        .read(Call::get("/v1/cards").token(wallet.token()))
        .await
    {
        Ok(cards) => cards,
        Err(refusal) => return refused(&wallet, &refusal),
    };
    let cursor = filters.cursor.trim().to_owned();
    let mut extra = Vec::new();
    if !cursor.is_empty() {
        extra.push(("cursor", cursor.as_str()));
    }
    let path = format!("/v1/transactions?{}", filters.query(&extra));
    let (rows, more, problem, status) = match wallet
        .read::<Records>(Call::get(path).token(wallet.token()))
        .await
    {
        Ok(records) => (
            records.data.into_iter().map(|r| row(&wallet, r)).collect(),
            records
                .next_cursor
                .map(|next| format!("/records?{}", filters.query(&[("cursor", &next)]))),
            Problem::none(),
            StatusCode::OK,
        ),
        Err(refusal) if refusal.code == "unauthenticated" => return wallet.to_sign_in(),
        Err(refusal) => {
            let status = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::BAD_REQUEST);
            (
                Vec::new(),
                None,
                Problem::of(refusal, FILTER_FIELDS),
                status,
            )
        }
    };
    let csv = format!("/records.csv?{}", filters.query(&[]));
    wallet.page(
        status,
        &RecordsPage {
            chrome: wallet.chrome(wallet.t(w::RECORDS)),
            clear: filters.any(),
            filters,
            cards: cards.data,
            kinds: KINDS
                .iter()
                .filter_map(|k| kind_text(k).map(|t| (*k, wallet.t(t))))
                .collect(),
            statuses: STATUSES
                .iter()
                .filter_map(|s| status_text(s).map(|t| (*s, wallet.t(t))))
                .collect(),
            rows,
            more,
            csv,
            problem,
        },
    )
}

/// `/records.csv`: every record under the filters as the API's CSV file,
/// streamed through with its content type, to be saved.
pub async fn records_csv(wallet: Wallet, Query(filters): Query<Filters>) -> Response {
    let path = format!("/v1/transactions?{}", filters.query(&[("format", "csv")]));
    match wallet
        .api
        .pass(&wallet.origin, Call::get(path).token(wallet.token()))
        .await
    {
        Ok(mut response) => {
            let day = chrono::Utc::now()
                .with_timezone(&wallet.time_zone)
                .format("%Y%m%d");
            let headers = response.headers_mut();
            if let Ok(value) = HeaderValue::from_str(&format!(
                "attachment; filename=\"tessera-transactions-{day}.csv\""
            )) {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            response
        }
        Err(refusal) => refused(&wallet, &refusal),
    }
}

/// A payment as the report pages read it.
#[derive(Debug, Deserialize)]
struct Payment {
    amount: i64,
    currency: String,
    merchant_id: String,
    #[serde(default)]
    merchant_name: Option<String>,
    card_id: String,
    created_at: String,
}

/// What the report pages say about the payment.
#[derive(Debug)]
struct PaymentFacts {
    id: String,
    amount: String,
    merchant: String,
    time: String,
    card: Option<String>,
}

async fn payment_facts(wallet: &Wallet, id: &str) -> Result<PaymentFacts, Refusal> {
    let payment: Payment = wallet
        .read(Call::get(format!("/v1/payments/{id}")).token(wallet.token()))
        .await?;
    let card = wallet
        .read::<Card>(Call::get(format!("/v1/cards/{}", payment.card_id)).token(wallet.token()))
        .await
        .ok();
    let chrome = wallet.chrome("");
    Ok(PaymentFacts {
        id: id.to_owned(),
        amount: amount_text(wallet.lang, payment.amount, &payment.currency),
        merchant: payment.merchant_name.unwrap_or(payment.merchant_id),
        time: wallet.when(&payment.created_at),
        card: card.map(|card| {
            format!(
                "{} · {}{}",
                card.bank(&chrome),
                wallet.t(w::ENDING_IN),
                card.last4
            )
        }),
    })
}

#[derive(Template)]
#[template(path = "wallet/report.html")]
struct ReportPage {
    chrome: Chrome,
    payment: PaymentFacts,
    message: String,
    key: String,
    csrf: String,
    problem: Problem,
}

/// The API's own not-found refusal as a page: an address that names
/// nothing of the person's.
pub fn not_found_page(visit: &Visit) -> Response {
    let refusal = Refusal::local(
        &DomainError::new(ErrorCode::NotFound),
        visit.lang,
        visit.origin.trace_id(),
    );
    failure_page(visit, &refusal)
}

/// `/records/{payment}/report`: what reporting the payment does, and the
/// form that does it.
pub async fn report_page(wallet: Wallet, Path(id): Path<String>) -> Response {
    if !plain_id(&id) {
        return not_found_page(&wallet);
    }
    match payment_facts(&wallet, &id).await {
        Ok(payment) => wallet.page(
            StatusCode::OK,
            &ReportPage {
                chrome: wallet.chrome(wallet.t(w::REPORT_TITLE)),
                payment,
                message: String::new(),
                key: form_key(),
                csrf: wallet.person.csrf.clone(),
                problem: Problem::none(),
            },
        ),
        Err(refusal) => refused(&wallet, &refusal),
    }
}

#[derive(Debug, Deserialize)]
pub struct ReportForm {
    #[serde(default)]
    message: String,
    #[serde(default)]
    idempotency_key: String,
}

#[derive(Debug, Deserialize)]
struct ReportAnswer {
    ticket_id: String,
    card_paused: bool,
    next_steps: String,
    created_at: String,
}

#[derive(Template)]
#[template(path = "wallet/reported.html")]
struct ReportedPage {
    chrome: Chrome,
    payment: PaymentFacts,
    card_paused: bool,
    next_steps: String,
    ticket_id: String,
    when: String,
}

/// Reports the payment. The answer is shown as the API gave it, at once:
/// it is the only place the next steps are said, and sending the same
/// report again (a reload) changes nothing: the API answers the first.
pub async fn report(
    Path(id): Path<String>,
    WalletForm { wallet, form }: WalletForm<ReportForm>,
) -> Response {
    if !plain_id(&id) {
        return not_found_page(&wallet);
    }
    let payment = match payment_facts(&wallet, &id).await {
        Ok(payment) => payment,
        Err(refusal) => return refused(&wallet, &refusal),
    };
    let message = form.message.trim();
    let body = if message.is_empty() {
        json!({})
    } else {
        json!({ "message": message })
    };
    let answer = wallet
        .send(
            Call::post(format!("/v1/payments/{id}/report"))
                .token(wallet.token())
                .idempotency_key(&form.idempotency_key)
                .json(&body),
        )
        .await;
    match answer {
        Ok((status, value)) => {
            let Ok(answer) = serde_json::from_value::<ReportAnswer>(value) else {
                return refused(
                    &wallet,
                    &Refusal::local(
                        &DomainError::new(ErrorCode::InternalError),
                        wallet.lang,
                        wallet.origin.trace_id(),
                    ),
                );
            };
            wallet.page(
                status,
                &ReportedPage {
                    chrome: wallet.chrome(wallet.t(w::REPORT_DONE)),
                    payment,
                    card_paused: answer.card_paused,
                    next_steps: answer.next_steps,
                    ticket_id: answer.ticket_id,
                    when: wallet.when(&answer.created_at),
                },
            )
        }
        Err(refusal) if refusal.code == "unauthenticated" => wallet.to_sign_in(),
        Err(refusal) => {
            let status = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::BAD_REQUEST);
            wallet.page(
                status,
                &ReportPage {
                    chrome: wallet.chrome(wallet.t(w::REPORT_TITLE)),
                    payment,
                    // Never a card number back into the form.
                    message: tessera_core::text::mask_card_numbers(message).into_owned(),
                    key: form_key(),
                    csrf: wallet.person.csrf.clone(),
                    problem: Problem::of(refusal, &["message"]),
                },
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_as_decimals_with_their_currency() {
        assert_eq!(amount_text(Lang::ZhCn, 1234, "CNY"), "12.34 元");
        assert_eq!(amount_text(Lang::En, 1234, "CNY"), "CNY 12.34");
        assert_eq!(amount_text(Lang::En, 5, "JPY"), "JPY 5");
        assert_eq!(amount_text(Lang::ZhCn, -100, "HKD"), "-1.00 HKD");
    }

    #[test]
    fn only_plain_ids_reach_an_api_path() {
        assert!(plain_id("pay_01M98CT9BFM783QCYHBH"));
        assert!(!plain_id("../v1/admin"));
        assert!(!plain_id("pay_1?x=1"));
        assert!(!plain_id(""));
    }
}
