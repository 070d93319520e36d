//! Fee quotes over HTTP: the default schedule's rounding at its minimum and
//! maximum, same bank and cross bank told by the destination's BIN, a
//! configured channel rule, and bad input refused naming the field, with
//! the destination's number never answered or logged in clear.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tessera_core::fees::{FeeChannel, FeeOperation, FeeRule};
use tessera_server::issuer::sandbox::{self, Outcome};

use crate::{Backend, TestServer, User, assert_error, card, log_buffer};

async fn quote(server: &TestServer, user: &User, body: Value, lang: &str) -> (StatusCode, Value) {
    let (status, _, answer) = server
        .call(
            Method::POST,
            "/v1/fees/quote",
            Some(&user.token),
            Some(&body),
            &[("Accept-Language", lang)],
        )
        .await;
    (status, answer)
}

fn cross_bank(amount: i64) -> Value {
    json!({"operation": "transfer_cross_bank", "amount": amount, "currency": "CNY",
        "channel": "in_app"})
}

async fn a_cross_bank_quote_rounds_half_up_then_holds_at_its_minimum_and_maximum(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    // (amount, fee, rounded percentage part, bound that held it)
    for (amount, fee, rounded, clamped) in [
        (123_450, 123, 123, Value::Null),
        (123_500, 124, 124, Value::Null),
        (99_449, 100, 99, json!("min")),
        (99_500, 100, 100, Value::Null),
        (1, 100, 0, json!("min")),
        (5_000_049, 5_000, 5_000, Value::Null),
        (5_000_500, 5_000, 5_001, json!("max")),
        (999_999_999_999, 5_000, 1_000_000_000, json!("max")),
    ] {
        let (status, body) = quote(&server, &user, cross_bank(amount), "zh-CN").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["fee"], fee, "{amount}: {body}");
        assert_eq!(body["total"], amount + fee, "{body}");
        assert_eq!(body["rounding"]["rounded_percentage"], rounded, "{body}");
        assert_eq!(body["rounding"]["clamped"], clamped, "{amount}: {body}");
        assert_eq!(body["rounding"]["method"], "half_up");
    }
    let (_, body) = quote(&server, &user, cross_bank(123_455), "zh-CN").await;
    assert_eq!(body["rounding"]["exact_percentage"], "123.4550");
    assert_eq!(body["fee"], 123);
    assert_eq!(
        body["rule"],
        json!({"operation": "transfer_cross_bank", "channel": "any", "rate_bps": 10,
            "fixed": 0, "min": 100, "max": 5000,
            "description": "跨行转账手续费：按金额的0.1%收取，最低1.00元，最高50.00元"})
    );
    assert!(
        body["rounding"]["description"]
            .as_str()
            .unwrap()
            .contains("四舍五入到分")
    );
    let (_, body) = quote(&server, &user, cross_bank(123_455), "en").await;
    assert_eq!(
        body["rule"]["description"],
        "The fee for a transfer to another bank is 0.1% of the amount, at least 1.00 CNY, \
         at most 50.00 CNY"
    );
    assert!(
        body["rounding"]["description"]
            .as_str()
            .unwrap()
            .contains("half up")
    );
    let same = json!({"operation": "transfer_same_bank", "amount": 1_000_000,
        "currency": "CNY", "channel": "web"});
    let (_, body) = quote(&server, &user, same, "en").await;
    assert_eq!(
        (&body["fee"], &body["total"]),
        (&json!(0), &json!(1_000_000))
    );
    assert_eq!(
        body["rule"]["description"],
        "No fee for a transfer within the same bank"
    );
}

async fn same_or_cross_bank_is_told_by_the_destination_s_bin(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let bound = server
        .bind_on(&user, &card(Outcome::Approve), "phone-1")
        .await;
    let source = bound["id"].as_str().unwrap();
    let abc = card(Outcome::Approve);
    let icbc = sandbox::card_number("621226", 19, Outcome::Approve).unwrap();
    let shaped = |number: &str| {
        json!({"source_card_id": source, "destination_card_number": number,
            "amount": 200_000, "currency": "CNY", "channel": "in_app"})
    };
    let (status, body) = quote(&server, &user, shaped(&abc), "zh-CN").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (&body["operation"], &body["fee"]),
        (&json!("transfer_same_bank"), &json!(0))
    );
    assert_eq!(body["source_card_id"], source);
    assert_eq!(body["destination"]["issuer_code"], "ABC");
    assert_eq!(body["destination"]["issuer_name"], "中国农业银行");
    let (status, body) = quote(&server, &user, shaped(&icbc), "en").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (&body["operation"], &body["fee"]),
        (&json!("transfer_cross_bank"), &json!(200))
    );
    assert_eq!(body["destination"]["issuer_code"], "ICBC");
    // The number comes back masked, first 6 and last 4, and nowhere whole.
    assert_eq!(
        body["destination"]["number"],
        format!("621226*********{}", &icbc[15..])
    );
    assert!(!body.to_string().contains(&icbc[6..15]));
    // An operation sent with the shape must be the one the BINs make.
    let mut wrong = shaped(&icbc);
    wrong["operation"] = json!("transfer_same_bank");
    let (status, body) = quote(&server, &user, wrong, "en").await;
    let error = assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(error["param"], "operation");
    // Binding is never a fee's operation.
    let bind = json!({"operation": "binding", "amount": 1, "currency": "CNY", "channel": "web"});
    let (status, body) = quote(&server, &user, bind, "en").await;
    let error = assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(error["param"], "operation");
}

async fn a_channel_s_own_rule_is_quoted_before_any(backend: Backend) {
    let server = TestServer::start_on(backend, |config| {
        config
            .fees
            .0
            .entry(FeeOperation::TransferCrossBank)
            .or_default()
            .insert(
                FeeChannel::Web,
                FeeRule {
                    rate_bps: 0,
                    fixed: 200,
                    min: 0,
                    max: None,
                },
            );
    })
    .await;
    let user = server.user().await;
    let mut web = cross_bank(1_000_000);
    web["channel"] = json!("web");
    let (_, body) = quote(&server, &user, web, "zh-CN").await;
    assert_eq!(
        (&body["fee"], &body["rule"]["channel"]),
        (&json!(200), &json!("web"))
    );
    assert_eq!(
        body["rule"]["description"],
        "跨行转账手续费：每笔另收2.00元"
    );
    let (_, body) = quote(&server, &user, cross_bank(1_000_000), "zh-CN").await;
    assert_eq!(
        (&body["fee"], &body["rule"]["channel"]),
        (&json!(1_000), &json!("any"))
    );
}

async fn bad_input_is_refused_naming_the_field_and_nothing_is_kept(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let bound = server
        .bind_on(&user, &card(Outcome::Approve), "phone-1")
        .await;
    let source = bound["id"].as_str().unwrap();
    // Luhn-invalid: the last digit of a valid number, changed.
    let valid = sandbox::card_number("621226", 19, Outcome::Approve).unwrap();
    let last = valid.as_bytes()[18] - b'0';
    let invalid = format!("{}{}", &valid[..18], (last + 1) % 10);
    let with = |field: &str, value: Value| {
        let mut body = cross_bank(10_000);
        body[field] = value;
        body
    };
    for (body, status, code, param) in [
        (
            with("amount", json!(-100)),
            400,
            "invalid_request",
            "amount",
        ),
        (with("amount", json!(0)), 400, "invalid_request", "amount"),
        (
            with("amount", json!(1_000_000_000_000i64)),
            400,
            "invalid_request",
            "amount",
        ),
        (
            with("amount", json!("100")),
            400,
            "invalid_request",
            "amount",
        ),
        (
            with("operation", json!("transfer_abroad")),
            400,
            "invalid_request",
            "operation",
        ),
        (
            with("currency", json!("USD")),
            400,
            "invalid_request",
            "currency",
        ),
        (
            with("currency", json!("XXX")),
            400,
            "invalid_request",
            "currency",
        ),
        (
            with("channel", json!("nfc")),
            400,
            "invalid_request",
            "channel",
        ),
        (
            with("channel", json!("any")),
            400,
            "invalid_request",
            "channel",
        ),
        (
            json!({"amount": 100, "currency": "CNY", "channel": "web"}),
            400,
            "invalid_request",
            "operation",
        ),
        (
            json!({"source_card_id": source, "destination_card_number": invalid,
                "amount": 100, "currency": "CNY", "channel": "web"}),
            422,
            "incorrect_number",
            "destination_card_number",
        ),
        (
            json!({"source_card_id": source, "destination_card_number": "6212",
                "amount": 100, "currency": "CNY", "channel": "web"}),
            422,
            "invalid_number",
            "destination_card_number",
        ),
        (
            json!({"source_card_id": source, "amount": 100, "currency": "CNY",
                "channel": "web"}),
            400,
            "invalid_request",
            "destination_card_number",
        ),
        (
            json!({"source_card_id": "card_not_mine", "destination_card_number": valid,
                "amount": 100, "currency": "CNY", "channel": "web"}),
            404,
            "not_found",
            "source_card_id",
        ),
    ] {
        let (got, answer) = quote(&server, &user, body.clone(), "en").await;
        let error = assert_error(got, &answer, StatusCode::from_u16(status).unwrap(), code);
        assert_eq!(error["param"], param, "{body}");
        for number in [&valid, &invalid] {
            assert!(!answer.to_string().contains(number.as_str()), "{answer}");
        }
    }
    // Another person's card is not a source; keys do not get quotes.
    let stranger = server.user_named("李四").await;
    let body = json!({"source_card_id": source, "destination_card_number": valid,
        "amount": 100, "currency": "CNY", "channel": "web"});
    let (status, answer) = quote(&server, &stranger, body.clone(), "en").await;
    assert_error(status, &answer, StatusCode::NOT_FOUND, "not_found");
    let (status, answer) = server
        .post("/v1/fees/quote", &server.support_key, body)
        .await;
    assert_error(status, &answer, StatusCode::FORBIDDEN, "forbidden");
    // Nothing was kept: the wallet is as it was, and no log line holds
    // either number whole.
    let cards = server.cards(&user).await;
    assert_eq!(cards.len(), 1);
    let logs = String::from_utf8_lossy(&log_buffer().lock().unwrap()).into_owned();
    for number in [&valid, &invalid] {
        assert!(
            !logs.contains(number.as_str()),
            "a destination number was logged"
        );
    }
}

on_both_backends!(
    a_cross_bank_quote_rounds_half_up_then_holds_at_its_minimum_and_maximum,
    same_or_cross_bank_is_told_by_the_destination_s_bin,
    a_channel_s_own_rule_is_quoted_before_any,
    bad_input_is_refused_naming_the_field_and_nothing_is_kept,
);
