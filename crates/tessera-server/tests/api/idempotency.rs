//! Retries are safe: idempotency keys replay, conflict and wait as Stripe's
//! do, and without a key a double tap still never binds one card twice.

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tessera_server::issuer::sandbox::Outcome;
use tokio::sync::Barrier;

use crate::{Backend, TestServer, assert_error, card};

async fn the_same_key_and_body_replay_the_first_answer(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let body = json!({"number": card(Outcome::Approve), "holder_name": "张三"});
    let headers = [("idempotency-key", "bind-1")];
    let (first_status, _, first) = server
        .call(
            Method::POST,
            "/v1/cards",
            Some(&user.token),
            Some(&body),
            &headers,
        )
        .await;
    assert_eq!(first_status, StatusCode::CREATED);
    let (status, replay_headers, replay) = server
        .call(
            Method::POST,
            "/v1/cards",
            Some(&user.token),
            Some(&body),
            &headers,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(replay, first);
    assert_eq!(replay_headers["idempotent-replayed"], "true");
    assert_eq!(server.cards(&user).await.len(), 1);

    // Another body under the same key is a conflict, and binds nothing.
    let other = json!({"number": card(Outcome::Approve), "holder_name": "张三"});
    let (status, _, body) = server
        .call(
            Method::POST,
            "/v1/cards",
            Some(&user.token),
            Some(&other),
            &headers,
        )
        .await;
    assert_error(status, &body, StatusCode::CONFLICT, "idempotency_conflict");
    assert_eq!(server.cards(&user).await.len(), 1);

    // Keys belong to their caller: another user's same key is a new request.
    let stranger = server.user().await;
    let (status, _, _) = server
        .call(
            Method::POST,
            "/v1/cards",
            Some(&stranger.token),
            Some(&other),
            &headers,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

async fn a_refusal_is_replayed_but_a_retryable_answer_runs_again(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let declined = json!({"number": card(Outcome::DoNotHonor), "holder_name": "张三"});
    let key = [("idempotency-key", "declined-1")];
    let (_, _, first) = server
        .call(
            Method::POST,
            "/v1/cards",
            Some(&user.token),
            Some(&declined),
            &key,
        )
        .await;
    let (status, headers, second) = server
        .call(
            Method::POST,
            "/v1/cards",
            Some(&user.token),
            Some(&declined),
            &key,
        )
        .await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(second, first, "the same refusal, trace id included");
    assert_eq!(headers["idempotent-replayed"], "true");

    // issuer_unavailable is not kept: the retry asks the issuer again.
    let down = json!({"number": card(Outcome::Unavailable), "holder_name": "张三"});
    let key = [("idempotency-key", "down-1")];
    let (_, _, first) = server
        .call(
            Method::POST,
            "/v1/cards",
            Some(&user.token),
            Some(&down),
            &key,
        )
        .await;
    let (status, headers, second) = server
        .call(
            Method::POST,
            "/v1/cards",
            Some(&user.token),
            Some(&down),
            &key,
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(headers.get("idempotent-replayed").is_none());
    assert_ne!(first["error"]["trace_id"], second["error"]["trace_id"]);
}

async fn the_same_key_while_the_first_runs_is_request_in_progress(backend: Backend) {
    let server = Arc::new(TestServer::start_on(backend, |_| {}).await);
    let user = server.user().await;
    let body = json!({"number": card(Outcome::Slow), "holder_name": "张三"});
    // Two requests with one key released together: the slow issuer holds
    // whichever came first for 2 s, so the other meets it in flight.
    let barrier = Arc::new(Barrier::new(2));
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let (server, barrier) = (server.clone(), barrier.clone());
        let (token, body) = (user.token.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            server
                .call(
                    Method::POST,
                    "/v1/cards",
                    Some(&token),
                    Some(&body),
                    &[("idempotency-key", "slow-1")],
                )
                .await
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        let (status, _, body) = task.await.unwrap();
        answers.push((status, body));
    }
    answers.sort_by_key(|(status, _)| *status);
    let (status, bound) = &answers[0];
    assert_eq!(*status, StatusCode::CREATED, "{bound}");
    let (status, in_progress) = &answers[1];
    let error = assert_error(
        *status,
        in_progress,
        StatusCode::CONFLICT,
        "request_in_progress",
    );
    assert_eq!(error["retryable"], true);
    // Once the first is done, the key replays its answer.
    let (status, _, replay) = server
        .call(
            Method::POST,
            "/v1/cards",
            Some(&user.token),
            Some(&body),
            &[("idempotency-key", "slow-1")],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(replay["id"], bound["id"]);
    assert_eq!(server.cards(&user).await.len(), 1);
}

async fn sixteen_identical_taps_bind_one_card(backend: Backend) {
    let server = Arc::new(TestServer::start_on(backend, |_| {}).await);
    let user = server.user().await;
    let number = card(Outcome::Slow);
    let barrier = Arc::new(Barrier::new(16));
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let server = server.clone();
        let barrier = barrier.clone();
        let token = user.token.clone();
        let body = json!({"number": number, "holder_name": "张三"});
        // Each task has its own connection pool, so the 16 requests travel
        // on 16 connections.
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            barrier.wait().await;
            let response = client
                .post(format!("{}/v1/cards", server.base))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = response.status();
            (status, response.json::<Value>().await.unwrap())
        }));
    }
    let mut created = Vec::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            StatusCode::CREATED => created.push(body),
            StatusCode::CONFLICT => {
                let code = body["error"]["code"].as_str().unwrap();
                assert!(
                    code == "card_already_bound" || code == "request_in_progress",
                    "{body}"
                );
            }
            other => panic!("a double tap answered {other}: {body}"),
        }
    }
    assert_eq!(created.len(), 1, "exactly one tap binds");
    let cards = server.cards(&user).await;
    assert_eq!(cards.len(), 1);
    assert_eq!(cards[0]["id"], created[0]["id"]);
}

on_both_backends!(
    the_same_key_and_body_replay_the_first_answer,
    a_refusal_is_replayed_but_a_retryable_answer_runs_again,
    the_same_key_while_the_first_runs_is_request_in_progress,
    sixteen_identical_taps_bind_one_card,
);
