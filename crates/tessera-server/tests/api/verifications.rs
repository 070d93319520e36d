//! Confirmations: unbinding a card takes one, made with the payment
//! password, or a texted code by a person who has none; each works once,
//! for the one card it names, for a few minutes.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tessera_server::issuer::sandbox::Outcome;
use tessera_server::test_support::User;

use crate::{Backend, TestServer, assert_error};

async fn delete(
    server: &TestServer,
    user: &User,
    id: &str,
    verification: Option<&str>,
) -> (StatusCode, Value) {
    let headers: Vec<(&str, &str)> = verification
        .map(|v| ("Tessera-Verification", v))
        .into_iter()
        .collect();
    let (status, _, body) = server
        .call(
            Method::DELETE,
            &format!("/v1/cards/{id}"),
            Some(&user.token),
            None,
            &headers,
        )
        .await;
    (status, body)
}

async fn confirm(server: &TestServer, user: &User, body: Value) -> (StatusCode, Value) {
    let (status, _, body) = server
        .call(
            Method::POST,
            "/v1/me/verifications",
            Some(&user.token),
            Some(&body),
            &[],
        )
        .await;
    (status, body)
}

async fn card(server: &TestServer, user: &User) -> String {
    let number =
        tessera_server::issuer::sandbox::card_number("622848", 19, Outcome::Approve).unwrap();
    let (status, card) = server.bind(user, &number).await;
    assert_eq!(status, StatusCode::CREATED, "{card}");
    card["id"].as_str().unwrap().to_owned()
}

/// Without a confirmation nothing is unbound; one made with a texted code
/// unbinds its card once; it never serves another card or a second time.
async fn unbinding_takes_a_confirmation_that_works_once(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let (first, second) = (card(&server, &user).await, card(&server, &user).await);

    let (status, body) = delete(&server, &user, &first, None).await;
    let error = assert_error(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "verification_required",
    );
    assert_eq!(error["param"], "Tessera-Verification");
    let (status, body) = delete(&server, &user, &first, Some("vrf_made_up")).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "verification_invalid");
    assert_eq!(server.cards(&user).await.len(), 2, "nothing was unbound");

    let for_first = server.confirm_unbind(&user, &first).await;
    // Not for the other card, and not another person's.
    let (status, body) = delete(&server, &user, &second, Some(&for_first)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "verification_invalid");
    let stranger = server.user().await;
    let (status, body) = delete(&server, &stranger, &first, Some(&for_first)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");

    let (status, body) = delete(&server, &user, &first, Some(&for_first)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "unbound");
    // A retry of the unbinding answers as it did, with no confirmation.
    let (status, body) = delete(&server, &user, &first, None).await;
    assert_eq!(
        (status, &body["status"]),
        (StatusCode::OK, &json!("unbound")),
        "{body}"
    );
    // Used: it confirms nothing again (a card bound again is a new card).
    let (status, body) = delete(&server, &user, &second, Some(&for_first)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "verification_invalid");
    assert_eq!(server.cards(&user).await.len(), 1);

    // The code is spent by the confirmation it made.
    let ask = json!({"purpose": "unbind_card", "card_id": second});
    let (status, _) = confirm(&server, &user, ask.clone()).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let code = server.latest_otp(&user).await;
    let mut with_code = ask.clone();
    with_code["sms_code"] = json!(code);
    let (status, body) = confirm(&server, &user, with_code.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["method"], "sms_code");
    let (status, body) = confirm(&server, &user, with_code).await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "sms_code_expired",
    );
    // Bad requests change nothing.
    for (bad, param) in [
        (json!({"purpose": "pay", "card_id": second}), "purpose"),
        (json!({"purpose": "unbind_card"}), "card_id"),
    ] {
        let (status, body) = confirm(&server, &user, bad).await;
        let error = assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
        assert_eq!(error["param"], param, "{body}");
    }
    let (status, body) = confirm(
        &server,
        &user,
        json!({"purpose": "unbind_card", "card_id": "card_none"}),
    )
    .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
}

/// A person with a payment password confirms with it, counted like every
/// check; a texted code is not offered to them.
async fn a_payment_password_confirms_where_one_is_set(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let id = card(&server, &user).await;
    let tail = &user.phone[user.phone.len() - 6..];
    let pin = ["830271", "604917"]
        .into_iter()
        .find(|p| *p != tail)
        .unwrap();
    let (status, _, body) = server
        .call(
            Method::PUT,
            "/v1/me/payment-password",
            Some(&user.token),
            Some(&json!({"payment_password": pin})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ask = json!({"purpose": "unbind_card", "card_id": id});
    for body in [
        ask.clone(),
        json!({"purpose": "unbind_card", "card_id": id, "sms_code": "123456"}),
    ] {
        let (status, body) = confirm(&server, &user, body).await;
        let error = assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
        assert_eq!(error["param"], "payment_password");
    }
    let mut wrong = ask.clone();
    wrong["payment_password"] = json!("135790");
    let (status, body) = confirm(&server, &user, wrong).await;
    let error = assert_error(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "payment_password_incorrect",
    );
    assert_eq!(error["attempts_left"], 4);
    let mut right = ask;
    right["payment_password"] = json!(pin);
    let (status, body) = confirm(&server, &user, right).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["method"], "payment_password");
    let verification = body["verification"].as_str().unwrap();
    assert!(verification.starts_with("vrf_"), "{body}");
    let (status, body) = delete(&server, &user, &id, Some(verification)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// A confirmation lasts `limits.verification_ttl_secs`.
async fn a_confirmation_expires(backend: Backend) {
    let server = TestServer::start_on(backend, |config| {
        config.limits.verification_ttl_secs = 1;
    })
    .await;
    let user = server.user().await;
    let id = card(&server, &user).await;
    let verification = server.confirm_unbind(&user, &id).await;
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let (status, body) = delete(&server, &user, &id, Some(&verification)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "verification_invalid");
    assert_eq!(server.cards(&user).await.len(), 1);
}

on_both_backends!(
    unbinding_takes_a_confirmation_that_works_once,
    a_payment_password_confirms_where_one_is_set,
    a_confirmation_expires,
);
