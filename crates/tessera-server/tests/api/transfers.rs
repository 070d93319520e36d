//! Transfers over HTTP: free within the same bank, charged across banks at
//! the schedule's minimum and maximum (and the quote says the same), a
//! sandbox decline and an unreachable bank moving nothing, a missing, used
//! or other-scope confirmation refused with nothing recorded, idempotent
//! retries, and bad input refused naming the field.

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tessera_core::fees::{FeeChannel, FeeOperation, FeeRule};
use tessera_server::issuer::sandbox::{self, Outcome};

use crate::{Backend, TestServer, User, assert_error, card};

/// The payment password the tests confirm with: never the phone's tail.
pub fn pin_for(user: &User) -> &'static str {
    let tail = &user.phone[user.phone.len() - 6..];
    ["830271", "604917"]
        .into_iter()
        .find(|p| *p != tail)
        .unwrap()
}

/// A person with an Agricultural Bank of China card (BIN 622848) bound and
/// a payment password set: the person and the card's id.
pub async fn set_up(server: &TestServer) -> (User, String) {
    let user = server.user().await;
    let (status, bound) = server.bind(&user, &card(Outcome::Approve)).await;
    assert_eq!(status, StatusCode::CREATED, "{bound}");
    let (status, _, body) = server
        .call(
            Method::PUT,
            "/v1/me/payment-password",
            Some(&user.token),
            Some(&json!({"payment_password": pin_for(&user)})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (user, bound["id"].as_str().unwrap().to_owned())
}

/// A confirmation for a transfer of `amount` CNY from `card_id`.
pub async fn confirm(server: &TestServer, user: &User, card_id: &str, amount: u64) -> String {
    let (status, _, body) = server
        .call(
            Method::POST,
            "/v1/me/verifications",
            Some(&user.token),
            Some(
                &json!({"purpose": "transfer", "card_id": card_id, "amount": amount,
                "currency": "CNY", "payment_password": pin_for(user)}),
            ),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["verification"].as_str().unwrap().to_owned()
}

pub fn transfer(card_id: &str, to: &str, amount: u64) -> Value {
    json!({"card_id": card_id, "to_card_number": to, "to_holder_name": "李四",
        "amount": amount, "currency": "CNY"})
}

/// `POST /v1/transfers` with an optional confirmation and idempotency key.
pub async fn send(
    server: &TestServer,
    user: &User,
    verification: Option<&str>,
    key: Option<&str>,
    body: &Value,
) -> (StatusCode, HeaderMap, Value) {
    let mut headers = Vec::new();
    if let Some(verification) = verification {
        headers.push(("Tessera-Verification", verification));
    }
    if let Some(key) = key {
        headers.push(("Idempotency-Key", key));
    }
    server
        .call(
            Method::POST,
            "/v1/transfers",
            Some(&user.token),
            Some(body),
            &headers,
        )
        .await
}

/// Confirms, then sends with a fresh idempotency key.
pub async fn confirmed(
    server: &TestServer,
    user: &User,
    card_id: &str,
    to: &str,
    amount: u64,
) -> (StatusCode, HeaderMap, Value) {
    let verification = confirm(server, user, card_id, amount).await;
    let key = format!("trf-{}", tessera_server::ids::random_id("", 12));
    send(
        server,
        user,
        Some(&verification),
        Some(&key),
        &transfer(card_id, to, amount),
    )
    .await
}

async fn listed(server: &TestServer, user: &User) -> Vec<Value> {
    let (status, body) = server.get("/v1/transfers", &user.token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].as_array().unwrap().clone()
}

/// The quote for the same transfer, over `POST /v1/fees/quote`.
async fn quoted(server: &TestServer, user: &User, card_id: &str, to: &str, amount: u64) -> Value {
    let (status, body) = server
        .post(
            "/v1/fees/quote",
            &user.token,
            json!({"source_card_id": card_id, "destination_card_number": to,
                "amount": amount, "currency": "CNY", "channel": "in_app"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn a_same_bank_transfer_is_free_and_settles(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let (user, card_id) = set_up(&server).await;
    let to = card(Outcome::Approve);
    let (status, _, sent) = confirmed(&server, &user, &card_id, &to, 1_000_000).await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    assert!(sent["id"].as_str().unwrap().starts_with("trf_"));
    assert_eq!(sent["status"], "settled");
    assert_eq!(sent["fee_operation"], "transfer_same_bank");
    assert_eq!(
        (&sent["amount"], &sent["fee"]),
        (&json!(1_000_000), &json!(0))
    );
    assert_eq!(sent["total"], 1_000_000);
    assert_eq!(sent["to_issuer_code"], "ABC");
    assert_eq!(sent["to_holder_name"], "李四");
    assert_eq!(
        sent["to_card"],
        format!("{}*********{}", &to[..6], &to[15..])
    );
    assert!(sent["reference"].as_str().unwrap().starts_with("crd_"));
    assert!(sent["trace_id"].as_str().unwrap().starts_with("req_"));
    let quote = quoted(&server, &user, &card_id, &to, 1_000_000).await;
    assert_eq!(
        (&quote["operation"], &quote["fee"]),
        (&json!("transfer_same_bank"), &sent["fee"])
    );

    let id = sent["id"].as_str().unwrap();
    let (status, shown) = server
        .get(&format!("/v1/transfers/{id}"), &user.token)
        .await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(shown, sent);
    assert_eq!(listed(&server, &user).await, std::slice::from_ref(&sent));
    // Another person sees none of it.
    let other = server.user().await;
    let (status, body) = server
        .get(&format!("/v1/transfers/{id}"), &other.token)
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    assert!(listed(&server, &other).await.is_empty());
}

async fn a_cross_bank_transfer_is_charged_at_the_schedule_s_minimum_and_maximum(backend: Backend) {
    let server = TestServer::start_on(backend, |config| {
        config
            .fees
            .0
            .entry(FeeOperation::TransferCrossBank)
            .or_default()
            .insert(
                FeeChannel::Any,
                FeeRule {
                    rate_bps: 20,
                    fixed: 0,
                    min: 200,
                    max: Some(1_000),
                },
            );
    })
    .await;
    let (user, card_id) = set_up(&server).await;
    // An Industrial and Commercial Bank of China card: another bank.
    let to = sandbox::card_number("621226", 19, Outcome::Approve).unwrap();
    // 0.2% of 100.00 is 0.20, raised to the minimum 2.00; of 10,000.00 it
    // is 20.00, lowered to the maximum 10.00; of 3,000.00 it is 6.00.
    for (amount, fee) in [(10_000, 200), (1_000_000, 1_000), (300_000, 600)] {
        let (status, _, sent) = confirmed(&server, &user, &card_id, &to, amount).await;
        assert_eq!(status, StatusCode::CREATED, "{sent}");
        assert_eq!(sent["fee_operation"], "transfer_cross_bank");
        assert_eq!(sent["to_issuer_code"], "ICBC");
        assert_eq!(sent["fee"], fee, "{amount}: {sent}");
        assert_eq!(sent["total"], amount + fee);
        let quote = quoted(&server, &user, &card_id, &to, amount).await;
        assert_eq!(
            (&quote["operation"], &quote["fee"]),
            (&json!("transfer_cross_bank"), &sent["fee"]),
            "{quote}"
        );
    }
    let fees: Vec<Value> = listed(&server, &user)
        .await
        .iter()
        .map(|t| t["fee"].clone())
        .collect();
    assert_eq!(fees, [json!(600), json!(1_000), json!(200)]);
}

async fn a_declined_or_unanswered_transfer_moves_nothing_and_says_why(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let (user, card_id) = set_up(&server).await;
    let lost = sandbox::card_number("621226", 19, Outcome::LostCard).unwrap();
    let (status, _, body) = confirmed(&server, &user, &card_id, &lost, 50_000).await;
    let error = assert_error(
        status,
        &body,
        StatusCode::PAYMENT_REQUIRED,
        "transfer_declined",
    );
    assert_eq!(error["decline_code"], "lost_card");
    assert_eq!(error["retryable"], false);
    assert_eq!(error["message"], "银行拒绝了这笔转账");
    let declined_id = error["transfer_id"].as_str().unwrap().to_owned();

    let away = sandbox::card_number("621226", 19, Outcome::Unavailable).unwrap();
    let (status, headers, body) = confirmed(&server, &user, &card_id, &away, 50_000).await;
    let error = assert_error(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "issuer_unavailable",
    );
    assert!(headers.get("retry-after").is_some(), "{headers:?}");
    let failed_id = error["transfer_id"].as_str().unwrap().to_owned();

    let (_, declined) = server
        .get(&format!("/v1/transfers/{declined_id}"), &user.token)
        .await;
    assert_eq!(declined["status"], "declined");
    assert_eq!(declined["decline_code"], "lost_card");
    assert!(declined["reference"].is_null());
    let (_, failed) = server
        .get(&format!("/v1/transfers/{failed_id}"), &user.token)
        .await;
    assert_eq!(failed["status"], "failed");
    assert!(failed["reference"].is_null() && failed["decline_code"].is_null());
    let statuses: Vec<Value> = listed(&server, &user)
        .await
        .iter()
        .map(|t| t["status"].clone())
        .collect();
    assert_eq!(statuses, [json!("failed"), json!("declined")]);
}

async fn a_missing_used_or_other_confirmation_is_refused_and_records_nothing(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let (user, card_id) = set_up(&server).await;
    let to = card(Outcome::Approve);
    let body = transfer(&card_id, &to, 10_000);
    let (status, _, refused) = send(&server, &user, None, Some("k-1"), &body).await;
    let error = assert_error(
        status,
        &refused,
        StatusCode::FORBIDDEN,
        "verification_required",
    );
    assert_eq!(error["param"], "Tessera-Verification");
    let (status, _, refused) = send(&server, &user, Some("vrf_made_up"), Some("k-1"), &body).await;
    assert_error(
        status,
        &refused,
        StatusCode::FORBIDDEN,
        "verification_invalid",
    );
    // Confirmed for another amount, and for another step.
    let other_amount = confirm(&server, &user, &card_id, 10_001).await;
    let (status, _, refused) = send(&server, &user, Some(&other_amount), Some("k-1"), &body).await;
    assert_error(
        status,
        &refused,
        StatusCode::FORBIDDEN,
        "verification_invalid",
    );
    let (status, _, unbind) = server
        .call(
            Method::POST,
            "/v1/me/verifications",
            Some(&user.token),
            Some(&json!({"purpose": "unbind_card", "card_id": card_id,
                "payment_password": pin_for(&user)})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{unbind}");
    let unbind = unbind["verification"].as_str().unwrap();
    let (status, _, refused) = send(&server, &user, Some(unbind), Some("k-1"), &body).await;
    assert_error(
        status,
        &refused,
        StatusCode::FORBIDDEN,
        "verification_invalid",
    );
    assert!(listed(&server, &user).await.is_empty());

    // The same key with a good confirmation runs: a refusal was not kept.
    let good = confirm(&server, &user, &card_id, 10_000).await;
    let (status, _, sent) = send(&server, &user, Some(&good), Some("k-1"), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    // Used: it confirms nothing more, even the same transfer again.
    let (status, _, refused) = send(&server, &user, Some(&good), Some("k-2"), &body).await;
    assert_error(
        status,
        &refused,
        StatusCode::FORBIDDEN,
        "verification_invalid",
    );
    assert_eq!(listed(&server, &user).await, [sent]);
}

async fn a_retry_answers_the_first_answer_and_moves_money_once(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let (user, card_id) = set_up(&server).await;
    let to = sandbox::card_number("621226", 19, Outcome::Approve).unwrap();
    let body = transfer(&card_id, &to, 20_000);
    let verification = confirm(&server, &user, &card_id, 20_000).await;
    let (status, _, first) = send(&server, &user, Some(&verification), Some("once"), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    // The confirmation is used up; the retry still answers as the first.
    let (status, headers, again) =
        send(&server, &user, Some(&verification), Some("once"), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_eq!(again, first);
    assert_eq!(headers["idempotent-replayed"], "true");
    let (status, _, again) = send(&server, &user, None, Some("once"), &body).await;
    assert_eq!((status, &again), (StatusCode::CREATED, &first));
    // The same key for another transfer is a conflict.
    let other = transfer(&card_id, &to, 20_001);
    let (status, _, refused) = send(&server, &user, None, Some("once"), &other).await;
    let error = assert_error(
        status,
        &refused,
        StatusCode::CONFLICT,
        "idempotency_conflict",
    );
    assert_eq!(error["param"], "Idempotency-Key");
    // No key at all: refused before anything is read.
    let (status, _, refused) = send(&server, &user, Some(&verification), None, &body).await;
    let error = assert_error(status, &refused, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(error["param"], "Idempotency-Key");
    assert_eq!(listed(&server, &user).await, [first]);
}

async fn bad_input_is_refused_naming_the_field_and_records_nothing(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let (user, card_id) = set_up(&server).await;
    let to = card(Outcome::Approve);
    let verification = confirm(&server, &user, &card_id, 10_000).await;
    let luhn_broken = format!("{}{}", &to[..18], (to.as_bytes()[18] - b'0' + 1) % 10);
    let unknown_bin = sandbox::card_number("800000", 16, Outcome::Approve).unwrap();
    let other = server.user().await;
    let (_, others) = server.bind(&other, &card(Outcome::Approve)).await;
    let others = others["id"].as_str().unwrap();
    let with = |field: &str, value: Value| {
        let mut body = transfer(&card_id, &to, 10_000);
        body[field] = value;
        body
    };
    for (index, (body, status, code, param)) in [
        (
            with("to_card_number", json!(luhn_broken)),
            422,
            "incorrect_number",
            "to_card_number",
        ),
        (
            with("to_card_number", json!("62284800")),
            422,
            "invalid_number",
            "to_card_number",
        ),
        (
            with("to_card_number", json!(unknown_bin)),
            422,
            "card_not_supported",
            "to_card_number",
        ),
        (
            with("to_holder_name", json!("李四123")),
            422,
            "invalid_holder_name",
            "to_holder_name",
        ),
        (
            with("to_holder_name", json!("")),
            422,
            "invalid_holder_name",
            "to_holder_name",
        ),
        (
            with("currency", json!("USD")),
            400,
            "invalid_request",
            "currency",
        ),
        (with("amount", json!(0)), 400, "invalid_request", "amount"),
        (
            with("channel", json!("atm")),
            400,
            "invalid_request",
            "channel",
        ),
        (with("card_id", json!(others)), 404, "not_found", "card_id"),
        (
            with("card_id", json!("card_nope")),
            404,
            "not_found",
            "card_id",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let key = format!("bad-{index}");
        let (got, _, refused) = send(&server, &user, Some(&verification), Some(&key), &body).await;
        let error = assert_error(got, &refused, StatusCode::from_u16(status).unwrap(), code);
        assert_eq!(error["param"], param, "{refused}");
        let text = refused.to_string();
        assert!(!text.contains(&to[6..15]) && !text.contains(&luhn_broken[6..15]));
    }
    // Nothing was recorded, and the confirmation was not used up by them.
    assert!(listed(&server, &user).await.is_empty());
    let (status, _, sent) = send(
        &server,
        &user,
        Some(&verification),
        Some("good"),
        &transfer(&card_id, &to, 10_000),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
}

on_both_backends!(
    a_same_bank_transfer_is_free_and_settles,
    a_cross_bank_transfer_is_charged_at_the_schedule_s_minimum_and_maximum,
    a_declined_or_unanswered_transfer_moves_nothing_and_says_why,
    a_missing_used_or_other_confirmation_is_refused_and_records_nothing,
    a_retry_answers_the_first_answer_and_moves_money_once,
    bad_input_is_refused_naming_the_field_and_records_nothing,
);
