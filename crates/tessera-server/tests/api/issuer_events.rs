//! Issuers' signed events over HTTP: a replaced card keeps its token and
//! keys, a closed one stops paying; the signature, its freshness and
//! malformed events.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tessera_server::flows::lifecycle::issuer_signature;
use tessera_server::issuer::sandbox::Outcome;

use crate::payments::set_up;
use crate::{Backend, assert_error, card, purchase};

async fn a_replaced_card_keeps_its_token_and_pays_with_the_same_keys(backend: Backend) {
    let (server, user, bound, mut device, merchant) = set_up(backend).await;
    let issuer = server.issuer_key(&["ABC"]).await;
    let card_id = bound["id"].as_str().unwrap();
    let par = bound["par"].as_str().unwrap();
    let new_number = card(Outcome::Approve);
    let replaced = json!({"id": "evt-1", "type": "card.replaced",
        "occurred_at": server.now().to_rfc3339(), "par": par, "new_pan": new_number,
        "expiry_month": 9, "expiry_year": 2033, "reason": "card reissued"});
    let (status, body) = server.issuer_event(&issuer, &replaced, 0).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["outcome"], "applied");
    assert_eq!(body["cards"], 1);
    assert_eq!(body["duplicate"], false);

    let (_, shown) = server
        .get(&format!("/v1/cards/{card_id}"), &user.token)
        .await;
    assert_eq!(shown["last4"], &new_number[15..]);
    assert_eq!(shown["expiry_month"], 9);
    assert_eq!(shown["par"], par);
    assert_eq!(shown["token"]["ref"], bound["token"]["ref"]);
    assert_eq!(shown["token"]["last4"], bound["token"]["last4"]);
    assert_eq!(shown["payable"], true);
    // The device's keys still pay: the token did not change.
    let (status, body) = server
        .pay(&merchant, &device.sign(&purchase(4200, "M1")).unwrap().body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // The same event again is applied once; its id with another body is refused.
    let (status, body) = server.issuer_event(&issuer, &replaced, 0).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["duplicate"], true);
    assert_eq!(body["outcome"], "applied");
    let mut changed = replaced.clone();
    changed["reason"] = json!("something else");
    let (status, body) = server.issuer_event(&issuer, &changed, 0).await;
    assert_error(status, &body, StatusCode::CONFLICT, "idempotency_conflict");

    // An older event arriving late never overwrites the newer state.
    let late = json!({"id": "evt-0", "type": "card.expiry_updated",
        "occurred_at": (server.now() - chrono::Duration::hours(1)).to_rfc3339(),
        "pan": new_number, "expiry_month": 1, "expiry_year": 2030});
    let (status, body) = server.issuer_event(&issuer, &late, 0).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["outcome"], "stale");
    let (_, shown) = server
        .get(&format!("/v1/cards/{card_id}"), &user.token)
        .await;
    assert_eq!(shown["expiry_month"], 9);
    // A newer expiry update applies, to the card found by its new number.
    let newer = json!({"id": "evt-2", "type": "card.expiry_updated",
        "occurred_at": server.now().to_rfc3339(), "pan": new_number,
        "expiry_month": "11", "expiry_year": "34"});
    let (_, body) = server.issuer_event(&issuer, &newer, 0).await;
    assert_eq!(body["outcome"], "applied");
    let (_, shown) = server
        .get(&format!("/v1/cards/{card_id}"), &user.token)
        .await;
    assert_eq!(
        (shown["expiry_month"].clone(), shown["expiry_year"].clone()),
        (json!(11), json!(2034))
    );
    // An event about a number nobody bound finds no card.
    let nobody = json!({"id": "evt-3", "type": "card.closed",
        "occurred_at": server.now().to_rfc3339(), "pan": card(Outcome::Approve)});
    let (_, body) = server.issuer_event(&issuer, &nobody, 0).await;
    assert_eq!(body["outcome"], "no_card");

    // Closing the card deletes its token: payments say why.
    let closed = json!({"id": "evt-4", "type": "card.closed",
        "occurred_at": server.now().to_rfc3339(), "par": par});
    let (_, body) = server.issuer_event(&issuer, &closed, 0).await;
    assert_eq!(body["outcome"], "applied");
    let (_, _, shown) = server
        .call(
            Method::GET,
            &format!("/v1/cards/{card_id}"),
            Some(&user.token),
            None,
            &[("Accept-Language", "en")],
        )
        .await;
    assert_eq!(shown["status"], "closed");
    assert_eq!(shown["token"]["status"], "deleted");
    assert_eq!(shown["reason"]["code"], "card_unbound");
    assert_eq!(
        shown["reason"]["message"],
        "Your bank closed this card: it can no longer pay"
    );
    let (status, body) = server
        .pay(&merchant, &device.sign(&purchase(100, "M1")).unwrap().body)
        .await;
    assert_error(status, &body, StatusCode::PAYMENT_REQUIRED, "card_unbound");
}

async fn issuer_events_need_the_issuer_s_signature_and_a_fresh_timestamp(backend: Backend) {
    let (server, user, card, _device, _merchant) = set_up(backend).await;
    let issuer = server.issuer_key(&["ABC"]).await;
    let other_issuer = server.issuer_key(&["ABC"]).await;
    let event = json!({"id": "evt-9", "type": "card.closed",
        "occurred_at": server.now().to_rfc3339(), "par": card["par"]});
    // Six minutes old: refused.
    let (status, body) = server.issuer_event(&issuer, &event, 360).await;
    let error = assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(error["param"], "Tessera-Signature");
    // Signed with another key's signing secret than the one presented's,
    // or with the bearer key itself (the signing secret is not the key).
    let raw = event.to_string();
    let t = server.now().timestamp();
    let forged =
        issuer_signature(other_issuer.signing_secret.as_bytes(), t, raw.as_bytes()).unwrap();
    let with_bearer = issuer_signature(issuer.key.as_bytes(), t, raw.as_bytes()).unwrap();
    let tampered_body = raw.replace("card.closed", "card.closed ");
    let good = issuer_signature(issuer.signing_secret.as_bytes(), t, raw.as_bytes()).unwrap();
    for (signature, body) in [
        (format!("t={t},v1={forged}"), raw.clone()),
        (format!("t={t},v1={with_bearer}"), raw.clone()),
        (format!("t={t},v1={good}"), tampered_body),
        (format!("v1={good}"), raw.clone()),
        (String::new(), raw.clone()),
    ] {
        let response = server
            .client
            .post(format!("{}/v1/issuer/events", server.base))
            .bearer_auth(&issuer.key)
            .header("Tessera-Signature", signature)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    // A timestamp so far in the past that its age overflows is stale too
    // (it wrapped into "fresh" before).
    let now = server.now().timestamp();
    for t in [i64::MIN, now + i64::MIN, now - i64::MAX] {
        let (status, body) = server
            .issuer_event_signed(&issuer.key, &issuer.signing_secret, &event, t)
            .await;
        let error = assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
        assert_eq!(error["param"], "Tessera-Signature", "t={t}");
    }
    // Only issuer keys send events.
    let (status, _) = server
        .issuer_event_signed(&server.operator_key, &issuer.signing_secret, &event, t)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Malformed events are refused after the signature, naming the field
    // at fault, and change nothing.
    let now = server.now().to_rfc3339();
    for (bad, status, code, param) in [
        (
            json!({"id": "evt-a", "type": "card.melted", "occurred_at": now, "par": card["par"]}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "type",
        ),
        (
            json!({"id": "evt-b", "type": "card.closed", "occurred_at": "yesterday", "par": card["par"]}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "occurred_at",
        ),
        (
            json!({"id": "evt-c", "type": "card.replaced", "occurred_at": now, "par": card["par"], "new_pan": "1234"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_number",
            "new_pan",
        ),
        (
            json!({"id": "evt-d", "type": "card.closed", "occurred_at": now}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "par",
        ),
        (
            json!({"id": " ", "type": "card.closed", "occurred_at": now, "par": card["par"]}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "id",
        ),
        (
            json!({"id": "evt-e", "type": "card.expiry_updated", "occurred_at": now, "par": card["par"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_expiry_month",
            "expiry_month",
        ),
        (
            json!({"id": "evt-f", "occurred_at": now, "par": card["par"]}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "type",
        ),
    ] {
        let (got, body) = server.issuer_event(&issuer, &bad, 0).await;
        let error = assert_error(got, &body, status, code);
        assert_eq!(error["param"], param, "{bad}: {body}");
    }
    let (_, shown) = server
        .get(
            &format!("/v1/cards/{}", card["id"].as_str().unwrap()),
            &user.token,
        )
        .await;
    assert_eq!(shown["status"], "active");
    assert_eq!(shown["payable"], true);
}

// Every test above, on SQLite and on PostgreSQL (a fresh database each).
on_both_backends!(
    a_replaced_card_keeps_its_token_and_pays_with_the_same_keys,
    issuer_events_need_the_issuer_s_signature_and_a_fresh_timestamp,
);
