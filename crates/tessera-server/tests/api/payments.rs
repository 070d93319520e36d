//! Token 2.0 payments over HTTP: a device's limited-use keys and the ARQC it
//! computes, the merchant's authorization with every decline, the ATC rule
//! under concurrency, idempotent retries and bad input. The set-up here
//! serves `tokens` and `issuer_events` too.

use std::collections::BTreeSet;
use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tessera_core::emv::{Arpc, ArpcResponseCode, SessionKey};
use tessera_server::issuer::sandbox::{self, Outcome};
use tessera_server::test_support::Device;

use crate::{Backend, TestServer, User, assert_error, card, purchase};

/// A started server, a user with one bound card, their device, and a
/// merchant key.
pub async fn set_up(backend: Backend) -> (TestServer, User, Value, Device, String) {
    set_up_with(backend, |_| {}).await
}

/// For tests that send declines and replays on purpose: the risk rules
/// still score every payment but stop none (they are proven in `risk.rs`).
pub async fn set_up_unscreened(backend: Backend) -> (TestServer, User, Value, Device, String) {
    set_up_with(backend, |config| {
        config.risk.step_up_at = u32::MAX;
        config.risk.decline_at = u32::MAX;
    })
    .await
}

pub async fn set_up_with(
    backend: Backend,
    adjust: impl FnOnce(&mut tessera_server::Config),
) -> (TestServer, User, Value, Device, String) {
    let server = TestServer::start_on(backend, adjust).await;
    let user = server.user().await;
    let card = server
        .bind_on(&user, &card(Outcome::Approve), "phone-1")
        .await;
    let device = server.device(&user, &card, "phone-1").await;
    let merchant = server
        .merchant_key(&["M1", "M100", "SHOP-1", "SHOP-2"])
        .await;
    (server, user, card, device, merchant)
}

async fn an_approved_payment_returns_an_authorization_code_and_an_arpc_the_device_can_check(
    backend: Backend,
) {
    let (server, user, card, mut device, merchant) = set_up(backend).await;
    assert_eq!(device.keys.len(), 10, "the default batch");
    assert_eq!(device.keys[0].0, "0001");
    assert_eq!(device.token_pan.len(), 19);
    assert!(device.token_pan.starts_with("629990"));
    assert_eq!(card["token"]["last4"], &device.token_pan[15..]);
    let signed = device.sign(&purchase(1234, "M100")).unwrap();
    let (status, body) = server.pay(&merchant, &signed.body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "approved");
    assert_eq!(body["amount"], 1234);
    assert_eq!(body["currency"], "CNY");
    assert_eq!(body["atc"], "0001");
    assert_eq!(body["card_id"], card["id"]);
    let code = body["authorization_code"].as_str().unwrap();
    assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()));
    // The ARPC is method 1 over the ARQC and ARC "00", under the session key.
    let arpc = Arpc::method1(&signed.key, &signed.arqc, ArpcResponseCode(*b"00"));
    assert_eq!(body["arpc"], arpc.to_string());
    assert!(!body.to_string().contains(&device.token_pan));

    let records = server.payments(&user).await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["id"], body["id"]);
    assert_eq!(records[0]["status"], "approved");
    assert_eq!(records[0]["merchant_name"], "便利店");
    assert!(records[0].get("arpc").is_none());

    // Another batch starts where the first ended: ranges never overlap.
    let (status, headers, again) = server
        .call(
            Method::POST,
            &format!("/v1/tokens/{}/keys", device.token_ref),
            Some(&user.token),
            Some(&json!({"device_id": "phone-1", "count": 3})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(headers["cache-control"], "no-store");
    let atcs: Vec<&str> = again["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["atc"].as_str().unwrap())
        .collect();
    assert_eq!(atcs, ["000B", "000C", "000D"]);
    // A later key of the first batch still pays: the window is around the
    // highest ATC seen, and each ATC is used once.
    let (atc, key) = device.keys.pop_back().unwrap();
    assert_eq!(atc, "000A");
    let (status, body) = server
        .pay(
            &merchant,
            &device
                .sign_with(&atc, key, &purchase(800, "M100"))
                .unwrap()
                .body,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = server
        .pay(
            &merchant,
            &device.sign(&purchase(801, "M100")).unwrap().body,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "a late ATC inside the window: {body}"
    );
}

async fn a_sixteen_digit_token_uses_option_a_and_pays(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let credit = sandbox::card_number("622575", 16, Outcome::Approve).unwrap();
    let (status, card) = server
        .post(
            "/v1/cards",
            &user.token,
            json!({"number": credit, "holder_name": "张三", "expiry_month": "08",
                "expiry_year": "31", "cvc": "739"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{card}");
    // Bound without a device: no device_id is asked for.
    let token_ref = card["token"]["ref"].as_str().unwrap();
    let (status, keys) = server.keys(&user, token_ref, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{keys}");
    assert_eq!(keys["profile"]["derivation"], "A");
    let mut device = Device::from_keys(&keys).unwrap();
    assert_eq!(device.token_pan.len(), 16);
    let merchant = server
        .merchant_key(&["M1", "M100", "SHOP-1", "SHOP-2"])
        .await;
    let (status, body) = server
        .pay(&merchant, &device.sign(&purchase(2500, "M1")).unwrap().body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn each_decline_code_is_answered_and_recorded_with_its_reason(backend: Backend) {
    let (server, user, _card, mut device, merchant) = set_up_unscreened(backend).await;
    let mut expected = Vec::new();
    for (amount, decline_code) in [
        (1205, "do_not_honor"),
        (1241, "lost_card"),
        (1243, "stolen_card"),
        (1251, "insufficient_funds"),
        (1261, "exceeds_limit"),
    ] {
        let (status, body) = server
            .pay(
                &merchant,
                &device.sign(&purchase(amount, "M1")).unwrap().body,
            )
            .await;
        let error = assert_error(status, &body, StatusCode::PAYMENT_REQUIRED, "card_declined");
        assert_eq!(error["decline_code"], decline_code);
        let payment_id = error["payment_id"].as_str().unwrap().to_owned();
        assert!(payment_id.starts_with("pay_"));
        expected.push((payment_id, decline_code));
    }
    // Issuer unavailable: 503 with Retry-After, and nothing was spent: the
    // same cryptogram is refused by the issuer again, not as a replay.
    let signed = device.sign(&purchase(1291, "M1")).unwrap();
    for _ in 0..2 {
        let (status, headers, body) = server
            .call(
                Method::POST,
                "/v1/payments",
                Some(&merchant),
                Some(&signed.body),
                &[],
            )
            .await;
        let error = assert_error(
            status,
            &body,
            StatusCode::SERVICE_UNAVAILABLE,
            "issuer_unavailable",
        );
        assert_eq!(error["retryable"], true);
        assert!(headers.contains_key("retry-after"));
    }

    let (status, _, body) = server
        .call(
            Method::GET,
            "/v1/payments",
            Some(&user.token),
            None,
            &[("Accept-Language", "en")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let records = body["data"].as_array().unwrap();
    assert_eq!(records.len(), 7);
    let times: Vec<&str> = records
        .iter()
        .map(|r| r["created_at"].as_str().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {times:?}"
    );
    let failed: Vec<&Value> = records.iter().filter(|r| r["status"] == "failed").collect();
    assert_eq!(failed.len(), 2);
    assert_eq!(failed[0]["decline"]["code"], "issuer_unavailable");
    for (id, decline_code) in &expected {
        let record = records.iter().find(|r| r["id"] == id.as_str()).unwrap();
        assert_eq!(record["status"], "declined");
        assert_eq!(record["decline"]["code"], "card_declined");
        assert_eq!(record["decline"]["decline_code"], *decline_code);
        assert!(record["authorization_code"].is_null());
        if *decline_code == "insufficient_funds" {
            assert_eq!(
                record["decline"]["message"],
                "There is not enough money on the card (or credit left, for a credit card)"
            );
        }
    }
    // Pages of two with cursors reach the same seven.
    let mut seen = Vec::new();
    let mut path = "/v1/payments?limit=2".to_owned();
    loop {
        let (_, page) = server.get(&path, &user.token).await;
        seen.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].clone()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/payments?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(
        seen,
        records.iter().map(|r| r["id"].clone()).collect::<Vec<_>>()
    );
}

async fn a_replayed_or_stale_atc_is_refused(backend: Backend) {
    let (server, user, _card, mut device, merchant) =
        set_up_with(backend, |config| config.payments.atc_window = 2).await;
    let first = device.sign(&purchase(100, "M1")).unwrap();
    let (status, body) = server.pay(&merchant, &first.body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = server.pay(&merchant, &first.body).await;
    let error = assert_error(status, &body, StatusCode::PAYMENT_REQUIRED, "atc_replayed");
    assert_eq!(error["param"], "atc");
    // The same ATC with fresh transaction data is still the same ATC.
    let (atc, key) = (first.body["atc"].as_str().unwrap(), first.key);
    let (status, body) = server
        .pay(
            &merchant,
            &device
                .sign_with(atc, key, &purchase(100, "M1"))
                .unwrap()
                .body,
        )
        .await;
    assert_error(status, &body, StatusCode::PAYMENT_REQUIRED, "atc_replayed");
    // ATC 0006 pays; 0002 is now more than 2 behind it and never was used.
    let older = device.keys.pop_front().unwrap();
    for _ in 0..3 {
        device.keys.pop_front();
    }
    let (status, body) = server
        .pay(&merchant, &device.sign(&purchase(100, "M1")).unwrap().body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["atc"], "0006");
    let (status, body) = server
        .pay(
            &merchant,
            &device
                .sign_with(&older.0, older.1, &purchase(100, "M1"))
                .unwrap()
                .body,
        )
        .await;
    assert_error(status, &body, StatusCode::PAYMENT_REQUIRED, "atc_replayed");
    // An ATC never handed out cannot have a genuine cryptogram.
    let forged = device
        .sign_with(
            "0FFF",
            SessionKey::from_bytes(&[7; 16]).unwrap(),
            &purchase(100, "M1"),
        )
        .unwrap();
    let (status, body) = server.pay(&merchant, &forged.body).await;
    assert_error(
        status,
        &body,
        StatusCode::PAYMENT_REQUIRED,
        "cryptogram_invalid",
    );
    let records = server.payments(&user).await;
    let count = |status: &str| records.iter().filter(|p| p["status"] == status).count();
    assert_eq!((count("approved"), count("declined")), (2, 4));
}

async fn a_cryptogram_from_another_token_or_over_other_data_is_invalid(backend: Backend) {
    let (server, _user, _card, mut device, merchant) = set_up_unscreened(backend).await;
    let other_user = server.user_named("李四").await;
    let other_card = server
        .bind_on(&other_user, &card(Outcome::Approve), "phone-2")
        .await;
    let mut other_device = server.device(&other_user, &other_card, "phone-2").await;
    // The other token's keys, presented with this token's PAN.
    let mut stolen = other_device.sign(&purchase(500, "M1")).unwrap();
    stolen.body["token_pan"] = json!(device.token_pan);
    stolen.body["token_expiry"] = json!(device.token_expiry);
    let (status, body) = server.pay(&merchant, &stolen.body).await;
    let error = assert_error(
        status,
        &body,
        StatusCode::PAYMENT_REQUIRED,
        "cryptogram_invalid",
    );
    assert_eq!(error["param"], "cryptogram");
    // A changed amount no longer matches the ARQC.
    let mut changed = device.sign(&purchase(500, "M1")).unwrap();
    changed.body["amount"] = json!(50_000);
    let (status, body) = server.pay(&merchant, &changed.body).await;
    assert_error(
        status,
        &body,
        StatusCode::PAYMENT_REQUIRED,
        "cryptogram_invalid",
    );
    // A cryptogram dated another day is refused, whatever it covers.
    let mut yesterday = device.sign(&purchase(500, "M1")).unwrap();
    yesterday.body["transaction_date"] = json!("2020-01-01");
    let (status, body) = server.pay(&merchant, &yesterday.body).await;
    let error = assert_error(
        status,
        &body,
        StatusCode::PAYMENT_REQUIRED,
        "cryptogram_invalid",
    );
    assert_eq!(error["param"], "transaction_date");
    // A wrong token expiry is refused before the cryptogram is looked at.
    let mut wrong_expiry = device.sign(&purchase(500, "M1")).unwrap();
    wrong_expiry.body["token_expiry"] = json!("01/40");
    let (status, body) = server.pay(&merchant, &wrong_expiry.body).await;
    let error = assert_error(
        status,
        &body,
        StatusCode::PAYMENT_REQUIRED,
        "cryptogram_invalid",
    );
    assert_eq!(error["param"], "token_expiry");
    // Both devices still pay with their own keys.
    let (status, body) = server
        .pay(&merchant, &device.sign(&purchase(500, "M1")).unwrap().body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = server
        .pay(
            &merchant,
            &other_device.sign(&purchase(500, "M1")).unwrap().body,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn sixteen_concurrent_submissions_of_one_cryptogram_are_approved_exactly_once(
    backend: Backend,
) {
    let (server, user, _card, mut device, merchant) = set_up(backend).await;
    let signed = device.sign(&purchase(6600, "M1")).unwrap();
    let server = Arc::new(server);
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (server, merchant, body) = (server.clone(), merchant.clone(), signed.body.clone());
        tasks.push(tokio::spawn(
            async move { server.pay(&merchant, &body).await },
        ));
    }
    let mut approved = 0;
    let mut codes = BTreeSet::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        if status == StatusCode::CREATED {
            approved += 1;
        } else {
            assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{body}");
            codes.insert(body["error"]["code"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(approved, 1);
    assert_eq!(codes, BTreeSet::from(["atc_replayed".to_owned()]));
    let records = server.payments(&user).await;
    assert_eq!(
        records.iter().filter(|p| p["status"] == "approved").count(),
        1
    );
    assert_eq!(records.len(), 16);
}

async fn an_idempotent_retry_returns_the_first_answer(backend: Backend) {
    let (server, user, _card, mut device, merchant) = set_up(backend).await;
    let signed = device.sign(&purchase(300, "M1")).unwrap();
    let mut answers = Vec::new();
    for _ in 0..2 {
        let (status, headers, body) = server
            .call(
                Method::POST,
                "/v1/payments",
                Some(&merchant),
                Some(&signed.body),
                &[("Idempotency-Key", "order-42")],
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        answers.push((headers.contains_key("idempotent-replayed"), body));
    }
    assert!(!answers[0].0 && answers[1].0);
    assert_eq!(answers[0].1, answers[1].1);
    assert_eq!(server.payments(&user).await.len(), 1);
}

async fn bad_input_is_refused_and_changes_nothing(backend: Backend) {
    let (server, user, _card, mut device, merchant) = set_up(backend).await;
    let signed = device.sign(&purchase(1000, "M1")).unwrap();
    let unknown_token = {
        let pan = sandbox::card_number("629990", 19, Outcome::Approve).unwrap();
        let mut body = signed.body.clone();
        body["token_pan"] = json!(pan);
        body
    };
    let mut cases: Vec<(Value, StatusCode, &str, &str)> = Vec::new();
    for (field, value, status, code) in [
        (
            "amount",
            json!(0),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "amount",
            json!(-5),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "amount",
            json!("12.34"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "currency",
            json!("XYZ"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "channel",
            json!("fax"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "atc",
            json!("12345"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "cryptogram",
            json!("ZZ"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "unpredictable_number",
            json!("0102"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "tvr",
            json!("00"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "transaction_date",
            json!("27/01/02"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "token_expiry",
            json!("13/30"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "token_pan",
            json!("6299901234"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_number",
        ),
        (
            "merchant_id",
            json!(""),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
    ] {
        let mut body = signed.body.clone();
        body[field] = value;
        cases.push((body, status, code, field));
    }
    let mut missing = signed.body.clone();
    missing.as_object_mut().unwrap().remove("cryptogram");
    cases.push((
        missing,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "cryptogram",
    ));
    let mut extra = signed.body.clone();
    extra["cvv"] = json!("123");
    cases.push((extra, StatusCode::BAD_REQUEST, "invalid_request", "cvv"));
    cases.push((
        unknown_token,
        StatusCode::NOT_FOUND,
        "not_found",
        "token_pan",
    ));
    for (body, status, code, param) in cases {
        let (got, response) = server.pay(&merchant, &body).await;
        let error = assert_error(got, &response, status, code);
        if code != "invalid_request" || param != "cvv" {
            assert_eq!(error["param"], param, "{response}");
        }
        assert!(error.get("payment_id").is_none());
    }
    let (status, _, _) = server
        .call(Method::POST, "/v1/payments", Some(&merchant), None, &[])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Nothing was recorded and the ATC is still unused: the real one pays.
    assert!(server.payments(&user).await.is_empty());
    let (status, body) = server.pay(&merchant, &signed.body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // Lifecycle and keys refuse bad input too.
    let token_ref = device.token_ref.clone();
    let (status, body) = server
        .post(
            &format!("/v1/tokens/{token_ref}/suspend"),
            &user.token,
            json!({"reason": "x".repeat(201)}),
        )
        .await;
    let error = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "field_too_long",
    );
    assert_eq!(error["max_length"], 200);
    let (status, body) = server
        .post(
            &format!("/v1/tokens/{token_ref}/cryptograms"),
            &user.token,
            json!({"amount": 100, "currency": "CNY", "merchant_id": "bad id with spaces"}),
        )
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
    let (_, shown) = server.get("/v1/cards", &user.token).await;
    assert_eq!(shown["data"][0]["token"]["status"], "active");
    assert_eq!(server.payments(&user).await.len(), 1);
}

// Every test above, on SQLite and on PostgreSQL (a fresh database each).
on_both_backends!(
    an_approved_payment_returns_an_authorization_code_and_an_arpc_the_device_can_check,
    a_sixteen_digit_token_uses_option_a_and_pays,
    each_decline_code_is_answered_and_recorded_with_its_reason,
    a_replayed_or_stale_atc_is_refused,
    a_cryptogram_from_another_token_or_over_other_data_is_invalid,
    sixteen_concurrent_submissions_of_one_cryptogram_are_approved_exactly_once,
    an_idempotent_retry_returns_the_first_answer,
    bad_input_is_refused_and_changes_nothing,
);
