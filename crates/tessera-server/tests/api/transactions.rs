//! The person's records over HTTP: payments (approved and declined),
//! refunds and transfers in one list, newest first, paged by cursor and
//! filtered by card, type, status and days; unknown parameters and bad
//! values refused naming them; the CSV export read back with the `csv`
//! crate row for row against the JSON list; support's masked view.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tessera_server::issuer::sandbox::{self, Outcome};

use crate::payments::set_up;
use crate::transfers::{confirmed, pin_for};
use crate::{Backend, TestServer, User, assert_error, purchase};

/// What a person did: three payments (one declined), a refund, two
/// transfers (one declined). Returns the server, the person and the card.
async fn history(backend: Backend) -> (TestServer, User, Value) {
    let (server, user, card, mut device, merchant) = set_up(backend).await;
    for (amount, name) in [
        (1234, "Tea, \"Best\" Cakes"),
        (1251, "=HYPERLINK(\"x\")"),
        (2000, "@Shop"),
    ] {
        let signed = device.sign(&purchase(amount, "M1").named(name)).unwrap();
        let (status, body) = server.pay(&merchant, &signed.body).await;
        let expected = if amount == 1251 {
            StatusCode::PAYMENT_REQUIRED
        } else {
            StatusCode::CREATED
        };
        assert_eq!(status, expected, "{body}");
    }
    let paid = server.payments(&user).await;
    let first = paid.iter().find(|p| p["amount"] == 1234).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = server
        .post(
            &format!("/v1/payments/{first}/refunds"),
            &merchant,
            json!({"amount": 500}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _, body) = server
        .call(
            reqwest::Method::PUT,
            "/v1/me/payment-password",
            Some(&user.token),
            Some(&json!({"payment_password": pin_for(&user)})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let card_id = card["id"].as_str().unwrap();
    let to = sandbox::card_number("621226", 19, Outcome::Approve).unwrap();
    let (status, _, body) = confirmed(&server, &user, card_id, &to, 10_000).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let lost = sandbox::card_number("621226", 19, Outcome::LostCard).unwrap();
    let (status, _, body) = confirmed(&server, &user, card_id, &lost, 20_000).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{body}");
    (server, user, card)
}

async fn records(server: &TestServer, bearer: &str, query: &str) -> (StatusCode, Value) {
    server
        .get(&format!("/v1/transactions{query}"), bearer)
        .await
}

/// The records of a query, every page.
async fn all(server: &TestServer, user: &User, query: &str) -> Vec<Value> {
    let (status, body) = records(server, &user.token, query).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].as_array().unwrap().clone()
}

fn field(entries: &[Value], name: &str) -> Vec<String> {
    entries
        .iter()
        .map(|e| e[name].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn every_kind_is_listed_newest_first_filtered_and_paged(backend: Backend) {
    let (server, user, card) = history(backend).await;
    let listed = all(&server, &user, "").await;
    let mut kinds = field(&listed, "type");
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "decline", "payment", "payment", "refund", "transfer", "transfer"
        ]
    );
    let masked = format!(
        "{}*********{}",
        card["first6"].as_str().unwrap(),
        card["last4"].as_str().unwrap()
    );
    assert!(
        listed.iter().all(|e| e["card"] == masked.as_str()),
        "{listed:?}"
    );
    assert!(listed.iter().all(|e| e["card_id"] == card["id"]));
    let decline = listed.iter().find(|e| e["type"] == "decline").unwrap();
    assert_eq!(
        (
            &decline["status"],
            &decline["decline_reason"],
            &decline["amount"]
        ),
        (
            &json!("declined"),
            &json!("insufficient_funds"),
            &json!(1251)
        )
    );
    let refund = listed.iter().find(|e| e["type"] == "refund").unwrap();
    assert_eq!(
        (
            &refund["status"],
            &refund["amount"],
            &refund["counterparty"]
        ),
        (
            &json!("accepted"),
            &json!(500),
            &json!("Tea, \"Best\" Cakes")
        )
    );
    let settled = listed.iter().find(|e| e["status"] == "settled").unwrap();
    assert_eq!(
        (&settled["amount"], &settled["fee"]),
        (&json!(10_000), &json!(100))
    );
    assert!(
        settled["counterparty"]
            .as_str()
            .unwrap()
            .contains("*********")
    );
    let declined = listed
        .iter()
        .find(|e| e["type"] == "transfer" && e["status"] == "declined")
        .unwrap();
    assert_eq!(declined["decline_reason"], "lost_card");
    // Newest first: times never go up down the list.
    let times = field(&listed, "time");
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");

    // Two at a time, every record once, in the same order.
    let mut paged = Vec::new();
    let mut query = "?limit=2".to_owned();
    loop {
        let (status, body) = records(&server, &user.token, &query).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        paged.extend(body["data"].as_array().unwrap().iter().cloned());
        match body["next_cursor"].as_str() {
            Some(cursor) => query = format!("?limit=2&cursor={cursor}"),
            None => break,
        }
        assert!(paged.len() <= 6, "{paged:?}");
    }
    assert_eq!(paged, listed);

    let today = server
        .now()
        .with_timezone(&server.state().time_zone)
        .date_naive();
    let card_id = card["id"].as_str().unwrap();
    for (query, count) in [
        ("?type=decline".to_owned(), 1),
        ("?type=payment".to_owned(), 2),
        ("?type=refund".to_owned(), 1),
        ("?type=transfer&status=declined".to_owned(), 1),
        ("?status=declined".to_owned(), 2),
        ("?status=approved".to_owned(), 2),
        ("?type=refund&status=settled".to_owned(), 0),
        (format!("?card_id={card_id}"), 6),
        ("?card_id=card_nobody".to_owned(), 0),
        (format!("?from={today}&to={today}"), 6),
        (format!("?from={}", today.succ_opt().unwrap()), 0),
        (format!("?to={}", today.pred_opt().unwrap()), 0),
    ] {
        assert_eq!(all(&server, &user, &query).await.len(), count, "{query}");
    }
    for (query, param) in [
        ("?foo=1", "foo"),
        ("?type=reports", "type"),
        ("?status=refunded", "status"),
        ("?from=2026-13-01", "from"),
        ("?to=yesterday", "to"),
        ("?from=2026-12-02&to=2026-12-01", "to"),
        ("?limit=0", "limit"),
        ("?limit=101", "limit"),
        ("?format=xml", "format"),
        ("?cursor=nope", "cursor"),
        ("?card_id=pay_1", "card_id"),
        ("?type=refund&type=transfer", "type"),
    ] {
        let (status, body) = records(&server, &user.token, query).await;
        let error = assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
        assert_eq!(error["param"], param, "{query}");
    }
}

/// `GET /v1/transactions?format=csv` as text, with its content type.
async fn csv_export(server: &TestServer, bearer: &str, path: &str, lang: &str) -> (String, String) {
    let response = server
        .client
        .get(format!("{}{path}", server.base))
        .bearer_auth(bearer)
        .header("accept-language", lang)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    (content_type, response.text().await.unwrap())
}

/// What a CSV cell holds for a JSON text: formulas neutralised.
fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

async fn a_csv_export_reads_back_row_for_row(backend: Backend) {
    let (server, user, _card) = history(backend).await;
    let listed = all(&server, &user, "?limit=100").await;
    let tz = server.state().time_zone;
    for (lang, header) in [
        (
            "en",
            vec![
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
        ),
        (
            "zh-CN",
            vec![
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
        ),
    ] {
        let (content_type, text) =
            csv_export(&server, &user.token, "/v1/transactions?format=csv", lang).await;
        assert_eq!(content_type, "text/csv; charset=utf-8");
        let text = text.strip_prefix('\u{feff}').expect("a UTF-8 BOM");
        assert!(text.contains("\"Tea, \"\"Best\"\" Cakes\""), "{text}");
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        assert_eq!(reader.headers().unwrap(), header.as_slice());
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), listed.len());
        for (row, entry) in rows.iter().zip(&listed) {
            let money = |minor: &Value| {
                let minor = minor.as_i64().unwrap();
                format!("{}.{:02} CNY", minor / 100, minor % 100)
            };
            let time = chrono::DateTime::parse_from_rfc3339(entry["time"].as_str().unwrap())
                .unwrap()
                .with_timezone(&tz)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string();
            let expected = [
                entry["id"].as_str().unwrap().to_owned(),
                entry["type"].as_str().unwrap().to_owned(),
                entry["status"].as_str().unwrap().to_owned(),
                money(&entry["amount"]),
                money(&entry["fee"]),
                entry["card"].as_str().unwrap().to_owned(),
                cell(entry["counterparty"].as_str().unwrap()),
                time,
                entry["decline_reason"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                entry["trace_id"].as_str().unwrap().to_owned(),
            ];
            assert_eq!(row.iter().collect::<Vec<_>>(), expected, "{entry}");
        }
        let counterparties: Vec<&str> = rows.iter().map(|r| &r[6]).collect();
        assert!(counterparties.contains(&"'=HYPERLINK(\"x\")"));
        assert!(counterparties.contains(&"'@Shop"));
        assert!(rows.iter().any(|r| &r[3] == "12.34 CNY"));
        assert!(rows.iter().any(|r| &r[4] == "1.00 CNY"));
    }
    // Filtered like the list.
    let (_, text) = csv_export(
        &server,
        &user.token,
        "/v1/transactions?format=csv&type=transfer",
        "en",
    )
    .await;
    assert_eq!(text.lines().count(), 3, "{text}");
}

async fn support_reads_a_person_s_records_masked(backend: Backend) {
    let (server, user, _card) = history(backend).await;
    let listed = all(&server, &user, "").await;
    let path = format!("/v1/support/users/{}/transactions", user.id);
    let (status, body) = server.get(&path, &server.support_key).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"].as_array().unwrap(), &listed);
    let (status, body) = server
        .get(&format!("{path}?type=refund"), &server.support_key)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    let (_, text) = csv_export(
        &server,
        &server.support_key,
        &format!("{path}?format=csv"),
        "en",
    )
    .await;
    assert_eq!(text.lines().count(), 7);
    // Only support and operators; an unknown person is not found.
    let (status, body) = server.get(&path, &user.token).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = server
        .get(
            "/v1/support/users/usr_nobody/transactions",
            &server.support_key,
        )
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = server
        .get(&format!("{path}?bogus=1"), &server.support_key)
        .await;
    let error = assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(error["param"], "bogus");
}

on_both_backends!(
    every_kind_is_listed_newest_first_filtered_and_paged,
    a_csv_export_reads_back_row_for_row,
    support_reads_a_person_s_records_masked,
);
