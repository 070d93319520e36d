//! Refunds over HTTP: partial and whole, never more than was paid (also
//! with twenty sent at once), only by the merchant that took the payment,
//! only of an approved payment, idempotent retries, and a bank that
//! declines or cannot be reached leaving the amount refundable again. The
//! payment shows what was given back, to its merchant and to the person.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::accounts::burst;
use crate::payments::set_up;
use crate::{Backend, TestServer, assert_error, purchase};

/// An approved payment of `amount` at M1: its id.
async fn paid(
    server: &TestServer,
    device: &mut tessera_server::test_support::Device,
    merchant: &str,
    amount: u64,
) -> String {
    let (status, body) = server
        .pay(
            merchant,
            &device.sign(&purchase(amount, "M1")).unwrap().body,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

async fn refund(
    server: &TestServer,
    merchant: &str,
    payment_id: &str,
    body: Value,
) -> (StatusCode, Value) {
    server
        .post(
            &format!("/v1/payments/{payment_id}/refunds"),
            merchant,
            body,
        )
        .await
}

/// `GET /v1/payments/{id}` with `bearer`.
async fn payment(server: &TestServer, bearer: &str, payment_id: &str) -> (StatusCode, Value) {
    server
        .get(&format!("/v1/payments/{payment_id}"), bearer)
        .await
}

/// The refunds' statuses and amounts, as the payment shows them.
fn refunds_of(payment: &Value) -> Vec<(String, i64)> {
    payment["refunds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["status"].as_str().unwrap().to_owned(),
                r["amount"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn a_payment_is_refunded_in_part_then_in_whole(backend: Backend) {
    let (server, user, _card, mut device, merchant) = set_up(backend).await;
    let id = paid(&server, &mut device, &merchant, 1000).await;
    let (status, first) = refund(
        &server,
        &merchant,
        &id,
        json!({"amount": 300, "reason": "顾客退回一件商品"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert!(first["id"].as_str().unwrap().starts_with("rfd_"));
    assert_eq!(first["payment_id"], id.as_str());
    assert_eq!(first["status"], "accepted");
    assert_eq!(
        (first["amount"].as_i64(), &first["currency"]),
        (Some(300), &json!("CNY"))
    );
    assert_eq!(first["reason"], "顾客退回一件商品");
    assert!(first["reference"].as_str().unwrap().starts_with("rfd_"));

    let (status, shown) = payment(&server, &merchant, &id).await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(shown["refunded"], 300);
    assert_eq!(shown["status"], "approved");
    assert_eq!(refunds_of(&shown), [("accepted".to_owned(), 300)]);

    // The rest, exactly: the whole payment given back.
    let (status, second) = refund(&server, &merchant, &id, json!({"amount": 700})).await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    assert!(second["reason"].is_null());
    // Nothing is left: even one fen more is refused, and names the field.
    let (status, body) = refund(&server, &merchant, &id, json!({"amount": 1})).await;
    let error = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "refund_exceeds_payment",
    );
    assert_eq!(error["param"], "amount");
    assert_eq!(error["payment_id"], id.as_str());

    // The person sees the same, in their payment and in their list.
    let (status, mine) = payment(&server, &user.token, &id).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["refunded"], 1000);
    assert_eq!(
        refunds_of(&mine),
        [("accepted".to_owned(), 300), ("accepted".to_owned(), 700)]
    );
    let listed = server.payments(&user).await;
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["refunded"], 1000);
    assert_eq!(listed[0]["refunds"], mine["refunds"]);
}

async fn a_refund_over_the_amount_or_malformed_is_refused_and_records_nothing(backend: Backend) {
    let (server, _user, _card, mut device, merchant) = set_up(backend).await;
    let id = paid(&server, &mut device, &merchant, 1000).await;
    let (status, body) = refund(&server, &merchant, &id, json!({"amount": 1001})).await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "refund_exceeds_payment",
    );
    for (bad, param) in [
        (json!({"amount": 0}), "amount"),
        (json!({"amount": -5}), "amount"),
        (json!({"amount": "5"}), "amount"),
        (json!({}), "amount"),
        (json!({"amount": 5, "note": "x"}), ""),
    ] {
        let (status, body) = refund(&server, &merchant, &id, bad.clone()).await;
        let error = assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
        if !param.is_empty() {
            assert_eq!(error["param"], param, "{bad}");
        }
    }
    let (status, body) = refund(
        &server,
        &merchant,
        &id,
        json!({"amount": 5, "reason": "太长".repeat(101)}),
    )
    .await;
    let error = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "field_too_long",
    );
    assert_eq!(
        (&error["param"], &error["max_length"]),
        (&json!("reason"), &json!(200))
    );
    let (status, body) = refund(
        &server,
        &merchant,
        &id,
        json!({"amount": 5, "reason": "退款\u{202e}"}),
    )
    .await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_characters",
    );
    let (_, shown) = payment(&server, &merchant, &id).await;
    assert_eq!(shown["refunded"], 0);
    assert_eq!(shown["refunds"], json!([]), "nothing recorded");

    // A card number typed into the reason is kept masked.
    let (status, kept) = refund(
        &server,
        &merchant,
        &id,
        json!({"amount": 100, "reason": "退到卡 6228 4800 0000 0000 017"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{kept}");
    assert_eq!(kept["reason"], "退到卡 ****0017");
}

async fn only_the_merchant_that_took_the_payment_refunds_or_reads_it(backend: Backend) {
    let (server, user, _card, mut device, merchant) = set_up(backend).await;
    let id = paid(&server, &mut device, &merchant, 1000).await;
    let other = server.merchant_key(&["SHOP-9"]).await;
    let (status, body) = refund(&server, &other, &id, json!({"amount": 100})).await;
    let error = assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    assert!(error.get("payment_id").is_none(), "nothing told: {body}");
    let (status, body) = payment(&server, &other, &id).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    // Another key of the same merchant may: the merchant took it.
    let same = server.merchant_key(&["M1"]).await;
    let (status, body) = refund(&server, &same, &id, json!({"amount": 100})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // People and other roles do not refund.
    for bearer in [user.token.as_str(), server.support_key.as_str()] {
        let (status, body) = refund(&server, bearer, &id, json!({"amount": 100})).await;
        assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    }
    // Another person does not see it; support keys do not read it here.
    let stranger = server.user_named("李四").await;
    for bearer in [stranger.token.as_str(), server.support_key.as_str()] {
        let (status, body) = payment(&server, bearer, &id).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    }
    let (status, body) = refund(&server, &merchant, "pay_nothing", json!({"amount": 1})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (_, shown) = payment(&server, &merchant, &id).await;
    assert_eq!(shown["refunded"], 100);
}

async fn a_payment_that_was_not_approved_cannot_be_refunded(backend: Backend) {
    let (server, _user, _card, mut device, merchant) = set_up(backend).await;
    for amount in [1205, 1291] {
        let (status, body) = server
            .pay(
                &merchant,
                &device.sign(&purchase(amount, "M1")).unwrap().body,
            )
            .await;
        assert!(
            status.is_client_error() || status.is_server_error(),
            "{body}"
        );
        let id = body["error"]["payment_id"].as_str().unwrap().to_owned();
        let (status, body) = refund(&server, &merchant, &id, json!({"amount": 100})).await;
        let error = assert_error(
            status,
            &body,
            StatusCode::CONFLICT,
            "payment_not_refundable",
        );
        assert_eq!(error["payment_id"], id.as_str());
        let (_, shown) = payment(&server, &merchant, &id).await;
        assert_eq!(shown["refunds"], json!([]));
    }
}

async fn an_idempotent_retry_returns_the_first_refund(backend: Backend) {
    let (server, _user, _card, mut device, merchant) = set_up(backend).await;
    let id = paid(&server, &mut device, &merchant, 1000).await;
    let path = format!("/v1/payments/{id}/refunds");
    let body = json!({"amount": 400, "reason": "整单退货"});
    let mut answers = Vec::new();
    for _ in 0..2 {
        let (status, headers, answer) = server
            .call(
                Method::POST,
                &path,
                Some(&merchant),
                Some(&body),
                &[("Idempotency-Key", "return-42")],
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        answers.push((headers.get("idempotent-replayed").is_some(), answer));
    }
    assert!(!answers[0].0 && answers[1].0, "the second is a replay");
    assert_eq!(answers[0].1, answers[1].1);
    let (_, shown) = payment(&server, &merchant, &id).await;
    assert_eq!(shown["refunded"], 400, "given back once");
    // The same key with another amount is another request.
    let (status, _, answer) = server
        .call(
            Method::POST,
            &path,
            Some(&merchant),
            Some(&json!({"amount": 500})),
            &[("Idempotency-Key", "return-42")],
        )
        .await;
    assert_error(
        status,
        &answer,
        StatusCode::CONFLICT,
        "idempotency_conflict",
    );
}

/// Twenty refunds of 1.50 CNY on a payment of 10.00, every connection
/// opened first and all released together: six are accepted (9.00), the
/// rest refused, and the payment shows 9.00 given back.
async fn twenty_refunds_at_once_never_give_back_more_than_was_paid(backend: Backend) {
    let (server, _user, _card, mut device, merchant) = set_up(backend).await;
    let id = paid(&server, &mut device, &merchant, 1000).await;
    let requests = (0..20)
        .map(|_| {
            (
                Method::POST,
                format!("/v1/payments/{id}/refunds"),
                Some(merchant.clone()),
                Some(json!({"amount": 150})),
            )
        })
        .collect();
    let (mut accepted, mut refused) = (0i64, 0);
    for (status, _, body) in burst(&server, requests).await {
        match status {
            StatusCode::CREATED => accepted += body["amount"].as_i64().unwrap(),
            _ => {
                assert_error(
                    status,
                    &body,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "refund_exceeds_payment",
                );
                refused += 1;
            }
        }
    }
    assert!(accepted <= 1000, "{accepted} given back of 1000");
    assert_eq!((accepted, refused), (900, 14));
    let (_, shown) = payment(&server, &merchant, &id).await;
    assert_eq!(shown["refunded"], 900);
    assert_eq!(shown["refunds"].as_array().unwrap().len(), 6);
}

/// The sandbox bank declines a refund ending in 05 and does not answer one
/// ending in 91: both are on record, neither holds its amount, and the
/// whole payment can still be given back.
async fn a_declined_or_unanswered_refund_leaves_the_amount_refundable(backend: Backend) {
    let (server, _user, _card, mut device, merchant) = set_up(backend).await;
    let id = paid(&server, &mut device, &merchant, 1000).await;
    let (status, body) = refund(&server, &merchant, &id, json!({"amount": 205})).await;
    let declined = assert_error(
        status,
        &body,
        StatusCode::PAYMENT_REQUIRED,
        "refund_declined",
    );
    assert!(declined["refund_id"].as_str().unwrap().starts_with("rfd_"));
    let (status, headers, body) = server
        .call(
            Method::POST,
            &format!("/v1/payments/{id}/refunds"),
            Some(&merchant),
            Some(&json!({"amount": 291})),
            &[],
        )
        .await;
    let failed = assert_error(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "issuer_unavailable",
    );
    assert!(headers.contains_key("retry-after"));
    let (status, whole) = refund(&server, &merchant, &id, json!({"amount": 1000})).await;
    assert_eq!(status, StatusCode::CREATED, "{whole}");
    let (_, shown) = payment(&server, &merchant, &id).await;
    assert_eq!(shown["refunded"], 1000);
    assert_eq!(
        refunds_of(&shown),
        [
            ("declined".to_owned(), 205),
            ("failed".to_owned(), 291),
            ("accepted".to_owned(), 1000)
        ]
    );
    let refunds = shown["refunds"].as_array().unwrap();
    assert_eq!(refunds[0]["id"], declined["refund_id"]);
    assert_eq!(refunds[0]["decline_code"], "do_not_honor");
    assert_eq!(refunds[1]["id"], failed["refund_id"]);
    assert!(refunds[1]["reference"].is_null());
}

/// A person's payment list shows each payment's own refunds.
async fn each_payment_in_the_list_shows_its_own_refunds(backend: Backend) {
    let (server, user, _card, mut device, merchant) = set_up(backend).await;
    let first = paid(&server, &mut device, &merchant, 1000).await;
    let second = paid(&server, &mut device, &merchant, 2000).await;
    for (id, amount) in [(&first, 100), (&second, 200), (&second, 300)] {
        let (status, body) = refund(&server, &merchant, id, json!({"amount": amount})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let listed = server.payments(&user).await;
    let of = |id: &str| listed.iter().find(|p| p["id"] == id).unwrap().clone();
    assert_eq!(of(&first)["refunded"], 100);
    assert_eq!(of(&second)["refunded"], 500);
    assert_eq!(of(&second)["refunds"].as_array().unwrap().len(), 2);
}

on_both_backends!(
    a_payment_is_refunded_in_part_then_in_whole,
    a_refund_over_the_amount_or_malformed_is_refused_and_records_nothing,
    only_the_merchant_that_took_the_payment_refunds_or_reads_it,
    a_payment_that_was_not_approved_cannot_be_refunded,
    an_idempotent_retry_returns_the_first_refund,
    twenty_refunds_at_once_never_give_back_more_than_was_paid,
    a_declined_or_unanswered_refund_leaves_the_amount_refundable,
    each_payment_in_the_list_shows_its_own_refunds,
);
