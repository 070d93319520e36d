//! The person's records in one list (`GET /v1/transactions`, and support's
//! `GET /v1/support/users/{id}/transactions`): payments, approved and
//! declined with the reason, refunds of them, transfers, and the payments
//! the person reported as not theirs, newest first,
//! a page at a time, or every one as a CSV file. Masked data only.
//!
//! Each kind is read from its own table, a page of each under the same
//! filters and cursor, and the pages merged: any entry of the merged page
//! is among the newest `limit` of its own kind, so nothing is skipped.

use std::collections::HashMap;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use tessera_core::card::pan::mask;
use tessera_core::error::{DomainError, Lang};
use tessera_core::ids::{CardId, UserId};
use tessera_core::money::Currency;
use tessera_store::{PaymentRecord, PaymentStatus, RecordFilter, RefundEntry, TransferRecord};

use crate::http::error::{ApiError, rfc3339};
use crate::http::query;
use crate::http::views::{TransactionList, TransactionView};
use crate::state::AppState;

fn invalid(param: &str) -> DomainError {
    query::bad_value(param)
}

/// Every `type` the list knows, with the statuses its records may have:
/// `type` is parsed from this table alone, so another kind of record is
/// one more row here (and where its records come from, in `page`).
const TYPES: [(&str, &[&str]); 5] = [
    (PAYMENT, &["pending", "approved", "failed"]),
    (DECLINE, &["declined"]),
    (REFUND, &["pending", "accepted", "declined", "failed"]),
    (TRANSFER, &["pending", "settled", "declined", "failed"]),
    (REPORT, &["reported"]),
];

/// A payment that was not declined.
const PAYMENT: &str = "payment";
/// A declined payment, with its reason.
const DECLINE: &str = "decline";
const REFUND: &str = "refund";
const TRANSFER: &str = "transfer";
/// A payment the person reported as not theirs: the report's time, the
/// payment's amount and merchant.
const REPORT: &str = "report";

/// The `type` named, as the table spells it.
fn record_type(name: &str) -> Option<&'static str> {
    TYPES.iter().map(|(t, _)| *t).find(|t| *t == name)
}

/// Every status a record of `kind` may have.
fn statuses(kind: &str) -> &'static [&'static str] {
    TYPES
        .iter()
        .find(|(t, _)| *t == kind)
        .map_or(&[], |(_, statuses)| statuses)
}

/// The query's parameters; any other is refused, naming it.
const PARAMS: [&str; 8] = [
    "limit", "cursor", "card_id", "type", "status", "from", "to", "format",
];

/// A checked query.
#[derive(Debug, Clone)]
pub struct Asked {
    pub limit: u32,
    pub before: Option<(DateTime<Utc>, String)>,
    pub card_id: Option<CardId>,
    pub kind: Option<&'static str>,
    pub status: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub csv: bool,
}

/// The start of `day` in the wallet's time zone.
fn day_start(state: &AppState, day: NaiveDate) -> Option<DateTime<Utc>> {
    let midnight = day.and_hms_opt(0, 0, 0)?;
    state
        .time_zone
        .from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// Checks the query string's pairs: unknown, repeated or malformed
/// parameters are `invalid_request` naming the parameter.
pub fn check(state: &AppState, pairs: &[(String, String)]) -> Result<Asked, DomainError> {
    let mut given: HashMap<&str, &str> = HashMap::new();
    for (name, value) in pairs {
        let known = PARAMS
            .iter()
            .find(|p| **p == name.as_str())
            .ok_or_else(|| query::unknown_param(name, &PARAMS))?;
        if given.insert(known, value.as_str()).is_some() {
            return Err(query::repeated(known));
        }
    }
    let asked = given
        .get("limit")
        .map(|text| text.parse::<u32>().map_err(|_| query::bad_limit(100)))
        .transpose()?;
    let limit = query::page_limit(asked, 20, 100)?;
    let before = query::cursor(given.get("cursor").copied())?;
    let card_id = match given.get("card_id") {
        None => None,
        Some(id) if id.starts_with(CardId::PREFIX) && id.len() <= 64 => {
            Some(CardId::from((*id).to_owned()))
        }
        Some(_) => return Err(invalid("card_id")),
    };
    let kind = given
        .get("type")
        .map(|name| {
            record_type(name).ok_or_else(|| query::bad_choice("type", &TYPES.map(|(t, _)| t)))
        })
        .transpose()?;
    let status = given
        .get("status")
        .map(|status| {
            TYPES
                .iter()
                .any(|(_, statuses)| statuses.contains(status))
                .then(|| (*status).to_owned())
                .ok_or_else(|| invalid("status"))
        })
        .transpose()?;
    let date = |param: &'static str| -> Result<Option<NaiveDate>, DomainError> {
        given
            .get(param)
            .map(|text| NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| invalid(param)))
            .transpose()
    };
    let (from, to) = (date("from")?, date("to")?);
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        return Err(invalid("to"));
    }
    let since = from
        .map(|day| day_start(state, day).ok_or_else(|| invalid("from")))
        .transpose()?;
    let until = to
        .map(|day| {
            day.succ_opt()
                .and_then(|next| day_start(state, next))
                .ok_or_else(|| invalid("to"))
        })
        .transpose()?;
    let csv = match given.get("format") {
        None | Some(&"json") => false,
        Some(&"csv") => true,
        Some(_) => return Err(query::bad_choice("format", &["json", "csv"])),
    };
    Ok(Asked {
        limit,
        before,
        card_id,
        kind,
        status,
        since,
        until,
        csv,
    })
}

/// The statuses to read of one kind: None when the query leaves none.
fn statuses_of(asked: &Asked, kinds: &[&str]) -> Option<Vec<String>> {
    let wanted: Vec<String> = kinds
        .iter()
        .filter(|kind| asked.kind.is_none_or(|k| k == **kind))
        .flat_map(|kind| statuses(kind).iter())
        .filter(|status| asked.status.as_deref().is_none_or(|s| s == **status))
        .map(|status| (*status).to_owned())
        .collect();
    (!wanted.is_empty()).then_some(wanted)
}

/// The person's reports under the query's filters and cursor. A person
/// reports few payments: they are read whole and filtered here.
async fn report_entries(
    state: &AppState,
    user_id: &UserId,
    asked: &Asked,
    before: Option<&(DateTime<Utc>, String)>,
) -> Result<Vec<(DateTime<Utc>, TransactionView)>, ApiError> {
    let mut entries = Vec::new();
    for report in state.store.payment_reports(user_id).await? {
        let at = report.created_at;
        let outside = asked.since.is_some_and(|since| at < since)
            || asked.until.is_some_and(|until| at >= until)
            || before
                .is_some_and(|(b_at, b_id)| (at, report.id.as_bytes()) >= (*b_at, b_id.as_bytes()));
        if outside {
            continue;
        }
        let Some(payment) = state.store.payment(&report.payment_id).await? else {
            continue;
        };
        if asked
            .card_id
            .as_ref()
            .is_some_and(|card| *card != payment.card_id)
        {
            continue;
        }
        let mut entry = payment_entry(&payment);
        entry.id = report.id.clone();
        entry.kind = REPORT.to_owned();
        entry.status = "reported".to_owned();
        entry.decline_reason = None;
        entry.risk_reasons.clear();
        entry.time = rfc3339(at);
        entry.trace_id = report.trace_id.clone();
        entries.push((at, entry));
    }
    entries.truncate(usize::try_from(asked.limit).unwrap_or(usize::MAX));
    Ok(entries)
}

fn payment_entry(payment: &PaymentRecord) -> TransactionView {
    let declined = payment.status == PaymentStatus::Declined;
    TransactionView {
        id: payment.id.to_string(),
        kind: if declined { DECLINE } else { PAYMENT }.to_owned(),
        status: payment.status.as_str().to_owned(),
        amount: payment.amount,
        currency: payment.currency.clone(),
        fee: 0,
        card_id: payment.card_id.to_string(),
        card: None,
        counterparty: Some(
            payment
                .merchant_name
                .clone()
                .unwrap_or_else(|| payment.merchant_id.clone()),
        ),
        decline_reason: payment
            .decline_code
            .clone()
            .or_else(|| payment.error_code.clone())
            .filter(|_| declined),
        risk_reasons: payment.risk_reason_names().map(str::to_owned).collect(),
        time: rfc3339(payment.created_at),
        trace_id: payment.trace_id.clone(),
    }
}

fn refund_entry(entry: &RefundEntry) -> TransactionView {
    let refund = &entry.refund;
    TransactionView {
        id: refund.id.to_string(),
        kind: REFUND.to_owned(),
        status: refund.status.as_str().to_owned(),
        amount: refund.amount,
        currency: refund.currency.clone(),
        fee: 0,
        card_id: entry.card_id.to_string(),
        card: None,
        counterparty: Some(
            entry
                .merchant_name
                .clone()
                .unwrap_or_else(|| entry.merchant_id.clone()),
        ),
        decline_reason: refund.decline_code.clone(),
        risk_reasons: Vec::new(),
        time: rfc3339(refund.created_at),
        trace_id: refund.trace_id.clone(),
    }
}

fn transfer_entry(transfer: &TransferRecord) -> TransactionView {
    TransactionView {
        id: transfer.id.to_string(),
        kind: TRANSFER.to_owned(),
        status: transfer.status.as_str().to_owned(),
        amount: transfer.amount,
        currency: transfer.currency.clone(),
        fee: transfer.fee,
        card_id: transfer.card_id.to_string(),
        card: None,
        counterparty: Some(transfer.to_masked.clone()),
        decline_reason: transfer.decline_code.clone(),
        risk_reasons: Vec::new(),
        time: rfc3339(transfer.created_at),
        trace_id: transfer.trace_id.clone(),
    }
}

/// One merged page, newest first, with each entry's time kept for the
/// cursor and the CSV.
async fn page(
    state: &AppState,
    user_id: &UserId,
    asked: &Asked,
    before: Option<(DateTime<Utc>, String)>,
) -> Result<Vec<(DateTime<Utc>, TransactionView)>, ApiError> {
    let filter = |statuses: Vec<String>| RecordFilter {
        user_id: user_id.clone(),
        card_id: asked.card_id.clone(),
        statuses,
        since: asked.since,
        until: asked.until,
        before: before.clone(),
        limit: asked.limit,
    };
    let mut entries: Vec<(DateTime<Utc>, TransactionView)> = Vec::new();
    if let Some(statuses) = statuses_of(asked, &[PAYMENT, DECLINE]) {
        let payments = state.store.payment_records(&filter(statuses)).await?;
        entries.extend(payments.iter().map(|p| (p.created_at, payment_entry(p))));
    }
    if let Some(statuses) = statuses_of(asked, &[REFUND]) {
        let refunds = state.store.refund_records(&filter(statuses)).await?;
        entries.extend(
            refunds
                .iter()
                .map(|r| (r.refund.created_at, refund_entry(r))),
        );
    }
    if let Some(statuses) = statuses_of(asked, &[TRANSFER]) {
        let transfers = state.store.transfers(&filter(statuses)).await?;
        entries.extend(transfers.iter().map(|t| (t.created_at, transfer_entry(t))));
    }
    if statuses_of(asked, &[REPORT]).is_some() {
        entries.extend(report_entries(state, user_id, asked, before.as_ref()).await?);
    }
    // Newest first, ties by id byte by byte, as each table is listed.
    entries.sort_by(|(a_at, a), (b_at, b)| b_at.cmp(a_at).then_with(|| b.id.cmp(&a.id)));
    entries.truncate(usize::try_from(asked.limit).unwrap_or(usize::MAX));
    // Each entry's card, masked, from the person's cards (unbound ones too).
    let cards = state.store.list_cards(user_id).await?;
    let masked: HashMap<String, String> = cards
        .iter()
        .map(|card| {
            let hidden = usize::from(card.pan_length).saturating_sub(10);
            (
                card.id.to_string(),
                mask(&format!(
                    "{}{}{}",
                    card.first6,
                    "0".repeat(hidden),
                    card.last4
                )),
            )
        })
        .collect();
    for (_, entry) in &mut entries {
        entry.card = masked.get(&entry.card_id).cloned();
    }
    Ok(entries)
}

/// The most rows a CSV export holds.
const CSV_MAX_ROWS: usize = 10_000;

/// The person's records as the query asks: a JSON page, or every matching
/// record as CSV.
pub async fn list(
    state: &AppState,
    user_id: &UserId,
    pairs: &[(String, String)],
    lang: Lang,
) -> Result<Response, ApiError> {
    let asked = check(state, pairs)?;
    if !asked.csv {
        let entries = page(state, user_id, &asked, asked.before.clone()).await?;
        let next_cursor = query::next_cursor(&entries, asked.limit, |(at, e)| (*at, &e.id));
        let list = TransactionList {
            data: entries.into_iter().map(|(_, e)| e).collect(),
            next_cursor,
        };
        return Ok(axum::Json(list).into_response());
    }
    let mut asked = asked;
    asked.limit = 100;
    let mut rows = Vec::new();
    let mut before = asked.before.clone();
    loop {
        let entries = page(state, user_id, &asked, before.clone()).await?;
        let full = entries.len() == 100;
        before = entries.last().map(|(at, e)| (*at, e.id.clone()));
        rows.extend(entries);
        if !full || rows.len() >= CSV_MAX_ROWS {
            break;
        }
    }
    rows.truncate(CSV_MAX_ROWS);
    let text = csv_text(state, &rows, lang);
    let mut response = (StatusCode::OK, text).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"transactions.csv\""),
    );
    Ok(response)
}

/// The header row, in the person's language.
fn csv_header(lang: Lang) -> [&'static str; 10] {
    match lang {
        Lang::ZhCn => [
            "交易号",
            "类型",
            "状态",
            "金额",
            "手续费",
            "卡号",
            "交易对方",
            "时间",
            "拒绝原因",
            "追踪号",
        ],
        Lang::En => [
            "ID",
            "Type",
            "Status",
            "Amount",
            "Fee",
            "Card",
            "Counterparty",
            "Time",
            "Decline reason",
            "Trace ID",
        ],
    }
}

/// `12.30 CNY`: the amount as a decimal with its currency's exponent.
fn money(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    match Currency::parse(currency) {
        Some(c) => format!("{sign}{} {currency}", c.format_amount(minor.unsigned_abs())),
        None => format!("{minor} {currency}"),
    }
}

/// One cell, per RFC 4180 (quoted when it holds a comma, a quote or a line
/// break, quotes doubled), and never a formula: a cell that a spreadsheet
/// would run (starting with = + - @, a tab or a carriage return) is
/// prefixed with '.
pub fn csv_cell(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// The whole file: a UTF-8 BOM (so that spreadsheets read it as UTF-8),
/// the header row, one row per record, CRLF line ends; times in the
/// wallet's time zone.
fn csv_text(state: &AppState, rows: &[(DateTime<Utc>, TransactionView)], lang: Lang) -> String {
    let mut out = String::from("\u{feff}");
    let line = |cells: &[String]| {
        let mut line = cells
            .iter()
            .map(|c| csv_cell(c))
            .collect::<Vec<_>>()
            .join(",");
        line.push_str("\r\n");
        line
    };
    let header: Vec<String> = csv_header(lang).iter().map(|h| (*h).to_owned()).collect();
    out.push_str(&line(&header));
    for (at, entry) in rows {
        let time = at
            .with_timezone(&state.time_zone)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string();
        out.push_str(&line(&[
            entry.id.clone(),
            entry.kind.clone(),
            entry.status.clone(),
            money(entry.amount, &entry.currency),
            money(entry.fee, &entry.currency),
            entry.card.clone().unwrap_or_default(),
            entry.counterparty.clone().unwrap_or_default(),
            time,
            entry.decline_reason.clone().unwrap_or_default(),
            entry.trace_id.clone(),
        ]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_never_formulas() {
        assert_eq!(csv_cell("Shop"), "Shop");
        assert_eq!(csv_cell("Tea, Cakes"), "\"Tea, Cakes\"");
        assert_eq!(csv_cell("The \"Best\""), "\"The \"\"Best\"\"\"");
        assert_eq!(csv_cell("=1+2"), "'=1+2");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("-5,x"), "\"'-5,x\"");
        assert_eq!(money(1230, "CNY"), "12.30 CNY");
        assert_eq!(money(5, "JPY"), "5 JPY");
    }

    #[test]
    fn a_record_type_is_one_of_the_table_s() {
        for (kind, kind_statuses) in TYPES {
            assert_eq!(record_type(kind), Some(kind));
            assert_eq!(statuses(kind), kind_statuses);
        }
        assert_eq!(record_type("reports"), None);
        assert!(statuses("reports").is_empty());
    }
}
