//! The binding path: every error code in its step, OTP step-up, limits,
//! duplicates, the real-name rule, unbinding and user isolation.

use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::Connection;
use tessera_server::issuer::sandbox::{self, Outcome};

use crate::{Backend, TestDatabase, TestServer, assert_error, card, postgres_available};

async fn an_approved_card_is_bound_with_its_token_and_masked_data_only(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let number = card(Outcome::Approve);
    let (status, body) = server.bind(&user, &number).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "active");
    assert_eq!(body["brand"], "unionpay");
    assert_eq!(body["issuer"]["code"], "ABC");
    assert_eq!(body["issuer"]["name_zh"], "中国农业银行");
    assert_eq!(body["card_type"], "debit");
    assert_eq!(body["first6"], "622848");
    assert_eq!(body["last4"], &number[15..]);
    assert_eq!(body["is_default"], true);
    assert_eq!(body["par"].as_str().unwrap().len(), 29);
    assert_eq!(body["token"]["status"], "active");
    assert!(body["token"]["ref"].as_str().unwrap().starts_with("tok_"));
    let text = body.to_string();
    assert!(!text.contains(&number), "the full PAN leaked: {text}");
    assert_ne!(body["token"]["last4"], body["last4"]);

    let id = body["id"].as_str().unwrap();
    let (status, fetched) = server.get(&format!("/v1/cards/{id}"), &user.token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched["id"], id);
    assert_eq!(server.cards(&user).await.len(), 1);
}

async fn field_errors_each_have_their_code_and_param_and_change_nothing(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let good = card(Outcome::Approve);
    let cases = [
        (
            json!({"number": "6228 48ab", "holder_name": "张三"}),
            "invalid_number",
            "number",
        ),
        (
            json!({"number": "4242424242424241", "holder_name": "张三"}),
            "incorrect_number",
            "number",
        ),
        (
            json!({"number": good, "holder_name": "张三", "expiry_month": "13", "expiry_year": "30"}),
            "invalid_expiry_month",
            "expiry_month",
        ),
        (
            json!({"number": good, "holder_name": "张三", "expiry_month": 12, "expiry_year": "3x"}),
            "invalid_expiry_year",
            "expiry_year",
        ),
        (
            json!({"number": good, "holder_name": "张三", "expiry_month": "01", "expiry_year": "2020"}),
            "expired_card",
            "expiry_year",
        ),
        (
            json!({"number": good, "holder_name": "张三", "expiry_month": 1, "expiry_year": 2099}),
            "invalid_expiry_year",
            "expiry_year",
        ),
        (
            json!({"number": good, "holder_name": "张三", "cvc": "12"}),
            "invalid_cvc",
            "cvc",
        ),
        (
            json!({"number": good, "holder_name": "张3"}),
            "invalid_holder_name",
            "holder_name",
        ),
        (
            json!({"number": good, "holder_name": "张三", "bank_phone": "12345"}),
            "invalid_phone",
            "bank_phone",
        ),
    ];
    for (body, code, param) in cases {
        let (status, response) = server.post("/v1/cards", &user.token, body).await;
        let error = assert_error(status, &response, StatusCode::UNPROCESSABLE_ENTITY, code);
        assert_eq!(error["param"], param, "{response}");
        assert_eq!(error["cause"], "input", "{response}");
    }
    assert!(server.cards(&user).await.is_empty());
    // Nothing was reserved: the good card still binds.
    let (status, _) = server.bind(&user, &good).await;
    assert_eq!(status, StatusCode::CREATED);
}

async fn malformed_json_is_invalid_request_naming_the_field(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let (status, body) = server
        .post(
            "/v1/cards",
            &user.token,
            json!({"number": 6228480000000000000u64, "holder_name": "张三"}),
        )
        .await;
    let error = assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(error["param"], "number");
    let (status, body) = server
        .post("/v1/cards", &user.token, json!({"holder_name": "张三"}))
        .await;
    let error = assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(error["param"], "number");
    let response = server
        .client
        .post(format!("{}/v1/cards", server.base))
        .bearer_auth(&user.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_request");
}

async fn messages_follow_accept_language(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let body = json!({"number": "4242424242424241", "holder_name": "张三"});
    let (_, headers, zh) = server
        .call(
            Method::POST,
            "/v1/cards",
            Some(&user.token),
            Some(&body),
            &[],
        )
        .await;
    assert_eq!(zh["error"]["message"], "卡号有误，请核对后重新输入");
    assert_eq!(headers["content-language"], "zh-CN");
    let (_, headers, en) = server
        .call(
            Method::POST,
            "/v1/cards",
            Some(&user.token),
            Some(&body),
            &[("accept-language", "en-US,en;q=0.9")],
        )
        .await;
    assert!(
        en["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("The card number is incorrect")
    );
    assert_eq!(headers["content-language"], "en");
    // The trace id is the response's X-Request-Id.
    assert_eq!(
        headers["x-request-id"].to_str().unwrap(),
        en["error"]["trace_id"]
    );
}

async fn support_policy_refusals_name_their_reason(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    // 620010: 平安银行 prepaid (16 digits) in the shipped China table.
    let prepaid = sandbox::card_number("620010", 16, Outcome::Approve).unwrap();
    let (status, body) = server.bind(&user, &prepaid).await;
    let error = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "card_not_supported",
    );
    assert_eq!(error["reason"], "card_type");
    assert_eq!(error["message"], "预付费卡暂不支持绑定");
    assert_eq!(error["cause"], "card_not_supported");
    // The issuer itself does not take part in binding (sandbox 400).
    let (status, body) = server.bind(&user, &card(Outcome::NotParticipating)).await;
    let error = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "card_not_supported",
    );
    assert_eq!(error["reason"], "issuer");
    assert!(server.cards(&user).await.is_empty());
}

async fn policy_from_config_refuses_a_brand(backend: Backend) {
    let server = TestServer::start_on(backend, |config| {
        config.policy.refused_brands = vec![tessera_core::bins::Brand::Visa];
    })
    .await;
    let user = server.user().await;
    // 436742 at 19 digits: 中国建设银行 Visa debit.
    let visa = sandbox::card_number("436742", 19, Outcome::Approve).unwrap();
    let (status, body) = server.bind(&user, &visa).await;
    let error = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "card_not_supported",
    );
    assert_eq!(error["reason"], "brand");
}

async fn credit_cards_need_expiry_and_cvc_debit_cards_do_not(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    // 622575: 招商银行 credit card, 16 digits.
    let credit = sandbox::card_number("622575", 16, Outcome::Approve).unwrap();
    let (status, body) = server.bind(&user, &credit).await;
    let error = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_expiry_month",
    );
    assert_eq!(error["param"], "expiry_month");
    let (status, body) = server
        .post(
            "/v1/cards",
            &user.token,
            json!({"number": credit, "holder_name": "张三", "expiry_month": "12", "expiry_year": "2030"}),
        )
        .await;
    let error = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_cvc",
    );
    assert_eq!(error["param"], "cvc");
    let (status, body) = server
        .post(
            "/v1/cards",
            &user.token,
            json!({"number": credit, "holder_name": "张三", "expiry_month": "12", "expiry_year": "30", "cvc": "123"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["card_type"], "credit");
    assert_eq!(body["expiry_month"], 12);
    assert_eq!(body["expiry_year"], 2030);
}

async fn issuer_refusals_are_precise(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    for (outcome, decline) in [
        (Outcome::DoNotHonor, "do_not_honor"),
        (Outcome::LostCard, "lost_card"),
        (Outcome::StolenCard, "stolen_card"),
    ] {
        let (status, body) = server.bind(&user, &card(outcome)).await;
        let error = assert_error(status, &body, StatusCode::PAYMENT_REQUIRED, "card_declined");
        assert_eq!(error["decline_code"], decline);
    }
    let (status, body) = server.bind(&user, &card(Outcome::IncorrectCvc)).await;
    assert_error(status, &body, StatusCode::PAYMENT_REQUIRED, "incorrect_cvc");
    let (status, body) = server.bind(&user, &card(Outcome::PhoneMismatch)).await;
    let error = assert_error(
        status,
        &body,
        StatusCode::PAYMENT_REQUIRED,
        "phone_mismatch",
    );
    assert_eq!(error["param"], "bank_phone");
    // A bank phone other than the one on file is refused by the sandbox bank too.
    let (status, body) = server
        .post(
            "/v1/cards",
            &user.token,
            json!({"number": card(Outcome::Approve), "holder_name": "张三", "bank_phone": "13900000000"}),
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::PAYMENT_REQUIRED,
        "phone_mismatch",
    );
    let (status, headers, body) = server
        .call(
            Method::POST,
            "/v1/cards",
            Some(&user.token),
            Some(&json!({"number": card(Outcome::Unavailable), "holder_name": "张三"})),
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
    assert_eq!(error["cause"], "network");
    assert!(
        headers["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    // None of these left a card or a reservation behind.
    assert!(server.cards(&user).await.is_empty());
    let (status, _) = server.bind(&user, &card(Outcome::Approve)).await;
    assert_eq!(status, StatusCode::CREATED);
}

async fn the_holder_must_be_the_verified_real_name(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let (status, body) = server
        .post(
            "/v1/cards",
            &user.token,
            json!({"number": card(Outcome::Approve), "holder_name": "李四"}),
        )
        .await;
    let error = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "name_mismatch",
    );
    assert_eq!(error["param"], "holder_name");
    assert_eq!(error["cause"], "account");
    let latin = server.user_named("Wang Xiaoming").await;
    let (status, body) = server
        .post(
            "/v1/cards",
            &latin.token,
            json!({"number": card(Outcome::Approve), "holder_name": "wang  xiaoming"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn duplicates_and_the_card_limit_are_refused(backend: Backend) {
    let server = TestServer::start_on(backend, |config| config.card_limit = 3).await;
    let user = server.user().await;
    let first = card(Outcome::Approve);
    let (status, first_card) = server.bind(&user, &first).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = server.bind(&user, &first).await;
    assert_error(status, &body, StatusCode::CONFLICT, "card_already_bound");
    // Another user may bind the same card.
    let other = server.user().await;
    assert_eq!(server.bind(&other, &first).await.0, StatusCode::CREATED);
    // A pending card counts toward the limit.
    assert_eq!(
        server.bind(&user, &card(Outcome::Otp)).await.0,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        server.bind(&user, &card(Outcome::Approve)).await.0,
        StatusCode::CREATED
    );
    let (status, body) = server.bind(&user, &card(Outcome::Approve)).await;
    let error = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "card_limit_reached",
    );
    assert_eq!(error["cause"], "account");
    assert_eq!(server.cards(&user).await.len(), 3);
    // Unbinding frees a slot, and the unbound card can be bound again.
    // (Found by id: sandbox cards of one outcome often share their last 4.)
    let id = first_card["id"].as_str().unwrap().to_owned();
    let (status, unbound) = server.unbind(&user, &id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(unbound["status"], "unbound");
    assert_eq!(unbound["token"]["status"], "deleted");
    let (status, again) = server.bind(&user, &first).await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_ne!(again["id"], id);
    assert_eq!(again["par"], unbound["par"], "one PAN, one PAR");
}

async fn otp_step_up_verifies_with_the_code_from_the_sandbox_phone(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let number = card(Outcome::Otp);
    let (status, body) = server.bind(&user, &number).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["status"], "pending_verification");
    assert_eq!(body["next_action"]["type"], "otp");
    let masked = body["next_action"]["sent_to"].as_str().unwrap();
    assert_eq!(
        masked,
        format!("{}****{}", &user.phone[..3], &user.phone[7..])
    );
    assert_eq!(body["token"]["status"], "inactive");
    let id = body["id"].as_str().unwrap();
    // Binding the same card again while it waits asks for the code.
    let (status, again) = server.bind(&user, &number).await;
    assert_error(status, &again, StatusCode::CONFLICT, "otp_required");

    let otp = server.latest_otp(&user).await;
    let wrong = if otp == "000000" { "111111" } else { "000000" };
    let (status, body) = server
        .post(
            &format!("/v1/cards/{id}/verify"),
            &user.token,
            json!({"otp": wrong}),
        )
        .await;
    let error = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "otp_incorrect",
    );
    assert_eq!(error["attempts_left"], 4);
    let (status, body) = server
        .post(
            &format!("/v1/cards/{id}/verify"),
            &user.token,
            json!({"otp": "12ab"}),
        )
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
    let (status, body) = server
        .post(
            &format!("/v1/cards/{id}/verify"),
            &user.token,
            json!({"otp": otp}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "active");
    assert_eq!(body["token"]["status"], "active");
    assert!(body.get("next_action").is_none());
}

async fn five_wrong_codes_end_the_binding(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let (_, body) = server.bind(&user, &card(Outcome::Otp)).await;
    let id = body["id"].as_str().unwrap().to_owned();
    let otp = server.latest_otp(&user).await;
    let wrong = if otp == "000000" { "111111" } else { "000000" };
    for left in (1..=4).rev() {
        let (status, body) = server
            .post(
                &format!("/v1/cards/{id}/verify"),
                &user.token,
                json!({"otp": wrong}),
            )
            .await;
        let error = assert_error(
            status,
            &body,
            StatusCode::UNPROCESSABLE_ENTITY,
            "otp_incorrect",
        );
        assert_eq!(error["attempts_left"], left);
    }
    let (status, body) = server
        .post(
            &format!("/v1/cards/{id}/verify"),
            &user.token,
            json!({"otp": wrong}),
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
    );
    // Even the right code no longer helps, and the card is no longer live.
    let (status, body) = server
        .post(
            &format!("/v1/cards/{id}/verify"),
            &user.token,
            json!({"otp": otp}),
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
    );
    let (_, card) = server.get(&format!("/v1/cards/{id}"), &user.token).await;
    assert_eq!(card["status"], "verification_failed");
    assert!(server.cards(&user).await.is_empty());
}

async fn an_expired_code_is_refused_and_frees_the_slot(backend: Backend) {
    let server = TestServer::start_on(backend, |config| config.card_limit = 1).await;
    let user = server.user().await;
    let (_, body) = server.bind(&user, &card(Outcome::Otp)).await;
    let id = body["id"].as_str().unwrap().to_owned();
    let otp = server.latest_otp(&user).await;
    // A code lives five minutes (`otp_ttl_secs`): move the clock past them.
    server.advance(std::time::Duration::from_secs(301));
    let (status, body) = server
        .post(
            &format!("/v1/cards/{id}/verify"),
            &user.token,
            json!({"otp": otp}),
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "otp_expired",
    );
    assert_eq!(
        server.bind(&user, &card(Outcome::Approve)).await.0,
        StatusCode::CREATED
    );
}

async fn a_user_sees_and_changes_only_their_own_cards(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let owner = server.user().await;
    let stranger = server.user().await;
    let (_, body) = server.bind(&owner, &card(Outcome::Approve)).await;
    let id = body["id"].as_str().unwrap();
    for (status, body) in [
        server
            .get(&format!("/v1/cards/{id}"), &stranger.token)
            .await,
        server
            .delete(&format!("/v1/cards/{id}"), &stranger.token)
            .await,
        server
            .post(
                &format!("/v1/cards/{id}/default"),
                &stranger.token,
                json!({}),
            )
            .await,
        server
            .post(
                &format!("/v1/cards/{id}/verify"),
                &stranger.token,
                json!({"otp": "123456"}),
            )
            .await,
    ] {
        assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    }
    assert!(server.cards(&stranger).await.is_empty());
    let (_, still) = server.get(&format!("/v1/cards/{id}"), &owner.token).await;
    assert_eq!(still["status"], "active");
}

async fn the_default_card_moves_when_asked_and_when_unbound(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let (_, first) = server.bind(&user, &card(Outcome::Approve)).await;
    let (_, second) = server.bind(&user, &card(Outcome::Approve)).await;
    assert_eq!(first["is_default"], true);
    assert_eq!(second["is_default"], false);
    let second_id = second["id"].as_str().unwrap();
    let (status, body) = server
        .post(
            &format!("/v1/cards/{second_id}/default"),
            &user.token,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["is_default"], true);
    let defaults: Vec<_> = server
        .cards(&user)
        .await
        .into_iter()
        .filter(|c| c["is_default"] == true)
        .collect();
    assert_eq!(defaults.len(), 1);
    let (status, body) = server.unbind(&user, second_id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let cards = server.cards(&user).await;
    assert_eq!(cards.len(), 1);
    assert_eq!(cards[0]["id"], first["id"]);
    assert_eq!(cards[0]["is_default"], true);
}

/// Deletes the user's card reservation once it appears, as a database crash
/// before the reservation's commit reached the disk would lose it (on
/// PostgreSQL reservations commit without waiting for their WAL flush).
async fn lose_reservation(database: &TestDatabase, user_id: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let mut conn = sqlx::PgConnection::connect(database.url()).await.unwrap();
        let deleted = sqlx::query("DELETE FROM cards WHERE user_id = $1 AND status = 'binding'")
            .bind(user_id)
            .execute(&mut conn)
            .await
            .unwrap()
            .rows_affected();
        if deleted > 0 {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no reservation appeared"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A reservation lost while the issuer was asked: the completion finds no
/// reserved card, writes nothing, and the person hears `issuer_unavailable`
/// (retryable), with the attempt recorded; a retry binds the card.
///
/// PostgreSQL only: there a reservation is a row, which a database crash
/// can lose while the server lives on. SQLite's writer holds reservations
/// in the server's own memory, lost only with the server and the request
/// (the store suite's `binding_recorded` covers a completion that finds no
/// reservation, on both backends).
#[tokio::test]
async fn a_reservation_lost_before_completion_is_retryable_on_postgres() {
    if postgres_available().await.is_none() {
        return;
    }
    let server = TestServer::start_on(Backend::Postgres, |_| {}).await;
    let database = server.database.as_ref().expect("a PostgreSQL server");
    let tune = |latency_ms: u64| json!({"issuer_code": "ABC", "latency_ms": latency_ms, "failure_rate": 0.0});
    let slow = tune(1_000);
    let (status, _, body) = server
        .call(
            Method::PUT,
            "/v1/sandbox/issuer",
            Some(&server.operator_key),
            Some(&slow),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let user = server.user().await;
    let number = card(Outcome::Approve);
    let request = json!({"number": number, "holder_name": "张三"});
    let ((status, headers, body), ()) = tokio::join!(
        server.call(
            Method::POST,
            "/v1/cards",
            Some(&user.token),
            Some(&request),
            &[],
        ),
        lose_reservation(database, &user.id),
    );
    let error = assert_error(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "issuer_unavailable",
    );
    assert_eq!(error["retryable"], true);
    assert!(server.cards(&user).await.is_empty());
    let trace_id = headers["x-request-id"].to_str().unwrap().to_owned();
    let (status, body) = server
        .get(
            &format!("/v1/support/attempts?trace_id={trace_id}"),
            &server.support_key,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"][0]["outcome"], "error");
    assert_eq!(body["data"][0]["error_code"], "issuer_unavailable");

    let fast = tune(0);
    let (status, _, body) = server
        .call(
            Method::PUT,
            "/v1/sandbox/issuer",
            Some(&server.operator_key),
            Some(&fast),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = server.bind(&user, &number).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(server.cards(&user).await.len(), 1);
}

async fn every_attempt_is_recorded_for_support(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let (_, headers, _) = server
        .call(
            Method::POST,
            "/v1/cards",
            Some(&user.token),
            Some(&json!({"number": card(Outcome::LostCard), "holder_name": "张三",
                "device": {"id": "dev-1", "model": "Xiaomi 14", "os": "HyperOS 2", "app_version": "5.1.0",
                           "network_type": "4g", "locale": "zh-CN"}})),
            &[],
        )
        .await;
    let trace_id = headers["x-request-id"].to_str().unwrap().to_owned();
    server.bind(&user, &card(Outcome::Approve)).await;
    let (status, body) = server
        .get(
            &format!("/v1/support/attempts?trace_id={trace_id}"),
            &server.support_key,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let attempt = &body["data"][0];
    assert_eq!(attempt["trace_id"], trace_id);
    assert_eq!(attempt["outcome"], "error");
    assert_eq!(attempt["error_code"], "card_declined");
    assert_eq!(attempt["reason"], "lost_card");
    assert_eq!(attempt["cause"], "card_not_supported");
    assert_eq!(attempt["issuer_code"], "ABC");
    assert_eq!(attempt["issuer_response"], "declined:lost_card");
    assert_eq!(attempt["device"]["model"], "Xiaomi 14");
    assert_eq!(attempt["device"]["network_type"], "4g");
    assert!(
        attempt["masked_pan"]
            .as_str()
            .unwrap()
            .contains("*********")
    );
    let (_, body) = server
        .get(
            &format!("/v1/support/attempts?user_id={}&since=1h", user.id),
            &server.support_key,
        )
        .await;
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    let (_, body) = server
        .get(
            &format!("/v1/support/attempts?user_id={}&limit=1", user.id),
            &server.support_key,
        )
        .await;
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    let cursor = body["next_cursor"].as_str().unwrap();
    let (_, next) = server
        .get(
            &format!(
                "/v1/support/attempts?user_id={}&limit=1&cursor={cursor}",
                user.id
            ),
            &server.support_key,
        )
        .await;
    assert_eq!(next["data"].as_array().unwrap().len(), 1);
    assert_ne!(next["data"][0]["trace_id"], body["data"][0]["trace_id"]);
}

on_both_backends!(
    an_approved_card_is_bound_with_its_token_and_masked_data_only,
    field_errors_each_have_their_code_and_param_and_change_nothing,
    malformed_json_is_invalid_request_naming_the_field,
    messages_follow_accept_language,
    support_policy_refusals_name_their_reason,
    policy_from_config_refuses_a_brand,
    credit_cards_need_expiry_and_cvc_debit_cards_do_not,
    issuer_refusals_are_precise,
    the_holder_must_be_the_verified_real_name,
    duplicates_and_the_card_limit_are_refused,
    otp_step_up_verifies_with_the_code_from_the_sandbox_phone,
    five_wrong_codes_end_the_binding,
    an_expired_code_is_refused_and_frees_the_slot,
    a_user_sees_and_changes_only_their_own_cards,
    the_default_card_moves_when_asked_and_when_unbound,
    every_attempt_is_recorded_for_support,
);
