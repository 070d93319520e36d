//! Limits as attackers meet them: every connection opened first, then all
//! requests released together by a barrier, and what the server really
//! checked counted afterwards (SMS codes compared, attempts that reached the
//! issuer, codes sent).

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tessera_server::issuer::sandbox::Outcome;
use tessera_store::{AttemptFilter, AttemptRecord};
use tokio::sync::Barrier;

use tessera_server::test_support::sign_in;

use crate::{Backend, TestServer, User, assert_error, card};

/// `n` clients, each holding an open connection to the server (a request
/// already made on it), so that the barrier releases requests, not
/// handshakes.
pub(crate) async fn connected(server: &TestServer, n: usize) -> Vec<Client> {
    let mut clients = Vec::with_capacity(n);
    for _ in 0..n {
        let client = Client::builder().pool_max_idle_per_host(1).build().unwrap();
        let response = client
            .get(format!("{}/healthz", server.base))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
        response.bytes().await.unwrap();
        clients.push(client);
    }
    clients
}

/// Sends `requests[i]` (path, bearer, body) on `clients[i]`, all released
/// at once; the answers in the same order.
pub(crate) async fn burst(
    server: &TestServer,
    clients: Vec<Client>,
    requests: Vec<(String, String, Value)>,
) -> Vec<(StatusCode, HeaderMap, Value)> {
    assert_eq!(clients.len(), requests.len());
    let barrier = Arc::new(Barrier::new(requests.len()));
    let mut tasks = Vec::new();
    for (client, (path, bearer, body)) in clients.into_iter().zip(requests) {
        let barrier = barrier.clone();
        let url = format!("{}{}", server.base, path);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let response = client
                .post(url)
                .bearer_auth(bearer)
                .json(&body)
                .send()
                .await
                .unwrap();
            let (status, headers) = (response.status(), response.headers().clone());
            (status, headers, response.json::<Value>().await.unwrap())
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

/// Every attempt recorded for the user (bindings and code checks).
pub(crate) async fn attempts(server: &TestServer, user: &User) -> Vec<AttemptRecord> {
    server
        .state()
        .store
        .attempts(&AttemptFilter {
            user_id: Some(user.id.clone().into()),
            limit: 10_000,
            ..AttemptFilter::default()
        })
        .await
        .unwrap()
}

/// SMS code checks that really compared a code.
fn compared(attempts: &[AttemptRecord]) -> usize {
    attempts
        .iter()
        .filter(|a| a.issuer_response.as_deref() == Some("otp"))
        .count()
}

/// Codes the sandbox phone received.
async fn sms_count(server: &TestServer, user: &User) -> usize {
    let (status, body) = server
        .get(
            &format!("/v1/sandbox/sms?phone={}", user.phone),
            &user.token,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].as_array().unwrap().len()
}

fn wrong_code(right: &str) -> &'static str {
    if right == "000000" {
        "111111"
    } else {
        "000000"
    }
}

/// Asserts a `too_many_attempts` for `limit`, in both its fields and its
/// texts, and returns the error object.
#[track_caller]
fn assert_limit(status: StatusCode, headers: &HeaderMap, body: &Value, limit: &str) -> Value {
    let error = assert_error(
        status,
        body,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
    );
    assert_eq!(error["limit"], limit, "{body}");
    if limit != "otp_attempts" {
        let retry_after = error["retry_after"].as_u64().unwrap();
        assert_eq!(
            headers["retry-after"].to_str().unwrap(),
            retry_after.to_string()
        );
        assert!(error["locked_until"].is_string(), "{body}");
    }
    error
}

async fn three_hundred_codes_at_once_are_compared_five_times(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let (status, body) = server.bind(&user, &card(Outcome::Otp)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let right = server.latest_otp(&user).await;
    let wrong = wrong_code(&right);
    // 299 wrong codes and the right one last, as an attacker sends them.
    let requests = (0..300)
        .map(|i| {
            let otp = if i == 299 { right.as_str() } else { wrong };
            (
                format!("/v1/cards/{id}/verify"),
                user.token.clone(),
                json!({ "otp": otp }),
            )
        })
        .collect();
    let clients = connected(&server, 300).await;
    let answers = burst(&server, clients, requests).await;

    let checked = compared(&attempts(&server, &user).await);
    let (_, card) = server.get(&format!("/v1/cards/{id}"), &user.token).await;
    let incorrect = answers
        .iter()
        .filter(|(_, _, body)| body["error"]["code"] == "otp_incorrect")
        .count();
    assert!(incorrect <= 4, "{incorrect} codes were answered incorrect");
    let (status, headers, last) = &answers[299];
    if card["status"] == "active" {
        // The right code won one of the five comparisons.
        assert_eq!(*status, StatusCode::OK, "{last}");
        assert!(checked <= 5, "{checked} codes were compared");
        return;
    }
    assert_eq!(checked, 5, "codes compared");
    assert_eq!(card["status"], "verification_failed");
    assert_limit(*status, headers, last, "otp_attempts");
    for (status, headers, body) in &answers {
        if body["error"]["code"] != "otp_incorrect" {
            assert_limit(*status, headers, body, "otp_attempts");
        }
    }
    // After five wrong ones the right code is refused, and said so, without
    // being compared.
    let (status, body) = server
        .post(
            &format!("/v1/cards/{id}/verify"),
            &user.token,
            json!({ "otp": right }),
        )
        .await;
    let error = assert_error(
        status,
        &body,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
    );
    assert_eq!(error["limit"], "otp_attempts");
    assert_eq!(compared(&attempts(&server, &user).await), 5);
}

async fn rebinding_after_a_lockout_stops_at_the_card_limit(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let number = card(Outcome::Otp);
    let started = server.now();
    let mut rounds = 0;
    // The attacker's loop: bind, five wrong codes at once, bind again.
    for _ in 0..8 {
        let (status, body) = server.bind(&user, &number).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            let (status, headers, body) = server
                .call(
                    reqwest::Method::POST,
                    "/v1/cards",
                    Some(&user.token),
                    Some(&json!({"number": number, "holder_name": user.real_name})),
                    &[("accept-language", "en")],
                )
                .await;
            let error = assert_limit(status, &headers, &body, "card_bindings");
            // The window is rolling 24 hours from the first attempt.
            let until =
                chrono::DateTime::parse_from_rfc3339(error["locked_until"].as_str().unwrap())
                    .unwrap();
            let lifts = started + chrono::TimeDelta::hours(24);
            assert!((until.to_utc() - lifts).num_seconds().abs() <= 1, "{error}");
            assert!(error["message"].as_str().unwrap().contains("5 in 24 hours"));
            assert!(
                error["remedy"]
                    .as_str()
                    .unwrap()
                    .contains("Try again in 24 hours")
            );
            break;
        }
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        rounds += 1;
        let id = body["id"].as_str().unwrap().to_owned();
        let wrong = wrong_code(&server.latest_otp(&user).await);
        let requests = (0..5)
            .map(|_| {
                (
                    format!("/v1/cards/{id}/verify"),
                    user.token.clone(),
                    json!({ "otp": wrong }),
                )
            })
            .collect();
        let clients = connected(&server, 5).await;
        burst(&server, clients, requests).await;
        let (_, card) = server.get(&format!("/v1/cards/{id}"), &user.token).await;
        assert_eq!(card["status"], "verification_failed");
    }
    assert_eq!(rounds, 5, "bindings of one card that reached the bank");
    // The bank's five, after the wallet's own sign-up code.
    assert_eq!(sms_count(&server, &user).await, 1 + 5, "codes sent");
    assert_eq!(compared(&attempts(&server, &user).await), 25);
    // In Chinese, with the same promise.
    let (status, body) = server.bind(&user, &number).await;
    let error = assert_error(
        status,
        &body,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
    );
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("24小时内最多5次")
    );
    assert!(error["remedy"].as_str().unwrap().contains("后再试"));
    // A day after the first attempt, the card may be bound again (after
    // signing in again: sessions last 12 hours).
    server.advance(Duration::from_secs(24 * 3600 + 1));
    let user = User {
        token: sign_in(&server.client, &server.base, &user.phone, &user.password).await,
        ..user
    };
    let (status, body) = server.bind(&user, &number).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
}

async fn a_burst_of_bindings_reaches_the_bank_ten_times_per_person(backend: Backend) {
    let server = TestServer::start_on(backend, |config| config.card_limit = 100).await;
    let user = server.user().await;
    let requests = (0..20)
        .map(|_| {
            (
                "/v1/cards".to_owned(),
                user.token.clone(),
                json!({"number": card(Outcome::Approve), "holder_name": user.real_name}),
            )
        })
        .collect();
    let clients = connected(&server, 20).await;
    let answers = burst(&server, clients, requests).await;
    let mut bound = 0;
    for (status, headers, body) in &answers {
        if *status == StatusCode::CREATED {
            bound += 1;
        } else {
            assert_limit(*status, headers, body, "user_bindings");
        }
    }
    assert_eq!(bound, 10);
    let reached_bank = attempts(&server, &user)
        .await
        .iter()
        .filter(|a| a.issuer_response.is_some())
        .count();
    assert_eq!(reached_bank, 10, "attempts that reached the bank");
    assert_eq!(server.cards(&user).await.len(), 10);
}

async fn one_card_reaches_the_bank_five_times_whoever_binds_it(backend: Backend) {
    // More wallets than attempts may hold the card: the attempts stop it.
    let server = TestServer::start_on(backend, |config| {
        config.limits.max_wallets_per_card = 10;
    })
    .await;
    let number = card(Outcome::Approve);
    let mut users = Vec::new();
    for _ in 0..8 {
        users.push(server.user().await);
    }
    let requests = users
        .iter()
        .map(|user| {
            (
                "/v1/cards".to_owned(),
                user.token.clone(),
                json!({"number": number, "holder_name": user.real_name}),
            )
        })
        .collect();
    let clients = connected(&server, 8).await;
    let answers = burst(&server, clients, requests).await;
    let bound = answers
        .iter()
        .filter(|(status, _, _)| *status == StatusCode::CREATED)
        .count();
    assert_eq!(bound, 5, "bindings of one card that reached the bank");
    for (status, headers, body) in &answers {
        if *status != StatusCode::CREATED {
            assert_limit(*status, headers, body, "card_bindings");
        }
    }
}

async fn codes_to_one_phone_stop_at_ten_a_day(backend: Backend) {
    let server = TestServer::start_on(backend, |config| {
        config.card_limit = 100;
        config.limits.user_bindings_per_day = 100;
    })
    .await;
    let user = server.user().await;
    let requests = (0..12)
        .map(|_| {
            (
                "/v1/cards".to_owned(),
                user.token.clone(),
                json!({"number": card(Outcome::Otp), "holder_name": user.real_name}),
            )
        })
        .collect();
    let clients = connected(&server, 12).await;
    let answers = burst(&server, clients, requests).await;
    let mut pending = 0;
    for (status, headers, body) in &answers {
        if *status == StatusCode::ACCEPTED {
            pending += 1;
        } else {
            let error = assert_limit(*status, headers, body, "phone_sms");
            assert!(error["message"].as_str().unwrap().contains("最多10条"));
        }
    }
    // The sign-up code was the first of the phone's ten texts of the day.
    assert_eq!(pending, 9);
    assert_eq!(sms_count(&server, &user).await, 10, "codes sent");
}

on_both_backends!(
    three_hundred_codes_at_once_are_compared_five_times,
    rebinding_after_a_lockout_stops_at_the_card_limit,
    a_burst_of_bindings_reaches_the_bank_ten_times_per_person,
    one_card_reaches_the_bank_five_times_whoever_binds_it,
    codes_to_one_phone_stop_at_ten_a_day,
);
