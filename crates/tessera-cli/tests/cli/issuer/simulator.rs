//! `tessera issuer-sim` on its own, spoken to as Tessera does: refunds and
//! credits answered by the amount's last two digits, a repeated request id
//! answered with its first answer, an unsigned request refused.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tessera_server::issuer::protocol::{AUTHORIZATION_PATH, CREDIT_PATH, REFUND_PATH};
use tessera_server::issuer::signature::signature_header;

use super::{Bank, SECRET};

async fn send(
    bank: &Bank,
    path: &str,
    body: &Value,
    request_id: &str,
    secret: &str,
) -> (StatusCode, Value) {
    let raw = body.to_string();
    let signature = signature_header(
        secret.as_bytes(),
        chrono::Utc::now().timestamp(),
        raw.as_bytes(),
    )
    .unwrap();
    let response = Client::new()
        .post(format!("{}{path}", bank.base))
        .header("content-type", "application/json")
        .header("tessera-request-id", request_id)
        .header("tessera-signature", signature)
        .body(raw)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn the_simulator_answers_refunds_and_credits_once_per_request_id() {
    let bank = Bank::start();
    let refund = |amount: u64| json!({"authorization_code": "123456", "amount": amount, "currency": "CNY", "merchant_id": "M1"});
    let (status, first) = send(&bank, REFUND_PATH, &refund(500), "isr_r1", SECRET).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["result"], "accepted");
    assert!(first["reference"].as_str().unwrap().starts_with("rfd_"));
    // The same request id again: the first answer, not a second refund.
    let (_, again) = send(&bank, REFUND_PATH, &refund(500), "isr_r1", SECRET).await;
    assert_eq!(again, first);
    let (_, other) = send(&bank, REFUND_PATH, &refund(500), "isr_r2", SECRET).await;
    assert_ne!(other["reference"], first["reference"]);
    let (_, declined) = send(&bank, REFUND_PATH, &refund(551), "isr_r3", SECRET).await;
    assert_eq!(
        declined,
        json!({"result": "declined", "decline_code": "insufficient_funds"})
    );

    let credit = |amount: u64| {
        json!({"card": {"number": "6228480000000000001"}, "amount": amount, "currency": "CNY",
            "sender_name": "张三"})
    };
    let (status, accepted) = send(&bank, CREDIT_PATH, &credit(10_000), "isr_c1", SECRET).await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    assert!(accepted["reference"].as_str().unwrap().starts_with("crd_"));
    let (_, unavailable) = send(&bank, CREDIT_PATH, &credit(9_991), "isr_c2", SECRET).await;
    assert_eq!(unavailable, json!({"result": "unavailable"}));

    // An authorisation asked twice under one id keeps its code.
    let payment = json!({"card": {"number": "6228480000000000001"}, "amount": 1234,
        "currency": "CNY", "merchant_id": "M1"});
    let (_, first) = send(&bank, AUTHORIZATION_PATH, &payment, "isr_a1", SECRET).await;
    let (_, again) = send(&bank, AUTHORIZATION_PATH, &payment, "isr_a1", SECRET).await;
    assert_eq!(first["result"], "approved");
    assert_eq!(again, first);

    // Signed with another secret, or not the path's request: refused.
    let (status, _) = send(
        &bank,
        REFUND_PATH,
        &refund(500),
        "isr_r4",
        "another secret 0123",
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = send(&bank, CREDIT_PATH, &refund(500), "isr_c3", SECRET).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let requests = bank.requests().await;
    assert_eq!(requests["by_request_id"]["isr_r1"], 2);
    assert_eq!(requests["by_request_id"]["isr_a1"], 2);
    assert_eq!(requests["total"], 10);
}

#[test]
fn the_simulator_refuses_a_short_secret() {
    let output = std::process::Command::new(crate::TESSERA)
        .args([
            "issuer-sim",
            "--listen",
            "127.0.0.1:0",
            "--signing-secret",
            "short",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("at least 16 characters"), "{stderr}");
}
