//! Payments with the bank over the network: a bank that dies, stalls or
//! answers garbage mid-authorisation approves nothing; each such payment
//! is recorded as failed with `issuer_unavailable`, and the same cryptogram
//! is approved, and recorded, once the bank answers again. A refund the
//! bank fails is recorded as failed and leaves its amount refundable.

use reqwest::StatusCode;
use serde_json::json;
use tessera_server::issuer::sandbox::Outcome;
use tessera_server::test_support::{Backend, assert_error, card, purchase};

use super::{Bank, on_both_backends, server_for};

on_both_backends!(
    a_payment_the_bank_did_not_answer_is_recorded_and_approves_nothing,
    a_refund_the_bank_failed_is_on_record_and_the_amount_refundable_again,
);

async fn a_payment_the_bank_did_not_answer_is_recorded_and_approves_nothing(backend: Backend) {
    let bank = Bank::start();
    let server = std::sync::Arc::new(server_for(backend, &bank).await);
    let user = server.user().await;
    let bound = server
        .bind_on(&user, &card(Outcome::Approve), "phone-1")
        .await;
    let mut device = server.device(&user, &bound, "phone-1").await;
    let merchant = server.merchant_key(&["M1"]).await;

    let signed = device.sign(&purchase(1234, "M1")).unwrap();
    for fault in [
        json!({"fault": "timeout"}),
        json!({"fault": "late", "late_ms": super::LATE_MS}),
        json!({"fault": "reset"}),
        json!({"fault": "server_error"}),
        json!({"fault": "not_json"}),
        json!({"fault": "cut_short"}),
    ] {
        bank.faults(fault.clone()).await;
        let (status, body) = server.pay(&merchant, &signed.body).await;
        let error = assert_error(
            status,
            &body,
            StatusCode::SERVICE_UNAVAILABLE,
            "issuer_unavailable",
        );
        assert_eq!(error["retryable"], true, "{fault}");
    }
    // The bank dies holding the payment.
    bank.faults(json!({"latency_ms": 5_000})).await;
    let before = bank.requests().await["total"].as_u64().unwrap();
    let paying = {
        let (server, merchant, body) = (server.clone(), merchant.clone(), signed.body.clone());
        tokio::spawn(async move { server.pay(&merchant, &body).await })
    };
    bank.wait_for_requests(before + 1).await;
    let address = bank.kill_9();
    let (status, body) = paying.await.unwrap();
    assert_error(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "issuer_unavailable",
    );

    // Seven payments failed, each recorded; none approved.
    let records = server.payments(&user).await;
    assert_eq!(records.len(), 7, "{records:?}");
    for record in &records {
        assert_eq!(record["status"], "failed", "{record}");
        assert_eq!(record["decline"]["code"], "issuer_unavailable");
        assert!(record["authorization_code"].is_null());
    }

    // The bank is back: the same cryptogram, unspent, is approved and
    // recorded with the bank's code.
    let _bank = Bank::start_on(&address);
    let (status, approved) = server.pay(&merchant, &signed.body).await;
    assert_eq!(status, StatusCode::CREATED, "{approved}");
    assert_eq!(approved["status"], "approved");
    let records = server.payments(&user).await;
    assert_eq!(records.len(), 8);
    let record = records.iter().find(|r| r["id"] == approved["id"]).unwrap();
    assert_eq!(record["status"], "approved");
    assert_eq!(record["authorization_code"], approved["authorization_code"]);
    assert_eq!(
        records.iter().filter(|r| r["status"] == "approved").count(),
        1
    );
}

async fn a_refund_the_bank_failed_is_on_record_and_the_amount_refundable_again(backend: Backend) {
    let bank = Bank::start();
    let server = server_for(backend, &bank).await;
    let user = server.user().await;
    let bound = server
        .bind_on(&user, &card(Outcome::Approve), "phone-1")
        .await;
    let mut device = server.device(&user, &bound, "phone-1").await;
    let merchant = server.merchant_key(&["M1"]).await;
    let (status, paid) = server
        .pay(&merchant, &device.sign(&purchase(1000, "M1")).unwrap().body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    let refunds = format!("/v1/payments/{}/refunds", paid["id"].as_str().unwrap());

    // Every try answered 500: the refund fails, and is on record so.
    bank.faults(json!({"fault": "server_error"})).await;
    let (status, body) = server
        .post(&refunds, &merchant, json!({"amount": 1000}))
        .await;
    let error = assert_error(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "issuer_unavailable",
    );
    let failed = error["refund_id"].as_str().unwrap().to_owned();

    // The bank is well again: the whole amount is still there to refund.
    bank.faults(json!({"fault": "none"})).await;
    let (status, accepted) = server
        .post(&refunds, &merchant, json!({"amount": 1000}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{accepted}");
    assert_eq!(accepted["status"], "accepted");
    let (status, shown) = server
        .get(
            &format!("/v1/payments/{}", paid["id"].as_str().unwrap()),
            &user.token,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(shown["refunded"], 1000);
    let recorded: Vec<(&str, &str)> = shown["refunds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        recorded,
        [
            (failed.as_str(), "failed"),
            (accepted["id"].as_str().unwrap(), "accepted")
        ]
    );
}
