//! What protects a person's money, over HTTP: the no-confirmation limits
//! (a payment above them declined, then approved with the phone's check or
//! a confirmation), the daily limit, each risk rule's reason and what the
//! score decides, a payment reported as not the person's, and a frozen
//! wallet.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tessera_core::emv::DeviceCvm;
use tessera_server::test_support::User;

use crate::payments::set_up_with;
use crate::{Backend, TestServer, assert_error, purchase};

/// The user's payment with this id, as they read it.
async fn payment(server: &TestServer, user: &User, id: &str) -> Value {
    let (status, body) = server.get(&format!("/v1/payments/{id}"), &user.token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn reasons(payment: &Value) -> Vec<String> {
    payment["risk"]["reasons"]
        .as_array()
        .map(|r| r.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

async fn a_payment_above_the_limit_is_declined_then_approved_when_confirmed(backend: Backend) {
    let (server, user, card, mut device, merchant) = set_up_with(backend, |_| {}).await;
    // Up to the default limit (300.00 CNY): no confirmation, scored.
    let (status, paid) = server
        .pay(
            &merchant,
            &device.sign(&purchase(30_000, "M1")).unwrap().body,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(paid["consent"], "none");
    assert_eq!(reasons(&paid), ["card_just_bound"]);
    assert_eq!(paid["risk"]["score"], 20);
    // One fen more: declined, recorded, and told how to confirm.
    let (status, body) = server
        .pay(
            &merchant,
            &device.sign(&purchase(30_001, "M1")).unwrap().body,
        )
        .await;
    let error = assert_error(
        status,
        &body,
        StatusCode::PAYMENT_REQUIRED,
        "authentication_required",
    );
    assert_eq!(error["next_action"]["methods"], json!(["device"]));
    assert_eq!(error["next_action"]["reason"], "above_payment_limit");
    let declined = payment(&server, &user, error["payment_id"].as_str().unwrap()).await;
    assert_eq!(declined["status"], "declined");
    assert_eq!(declined["decline"]["code"], "authentication_required");
    // The phone checked the fingerprint: the IAD says so, the ARQC covers it.
    let verified = purchase(30_001, "M1").verified(DeviceCvm::Biometric);
    let (status, paid) = server
        .pay(&merchant, &device.sign(&verified).unwrap().body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(paid["consent"], "device");
    // A merchant cannot claim the check: the IAD changed after signing, or
    // one that is not the profile's, does not verify.
    let mut claimed = device.sign(&purchase(30_001, "M1")).unwrap().body;
    claimed["iad"] = json!("06011203020000");
    let (status, body) = server.pay(&merchant, &claimed).await;
    assert_error(
        status,
        &body,
        StatusCode::PAYMENT_REQUIRED,
        "cryptogram_invalid",
    );
    let mut garbled = device.sign(&purchase(100, "M1")).unwrap().body;
    garbled["iad"] = json!("06011203070000");
    let (status, body) = server.pay(&merchant, &garbled).await;
    let error = assert_error(
        status,
        &body,
        StatusCode::PAYMENT_REQUIRED,
        "cryptogram_invalid",
    );
    assert_eq!(error["param"], "iad");

    // In the app: the cryptogram above the limit takes a confirmation for
    // that amount, currency and merchant, and carries it to the payment.
    let path = format!(
        "/v1/tokens/{}/cryptograms",
        card["token"]["ref"].as_str().unwrap()
    );
    let ask = json!({"amount": 50_000, "currency": "CNY", "merchant_id": "SHOP-1"});
    let (status, body) = server
        .confirmed(Method::POST, &path, &user.token, Some(ask.clone()), None)
        .await;
    let error = assert_error(
        status,
        &body,
        StatusCode::PAYMENT_REQUIRED,
        "authentication_required",
    );
    assert_eq!(error["next_action"]["methods"], json!(["sms_code"]));
    let other = server
        .confirm(&user, json!({"purpose": "payment", "amount": 40_000, "currency": "CNY", "merchant_id": "SHOP-1"}))
        .await;
    let (status, body) = server
        .confirmed(
            Method::POST,
            &path,
            &user.token,
            Some(ask.clone()),
            Some(&other),
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "verification_invalid");
    let confirmed = server
        .confirm(&user, json!({"purpose": "payment", "amount": 50_000, "currency": "CNY", "merchant_id": "SHOP-1"}))
        .await;
    let (status, made) = server
        .confirmed(
            Method::POST,
            &path,
            &user.token,
            Some(ask),
            Some(&confirmed),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let mut request = made.clone();
    request.as_object_mut().unwrap().remove("expires_at");
    request["channel"] = json!("in_app");
    let (status, paid) = server.pay(&merchant, &request).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(paid["consent"], "sms_code");
}

async fn the_daily_limit_counts_what_went_unconfirmed_and_raising_it_is_confirmed(
    backend: Backend,
) {
    let (server, user, _card, mut device, merchant) = set_up_with(backend, |_| {}).await;
    let (status, limits) = server.get("/v1/me/payment-limits", &user.token).await;
    assert_eq!(status, StatusCode::OK, "{limits}");
    assert_eq!(
        (
            limits["per_payment"].clone(),
            limits["per_day"].clone(),
            limits["chosen"].clone()
        ),
        (json!(30_000), json!(100_000), json!(false))
    );
    // Lowering needs nothing.
    let lower = json!({"per_payment": 30_000, "per_day": 50_000});
    let (status, limits) = server
        .confirmed(
            Method::PUT,
            "/v1/me/payment-limits",
            &user.token,
            Some(lower),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{limits}");
    assert_eq!(
        (limits["per_day"].clone(), limits["chosen"].clone()),
        (json!(50_000), json!(true))
    );
    let pay = |amount: u64, device: &mut tessera_server::test_support::Device| {
        device.sign(&purchase(amount, "M1")).unwrap().body
    };
    let (status, body) = server.pay(&merchant, &pay(30_000, &mut device)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = server.pay(&merchant, &pay(20_001, &mut device)).await;
    let error = assert_error(
        status,
        &body,
        StatusCode::PAYMENT_REQUIRED,
        "authentication_required",
    );
    assert_eq!(error["next_action"]["reason"], "above_daily_limit");
    let (status, body) = server.pay(&merchant, &pay(20_000, &mut device)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, limits) = server.get("/v1/me/payment-limits", &user.token).await;
    assert_eq!(limits["used_today"], 50_000);
    // Confirmed payments do not count against it.
    let verified = purchase(10_000, "M1").verified(DeviceCvm::Passcode);
    let (status, body) = server
        .pay(&merchant, &device.sign(&verified).unwrap().body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, limits) = server.get("/v1/me/payment-limits", &user.token).await;
    assert_eq!(limits["used_today"], 50_000);

    // Raising takes a confirmation for security_settings; bad values change nothing.
    let raise = json!({"per_payment": 30_000, "per_day": 60_000});
    let (status, body) = server
        .confirmed(
            Method::PUT,
            "/v1/me/payment-limits",
            &user.token,
            Some(raise.clone()),
            None,
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "verification_required",
    );
    for (bad, param) in [
        (
            json!({"per_payment": 200_001, "per_day": 500_000}),
            "per_payment",
        ),
        (
            json!({"per_payment": 30_000, "per_day": 500_001}),
            "per_day",
        ),
        (json!({"per_payment": 30_000, "per_day": 20_000}), "per_day"),
    ] {
        let (status, body) = server
            .confirmed(
                Method::PUT,
                "/v1/me/payment-limits",
                &user.token,
                Some(bad),
                None,
            )
            .await;
        let error = assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
        assert_eq!(error["param"], param);
    }
    let settings = server
        .confirm(&user, json!({"purpose": "security_settings"}))
        .await;
    let (status, limits) = server
        .confirmed(
            Method::PUT,
            "/v1/me/payment-limits",
            &user.token,
            Some(raise),
            Some(&settings),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{limits}");
    assert_eq!(limits["per_day"], 60_000);
}

async fn each_risk_rule_gives_its_reason(backend: Backend) {
    // The rules score; none stops a payment here (`the_score_decides`).
    let (server, user, _card, mut device, merchant) = set_up_with(backend, |config| {
        config.risk.step_up_at = 100;
        config.risk.decline_at = 100;
        config.risk.person_velocity.max = 100;
        config.payments.key_batch_size = 50;
    })
    .await;
    let pay = async |device: &mut tessera_server::test_support::Device, amount: u64| {
        let body = device
            .sign(&purchase(amount, "M1").verified(DeviceCvm::Biometric))
            .unwrap()
            .body;
        let (status, answer) = server.pay(&merchant, &body).await;
        (status, answer)
    };
    let (_, first) = pay(&mut device, 100).await;
    assert_eq!(reasons(&first), ["card_just_bound"]);
    server.advance(std::time::Duration::from_secs(601));
    let (_, quiet) = pay(&mut device, 100).await;
    assert_eq!(reasons(&quiet), Vec::<String>::new());
    assert_eq!(quiet["risk"]["score"], 0);
    // Six with the card in ten minutes: the seventh is one too many.
    for _ in 0..5 {
        let (_, answer) = pay(&mut device, 100).await;
        assert!(
            !reasons(&answer).contains(&"token_velocity".to_owned()),
            "{answer}"
        );
    }
    let (_, seventh) = pay(&mut device, 100).await;
    assert_eq!(reasons(&seventh), ["token_velocity"]);
    server.advance(std::time::Duration::from_secs(601));
    // Far above what the person usually pays (at least 500.00, five times their most).
    let (_, unusual) = pay(&mut device, 60_000).await;
    assert_eq!(reasons(&unusual), ["unusual_amount"]);
    // Declines just before (do_not_honor), the third one too many.
    for _ in 0..3 {
        let (status, _) = pay(&mut device, 1205).await;
        assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
    }
    let (_, after_declines) = pay(&mut device, 100).await;
    assert!(
        reasons(&after_declines).contains(&"repeated_declines".to_owned()),
        "{after_declines}"
    );
    server.advance(std::time::Duration::from_secs(3601));
    // A card added from a phone the wallet had not seen.
    let second = server
        .bind_on(
            &user,
            &crate::card(tessera_server::issuer::sandbox::Outcome::Approve),
            "phone-9",
        )
        .await;
    server.advance(std::time::Duration::from_secs(601));
    let mut new_phone = server.device(&user, &second, "phone-9").await;
    let (_, from_new_phone) = pay(&mut new_phone, 100).await;
    assert_eq!(reasons(&from_new_phone), ["new_device"]);
    let (_, from_old_phone) = pay(&mut device, 100).await;
    assert_eq!(reasons(&from_old_phone), Vec::<String>::new());
    // A password reset just before.
    crate::accounts::ask_for_code(&server, &user.phone).await;
    let code = crate::accounts::reset_code(&server, &user.phone, 2).await;
    let (status, body) =
        crate::accounts::reset(&server, &user.phone, &code, "another-Pass-2026").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, after_reset) = pay(&mut device, 100).await;
    assert_eq!(reasons(&after_reset), ["after_password_reset"]);
}

async fn the_score_decides_step_up_or_decline_with_its_reasons(backend: Backend) {
    // A new card alone asks for the phone's check...
    let (server, _user, _card, mut device, merchant) = set_up_with(backend, |config| {
        config.risk.card_just_bound.points = 50;
    })
    .await;
    let (status, body) = server
        .pay(&merchant, &device.sign(&purchase(100, "M1")).unwrap().body)
        .await;
    let error = assert_error(
        status,
        &body,
        StatusCode::PAYMENT_REQUIRED,
        "authentication_required",
    );
    assert_eq!(error["next_action"]["reason"], "risk");
    assert_eq!(error["risk_reasons"][0]["code"], "card_just_bound");
    let verified = purchase(100, "M1").verified(DeviceCvm::Passcode);
    let (status, paid) = server
        .pay(&merchant, &device.sign(&verified).unwrap().body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(paid["risk"]["score"], 50);
    // ...and at the decline threshold nothing gets through, confirmed or not.
    let (server, _user, _card, mut device, merchant) = set_up_with(backend, |config| {
        config.risk.card_just_bound.points = 90;
    })
    .await;
    let verified = purchase(100, "M1").verified(DeviceCvm::Biometric);
    let (status, body) = server
        .pay(&merchant, &device.sign(&verified).unwrap().body)
        .await;
    let error = assert_error(status, &body, StatusCode::PAYMENT_REQUIRED, "risk_declined");
    assert_eq!(error["risk_reasons"][0]["code"], "card_just_bound");
    assert_eq!(error["risk_reasons"][0]["message"], "这张卡刚刚添加到钱包");
}

async fn a_payment_reported_as_not_mine_pauses_its_card_and_opens_a_ticket(backend: Backend) {
    let (server, user, card, mut device, merchant) = set_up_with(backend, |_| {}).await;
    let (status, paid) = server
        .pay(
            &merchant,
            &device.sign(&purchase(4_200, "M1")).unwrap().body,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    let id = paid["id"].as_str().unwrap();
    let path = format!("/v1/payments/{id}/report");
    // Another person's payment is not theirs to report.
    let stranger = server.user_named("王五").await;
    let (status, body) = server.post(&path, &stranger.token, json!({})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, report) = server
        .post(
            &path,
            &user.token,
            json!({"message": "不是我付的，卡号 6228480000000000000"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    assert_eq!(report["card_paused"], true);
    assert_eq!(report["card_id"], card["id"]);
    assert!(
        report["next_steps"].as_str().unwrap().contains("暂停"),
        "{report}"
    );
    // The card pays no more.
    let (status, body) = server
        .pay(&merchant, &device.sign(&purchase(100, "M1")).unwrap().body)
        .await;
    let error = assert_error(
        status,
        &body,
        StatusCode::PAYMENT_REQUIRED,
        "token_suspended",
    );
    assert_eq!(error["suspended_by"], json!(["cardholder"]));
    // Reported once: again answers the first report.
    let (status, again) = server.post(&path, &user.token, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["id"], report["id"]);
    // Support sees the ticket with the payment attached, card numbers masked.
    let (status, list) = server.get("/v1/support/tickets", &server.support_key).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let tickets = list["data"].as_array().unwrap();
    assert_eq!(tickets.len(), 1, "{list}");
    let ticket = &tickets[0];
    assert_eq!(ticket["id"], report["ticket_id"]);
    assert_eq!(ticket["kind"], "payment_report");
    assert_eq!(ticket["payment_id"], id);
    assert_eq!(ticket["details"]["payment"]["amount"], 4_200);
    assert_eq!(
        ticket["details"]["payment"]["risk_reasons"][0]["code"],
        "card_just_bound"
    );
    assert!(
        !ticket["message"]
            .as_str()
            .unwrap()
            .contains("6228480000000000000"),
        "{ticket}"
    );
    // The person's records show the report beside the payment.
    let (status, records) = server
        .get("/v1/transactions?type=report", &user.token)
        .await;
    assert_eq!(status, StatusCode::OK, "{records}");
    let entries = records["data"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{records}");
    assert_eq!(entries[0]["id"], report["id"]);
    assert_eq!(entries[0]["amount"], 4_200);
    assert_eq!(entries[0]["status"], "reported");
    let (_, all) = server.get("/v1/transactions", &user.token).await;
    let mut kinds: Vec<&str> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["decline", "payment", "report"], "{all}");
    // Support reads the risk rules' reasons with the person's records.
    let (status, seen) = server
        .get(
            &format!("/v1/support/users/{}/transactions?type=payment", user.id),
            &server.support_key,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert_eq!(seen["data"][0]["risk_reasons"], json!(["card_just_bound"]));
}

async fn a_frozen_wallet_pays_nothing_until_unfrozen_with_a_confirmation(backend: Backend) {
    let (server, user, card, mut device, merchant) = set_up_with(backend, |_| {}).await;
    let (status, frozen) = server.post("/v1/me/freeze", &user.token, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{frozen}");
    assert_eq!(
        (frozen["frozen"].clone(), frozen["cards_changed"].clone()),
        (json!(true), json!(1))
    );
    let (status, body) = server
        .pay(&merchant, &device.sign(&purchase(100, "M1")).unwrap().body)
        .await;
    let error = assert_error(status, &body, StatusCode::FORBIDDEN, "account_frozen");
    assert!(error["payment_id"].as_str().unwrap().starts_with("pay_"));
    let token_ref = card["token"]["ref"].as_str().unwrap();
    let (status, body) = server
        .post(
            &format!("/v1/tokens/{token_ref}/cryptograms"),
            &user.token,
            json!({"amount": 100, "currency": "CNY", "merchant_id": "SHOP-1"}),
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "account_frozen");
    let (status, body) = server
        .keys(&user, token_ref, json!({"device_id": "phone-1"}))
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "account_frozen");
    // Nor does it send money: refused before any confirmation is asked for.
    let to = crate::card(tessera_server::issuer::sandbox::Outcome::Approve);
    let body = crate::transfers::transfer(card["id"].as_str().unwrap(), &to, 100);
    let (status, _, body) =
        crate::transfers::send(&server, &user, None, Some("frozen-1"), &body).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "account_frozen");
    // Support sees it.
    let (_, list) = server.get("/v1/support/tickets", &server.support_key).await;
    assert_eq!(list["data"][0]["kind"], "wallet_freeze", "{list}");
    // Unfreezing takes a confirmation.
    let (status, body) = server
        .confirmed(Method::DELETE, "/v1/me/freeze", &user.token, None, None)
        .await;
    assert_error(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "verification_required",
    );
    let unfreeze = server.confirm(&user, json!({"purpose": "unfreeze"})).await;
    let (status, body) = server
        .confirmed(
            Method::DELETE,
            "/v1/me/freeze",
            &user.token,
            None,
            Some(&unfreeze),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["frozen"].clone(), body["cards_changed"].clone()),
        (json!(false), json!(1))
    );
    let (status, body) = server
        .pay(&merchant, &device.sign(&purchase(100, "M1")).unwrap().body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, state) = server.get("/v1/me/freeze", &user.token).await;
    assert_eq!(state["frozen"], false);
}

on_both_backends!(
    a_payment_above_the_limit_is_declined_then_approved_when_confirmed,
    the_daily_limit_counts_what_went_unconfirmed_and_raising_it_is_confirmed,
    each_risk_rule_gives_its_reason,
    the_score_decides_step_up_or_decline_with_its_reasons,
    a_payment_reported_as_not_mine_pauses_its_card_and_opens_a_ticket,
    a_frozen_wallet_pays_nothing_until_unfrozen_with_a_confirmation,
);
