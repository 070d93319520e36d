//! The rules real wallets apply: one card in at most
//! `limits.max_wallets_per_card` wallets (alone and in a burst), Class II
//! and III bank accounts refused, and the payment declines people meet
//! explained, a replaced card refused without asking its bank.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tessera_server::issuer::sandbox::Outcome;

use crate::limits::{attempts, burst, connected};
use crate::payments::set_up_unscreened;
use crate::{Backend, TestServer, User, assert_error, card, purchase};

/// `POST /v1/cards` of `number` for `user`, in `lang`.
async fn bind_in(
    server: &TestServer,
    user: &User,
    number: &str,
    lang: &str,
) -> (StatusCode, Value) {
    let (status, _, body) = server
        .call(
            Method::POST,
            "/v1/cards",
            Some(&user.token),
            Some(&json!({"number": number, "holder_name": user.real_name})),
            &[("accept-language", lang)],
        )
        .await;
    (status, body)
}

async fn a_card_is_in_three_wallets_at_most_and_unbinding_frees_a_place(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let number = card(Outcome::Approve);
    let mut people = Vec::new();
    for _ in 0..4 {
        people.push(server.user().await);
    }
    let mut bound = Vec::new();
    for person in &people[..3] {
        let (status, body) = server.bind(person, &number).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        bound.push(body["id"].as_str().unwrap().to_owned());
    }

    // The fourth person hears why, in either language, before the bank is
    // asked; nothing of theirs is kept but the attempt.
    let fourth = &people[3];
    let (status, body) = bind_in(&server, fourth, &number, "en").await;
    let error = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "card_wallet_limit_reached",
    );
    assert_eq!(error["param"], "number");
    assert_eq!(error["cause"], "account");
    assert_eq!(error["retryable"], false);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("already in as many wallets as it may be"),
        "{error}"
    );
    assert!(
        error["remedy"]
            .as_str()
            .unwrap()
            .starts_with("Remove the card from one of the wallets it is in"),
        "{error}"
    );
    assert_eq!(error["doc_url"], "/help/errors/card_wallet_limit_reached");
    assert!(!body.to_string().contains(&number[6..]), "no card number");
    let (status, body) = bind_in(&server, fourth, &number, "zh-CN").await;
    let error = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "card_wallet_limit_reached",
    );
    assert!(
        error["message"].as_str().unwrap().contains("最多个钱包"),
        "{error}"
    );
    assert!(
        error["remedy"].as_str().unwrap().contains("解绑"),
        "{error}"
    );
    assert!(server.cards(fourth).await.is_empty());
    let tries = attempts(&server, fourth).await;
    assert_eq!(tries.len(), 2);
    for attempt in &tries {
        assert_eq!(
            attempt.error_code.as_deref(),
            Some("card_wallet_limit_reached")
        );
        assert_eq!(attempt.issuer_response, None, "the bank was not asked");
    }

    // One of the three removes it: the fourth may bind it now, and a
    // fifth is refused again.
    let (status, body) = server.unbind(&people[1], &bound[1]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = server.bind(fourth, &number).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let fifth = server.user().await;
    let (status, body) = server.bind(&fifth, &number).await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "card_wallet_limit_reached",
    );
    // Other cards are not this one's business.
    let (status, body) = server.bind(&fifth, &card(Outcome::Approve)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn ten_people_binding_one_card_at_once_leave_three(backend: Backend) {
    // The attempts per card are raised so that only the wallet rule stops
    // the burst.
    let server = TestServer::start_on(backend, |config| {
        config.limits.card_bindings_per_day = 20;
    })
    .await;
    let number = card(Outcome::Approve);
    let mut people = Vec::new();
    for _ in 0..10 {
        people.push(server.user().await);
    }
    let requests = people
        .iter()
        .map(|person| {
            (
                "/v1/cards".to_owned(),
                person.token.clone(),
                json!({"number": number, "holder_name": person.real_name}),
            )
        })
        .collect();
    let clients = connected(&server, 10).await;
    let answers = burst(&server, clients, requests).await;
    let mut created = 0;
    for (status, _, body) in &answers {
        if *status == StatusCode::CREATED {
            created += 1;
        } else {
            assert_error(
                *status,
                body,
                StatusCode::UNPROCESSABLE_ENTITY,
                "card_wallet_limit_reached",
            );
        }
    }
    assert_eq!(created, 3, "bindings of one card that went through");
    let mut holding = 0;
    let mut reached_bank = 0;
    for person in &people {
        holding += server.cards(person).await.len();
        reached_bank += attempts(&server, person)
            .await
            .iter()
            .filter(|a| a.issuer_response.is_some())
            .count();
    }
    assert_eq!(holding, 3, "wallets holding the card");
    assert_eq!(reached_bank, 3, "the refused ones never reached the bank");
}

async fn class_two_and_three_accounts_are_refused(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let number = card(Outcome::AccountClass);
    let (status, body) = bind_in(&server, &user, &number, "en").await;
    let error = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "card_not_supported",
    );
    assert_eq!(error["reason"], "account_class");
    assert_eq!(error["cause"], "card_not_supported");
    assert_eq!(
        error["message"],
        "This card belongs to a Class II or Class III account: only cards of Class I accounts can be added"
    );
    let remedy = error["remedy"].as_str().unwrap();
    assert!(
        remedy.contains("debit card of a Class I account"),
        "{remedy}"
    );
    assert!(remedy.contains("upgrade"), "{remedy}");
    let (status, body) = bind_in(&server, &user, &number, "zh-CN").await;
    let error = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "card_not_supported",
    );
    assert_eq!(
        error["message"],
        "这张卡对应的是二类或三类账户，只有一类账户的卡可以绑定"
    );
    let remedy = error["remedy"].as_str().unwrap();
    assert!(remedy.contains("一类账户的借记卡"), "{remedy}");
    assert!(remedy.contains("升级"), "{remedy}");
    assert!(server.cards(&user).await.is_empty());
    // The bank answered it: recorded as such, and it frees the card's place.
    let tries = attempts(&server, &user).await;
    assert_eq!(tries.len(), 2);
    assert_eq!(tries[0].error_reason.as_deref(), Some("account_class"));
    assert_eq!(
        tries[0].issuer_response.as_deref(),
        Some("not_supported:account_class")
    );
    let (status, body) = server.bind(&user, &card(Outcome::Approve)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// Pays `amount` with the next key of the device, in `lang`.
async fn pay_in(
    server: &TestServer,
    merchant: &str,
    device: &mut tessera_server::test_support::Device,
    amount: u64,
    lang: &str,
) -> (StatusCode, Value) {
    let body = device.sign(&purchase(amount, "M1")).unwrap().body;
    let (status, _, answer) = server
        .call(
            Method::POST,
            "/v1/payments",
            Some(merchant),
            Some(&body),
            &[("accept-language", lang)],
        )
        .await;
    (status, answer)
}

async fn payment_declines_people_meet_are_explained(backend: Backend) {
    let (server, user, _card, mut device, merchant) = set_up_unscreened(backend).await;
    let cases = [
        (
            1265,
            "quick_pay_limit_exceeded",
            "over your bank's quick payment limit",
            "快捷支付限额",
            "raise the quick payment limit",
        ),
        (
            1257,
            "online_payment_disabled",
            "Online (quick) payments are not turned on",
            "没有开通网上支付",
            "Turn on online (quick) payments",
        ),
        (
            1251,
            "insufficient_funds",
            "There is not enough money on the card",
            "余额不足",
            "make a repayment",
        ),
    ];
    for (amount, decline_code, message_en, message_zh, remedy_en) in cases {
        let (status, body) = pay_in(&server, &merchant, &mut device, amount, "en").await;
        let error = assert_error(status, &body, StatusCode::PAYMENT_REQUIRED, "card_declined");
        assert_eq!(error["decline_code"], decline_code);
        assert!(
            error["message"].as_str().unwrap().contains(message_en),
            "{error}"
        );
        assert!(
            error["remedy"].as_str().unwrap().contains(remedy_en),
            "{error}"
        );
        let (status, body) = pay_in(&server, &merchant, &mut device, amount, "zh-CN").await;
        let error = assert_error(status, &body, StatusCode::PAYMENT_REQUIRED, "card_declined");
        assert_eq!(error["decline_code"], decline_code);
        assert!(
            error["message"].as_str().unwrap().contains(message_zh),
            "{error}"
        );
    }
    // Each is in the person's payments with its reason; the card still pays.
    let records = server.payments(&user).await;
    assert_eq!(records.len(), 6);
    for record in &records {
        assert_eq!(record["status"], "declined");
    }
    let (status, body) = pay_in(&server, &merchant, &mut device, 1234, "en").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn a_replaced_card_is_refused_at_once_and_says_to_bind_the_new_one(backend: Backend) {
    let (server, user, card, mut device, merchant) = set_up_unscreened(backend).await;
    let (status, body) = pay_in(&server, &merchant, &mut device, 1256, "en").await;
    let error = assert_error(status, &body, StatusCode::PAYMENT_REQUIRED, "card_declined");
    assert_eq!(error["decline_code"], "card_reissued");
    assert!(
        error["remedy"]
            .as_str()
            .unwrap()
            .starts_with("Add the new card your bank sent you"),
        "{error}"
    );

    // From now on the bank is not asked: were it asked, it could not be
    // reached at all (a 503), and an amount it approves is refused too.
    let unreachable = json!({"latency_ms": 0, "failure_rate": 1.0});
    let (status, _, body) = server
        .call(
            Method::PUT,
            "/v1/sandbox/issuer",
            Some(&server.operator_key),
            Some(&unreachable),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for lang in ["en", "zh-CN"] {
        let (status, body) = pay_in(&server, &merchant, &mut device, 1234, lang).await;
        let error = assert_error(status, &body, StatusCode::PAYMENT_REQUIRED, "card_declined");
        assert_eq!(error["decline_code"], "card_reissued", "{body}");
        assert!(error["payment_id"].as_str().unwrap().starts_with("pay_"));
    }
    // Nor does it get keys to pay with.
    let token_ref = card["token"]["ref"].as_str().unwrap();
    let (status, body) = server
        .keys(&user, token_ref, json!({"device_id": "phone-1"}))
        .await;
    let error = assert_error(status, &body, StatusCode::PAYMENT_REQUIRED, "card_declined");
    assert_eq!(error["decline_code"], "card_reissued");

    // The card list says why it cannot pay, in the person's language.
    let cards = server.cards(&user).await;
    assert_eq!(cards.len(), 1);
    assert_eq!(cards[0]["payable"], false);
    let reason = &cards[0]["reason"];
    assert_eq!(reason["code"], "card_declined");
    assert_eq!(reason["decline_code"], "card_reissued");
    assert_eq!(
        reason["message"],
        "发卡行提示这张卡已换新卡，原来的卡不能再支付"
    );
    assert!(
        reason["remedy"]
            .as_str()
            .unwrap()
            .contains("绑定发卡行寄给你的新卡")
    );
    let id = cards[0]["id"].as_str().unwrap();
    let (status, _, one) = server
        .call(
            Method::GET,
            &format!("/v1/cards/{id}"),
            Some(&user.token),
            None,
            &[("accept-language", "en")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_eq!(one["payable"], false);
    assert_eq!(one["reason"]["decline_code"], "card_reissued");
    assert!(
        one["reason"]["message"]
            .as_str()
            .unwrap()
            .contains("replaced with a new one")
    );
    // All three refusals are on record.
    let records = server.payments(&user).await;
    assert_eq!(records.len(), 3);
    for record in &records {
        assert_eq!(record["decline"]["decline_code"], "card_reissued");
    }

    // The bank moves the token to the new card: it pays again.
    let reachable = json!({"latency_ms": 0, "failure_rate": 0.0});
    let (status, _, body) = server
        .call(
            Method::PUT,
            "/v1/sandbox/issuer",
            Some(&server.operator_key),
            Some(&reachable),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let issuer = server.issuer_key(&["ABC"]).await;
    let replaced = json!({"id": "evt-new-card", "type": "card.replaced",
        "occurred_at": server.now().to_rfc3339(), "par": card["par"],
        "new_pan": crate::card(Outcome::Approve)});
    let (status, body) = server.issuer_event(&issuer, &replaced, 0).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["outcome"], "applied");
    assert_eq!(server.cards(&user).await[0]["payable"], true);
    let (status, body) = pay_in(&server, &merchant, &mut device, 1234, "en").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

on_both_backends!(
    a_card_is_in_three_wallets_at_most_and_unbinding_frees_a_place,
    ten_people_binding_one_card_at_once_leave_three,
    class_two_and_three_accounts_are_refused,
    payment_declines_people_meet_are_explained,
    a_replaced_card_is_refused_at_once_and_says_to_bind_the_new_one,
);
