//! Accounts under attack: sign-in attempts counted before any password is
//! checked, so bursts sent at once are limited as surely as one after
//! another.

use std::sync::Arc;

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::Barrier;

use crate::{Backend, TestServer, assert_error};

/// Sends every `(method, path, bearer, body)` at once, as an attacker does:
/// each on a client (and so a connection) of its own, opened first with a
/// request to `/healthz`; a barrier then releases them all together.
/// Answers come back in the order of `requests`.
pub async fn burst(
    server: &TestServer,
    requests: Vec<(Method, String, Option<String>, Option<Value>)>,
) -> Vec<(StatusCode, HeaderMap, Value)> {
    let barrier = Arc::new(Barrier::new(requests.len()));
    let mut tasks = Vec::new();
    for (method, path, bearer, body) in requests {
        let (barrier, base) = (barrier.clone(), server.base.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let health = client.get(format!("{base}/healthz")).send().await.unwrap();
            assert_eq!(health.status(), StatusCode::OK);
            health.bytes().await.unwrap();
            barrier.wait().await;
            tessera_server::test_support::request(
                &client,
                method,
                &format!("{base}{path}"),
                bearer.as_deref(),
                body.as_ref(),
                &[],
            )
            .await
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

fn sign_in(phone: &str, password: &str) -> (Method, String, Option<String>, Option<Value>) {
    (
        Method::POST,
        "/v1/sessions".to_owned(),
        None,
        Some(json!({"phone": phone, "password": password})),
    )
}

/// 800 wrong passwords for one phone, all at once: 5 are checked, 795 are
/// refused unchecked with the time the lock lifts; then even the right
/// password is refused.
async fn a_burst_of_wrong_passwords_checks_five(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let requests = (0..800)
        .map(|i| sign_in(&user.phone, &format!("wrong-pass-{i}")))
        .collect();
    let (mut checked, mut locked) = (0, 0);
    for (status, headers, body) in burst(&server, requests).await {
        match status {
            StatusCode::UNAUTHORIZED => {
                assert_error(status, &body, status, "invalid_credentials");
                checked += 1;
            }
            StatusCode::TOO_MANY_REQUESTS => {
                let error = assert_error(status, &body, status, "too_many_attempts");
                let retry: u32 = headers["retry-after"].to_str().unwrap().parse().unwrap();
                assert!((1..=900).contains(&retry), "{retry}");
                assert!(error["locked_until"].is_string(), "{body}");
                locked += 1;
            }
            other => panic!("a wrong password answered {other}: {body}"),
        }
    }
    assert_eq!((checked, locked), (5, 795), "passwords checked, refused");
    let (status, _, body) = server
        .call(
            Method::POST,
            "/v1/sessions",
            None,
            Some(&json!({"phone": user.phone, "password": user.password})),
            &[],
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
    );
}

/// 40 sign-ins at once, the right password 25th: at most 5 wrong
/// passwords are checked. The right one signs in only if it was among the
/// first 5 counted (it then gives its attempt back, which one more wrong
/// password may take); otherwise it is refused like the rest, and so is
/// the right password after the burst.
async fn a_burst_hiding_the_right_password_checks_at_most_five(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let requests = (0..40)
        .map(|i| match i {
            24 => sign_in(&user.phone, &user.password),
            _ => sign_in(&user.phone, &format!("wrong-pass-{i}")),
        })
        .collect();
    let answers = burst(&server, requests).await;
    let count = |status: StatusCode| answers.iter().filter(|(s, _, _)| *s == status).count();
    let (wrong, signed_in, locked) = (
        count(StatusCode::UNAUTHORIZED),
        count(StatusCode::CREATED),
        count(StatusCode::TOO_MANY_REQUESTS),
    );
    assert_eq!(wrong + signed_in + locked, 40, "{answers:?}");
    assert!(wrong <= 5, "{wrong} wrong passwords were checked");
    assert!(wrong + signed_in >= 5, "the limit was not used up: {wrong}");
    if signed_in == 1 {
        assert_eq!(answers[24].0, StatusCode::CREATED);
        return;
    }
    assert_eq!(signed_in, 0);
    let (status, _, body) = server
        .call(
            Method::POST,
            "/v1/sessions",
            None,
            Some(&json!({"phone": user.phone, "password": user.password})),
            &[],
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
    );
}

/// A phone without an account is counted and locked like one with, and
/// another phone is not touched by either lock.
async fn an_unknown_phone_locks_like_a_known_one(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let other = server.user().await;
    let unknown = crate::phone();
    for phone in [&user.phone, &unknown] {
        let requests = (0..20)
            .map(|i| sign_in(phone, &format!("wrong-pass-{i}")))
            .collect();
        let answers = burst(&server, requests).await;
        let codes: Vec<&str> = answers
            .iter()
            .map(|(_, _, body)| body["error"]["code"].as_str().unwrap())
            .collect();
        let checked = codes
            .iter()
            .filter(|code| **code == "invalid_credentials")
            .count();
        let locked = codes
            .iter()
            .filter(|code| **code == "too_many_attempts")
            .count();
        assert_eq!((checked, locked), (5, 15), "{phone}: {codes:?}");
    }
    let (status, _, body) = server
        .call(
            Method::POST,
            "/v1/sessions",
            None,
            Some(&json!({"phone": other.phone, "password": other.password})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

on_both_backends!(
    a_burst_of_wrong_passwords_checks_five,
    a_burst_hiding_the_right_password_checks_at_most_five,
    an_unknown_phone_locks_like_a_known_one,
);
