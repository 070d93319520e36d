//! A token's own life over HTTP: limited-use keys for its device only,
//! single-use cryptograms bound to their amount, currency, merchant and
//! channel, suspensions by several suspenders, and unbinding.

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::payments::{set_up, set_up_unscreened};
use crate::{Backend, assert_error, purchase};

async fn a_payment_after_unbinding_is_card_unbound(backend: Backend) {
    let (server, user, card, mut device, merchant) = set_up(backend).await;
    let id = card["id"].as_str().unwrap();
    let (status, _) = server.unbind(&user, id).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = server
        .pay(&merchant, &device.sign(&purchase(100, "M1")).unwrap().body)
        .await;
    let error = assert_error(status, &body, StatusCode::PAYMENT_REQUIRED, "card_unbound");
    assert!(error["payment_id"].is_string());
    let (status, body) = server
        .keys(&user, &device.token_ref, json!({"device_id": "phone-1"}))
        .await;
    assert_error(status, &body, StatusCode::PAYMENT_REQUIRED, "card_unbound");
    let (_, shown) = server.get(&format!("/v1/cards/{id}"), &user.token).await;
    assert_eq!(shown["payable"], false);
    assert_eq!(shown["reason"]["code"], "card_unbound");
    let records = server.payments(&user).await;
    assert_eq!(records[0]["decline"]["code"], "card_unbound");
}

async fn limited_use_keys_go_only_to_the_token_s_own_device_and_user(backend: Backend) {
    let (server, user, card, _device, merchant) = set_up(backend).await;
    let token_ref = card["token"]["ref"].as_str().unwrap();
    for body in [json!({}), json!({"device_id": "phone-2"})] {
        let (status, error) = server.keys(&user, token_ref, body).await;
        let error = assert_error(
            status,
            &error,
            StatusCode::PAYMENT_REQUIRED,
            "domain_mismatch",
        );
        assert_eq!(error["param"], "device_id");
    }
    let (status, error) = server
        .keys(
            &user,
            token_ref,
            json!({"device_id": "phone-1", "count": 51}),
        )
        .await;
    assert_error(status, &error, StatusCode::BAD_REQUEST, "invalid_request");
    let stranger = server.user_named("李四").await;
    let (status, error) = server
        .keys(&stranger, token_ref, json!({"device_id": "phone-1"}))
        .await;
    assert_error(status, &error, StatusCode::NOT_FOUND, "not_found");
    let (status, error) = server
        .post(
            &format!("/v1/tokens/{token_ref}/keys"),
            &merchant,
            json!({}),
        )
        .await;
    assert_error(status, &error, StatusCode::FORBIDDEN, "forbidden");
    // Only merchants submit payments.
    let (status, error) = server.post("/v1/payments", &user.token, json!({})).await;
    assert_error(status, &error, StatusCode::FORBIDDEN, "forbidden");
}

async fn a_single_use_cryptogram_is_bound_to_its_amount_currency_merchant_and_channel(
    backend: Backend,
) {
    let (server, user, card, _device, merchant) = set_up_unscreened(backend).await;
    let token_ref = card["token"]["ref"].as_str().unwrap();
    let ask = |amount: u64, merchant_id: &str| json!({"amount": amount, "currency": "CNY", "merchant_id": merchant_id});
    let path = format!("/v1/tokens/{token_ref}/cryptograms");
    let (status, made) = server.post(&path, &user.token, ask(5000, "SHOP-1")).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["amount"], 5000);
    assert_eq!(made["atc"], "000B", "after the device's ten keys");
    let mut request = made.clone();
    let object = request.as_object_mut().unwrap();
    object.remove("expires_at");
    object.insert("channel".into(), json!("in_app"));
    // Another merchant, or a tap at a terminal, is outside its domain.
    let mut elsewhere = request.clone();
    elsewhere["merchant_id"] = json!("SHOP-2");
    let (status, body) = server.pay(&merchant, &elsewhere).await;
    let error = assert_error(
        status,
        &body,
        StatusCode::PAYMENT_REQUIRED,
        "domain_mismatch",
    );
    assert_eq!(error["param"], "merchant_id");
    let mut tapped = request.clone();
    tapped["channel"] = json!("nfc");
    let (status, body) = server.pay(&merchant, &tapped).await;
    assert_error(
        status,
        &body,
        StatusCode::PAYMENT_REQUIRED,
        "domain_mismatch",
    );
    let mut more = request.clone();
    more["amount"] = json!(9000);
    let (status, body) = server.pay(&merchant, &more).await;
    assert_error(
        status,
        &body,
        StatusCode::PAYMENT_REQUIRED,
        "cryptogram_invalid",
    );
    // As made: approved, once.
    let (status, body) = server.pay(&merchant, &request).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = server.pay(&merchant, &request).await;
    assert_error(status, &body, StatusCode::PAYMENT_REQUIRED, "atc_replayed");
    // Web payments need a cryptogram made here: device keys don't pay on the web.
    let mut device = server.device(&user, &card, "phone-1").await;
    let mut web = device.sign(&purchase(100, "SHOP-1")).unwrap();
    web.body["channel"] = json!("ecommerce");
    let (status, body) = server.pay(&merchant, &web.body).await;
    assert_error(
        status,
        &body,
        StatusCode::PAYMENT_REQUIRED,
        "domain_mismatch",
    );
    // A cryptogram that outlived its five minutes (`cryptogram_ttl_secs`)
    // is refused.
    let (status, made) = server.post(&path, &user.token, ask(700, "SHOP-1")).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let mut late = made.clone();
    late.as_object_mut().unwrap().remove("expires_at");
    late["channel"] = json!("ecommerce");
    server.advance(std::time::Duration::from_secs(301));
    let (status, body) = server.pay(&merchant, &late).await;
    let error = assert_error(
        status,
        &body,
        StatusCode::PAYMENT_REQUIRED,
        "cryptogram_invalid",
    );
    assert_eq!(error["param"], "cryptogram");
}

async fn a_token_pays_again_only_when_every_suspender_has_resumed(backend: Backend) {
    let (server, user, card, mut device, merchant) = set_up(backend).await;
    let issuer = server.issuer_key(&["ABC"]).await.key;
    let token_ref = card["token"]["ref"].as_str().unwrap();
    let card_id = card["id"].as_str().unwrap();
    let suspend = format!("/v1/tokens/{token_ref}/suspend");
    let resume = format!("/v1/tokens/{token_ref}/resume");

    let (status, body) = server
        .post(
            &suspend,
            &user.token,
            json!({"reason": "phone lost for a while"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "suspended");
    assert_eq!(body["suspended_by"], json!(["cardholder"]));
    assert_eq!(body["payable"], false);
    let (status, body) = server
        .post(&suspend, &issuer, json!({"reason": "fraud review"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["suspended_by"], json!(["issuer", "cardholder"]));

    let (status, error) = server
        .pay(&merchant, &device.sign(&purchase(100, "M1")).unwrap().body)
        .await;
    let error = assert_error(
        status,
        &error,
        StatusCode::PAYMENT_REQUIRED,
        "token_suspended",
    );
    assert_eq!(error["suspended_by"], json!(["issuer", "cardholder"]));
    assert_eq!(error["message"], "此卡已被发卡行暂停使用");
    let (status, error) = server
        .keys(&user, token_ref, json!({"device_id": "phone-1"}))
        .await;
    assert_error(
        status,
        &error,
        StatusCode::PAYMENT_REQUIRED,
        "token_suspended",
    );
    for (lang, message) in [
        ("zh-CN", "此卡已被发卡行暂停使用"),
        ("en", "Suspended by your bank"),
    ] {
        let (_, _, shown) = server
            .call(
                Method::GET,
                &format!("/v1/cards/{card_id}"),
                Some(&user.token),
                None,
                &[("Accept-Language", lang)],
            )
            .await;
        assert_eq!(shown["payable"], false);
        assert_eq!(shown["reason"]["code"], "token_suspended");
        assert_eq!(shown["reason"]["message"], message);
        assert_eq!(shown["token"]["status"], "suspended");
    }

    // Support and merchants do not suspend; another user does not see it.
    let (status, _) = server.post(&suspend, &server.support_key, json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = server.post(&suspend, &merchant, json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let stranger = server.user_named("李四").await;
    let (status, _) = server.post(&resume, &stranger.token, json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The cardholder lifts theirs: the bank's still holds.
    let (_, body) = server.post(&resume, &user.token, json!({})).await;
    assert_eq!(body["suspended_by"], json!(["issuer"]));
    assert_eq!(body["status"], "suspended");
    let (status, error) = server
        .pay(&merchant, &device.sign(&purchase(100, "M1")).unwrap().body)
        .await;
    let error = assert_error(
        status,
        &error,
        StatusCode::PAYMENT_REQUIRED,
        "token_suspended",
    );
    assert_eq!(error["suspended_by"], json!(["issuer"]));
    // Resuming again changes nothing.
    let (_, body) = server.post(&resume, &user.token, json!({})).await;
    assert_eq!(body["suspended_by"], json!(["issuer"]));
    let (_, body) = server.post(&resume, &issuer, json!({})).await;
    assert_eq!(body["status"], "active");
    assert_eq!(body["payable"], true);
    let (status, body) = server
        .pay(&merchant, &device.sign(&purchase(100, "M1")).unwrap().body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, shown) = server
        .get(&format!("/v1/cards/{card_id}"), &user.token)
        .await;
    assert_eq!(shown["payable"], true);
    assert!(shown.get("reason").is_none());

    // Concurrent suspenders both count (compare and set).
    let operator = server.operator_key.clone();
    let server = Arc::new(server);
    let a = {
        let (server, path, token) = (server.clone(), suspend.clone(), user.token.clone());
        tokio::spawn(async move { server.post(&path, &token, json!({})).await })
    };
    let b = {
        let (server, path) = (server.clone(), suspend.clone());
        tokio::spawn(async move { server.post(&path, &operator, json!({})).await })
    };
    assert_eq!(a.await.unwrap().0, StatusCode::OK);
    assert_eq!(b.await.unwrap().0, StatusCode::OK);
    let (_, shown) = server
        .get(&format!("/v1/cards/{card_id}"), &user.token)
        .await;
    assert_eq!(
        shown["token"]["suspended_by"],
        json!(["wallet", "cardholder"])
    );

    // Support reads who did what and why; users and merchants do not.
    let history = format!("/v1/support/tokens/{token_ref}/events");
    let (status, events) = server.get(&history, &server.support_key).await;
    assert_eq!(status, StatusCode::OK, "{events}");
    let events = events["data"].as_array().unwrap().clone();
    let oldest = events.last().unwrap();
    assert_eq!(oldest["kind"], "suspend");
    assert_eq!(oldest["actor"], "cardholder");
    assert_eq!(oldest["reason"], "phone lost for a while");
    assert!(
        events
            .iter()
            .any(|e| e["actor"] == "issuer" && e["reason"] == "fraud review")
    );
    assert_eq!(
        server.get(&history, &user.token).await.0,
        StatusCode::FORBIDDEN
    );

    // Deleting is final: nothing resumes it, and the card left the wallet.
    let (status, body) = server
        .delete(
            &format!("/v1/tokens/{token_ref}?reason=device%20stolen"),
            &server.operator_key,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "deleted");
    let (status, error) = server.post(&resume, &user.token, json!({})).await;
    assert_error(status, &error, StatusCode::PAYMENT_REQUIRED, "card_unbound");
    let (_, shown) = server
        .get(&format!("/v1/cards/{card_id}"), &user.token)
        .await;
    assert_eq!(shown["status"], "unbound");
    assert_eq!(shown["reason"]["code"], "card_unbound");
}

// Every test above, on SQLite and on PostgreSQL (a fresh database each).
on_both_backends!(
    a_payment_after_unbinding_is_card_unbound,
    limited_use_keys_go_only_to_the_token_s_own_device_and_user,
    a_single_use_cryptogram_is_bound_to_its_amount_currency_merchant_and_channel,
    a_token_pays_again_only_when_every_suspender_has_resumed,
);
