//! SMS codes on a weak signal: a pending card found again after the app
//! was closed, its code sent again after a cooldown (the wrong codes
//! entered so far still counting), and texts that say which card and for
//! how long.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tessera_server::issuer::sandbox::Outcome;
use tessera_server::test_support::phone;
use tokio::sync::Barrier;

use crate::{Backend, TestServer, User, assert_error, card};

/// The bank's texts the sandbox phone received, newest first (the
/// wallet's own sign-up code is not one), as an operator reads them.
async fn texts(server: &TestServer, phone: &str) -> Vec<String> {
    let (status, body) = server
        .get(
            &format!("/v1/sandbox/sms?phone={phone}"),
            &server.operator_key,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|sms| sms["body"].as_str().unwrap().to_owned())
        .filter(|text| text.contains("沙箱银行"))
        .collect()
}

fn code_in(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|part| part.len() == 6)
        .unwrap()
        .to_owned()
}

fn other_than(code: &str) -> &'static str {
    if code == "000000" { "111111" } else { "000000" }
}

async fn resend(
    server: &TestServer,
    user: &User,
    card_id: &str,
    body: Value,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    server
        .call(
            Method::POST,
            &format!("/v1/cards/{card_id}/otp"),
            Some(&user.token),
            Some(&body),
            &[],
        )
        .await
}

async fn a_code_sent_again_replaces_the_old_one_and_keeps_the_count(backend: Backend) {
    let server = TestServer::start_on(backend, |config| config.otp_ttl_secs = 120).await;
    let user = server.user().await;
    let number = card(Outcome::Otp);
    let (status, pending) = server.bind(&user, &number).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{pending}");
    let id = pending["id"].as_str().unwrap().to_owned();
    // The text names the card and the validity that is configured.
    let first = texts(&server, &user.phone).await;
    assert_eq!(first.len(), 1);
    let last4 = &number[number.len() - 4..];
    assert!(first[0].contains(&format!("尾号{last4}")), "{}", first[0]);
    assert!(first[0].contains("2分钟内有效"), "{}", first[0]);
    assert!(
        first[0].contains(&format!("ending {last4}, valid for 2 min")),
        "{}",
        first[0]
    );
    let old_code = code_in(&first[0]);

    // The app was closed; reopened, it finds the card waiting for its code.
    let (status, listed) = server
        .get("/v1/cards?status=pending_verification", &user.token)
        .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(listed["data"][0]["id"], id.as_str());
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    let (status, listed) = server.get("/v1/cards?status=active", &user.token).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert!(listed["data"].as_array().unwrap().is_empty());
    let (status, refused) = server.get("/v1/cards?status=pending", &user.token).await;
    let error = assert_error(status, &refused, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(error["param"], "status");

    // Asked again at once: wait a minute, and nothing is sent.
    let (status, headers, early) = resend(&server, &user, &id, json!({})).await;
    let error = assert_error(
        status,
        &early,
        StatusCode::TOO_MANY_REQUESTS,
        "otp_resend_too_soon",
    );
    assert_eq!(error["retry_after"], 60);
    assert_eq!(headers["retry-after"], "60");
    assert_eq!(texts(&server, &user.phone).await.len(), 1);

    // One wrong code, then a new code after the cooldown.
    let (status, wrong) = server
        .post(
            &format!("/v1/cards/{id}/verify"),
            &user.token,
            json!({"otp": other_than(&old_code)}),
        )
        .await;
    let error = assert_error(
        status,
        &wrong,
        StatusCode::UNPROCESSABLE_ENTITY,
        "otp_incorrect",
    );
    assert_eq!(error["attempts_left"], 4);
    server.advance(Duration::from_secs(60));
    let (status, _, resent) = resend(&server, &user, &id, json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{resent}");
    assert_eq!(resent["status"], "pending_verification");
    let now_texts = texts(&server, &user.phone).await;
    assert_eq!(now_texts.len(), 2);
    let new_code = code_in(&now_texts[0]);
    // The code it replaced no longer verifies, and that wrong code counts
    // with the first: three tries are left.
    if new_code != old_code {
        let (status, stale) = server
            .post(
                &format!("/v1/cards/{id}/verify"),
                &user.token,
                json!({"otp": old_code}),
            )
            .await;
        let error = assert_error(
            status,
            &stale,
            StatusCode::UNPROCESSABLE_ENTITY,
            "otp_incorrect",
        );
        assert_eq!(error["attempts_left"], 3);
    }
    let (status, bound) = server
        .post(
            &format!("/v1/cards/{id}/verify"),
            &user.token,
            json!({"otp": new_code}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{bound}");
    assert_eq!(bound["status"], "active");
    // Nothing left to send.
    server.advance(Duration::from_secs(60));
    let (status, _, done) = resend(&server, &user, &id, json!({})).await;
    let error = assert_error(status, &done, StatusCode::CONFLICT, "card_already_bound");
    assert_eq!(error["card_id"], id.as_str());
}

/// A code goes only to the number the first went to (the sandbox bank
/// keeps the account's phone on file): another `bank_phone` is refused and
/// nothing is sent.
async fn a_code_goes_again_only_where_the_first_went(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let (status, pending) = server.bind(&user, &card(Outcome::Otp)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{pending}");
    let id = pending["id"].as_str().unwrap().to_owned();
    server.advance(Duration::from_secs(60));
    let elsewhere = phone();
    let (status, _, refused) = resend(&server, &user, &id, json!({"bank_phone": elsewhere})).await;
    let error = assert_error(
        status,
        &refused,
        StatusCode::PAYMENT_REQUIRED,
        "phone_mismatch",
    );
    assert_eq!(error["param"], "bank_phone");
    assert!(texts(&server, &elsewhere).await.is_empty());
    assert_eq!(texts(&server, &user.phone).await.len(), 1);
    let (status, _, resent) = resend(&server, &user, &id, json!({"bank_phone": user.phone})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{resent}");
    assert_eq!(texts(&server, &user.phone).await.len(), 2);
    let (status, _, unknown) = resend(&server, &user, "card_nobody", json!({})).await;
    assert_error(status, &unknown, StatusCode::NOT_FOUND, "not_found");
}

/// Twenty resends released together once the cooldown is over: one code
/// is sent, the others wait their turn.
async fn a_burst_of_resends_sends_one_code(backend: Backend) {
    let server = Arc::new(TestServer::start_on(backend, |_| {}).await);
    let user = server.user().await;
    let (status, pending) = server.bind(&user, &card(Outcome::Otp)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{pending}");
    let id = pending["id"].as_str().unwrap().to_owned();
    server.advance(Duration::from_secs(60));
    let clients = crate::limits::connected(&server, 20).await;
    let barrier = Arc::new(Barrier::new(clients.len()));
    let mut tasks = Vec::new();
    for client in clients {
        let (server, barrier) = (server.clone(), barrier.clone());
        let (token, id) = (user.token.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let response = client
                .post(format!("{}/v1/cards/{id}/otp", server.base))
                .bearer_auth(token)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            let status = response.status();
            (status, response.json::<Value>().await.unwrap())
        }));
    }
    let mut sent = 0;
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            StatusCode::ACCEPTED => sent += 1,
            _ => {
                assert_error(
                    status,
                    &body,
                    StatusCode::TOO_MANY_REQUESTS,
                    "otp_resend_too_soon",
                );
            }
        }
    }
    assert_eq!(sent, 1);
    let received = texts(&server, &user.phone).await;
    assert_eq!(received.len(), 2, "{received:?}");
}

on_both_backends!(
    a_code_sent_again_replaces_the_old_one_and_keeps_the_count,
    a_code_goes_again_only_where_the_first_went,
    a_burst_of_resends_sends_one_code,
);
