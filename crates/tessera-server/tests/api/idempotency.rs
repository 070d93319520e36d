//! Retries are safe: idempotency keys replay, conflict and wait as Stripe's
//! do, and without a key a double tap still never binds one card twice.

use std::sync::Arc;
use std::time::{Duration, Instant};

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

async fn the_same_key_while_the_first_runs_waits_for_its_answer(backend: Backend) {
    let server = Arc::new(TestServer::start_on(backend, |_| {}).await);
    let user = server.user().await;
    let body = json!({"number": card(Outcome::Slow), "holder_name": "张三"});
    // Two requests with one key released together: the slow issuer holds
    // whichever came first for 2 s, so the other meets it in flight and
    // waits for its answer.
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
        let (status, headers, body) = task.await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        answers.push((headers.get("idempotent-replayed").is_some(), body));
    }
    answers.sort_by_key(|(replayed, _)| *replayed);
    let [(false, bound), (true, replayed)] = answers.as_slice() else {
        panic!("one answer bound, the other replayed it: {answers:?}");
    };
    assert_eq!(replayed["id"], bound["id"]);
    assert_eq!(server.cards(&user).await.len(), 1);
}

/// The person on a weak signal: the app gives up on a slow binding after
/// 0.5 s, then sends it again. The first request runs to its end all the
/// same; the retry answers with the card it bound, within the issuer's
/// time, and support sees that the first one's client left.
async fn a_dropped_phone_retrying_with_its_key_gets_the_bound_card(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let body = json!({"number": card(Outcome::Slow), "holder_name": "张三"});
    give_up_after_half_a_second(&server, &user.token, &body, Some("weak-1")).await;
    let retried = Instant::now();
    let (status, headers, bound) = server
        .call(
            Method::POST,
            "/v1/cards",
            Some(&user.token),
            Some(&body),
            &[("idempotency-key", "weak-1")],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{bound}");
    assert!(headers.get("idempotent-replayed").is_some());
    assert!(
        retried.elapsed() < Duration::from_secs(10),
        "within the issuer timeout"
    );
    let cards = server.cards(&user).await;
    assert_eq!(cards.len(), 1);
    assert_eq!(cards[0]["id"], bound["id"]);
    // One attempt: the first request's, finished although its client left.
    let attempts = attempts_once_one_is_marked(&server, &user.id).await;
    assert_eq!(outcomes(&attempts), [("success".to_owned(), true)]);
}

/// The same without a key: the retry waits for the binding in flight and
/// names the card it bound, never a multi-minute lock.
async fn a_dropped_phone_retrying_without_a_key_is_told_the_card_is_bound(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let body = json!({"number": card(Outcome::Slow), "holder_name": "张三"});
    give_up_after_half_a_second(&server, &user.token, &body, None).await;
    let retried = Instant::now();
    let (status, _, answer) = server
        .call(
            Method::POST,
            "/v1/cards",
            Some(&user.token),
            Some(&body),
            &[],
        )
        .await;
    let error = assert_error(status, &answer, StatusCode::CONFLICT, "card_already_bound");
    assert!(
        retried.elapsed() < Duration::from_secs(10),
        "within the issuer timeout"
    );
    let cards = server.cards(&user).await;
    assert_eq!(cards.len(), 1);
    assert_eq!(error["card_id"], cards[0]["id"]);
    assert_eq!(cards[0]["status"], "active");
    // One attempt per request: the first bound the card although its
    // client left, the retry was told so.
    let attempts = attempts_once_one_is_marked(&server, &user.id).await;
    let mut seen = outcomes(&attempts);
    seen.sort();
    assert_eq!(
        seen,
        [
            ("card_already_bound".to_owned(), false),
            ("success".to_owned(), true)
        ]
    );
}

/// A terminal that gives up on a slow authorisation after 0.5 s: the
/// payment still runs to its end, is on the person's record, and is marked
/// as one whose terminal left; its retry with the same key gets the answer.
async fn a_dropped_terminal_s_payment_is_finished_and_marked(backend: Backend) {
    let (server, user, _card, mut device, merchant) = crate::payments::set_up(backend).await;
    let (status, _, body) = server
        .call(
            Method::PUT,
            "/v1/sandbox/issuer",
            Some(&server.operator_key),
            Some(&json!({"issuer_code": "ABC", "latency_ms": 1500, "failure_rate": 0.0})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let signed = device.sign(&crate::purchase(700, "M1")).unwrap();
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let sent = impatient
        .post(format!("{}/v1/payments", server.base))
        .bearer_auth(&merchant)
        .header("idempotency-key", "till-1")
        .json(&signed.body)
        .send()
        .await;
    assert!(sent.unwrap_err().is_timeout());
    let (status, _, paid) = server
        .call(
            Method::POST,
            "/v1/payments",
            Some(&merchant),
            Some(&signed.body),
            &[("idempotency-key", "till-1")],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(paid["status"], "approved");
    let records = server.payments(&user).await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["id"], paid["id"]);
    // The mark follows the answer by a moment.
    let id = paid["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !payment_client_gone(&server, &id).await {
        assert!(Instant::now() < deadline, "the payment was never marked");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether the stored payment `id` is marked as left by its client (no
/// route shows it yet: read from the database itself).
async fn payment_client_gone(server: &TestServer, id: &str) -> bool {
    match &server.database {
        None => {
            let conn = rusqlite::Connection::open(server.data_dir().join("tessera.db")).unwrap();
            conn.query_row(
                "SELECT client_gone FROM payments WHERE id = ?1",
                [id],
                |row| row.get::<_, bool>(0),
            )
            .unwrap()
        }
        Some(database) => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(database.url()).await.unwrap();
            sqlx::query_scalar("SELECT client_gone FROM payments WHERE id = $1")
                .bind(id)
                .fetch_one(&mut conn)
                .await
                .unwrap()
        }
    }
}

/// Sends a binding from a client that stops waiting after 0.5 s.
async fn give_up_after_half_a_second(
    server: &TestServer,
    token: &str,
    body: &Value,
    key: Option<&str>,
) {
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let mut request = impatient
        .post(format!("{}/v1/cards", server.base))
        .bearer_auth(token)
        .json(body);
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let sent = request.send().await;
    assert!(sent.unwrap_err().is_timeout());
}

/// The user's attempts as support lists them, once one is marked as left
/// by its client (the mark follows the record by a moment).
async fn attempts_once_one_is_marked(server: &TestServer, user_id: &str) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = server
            .get(
                &format!("/v1/support/attempts?user_id={user_id}"),
                &server.support_key,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let attempts = body["data"].as_array().unwrap().clone();
        if attempts.iter().any(|a| a["client_gone"] == true) || Instant::now() > deadline {
            return attempts;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Each attempt's error code (or its outcome) and whether its client left.
fn outcomes(attempts: &[Value]) -> Vec<(String, bool)> {
    attempts
        .iter()
        .map(|a| {
            let what = a["error_code"].as_str().or(a["outcome"].as_str());
            (
                what.unwrap().to_owned(),
                a["client_gone"].as_bool().unwrap(),
            )
        })
        .collect()
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
    let (mut created, mut already) = (Vec::new(), Vec::new());
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            StatusCode::CREATED => created.push(body),
            // The others wait for the tap in flight, then are told the
            // card is bound, and which card.
            StatusCode::CONFLICT => {
                assert_eq!(body["error"]["code"], "card_already_bound", "{body}");
                already.push(body["error"]["card_id"].clone());
            }
            other => panic!("a double tap answered {other}: {body}"),
        }
    }
    assert_eq!(created.len(), 1, "exactly one tap binds");
    let cards = server.cards(&user).await;
    assert_eq!(cards.len(), 1);
    assert_eq!(cards[0]["id"], created[0]["id"]);
    assert_eq!(already.len(), 15);
    assert!(
        already.iter().all(|id| *id == cards[0]["id"]),
        "{already:?}"
    );
}

on_both_backends!(
    the_same_key_and_body_replay_the_first_answer,
    a_refusal_is_replayed_but_a_retryable_answer_runs_again,
    the_same_key_while_the_first_runs_waits_for_its_answer,
    a_dropped_phone_retrying_with_its_key_gets_the_bound_card,
    a_dropped_phone_retrying_without_a_key_is_told_the_card_is_bound,
    sixteen_identical_taps_bind_one_card,
    a_dropped_terminal_s_payment_is_finished_and_marked,
);
