//! API keys scoped to their owner: an issuer key acts only on its own
//! issuer's cards, a merchant key pays only as its own merchants; and
//! operators list and revoke keys, refused at every node from the next
//! request on.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tessera_server::issuer::sandbox::{self, Outcome};
use tessera_server::test_support::request;
use tessera_server::web::wallet::checkout::DEMO_SHOP_LABEL;

use crate::payments::set_up;
use crate::{Backend, TestServer, assert_error, card, purchase};

/// An answer without what differs between any two requests.
fn without(body: &Value, fields: &[&str]) -> Value {
    let mut body = body.clone();
    for field in fields {
        if let Some(object) = body.as_object_mut() {
            object.remove(*field);
        }
        if let Some(error) = body.get_mut("error").and_then(Value::as_object_mut) {
            error.remove(*field);
        }
    }
    body
}

async fn an_issuer_key_acts_only_on_its_own_issuer_s_cards(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    // An Agricultural Bank of China card, bound; another of its numbers,
    // never bound; a China Construction Bank number.
    let number = card(Outcome::Approve);
    let (status, bound) = server.bind(&user, &number).await;
    assert_eq!(status, StatusCode::CREATED, "{bound}");
    let unbound = card(Outcome::Approve);
    let ccb_number = sandbox::card_number("436742", 19, Outcome::Approve).unwrap();
    let card_id = bound["id"].as_str().unwrap();
    let par = bound["par"].as_str().unwrap();
    let token_ref = bound["token"]["ref"].as_str().unwrap();
    let abc = server.issuer_key(&["ABC"]).await;
    let ccb = server.issuer_key(&["CCB"]).await;
    let now = server.now().to_rfc3339();

    // Another issuer's key: every event about the card answers exactly as
    // one about a number nobody bound.
    let events = [
        json!({"type": "card.closed", "par": par}),
        json!({"type": "card.closed", "pan": number}),
        json!({"type": "card.expiry_updated", "pan": number, "expiry_month": 1, "expiry_year": 2031}),
        json!({"type": "card.replaced", "pan": number, "new_pan": ccb_number}),
    ];
    for (i, event) in events.iter().enumerate() {
        let mut about_card = event.clone();
        about_card["id"] = json!(format!("evt-card-{i}"));
        about_card["occurred_at"] = json!(now);
        let mut about_nobody = about_card.clone();
        about_nobody["id"] = json!(format!("evt-nobody-{i}"));
        match about_nobody.get("pan") {
            Some(_) => about_nobody["pan"] = json!(unbound),
            None => about_nobody["par"] = json!("T001AAAAAAAAAAAAAAAAAAAAAAAAA"),
        }
        let (status, answer) = server.issuer_event(&ccb, &about_card, 0).await;
        let (unknown_status, unknown) = server.issuer_event(&ccb, &about_nobody, 0).await;
        assert_eq!(status, StatusCode::OK, "{event}: {answer}");
        assert_eq!(
            (status, without(&answer, &["id"])),
            (unknown_status, without(&unknown, &["id"])),
            "{event}"
        );
        assert_eq!(answer["outcome"], "no_card", "{event}");
    }
    // Nor does it suspend the card's token: as unknown as a made-up one.
    let (status, body) = server
        .post(
            &format!("/v1/tokens/{token_ref}/suspend"),
            &ccb.key,
            json!({"reason": "x"}),
        )
        .await;
    let (unknown_status, unknown) = server
        .post(
            "/v1/tokens/tok_aaaaaaaaaaaaaaaaaaaaaaaa/suspend",
            &ccb.key,
            json!({"reason": "x"}),
        )
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(
        (status, without(&body, &["trace_id"])),
        (unknown_status, without(&unknown, &["trace_id"]))
    );

    // A card is never replaced by its own number: refused before any
    // look-up, for a bound number as for an unbound one, whoever asks.
    let mut answers = Vec::new();
    for (key, pan) in [
        (&abc, &number),
        (&abc, &unbound),
        (&ccb, &number),
        (&ccb, &unbound),
    ] {
        let same = json!({"id": format!("evt-same-{}", answers.len()), "type": "card.replaced",
            "occurred_at": now, "pan": pan, "new_pan": pan});
        let (status, body) = server.issuer_event(key, &same, 0).await;
        let error = assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
        assert_eq!(error["param"], "new_pan");
        answers.push(without(&body, &["trace_id"]));
    }
    assert!(
        answers.windows(2).all(|pair| pair[0] == pair[1]),
        "{answers:?}"
    );
    // The new number must be the card's own issuer's.
    let to_ccb = json!({"id": "evt-to-ccb", "type": "card.replaced", "occurred_at": now,
        "par": par, "new_pan": ccb_number});
    let (status, body) = server.issuer_event(&abc, &to_ccb, 0).await;
    let error = assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(error["param"], "new_pan");

    // An event from the future is refused (it would make every real later
    // one stale), from any key.
    for (key, occurred_at) in [
        (&ccb, "9999-12-31T00:00:00Z".to_owned()),
        (&abc, "9999-12-31T00:00:00Z".to_owned()),
        (
            &abc,
            (server.now() + chrono::Duration::minutes(6)).to_rfc3339(),
        ),
    ] {
        let future = json!({"id": format!("evt-future-{occurred_at}"), "type": "card.expiry_updated",
            "occurred_at": occurred_at, "pan": number, "expiry_month": 2, "expiry_year": 2032});
        let (status, body) = server.issuer_event(key, &future, 0).await;
        let error = assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
        assert_eq!(error["param"], "occurred_at");
    }

    // Nothing changed: the card is as bound and pays.
    let (_, shown) = server
        .get(&format!("/v1/cards/{card_id}"), &user.token)
        .await;
    assert_eq!(shown["status"], "active");
    assert_eq!(shown["last4"], &number[15..]);
    assert_eq!(shown["expiry_month"], Value::Null);
    assert_eq!(shown["token"]["status"], "active");
    assert_eq!(shown["payable"], true);

    // The card's own issuer closes it (reported stolen): applied, not stale.
    let closed = json!({"id": "evt-stolen", "type": "card.closed", "occurred_at": now,
        "pan": number, "reason": "reported stolen"});
    let (status, body) = server.issuer_event(&abc, &closed, 0).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["outcome"], "applied");
    let (_, shown) = server
        .get(&format!("/v1/cards/{card_id}"), &user.token)
        .await;
    assert_eq!(shown["status"], "closed");
    assert_eq!(shown["payable"], false);
}

async fn a_merchant_key_pays_only_as_its_own_merchants(backend: Backend) {
    let (server, user, card, mut device, _) = set_up(backend).await;
    let shop = server.merchant_key(&["SHOP-1"]).await;
    let other = server.merchant_key(&["SHOP-2", "SHOP-3"]).await;
    // A cryptogram the server made for SHOP-1.
    let token_ref = card["token"]["ref"].as_str().unwrap();
    let (status, made) = server
        .post(
            &format!("/v1/tokens/{token_ref}/cryptograms"),
            &user.token,
            json!({"amount": 5000, "currency": "CNY", "merchant_id": "SHOP-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let mut in_app = made.clone();
    in_app.as_object_mut().unwrap().remove("expires_at");
    in_app["channel"] = json!("in_app");
    // A tap signed by the device, claiming SHOP-1, under a name of the
    // submitter's choosing.
    let tapped = device
        .sign(&purchase(100, "SHOP-1").named("冒名商户"))
        .unwrap()
        .body;
    // An unknown token PAN is refused the same way: nothing is looked up.
    let mut unknown = tapped.clone();
    unknown["token_pan"] = json!("6299900000000000009");
    for body in [&in_app, &tapped, &unknown] {
        let (status, answer) = server.pay(&other, body).await;
        let error = assert_error(status, &answer, StatusCode::FORBIDDEN, "forbidden");
        assert_eq!(error["param"], "merchant_id", "{answer}");
        assert!(error.get("payment_id").is_none(), "nothing was recorded");
        // Retried with an idempotency key: the same, nothing kept.
        let (status, _, answer) = server
            .call(
                Method::POST,
                "/v1/payments",
                Some(&other),
                Some(body),
                &[("Idempotency-Key", "pay-as-another")],
            )
            .await;
        assert_error(status, &answer, StatusCode::FORBIDDEN, "forbidden");
    }
    // Written into nobody's history.
    assert!(server.payments(&user).await.is_empty());
    // The real merchant's key pays both: no ATC was spent.
    let (status, body) = server.pay(&shop, &in_app).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = server.pay(&shop, &tapped).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let history = server.payments(&user).await;
    assert_eq!(history.len(), 2);
    assert!(
        history.iter().all(|p| p["merchant_id"] == "SHOP-1"),
        "{history:?}"
    );
    // A key made for several merchants pays as each of them.
    let (status, body) = server
        .pay(&other, &device.sign(&purchase(200, "SHOP-3")).unwrap().body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// The listed key with `role`.
/// The key of `role` a test made: the sandbox's demo shop key, made at
/// start-up (`web/wallet/checkout.rs`), is left out.
fn listed<'a>(list: &'a Value, role: &str) -> &'a Value {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["role"] == role && k["label"] != DEMO_SHOP_LABEL)
        .unwrap_or_else(|| panic!("no {role} key in {list}"))
}

async fn operators_list_and_revoke_keys_and_every_node_refuses_a_revoked_key(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let merchant = server.merchant_key(&["SHOP-9", "SHOP-8"]).await;
    let issuer = server.issuer_key(&["CCB"]).await;
    let (status, list) = server.get("/v1/admin/keys", &server.operator_key).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    // The test's four, and the demo shop's.
    assert_eq!(list["data"].as_array().unwrap().len(), 5, "{list}");
    let shop = listed(&list, "merchant");
    let mut fields: Vec<&str> = shop
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "created_at",
            "holder",
            "id",
            "label",
            "revoked_at",
            "role",
            "scope"
        ]
    );
    assert_eq!(shop["scope"], json!(["SHOP-8", "SHOP-9"]));
    assert_eq!(shop["revoked_at"], Value::Null);
    assert_eq!(listed(&list, "issuer")["id"], issuer.id.as_str());
    assert_eq!(listed(&list, "issuer")["scope"], json!(["CCB"]));
    assert_eq!(listed(&list, "support")["scope"], json!([]));
    let text = list.to_string();
    for secret in [
        &merchant,
        &issuer.key,
        &issuer.signing_secret,
        &server.operator_key,
    ] {
        assert!(!text.contains(secret.as_str()), "a secret is listed");
    }
    let shop_id = shop["id"].as_str().unwrap().to_owned();
    let revoke = format!("/v1/admin/keys/{shop_id}");

    // Operators only.
    for bearer in [&server.support_key, &merchant, &issuer.key] {
        let (status, body) = server.get("/v1/admin/keys", bearer).await;
        assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
        let (status, body) = server.delete(&revoke, bearer).await;
        assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    }
    // The merchant key works (a malformed payment is judged, not refused).
    let (status, body) = server.pay(&merchant, &json!({})).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");

    // A second node on the same PostgreSQL database, which has just
    // accepted the key too.
    let node_b = match (backend, &server.database) {
        (Backend::Postgres, Some(database)) => {
            let mut config = tessera_server::Config::new_for_test(server.data_dir());
            config.database_url = Some(database.url().to_owned());
            let opened = tessera_server::open(config).await.unwrap();
            Some(tessera_server::start(opened.state).await.unwrap())
        }
        _ => None,
    };
    let at_b = |bearer: String| {
        let url = node_b
            .as_ref()
            .map(|b| format!("http://{}/v1/payments", b.addr));
        let client = server.client.clone();
        async move {
            match url {
                Some(url) => Some(
                    request(
                        &client,
                        Method::POST,
                        &url,
                        Some(&bearer),
                        Some(&json!({})),
                        &[],
                    )
                    .await,
                ),
                None => None,
            }
        }
    };
    if let Some((status, _, body)) = at_b(merchant.clone()).await {
        assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
    }

    // Revoked at node A...
    let (status, revoked) = server.delete(&revoke, &server.operator_key).await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert_eq!(revoked["id"], shop_id.as_str());
    assert_eq!(revoked["scope"], json!(["SHOP-8", "SHOP-9"]));
    let revoked_at = revoked["revoked_at"].as_str().unwrap().to_owned();
    // ...refused at once by A, and by B on its very next request.
    let (status, body) = server.pay(&merchant, &json!({})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
    if let Some((status, _, body)) = at_b(merchant.clone()).await {
        assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
    }
    // Revoking again keeps the first time; an unknown id is not_found.
    server.advance(std::time::Duration::from_secs(60));
    let (status, again) = server.delete(&revoke, &server.operator_key).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["revoked_at"], revoked_at.as_str());
    let (status, body) = server
        .delete("/v1/admin/keys/key_nosuchkey00000000", &server.operator_key)
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    // The list says so; the other keys still work.
    let (_, list) = server.get("/v1/admin/keys", &server.operator_key).await;
    assert_eq!(listed(&list, "merchant")["revoked_at"], revoked_at.as_str());
    assert_eq!(listed(&list, "issuer")["revoked_at"], Value::Null);
    let (status, _) = server.get("/v1/support/tickets", &server.support_key).await;
    assert_eq!(status, StatusCode::OK);

    // An issuer key revoked: its signed events are refused.
    let (status, _) = server
        .delete(
            &format!("/v1/admin/keys/{}", issuer.id),
            &server.operator_key,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let event = json!({"id": "evt-1", "type": "card.closed",
        "occurred_at": server.now().to_rfc3339(), "pan": card(Outcome::Approve)});
    let (status, body) = server.issuer_event(&issuer, &event, 0).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
    if let Some(node_b) = node_b {
        node_b.stop().await.unwrap();
    }
}

// Every test above, on SQLite and on PostgreSQL (a fresh database each).
on_both_backends!(
    an_issuer_key_acts_only_on_its_own_issuer_s_cards,
    a_merchant_key_pays_only_as_its_own_merchants,
    operators_list_and_revoke_keys_and_every_node_refuses_a_revoked_key,
);
