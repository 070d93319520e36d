//! Free text over HTTP: a card number typed into any free-text field, in
//! any of the formats people type it in, comes back masked and is stored
//! masked; every field has a size and a character set, refused before
//! anything is written.

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tessera_server::issuer::sandbox::Outcome;
use tokio::sync::Barrier;

use crate::diagnose::bind_body;
use crate::hygiene::stored_values;
use crate::payments::set_up_with;
use crate::{Backend, TestServer, assert_error, card, purchase};

/// One card number (4111 1111 1111 1111) as people type it.
const FORMATS: &[&str] = &[
    "4111111111111111",
    "4111 1111 1111 1111",
    "4111-1111-1111-1111",
    "４１１１１１１１１１１１１１１１",
    "4111.1111.1111.1111",
    "4111/1111/1111/1111",
    "4111,1111,1111,1111",
    "4111_1111_1111_1111",
    "4111\n1111\n1111\n1111",
    "4111  1111  1111  1111",
    "4111–1111–1111–1111",
    "4111\u{3000}1111\u{3000}1111\u{3000}1111",
    "4\u{200D}1\u{200D}1\u{200D}1\u{200D}1\u{200D}1\u{200D}1\u{200D}1\u{200D}1\u{200D}1\u{200D}1\u{200D}1\u{200D}1\u{200D}1\u{200D}1\u{200D}1",
    "٤١١١١١١١١١١١١١١١",
];

/// A format as one line: one-line fields refuse newlines (and tabs), so
/// the newline format reaches them with no-break spaces instead.
fn one_line(format: &str) -> String {
    format.replace('\n', "\u{A0}")
}

/// Signs up without a session.
async fn sign_up(server: &TestServer, body: Value) -> (StatusCode, Value) {
    let (status, _, body) = server
        .call(Method::POST, "/v1/users", None, Some(&body), &[])
        .await;
    (status, body)
}

/// No text in `body` holds any of the formats, and it shows `****1111`.
fn masked_in(body: &Value, what: &str) {
    let text = body.to_string();
    for format in FORMATS {
        for typed in [format.to_string(), one_line(format)] {
            let escaped = serde_json::to_string(&typed).unwrap();
            let escaped = &escaped[1..escaped.len() - 1];
            assert!(!text.contains(escaped), "{what} shows {typed:?}: {text}");
        }
    }
    assert!(text.contains("****1111"), "{what} shows no mask: {text}");
}

async fn every_format_in_every_free_text_field_is_masked(backend: Backend) {
    let (server, user, bound, mut device, merchant) = set_up_with(backend, |config| {
        config.payments.key_batch_size = 20;
        // One declined binding per format: more than a day's attempts.
        config.limits.card_bindings_per_day = 1_000;
        config.limits.user_bindings_per_day = 1_000;
        // One payment per format, in a burst: the risk rules score them
        // without stopping any (they are proven in `safety.rs`).
        config.risk.step_up_at = u32::MAX;
        config.risk.decline_at = u32::MAX;
    })
    .await;
    let issuer = server.issuer_key(&["ABC"]).await;
    let token_ref = bound["token"]["ref"].as_str().unwrap().to_owned();
    let par = bound["par"].as_str().unwrap().to_owned();
    for (i, format) in FORMATS.iter().enumerate() {
        let line = one_line(format);
        // A binding's device details (a declined card: an attempt).
        let details = json!({"id": "phone-1", "model": line, "os": line,
            "app_version": line, "network_type": line, "locale": line});
        let (status, _, trace) = bind_body(
            &server,
            &user,
            json!({"number": card(Outcome::LostCard), "holder_name": user.real_name, "device": details}),
        )
        .await;
        assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
        // A ticket's message, several lines allowed.
        let (status, ticket) = server
            .post(
                "/v1/tickets",
                &user.token,
                json!({"trace_id": trace, "message": format!("卡号 {format} 绑不上")}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{ticket}");
        assert_eq!(ticket["message"], "卡号 ****1111 绑不上");
        // Suspend and resume reasons.
        for action in ["suspend", "resume"] {
            let (status, body) = server
                .post(
                    &format!("/v1/tokens/{token_ref}/{action}"),
                    &user.token,
                    json!({"reason": line}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        // An issuer event's reason.
        let event = json!({"id": format!("evt-{i}"), "type": "card.expiry_updated",
            "occurred_at": (server.now() + chrono::TimeDelta::seconds(i as i64)).to_rfc3339(),
            "par": par, "expiry_month": 9, "expiry_year": 2033, "reason": line});
        let (status, body) = server.issuer_event(&issuer, &event, 0).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // A merchant's name on a payment.
        let signed = device
            .sign(&purchase(1234 + 100 * i as u64, "SHOP-1").named(&line))
            .unwrap();
        let (status, payment) = server.pay(&merchant, &signed.body).await;
        assert_eq!(status, StatusCode::CREATED, "{payment}");
        assert_eq!(payment["merchant_name"], "****1111");
        // A refund's reason.
        let (status, refund) = server
            .post(
                &format!("/v1/payments/{}/refunds", payment["id"].as_str().unwrap()),
                &merchant,
                json!({"amount": 100, "reason": line}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{refund}");
        assert_eq!(refund["reason"], "****1111");
        // A maintenance notice, in both languages.
        let notice = json!({"until": (server.now() + chrono::TimeDelta::hours(1)).to_rfc3339(),
            "message_zh": format!("维护 {format}"), "message_en": format});
        let (status, _, body) = server
            .call(
                Method::PUT,
                "/v1/admin/maintenance",
                Some(&server.operator_key),
                Some(&notice),
                &[],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        masked_in(&body, "the maintenance answer");
        let (status, refused) = server.bind(&user, &card(Outcome::Approve)).await;
        let error = assert_error(
            status,
            &refused,
            StatusCode::SERVICE_UNAVAILABLE,
            "maintenance",
        );
        assert_eq!(error["message"], "维护 ****1111");
        server
            .delete("/v1/admin/maintenance", &server.operator_key)
            .await;
    }

    // What support and the person read back.
    let support = server.support_key.clone();
    let (_, attempts) = server
        .get(
            &format!("/v1/support/attempts?user_id={}&limit=200", user.id),
            &support,
        )
        .await;
    let declined: Vec<&Value> = attempts["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["error_code"] == "card_declined")
        .collect();
    assert_eq!(declined.len(), FORMATS.len());
    for attempt in declined {
        assert_eq!(attempt["device"]["id"], "phone-1", "an id stays as sent");
        for field in ["model", "os", "app_version", "network_type", "locale"] {
            assert_eq!(attempt["device"][field], "****1111", "{field}");
        }
    }
    let (_, tickets) = server.get("/v1/support/tickets", &support).await;
    masked_in(&tickets, "support's tickets");
    let (_, events) = server
        .get(&format!("/v1/support/tokens/{token_ref}/events"), &support)
        .await;
    let reasons: Vec<&Value> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e.get("reason"))
        .filter(|r| r.is_string())
        .collect();
    assert_eq!(reasons.len(), FORMATS.len() * 3);
    assert!(reasons.iter().all(|r| *r == "****1111"), "{events}");
    let payments = server.payments(&user).await;
    assert_eq!(payments.len(), FORMATS.len());
    assert!(payments.iter().all(|p| p["merchant_name"] == "****1111"));
    assert!(
        payments
            .iter()
            .all(|p| p["refunds"][0]["reason"] == "****1111")
    );

    // Nothing typed is stored as typed, in any table or column.
    let mut server = server;
    let database = server.database.take();
    let dir = server.stop().await;
    let values = stored_values(&dir, database.as_ref()).await;
    assert!(
        values
            .iter()
            .any(|v| v.table == "binding_attempts" && v.column == "device")
    );
    assert!(
        values
            .iter()
            .any(|v| v.table == "refunds" && v.column == "reason")
    );
    for value in &values {
        for format in FORMATS {
            for typed in [format.to_string(), one_line(format)] {
                let json = serde_json::to_string(&typed).unwrap();
                for needle in [typed.as_str(), &json[1..json.len() - 1]] {
                    assert!(
                        !value
                            .bytes
                            .windows(needle.len())
                            .any(|w| w == needle.as_bytes()),
                        "{typed:?} is stored in {}.{}",
                        value.table,
                        value.column
                    );
                }
            }
        }
    }
}

/// How many binding attempts and cards the user has, as support sees them.
async fn attempts_and_cards(server: &TestServer, user: &crate::User) -> (usize, usize) {
    let (_, attempts) = server
        .get(
            &format!("/v1/support/attempts?user_id={}", user.id),
            &server.support_key,
        )
        .await;
    let attempts = attempts["data"].as_array().unwrap().len();
    (attempts, server.cards(user).await.len())
}

/// The 60 KB device model, sent by 16 requests released together on
/// connections opened first: each is refused before anything is written.
async fn a_huge_device_model_is_refused_and_changes_nothing(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let number = card(Outcome::Approve);
    let huge = json!({"number": number, "holder_name": user.real_name,
        "device": {"id": "phone-1", "model": "M".repeat(60_000)}});
    let senders = 16;
    let barrier = Arc::new(Barrier::new(senders));
    let mut tasks = Vec::new();
    for i in 0..senders {
        let client = reqwest::Client::new();
        // The connection first.
        let (base, token, body, barrier) = (
            server.base.clone(),
            user.token.clone(),
            huge.clone(),
            barrier.clone(),
        );
        client.get(format!("{base}/healthz")).send().await.unwrap();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let response = client
                .post(format!("{base}/v1/cards"))
                .bearer_auth(token)
                .header("idempotency-key", format!("huge-{i}"))
                .json(&body)
                .send()
                .await
                .unwrap();
            (response.status(), response.json::<Value>().await.unwrap())
        }));
    }
    let mut refused = 0;
    for task in tasks {
        let (status, body) = task.await.unwrap();
        let error = assert_error(
            status,
            &body,
            StatusCode::UNPROCESSABLE_ENTITY,
            "field_too_long",
        );
        assert_eq!(error["param"], "device.model");
        assert_eq!(error["max_length"], 64);
        refused += 1;
    }
    assert_eq!(refused, senders);
    assert_eq!(attempts_and_cards(&server, &user).await, (0, 0));
    // No idempotency record either: the same key binds with a fitting body.
    let (status, _, body) = server
        .call(
            Method::POST,
            "/v1/cards",
            Some(&user.token),
            Some(&json!({"number": number, "holder_name": user.real_name,
                "device": {"id": "phone-1", "model": "Xiaomi 14"}})),
            &[("idempotency-key", "huge-0")],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(attempts_and_cards(&server, &user).await, (1, 1));
}

async fn invisible_and_control_characters_are_refused(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    // Sign-up: 张\u{200d}三 is refused, and no account is made.
    let phone = crate::phone();
    let code = server.sign_up_code(&phone).await;
    let body_of = |name: &str| {
        json!({"phone": phone, "real_name": name, "id_number": crate::id_number(),
            "password": "pass-word-1", "sms_code": code})
    };
    let (status, body) = sign_up(&server, body_of("张\u{200d}三")).await;
    let error = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_characters",
    );
    assert_eq!(error["param"], "real_name");
    let (status, body) = sign_up(&server, body_of("张三")).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "the phone is still free: {body}"
    );

    // Binding: the holder name, and control characters in a device field.
    let user = server.user().await;
    for (body, param) in [
        (
            json!({"number": card(Outcome::Approve), "holder_name": "张\u{200d}三"}),
            "holder_name",
        ),
        (
            json!({"number": card(Outcome::Approve), "holder_name": "张\u{202e}三"}),
            "holder_name",
        ),
        (
            json!({"number": card(Outcome::Approve), "holder_name": user.real_name,
                "device": {"model": "Pixel\u{1b}[31m"}}),
            "device.model",
        ),
    ] {
        let (status, refused, _) = bind_body(&server, &user, body).await;
        let error = assert_error(
            status,
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_characters",
        );
        assert_eq!(error["param"], param);
    }
    assert_eq!(attempts_and_cards(&server, &user).await, (0, 0));

    // A ticket's message takes newlines but not other control characters.
    let (_, _, trace) = bind_body(
        &server,
        &user,
        json!({"number": card(Outcome::LostCard), "holder_name": user.real_name}),
    )
    .await;
    let (status, body) = server
        .post(
            "/v1/tickets",
            &user.token,
            json!({"trace_id": trace, "message": "响铃\u{7}"}),
        )
        .await;
    let error = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_characters",
    );
    assert_eq!(error["param"], "message");
    let (status, body) = server
        .post(
            "/v1/tickets",
            &user.token,
            json!({"trace_id": trace, "message": "第一行\n第二行"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn limits_come_from_the_configuration(backend: Backend) {
    let server = TestServer::start_on(backend, |config| {
        config.limits.device_field_chars = 8;
        config.limits.message_chars = 10;
        config.limits.name_chars = 3;
    })
    .await;
    let user = server.user().await;
    let (status, body, _) = bind_body(
        &server,
        &user,
        json!({"number": card(Outcome::LostCard), "holder_name": user.real_name,
            "device": {"model": "Xiaomi 14"}}),
    )
    .await;
    let error = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "field_too_long",
    );
    assert_eq!(
        (error["param"].as_str(), error["max_length"].as_u64()),
        (Some("device.model"), Some(8))
    );
    assert!(
        error["message"].as_str().unwrap().contains("最多8个字符"),
        "{error}"
    );
    let (status, _, trace) = bind_body(
        &server,
        &user,
        json!({"number": card(Outcome::LostCard), "holder_name": user.real_name,
            "device": {"model": "Xiaomi"}}),
    )
    .await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
    // Counted in characters: ten Han characters are 30 bytes, and fit.
    let (status, body) = server
        .post(
            "/v1/tickets",
            &user.token,
            json!({"trace_id": trace, "message": "一二三四五六七八九十"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = server
        .post(
            "/v1/tickets",
            &user.token,
            json!({"trace_id": trace, "message": "一二三四五六七八九十一"}),
        )
        .await;
    let error = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "field_too_long",
    );
    assert_eq!(
        (error["param"].as_str(), error["max_length"].as_u64()),
        (Some("message"), Some(10))
    );
    let (status, body) = sign_up(
        &server,
        json!({"phone": crate::phone(), "real_name": "欧阳娜娜", "id_number": crate::id_number(),
                "password": "pass-word-1", "sms_code": "123456"}),
    )
    .await;
    let error = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "field_too_long",
    );
    assert_eq!(error["param"], "real_name");
}

on_both_backends!(
    every_format_in_every_free_text_field_is_masked,
    a_huge_device_model_is_refused_and_changes_nothing,
    invisible_and_control_characters_are_refused,
    limits_come_from_the_configuration,
);
