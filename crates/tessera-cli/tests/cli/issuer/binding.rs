//! Bindings with the bank over the network: its answers arrive as the
//! sandbox's, and every way it can fail is `issuer_unavailable`, recorded,
//! with no card left behind; retries keep one request id; a killed bank's
//! binding is retried with the same Idempotency-Key and binds once; the
//! breaker opens on a failing bank and closes once it answers again.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tessera_server::issuer::sandbox::Outcome;
use tessera_server::test_support::{Backend, assert_error, card, log_buffer};

use super::{
    Bank, assert_unavailable_and_recorded, bind, on_both_backends, server_for, server_with,
};

on_both_backends!(
    the_bank_s_answers_arrive_over_the_network_as_the_sandbox_s,
    every_fault_of_the_bank_is_issuer_unavailable_with_no_card_left,
    a_killed_bank_s_binding_is_retried_with_its_key_and_binds_once,
    the_breaker_opens_on_a_failing_bank_and_closes_when_it_recovers,
);

async fn the_bank_s_answers_arrive_over_the_network_as_the_sandbox_s(backend: Backend) {
    let bank = Bank::start();
    let server = server_for(backend, &bank).await;
    let user = server.user().await;
    let approved = card(Outcome::Approve);
    let (status, body) = bind(&server, &user, &approved, None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "active");
    let (status, body) = bind(&server, &user, &card(Outcome::Otp), None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["status"], "pending_verification");
    let (status, body) = bind(&server, &user, &card(Outcome::LostCard), None).await;
    let error = assert_error(status, &body, StatusCode::PAYMENT_REQUIRED, "card_declined");
    assert_eq!(error["decline_code"], "lost_card");
    let (status, body) = bind(&server, &user, &card(Outcome::PhoneMismatch), None).await;
    assert_error(
        status,
        &body,
        StatusCode::PAYMENT_REQUIRED,
        "phone_mismatch",
    );
    let (status, body) = bind(&server, &user, &card(Outcome::NotParticipating), None).await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "card_not_supported",
    );
    // The sandbox's own "unavailable" card, said by the bank in the protocol.
    let (status, body) = bind(&server, &user, &card(Outcome::Unavailable), None).await;
    assert_unavailable_and_recorded(&server, &user, status, &body).await;
    // 中国建设银行 (CCB) has no [issuers] table: the sandbox answers it.
    let ccb = tessera_server::issuer::sandbox::card_number("436742", 19, Outcome::Approve).unwrap();
    let (status, body) = bind(&server, &user, &ccb, None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // Each ABC binding was one request with an id of its own.
    let requests = bank.requests().await;
    assert_eq!(requests["total"], 6, "{requests}");
    let ids = requests["by_request_id"].as_object().unwrap();
    assert_eq!(ids.len(), 6);
    assert!(ids.values().all(|count| count == 1), "{requests}");
    // A card number crossed the network, and reached no log line.
    let logged = String::from_utf8_lossy(&log_buffer().lock().unwrap()).into_owned();
    assert!(!logged.is_empty());
    assert!(!logged.contains(&approved));
}

async fn every_fault_of_the_bank_is_issuer_unavailable_with_no_card_left(backend: Backend) {
    let bank = Bank::start();
    // Every binding must reach the bank: no breaker after four failures.
    let server = server_with(backend, &bank, |config| {
        config.health.anomaly.min_samples = 100;
    })
    .await;
    let user = server.user().await;
    // (the fault, the tries Tessera makes: a timeout is not tried again, a
    // reset and a 5xx are, twice, under the same request id)
    let faults: [(Value, u64); 6] = [
        (json!({"fault": "timeout"}), 1),
        (json!({"fault": "late", "late_ms": super::LATE_MS}), 1),
        (json!({"fault": "reset"}), 3),
        (json!({"fault": "server_error"}), 3),
        (json!({"fault": "not_json"}), 1),
        (json!({"fault": "cut_short"}), 1),
    ];
    let mut total = 0;
    for (fault, tries) in faults {
        bank.faults(fault.clone()).await;
        let (status, body) = bind(&server, &user, &card(Outcome::Approve), None).await;
        assert_unavailable_and_recorded(&server, &user, status, &body).await;
        total += tries;
        let requests = bank.requests().await;
        assert_eq!(requests["total"], total, "{fault}: {requests}");
        let counts: Vec<&Value> = requests["by_request_id"]
            .as_object()
            .unwrap()
            .values()
            .collect();
        assert!(counts.contains(&&json!(tries)), "{fault}: {requests}");
        // No card half bound: nothing live, nothing pending.
        assert!(server.cards(&user).await.is_empty(), "{fault}");
    }
    // A 5xx once, then the bank answers: the retry, under the same request
    // id, binds.
    bank.faults(json!({"fault": "server_error", "remaining": 1}))
        .await;
    let (status, body) = bind(&server, &user, &card(Outcome::Approve), None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let requests = bank.requests().await;
    assert_eq!(requests["total"], total + 2, "{requests}");
    let cards = server.cards(&user).await;
    assert_eq!(cards.len(), 1);
    assert_eq!(cards[0]["id"], body["id"]);
}

async fn a_killed_bank_s_binding_is_retried_with_its_key_and_binds_once(backend: Backend) {
    let bank = Bank::start();
    let server = std::sync::Arc::new(server_for(backend, &bank).await);
    let user = server.user().await;
    let number = card(Outcome::Approve);
    // The bank holds the binding, and dies with it.
    bank.faults(json!({"latency_ms": 5_000})).await;
    let binding = {
        let (server, user, number) = (server.clone(), user.clone(), number.clone());
        tokio::spawn(async move { bind(&server, &user, &number, Some("add-card-1")).await })
    };
    bank.wait_for_requests(1).await;
    let address = bank.kill_9();
    let (status, body) = binding.await.unwrap();
    assert_unavailable_and_recorded(&server, &user, status, &body).await;
    assert!(server.cards(&user).await.is_empty());

    // The bank is back on its address; the phone sends the same request.
    let bank = Bank::start_on(&address);
    let (status, first) = bind(&server, &user, &number, Some("add-card-1")).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (status, again) = bind(&server, &user, &number, Some("add-card-1")).await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_eq!(again["id"], first["id"]);
    let cards = server.cards(&user).await;
    assert_eq!(cards.len(), 1);
    assert_eq!(cards[0]["id"], first["id"]);
    // The replay was answered by Tessera: the bank was asked once.
    assert_eq!(bank.requests().await["total"], 1);
}

async fn the_breaker_opens_on_a_failing_bank_and_closes_when_it_recovers(backend: Backend) {
    let bank = Bank::start();
    let server = server_for(backend, &bank).await;
    let user = server.user().await;
    let (status, body) = bind(&server, &user, &card(Outcome::Approve), None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // The bank fails every call: three bindings in, its breaker opens.
    bank.faults(json!({"fault": "server_error"})).await;
    for _ in 0..3 {
        let (status, body) = bind(&server, &user, &card(Outcome::Approve), None).await;
        assert_unavailable_and_recorded(&server, &user, status, &body).await;
    }
    assert_eq!(breaker(&server).await, "open");
    // While open, bindings are answered without asking the bank.
    let asked = bank.requests().await["total"].clone();
    let (status, body) = bind(&server, &user, &card(Outcome::Approve), None).await;
    assert_error(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "issuer_unavailable",
    );
    assert_eq!(bank.requests().await["total"], asked);

    // The bank recovers; after the cool-down the probe binds and closes it.
    bank.faults(json!({})).await;
    server.advance(Duration::from_secs(30));
    assert_eq!(breaker(&server).await, "half_open");
    let (status, body) = bind(&server, &user, &card(Outcome::Approve), None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(breaker(&server).await, "closed");
    assert_eq!(server.cards(&user).await.len(), 2);
}

/// ABC's breaker: open, half_open, or closed (no open incident).
async fn breaker(server: &tessera_server::test_support::TestServer) -> String {
    let (status, body) = server
        .get("/v1/support/incidents?issuer=abc", &server.support_key)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"][0]["breaker"]["state"]
        .as_str()
        .unwrap_or("closed")
        .to_owned()
}
