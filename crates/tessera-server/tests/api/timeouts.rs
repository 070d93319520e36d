//! Timeouts, each shown with its answer, its recorded cause and the card
//! slot it frees: a bank that never answers (`issuer_timeout_secs`), and a
//! request that outlives `request_timeout_secs`.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tessera_server::issuer::sandbox::Outcome;

use crate::{Backend, TestServer, User, assert_error, card};

/// The sandbox's bank ABC (BIN 622848) takes `latency_ms` to answer.
async fn bank_latency(server: &TestServer, latency_ms: u64) {
    let (status, _, body) = server
        .call(
            Method::PUT,
            "/v1/sandbox/issuer",
            Some(&server.operator_key),
            Some(&json!({"issuer_code": "ABC", "latency_ms": latency_ms, "failure_rate": 0.0})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn bind(server: &TestServer, user: &User, number: &str) -> (StatusCode, Value, String) {
    let (status, headers, body) = server
        .call(
            Method::POST,
            "/v1/cards",
            Some(&user.token),
            Some(&json!({"number": number, "holder_name": user.real_name})),
            &[],
        )
        .await;
    let trace = headers["x-request-id"].to_str().unwrap().to_owned();
    (status, body, trace)
}

/// The attempt recorded under `trace`, once there is one.
async fn recorded(server: &TestServer, trace: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = server
            .get(
                &format!("/v1/support/attempts?trace_id={trace}"),
                &server.support_key,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if let Some(attempt) = body["data"].as_array().unwrap().first() {
            return attempt.clone();
        }
        assert!(Instant::now() < deadline, "no attempt recorded for {trace}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Cards of every status the person holds.
async fn held(server: &TestServer, user: &User) -> Vec<Value> {
    let (status, body) = server.get("/v1/cards?status=all", &user.token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].as_array().unwrap().clone()
}

/// With its card's bank silent, the person binds a card: the answer and
/// its trace id.
async fn bind_at_a_silent_bank(server: &TestServer, user: &User) -> (StatusCode, Value, String) {
    bank_latency(server, 60_000).await;
    bind(server, user, &card(Outcome::Approve)).await
}

/// Nothing is held for the person, and once the bank answers again their
/// wallet of one card binds the next.
async fn the_slot_is_free(server: &TestServer, user: &User) {
    assert!(held(server, user).await.is_empty());
    bank_latency(server, 0).await;
    let (status, body, _) = bind(server, user, &card(Outcome::Approve)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// A bank that never answers: after `issuer_timeout_secs` the person hears
/// `issuer_unavailable` with a `Retry-After`, the attempt says the bank did
/// not answer, and the card's slot is free again at once (a wallet of one
/// card binds the next).
async fn a_bank_that_never_answers_frees_the_slot(backend: Backend) {
    let server = TestServer::start_on(backend, |config| {
        config.issuer_timeout_secs = 1;
        config.card_limit = 1;
    })
    .await;
    let user = server.user().await;
    let (status, body, trace) = bind_at_a_silent_bank(&server, &user).await;
    let error = assert_error(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "issuer_unavailable",
    );
    assert!(error["retry_after"].as_u64().unwrap() >= 1, "{body}");
    let attempt = recorded(&server, &trace).await;
    assert_eq!(attempt["error_code"], "issuer_unavailable", "{attempt}");
    // Sent, and no answer in time: told apart from a bank that answered.
    assert_eq!(attempt["issuer_response"], "timeout", "{attempt}");
    the_slot_is_free(&server, &user).await;
}

/// A request that outlives `request_timeout_secs` (1 s) while its bank is
/// still thinking: the person hears `request_timeout` at once, with the
/// trace id; the binding runs on to its own end (the bank's timeout, 2 s),
/// is recorded with the bank's silence as its cause, and frees its slot.
async fn a_request_past_its_timeout_ends_its_binding_by_itself(backend: Backend) {
    let server = TestServer::start_on(backend, |config| {
        config.request_timeout_secs = 1;
        config.issuer_timeout_secs = 2;
        config.card_limit = 1;
    })
    .await;
    let user = server.user().await;
    let (status, body, trace) = bind_at_a_silent_bank(&server, &user).await;
    let error = assert_error(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "request_timeout",
    );
    assert_eq!(error["trace_id"], trace, "{body}");

    let attempt = recorded(&server, &trace).await;
    assert_eq!(attempt["error_code"], "issuer_unavailable", "{attempt}");
    the_slot_is_free(&server, &user).await;
}

on_both_backends!(
    a_bank_that_never_answers_frees_the_slot,
    a_request_past_its_timeout_ends_its_binding_by_itself,
);
