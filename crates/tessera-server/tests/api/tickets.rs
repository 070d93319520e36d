//! Support tickets: a person opens one from their own failed attempt; it
//! carries the attempt, the device and the diagnosis, so support never has
//! to ask; nobody reaches another person's attempts.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tessera_server::issuer::sandbox::Outcome;

use crate::diagnose::{bind_from, xiaomi};
use crate::{Backend, TestServer, assert_error, card};

async fn a_ticket_carries_the_attempt_the_device_and_the_diagnosis(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let alice = server.user().await;
    let bob = server.user().await;
    let number = card(Outcome::PhoneMismatch);
    let (status, _, trace) = bind_from(&server, &alice, &number, xiaomi("4g")).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED);

    // The person types their card number into the message: it is masked.
    let message = format!("绑卡一直失败，卡号 {number}");
    let request = json!({"trace_id": trace, "message": message});
    let (status, _, ticket) = server
        .call(
            Method::POST,
            "/v1/tickets",
            Some(&alice.token),
            Some(&request),
            &[("idempotency-key", "ticket-1")],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    assert_eq!(ticket["trace_id"], trace.as_str());
    assert_eq!(ticket["status"], "open");
    // Free text keeps the last four only (tessera_core::text).
    let last4 = &number[number.len() - 4..];
    assert_eq!(ticket["message"], format!("绑卡一直失败，卡号 ****{last4}"));
    // A retried request with the same key opens no second ticket.
    let (status, _, again) = server
        .call(
            Method::POST,
            "/v1/tickets",
            Some(&alice.token),
            Some(&request),
            &[("idempotency-key", "ticket-1")],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(again["id"], ticket["id"]);

    let (status, list) = server.get("/v1/support/tickets", &server.support_key).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let tickets = list["data"].as_array().unwrap();
    assert_eq!(tickets.len(), 1);
    let seen = &tickets[0];
    assert_eq!(seen["user_id"], alice.id.as_str());
    let details = &seen["details"];
    assert_eq!(details["attempt"]["trace_id"], trace.as_str());
    assert_eq!(details["attempt"]["error_code"], "phone_mismatch");
    assert_eq!(details["attempt"]["device"]["model"], "Xiaomi 14");
    assert_eq!(details["attempt"]["device"]["os"], "Android 14");
    assert_eq!(details["attempt"]["device"]["app_version"], "3.2.1");
    assert_eq!(details["attempt"]["device"]["network_type"], "4g");
    // The attempt's card, as every attempt shows it: first 6 and last 4.
    let masked_pan = format!("{}*********{last4}", &number[..6]);
    assert_eq!(details["attempt"]["masked_pan"], masked_pan.as_str());
    assert_eq!(details["diagnosis"]["verdict"], "phone_on_file");
    assert!(
        details["diagnosis"]["next_step_support"]["en"]
            .as_str()
            .unwrap()
            .contains("four-element")
    );
    assert!(!list.to_string().contains(&number));

    // The person's own list; Bob's is empty.
    let (_, mine) = server.get("/v1/tickets", &alice.token).await;
    assert_eq!(mine["data"].as_array().unwrap().len(), 1);
    assert!(mine["data"][0].get("details").is_none());
    let (_, theirs) = server.get("/v1/tickets", &bob.token).await;
    assert!(theirs["data"].as_array().unwrap().is_empty());
    // Support filters by user.
    let (_, none) = server
        .get(
            &format!("/v1/support/tickets?user_id={}", bob.id),
            &server.support_key,
        )
        .await;
    assert!(none["data"].as_array().unwrap().is_empty());
}

async fn nobody_opens_a_ticket_on_someone_elses_attempt(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let alice = server.user().await;
    let bob = server.user().await;
    let (_, _, trace) = bind_from(&server, &alice, &card(Outcome::LostCard), xiaomi("wifi")).await;
    let (status, body) = server
        .post(
            "/v1/tickets",
            &bob.token,
            json!({"trace_id": trace, "message": "help"}),
        )
        .await;
    let error = assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(error["param"], "trace_id");
    let (status, body) = server
        .post(
            "/v1/tickets",
            &alice.token,
            json!({"trace_id": "req_made_up", "message": "help"}),
        )
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = server
        .post(
            "/v1/tickets",
            &alice.token,
            json!({"trace_id": trace, "message": "   "}),
        )
        .await;
    let error = assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(error["param"], "message");
    // Keys open no tickets; people read no support lists.
    let (status, body) = server
        .post(
            "/v1/tickets",
            &server.support_key,
            json!({"trace_id": trace, "message": "help"}),
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = server.get("/v1/support/tickets", &alice.token).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = server.get("/v1/support/incidents", &alice.token).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (_, list) = server.get("/v1/support/tickets", &server.support_key).await;
    assert!(list["data"].as_array().unwrap().is_empty());
}

async fn a_ticket_carries_the_error_shown_and_the_device_written_from(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let alice = server.user().await;
    let number = card(Outcome::PhoneMismatch);
    let (_, _, trace) = bind_from(&server, &alice, &number, xiaomi("4g")).await;
    let last4 = &number[number.len() - 4..];

    // The wallet's pages send the error as shown and the browser they run
    // in; a card number anywhere in them is masked like the message.
    let request = json!({
        "trace_id": trace,
        "message": "请帮我看看",
        "error_text": format!("银行预留手机号不一致 {number}"),
        "device": {"model": format!("Chromium {number}"), "os": "Android 14",
            "app_version": "web 0.1.0", "network_type": "4g", "locale": "zh-CN"},
    });
    let (status, ticket) = server.post("/v1/tickets", &alice.token, request).await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    assert_eq!(
        ticket["error_text"],
        format!("银行预留手机号不一致 ****{last4}")
    );
    assert!(
        ticket.get("device").is_none(),
        "the person's view: {ticket}"
    );

    let id = ticket["id"].as_str().unwrap();
    let (status, seen) = server
        .get(&format!("/v1/support/tickets/{id}"), &server.support_key)
        .await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    let reported = &seen["ticket"]["details"]["reported"];
    assert_eq!(
        reported["error_text"],
        format!("银行预留手机号不一致 ****{last4}")
    );
    assert_eq!(reported["device"]["model"], format!("Chromium ****{last4}"));
    assert_eq!(reported["device"]["os"], "Android 14");
    assert_eq!(reported["device"]["app_version"], "web 0.1.0");
    assert_eq!(reported["device"]["network_type"], "4g");
    // The attempt keeps the device it was made from.
    assert_eq!(
        seen["ticket"]["details"]["attempt"]["device"]["model"],
        "Xiaomi 14"
    );
    assert!(!seen.to_string().contains(&number));
    let (_, mine) = server.get(&format!("/v1/tickets/{id}"), &alice.token).await;
    assert!(!mine.to_string().contains(&number));

    // Without them, nothing is reported.
    let (status, bare) = server
        .post(
            "/v1/tickets",
            &alice.token,
            json!({"trace_id": trace, "message": "again"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{bare}");
    assert!(bare["error_text"].is_null());
    let (_, seen) = server
        .get(
            &format!("/v1/support/tickets/{}", bare["id"].as_str().unwrap()),
            &server.support_key,
        )
        .await;
    assert!(
        seen["ticket"]["details"].get("reported").is_none(),
        "{seen}"
    );

    // Their fields are checked like any other: too long, or a device
    // field the API does not know.
    let (status, body) = server
        .post(
            "/v1/tickets",
            &alice.token,
            json!({"trace_id": trace, "message": "m", "error_text": "x".repeat(20_000)}),
        )
        .await;
    let error = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "field_too_long",
    );
    assert_eq!(error["param"], "error_text");
    let (status, body) = server
        .post(
            "/v1/tickets",
            &alice.token,
            json!({"trace_id": trace, "message": "m", "device": {"colour": "red"}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

on_both_backends!(
    a_ticket_carries_the_attempt_the_device_and_the_diagnosis,
    nobody_opens_a_ticket_on_someone_elses_attempt,
    a_ticket_carries_the_error_shown_and_the_device_written_from,
);
