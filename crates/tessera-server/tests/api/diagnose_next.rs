//! Diagnosis that sees what came next, and next steps that fit their case,
//! over HTTP: a failure a retry fixed is solved; a wrong SMS code, a number
//! that failed its check digit, a bank that answered or timed out, and a
//! phone compared are each told as they were; an unknown person is 404.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tessera_server::issuer::sandbox::Outcome;

use crate::diagnose::{bind_body, bind_from, diagnose, xiaomi};
use crate::{Backend, TestServer, User, assert_error, card};

async fn tune_abc(server: &TestServer, failure_rate: f64) {
    let body = json!({"issuer_code": "ABC", "latency_ms": 0, "failure_rate": failure_rate});
    let (status, _, answer) = server
        .call(
            Method::PUT,
            "/v1/sandbox/issuer",
            Some(&server.operator_key),
            Some(&body),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

fn text<'a>(diagnosis: &'a Value, path: &str) -> &'a str {
    diagnosis
        .pointer(path)
        .and_then(Value::as_str)
        .unwrap_or("")
}

async fn a_retry_that_bound_the_card_solves_the_failure(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let number = card(Outcome::Approve);
    tune_abc(&server, 1.0).await;
    let (status, body, failed) = bind_from(&server, &user, &number, xiaomi("wifi")).await;
    assert_error(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "issuer_unavailable",
    );
    // Before the retry the problem is open, and it is the bank's: it
    // answered, so the person's network is not blamed.
    let open = diagnose(&server, &format!("trace_id={failed}"), "en").await;
    assert_eq!(open["verdict"]["kind"], "network_or_issuer");
    assert_eq!(open["verdict"]["resolved_by"], Value::Null);
    assert_eq!(open["attempts"][0]["issuer_response"], "unavailable");
    let help = text(&open, "/next_step/support");
    assert!(help.contains("could not serve"), "{help}");
    assert!(help.contains("not their network"), "{help}");
    assert!(!text(&open, "/texts/zh-CN/next_step_support").contains("多半是用户的网络问题"));

    tune_abc(&server, 0.0).await;
    server.advance(std::time::Duration::from_millis(300));
    let (status, body, retried) = bind_from(&server, &user, &number, xiaomi("wifi")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let solved = diagnose(&server, &format!("trace_id={failed}"), "en").await;
    assert_eq!(solved["verdict"]["kind"], "network_or_issuer");
    assert_eq!(solved["verdict"]["trace_id"], failed.as_str());
    assert_eq!(solved["verdict"]["resolved_by"], retried.as_str());
    // The clock moved 0.3 s, and real time a little more.
    let story = text(&solved, "/story");
    assert!(
        story.starts_with("Agricultural Bank of China did not answer. 0.")
            && story.ends_with(" s later, this person tried the same card again and it was bound."),
        "{story}"
    );
    assert!(
        text(&solved, "/texts/zh-CN/story").ends_with("秒后，此用户用同一张卡重试，绑定成功。")
    );
    assert!(text(&solved, "/next_step/support").starts_with("Nothing to do"));
    assert!(text(&solved, "/texts/zh-CN/next_step_support").starts_with("无需处理"));
    assert!(text(&solved, "/next_step/person").starts_with("Nothing to do"));
    // Both attempts are the evidence, the retry after the failure.
    let traces: Vec<&str> = solved["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["trace_id"].as_str().unwrap())
        .collect();
    assert_eq!(traces, [failed.as_str(), retried.as_str()]);
}

async fn an_unknown_person_is_404_and_a_known_one_without_attempts_is_not(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let (status, body) = server
        .get(
            "/v1/support/diagnose?user_id=usr_unknown",
            &server.support_key,
        )
        .await;
    let error = assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(error["param"], "user_id");
    let user = server.user().await;
    let known = diagnose(&server, &format!("user_id={}", user.id), "zh-CN").await;
    assert_eq!(known["verdict"]["kind"], "no_attempts");
    assert_eq!(known["story"], "这段时间内没有这个用户的绑卡记录。");
}

async fn a_wrong_sms_code_gets_advice_about_the_code(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let (status, bound, _) = bind_from(&server, &user, &card(Outcome::Otp), xiaomi("5g")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{bound}");
    let id = bound["id"].as_str().unwrap();
    let (status, headers, body) = server
        .call(
            Method::POST,
            &format!("/v1/cards/{id}/verify"),
            Some(&user.token),
            Some(&json!({"otp": "000000"})),
            &[],
        )
        .await;
    let error = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "otp_incorrect",
    );
    let left = error["attempts_left"].as_u64().unwrap();
    let trace = headers["x-request-id"].to_str().unwrap();
    let diagnosis = diagnose(&server, &format!("trace_id={trace}"), "en").await;
    assert_eq!(diagnosis["verdict"]["code"], "otp_incorrect");
    assert_eq!(
        diagnosis["attempts"][1]["reason"],
        format!("attempts_left:{left}")
    );
    for path in ["/next_step/support", "/next_step/person"] {
        let advice = text(&diagnosis, path);
        assert!(!advice.contains("first 6"), "{advice}");
        assert!(advice.contains("newest"), "{advice}");
        assert!(advice.contains("new code"), "{advice}");
    }
    assert!(text(&diagnosis, "/next_step/support").contains(&format!("{left} tries are left")));
    let zh = text(&diagnosis, "/texts/zh-CN/next_step_support");
    assert!(!zh.contains("核对卡号前6位和后4位"), "{zh}");
    assert!(zh.contains("最新一条短信"), "{zh}");
}

async fn a_number_that_failed_its_check_keeps_its_ends_for_support(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let good = card(Outcome::Approve);
    let mut typo = good.clone();
    let last = typo.pop().unwrap();
    typo.push(char::from(
        b'0' + (last.to_digit(10).unwrap() as u8 + 1) % 10,
    ));
    let (status, body, trace) = bind_from(&server, &user, &typo, xiaomi("wifi")).await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "incorrect_number",
    );
    let diagnosis = diagnose(&server, &format!("trace_id={trace}"), "zh-CN").await;
    let masked = format!(
        "{}{}{}",
        &typo[..6],
        "*".repeat(typo.len() - 10),
        &typo[typo.len() - 4..]
    );
    assert_eq!(diagnosis["attempts"][0]["masked_pan"], masked.as_str());
    assert!(
        text(&diagnosis, "/next_step/support")
            .contains(&format!("请核对卡号前6位和后4位（{masked}）")),
        "{diagnosis}"
    );
    assert!(!diagnosis.to_string().contains(&typo));
    // Too few digits to keep any: no digits, and no empty brackets.
    let (status, body, trace) = bind_from(&server, &user, "622848123", xiaomi("wifi")).await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_number",
    );
    let diagnosis = diagnose(&server, &format!("trace_id={trace}"), "zh-CN").await;
    assert_eq!(diagnosis["attempts"][1]["masked_pan"], Value::Null);
    for lang in ["zh-CN", "en"] {
        let advice = text(&diagnosis, &format!("/texts/{lang}/next_step_support"));
        assert!(
            !advice.contains("()") && !advice.contains("（）"),
            "{advice}"
        );
    }
}

async fn a_bank_that_timed_out_is_told_as_a_timeout(backend: Backend) {
    let server = TestServer::start_on(backend, |config| config.issuer_timeout_secs = 1).await;
    let user = server.user().await;
    let (status, body, trace) = bind_from(&server, &user, &card(Outcome::Slow), xiaomi("3g")).await;
    assert_error(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "issuer_unavailable",
    );
    let diagnosis = diagnose(&server, &format!("trace_id={trace}"), "en").await;
    assert_eq!(diagnosis["attempts"][0]["issuer_response"], "timeout");
    let help = text(&diagnosis, "/next_step/support");
    assert!(help.contains("(a timeout)"), "{help}");
    assert!(help.contains("not their network"), "{help}");
    assert!(!help.contains("suspect their network"), "{help}");
}

async fn bind_phone(server: &TestServer, user: &User, bank_phone: Option<&str>) -> Value {
    let mut body = json!({"number": card(Outcome::PhoneMismatch), "holder_name": user.real_name});
    if let Some(phone) = bank_phone {
        body["bank_phone"] = json!(phone);
    }
    let (status, answer, trace) = bind_body(server, user, body).await;
    assert_error(
        status,
        &answer,
        StatusCode::PAYMENT_REQUIRED,
        "phone_mismatch",
    );
    diagnose(server, &format!("trace_id={trace}"), "en").await
}

async fn phone_mismatch_says_which_phone_was_compared(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let typed = bind_phone(&server, &user, Some("13912345678")).await;
    assert_eq!(typed["verdict"]["kind"], "phone_on_file");
    assert_eq!(typed["attempts"][0]["reason"], "bank_phone_typed");
    assert!(text(&typed, "/next_step/support").contains("the bank phone the person typed"));
    assert!(text(&typed, "/texts/zh-CN/next_step_support").contains("自己填写的银行预留手机号"));
    let other = server.user().await;
    let account = bind_phone(&server, &other, None).await;
    assert_eq!(account["attempts"][0]["reason"], "account_phone");
    assert!(
        text(&account, "/next_step/support").contains("the wallet account's phone was compared")
    );
    // The phone itself is never in the answer.
    assert!(!typed.to_string().contains("13912345678"));
}

on_both_backends!(
    a_retry_that_bound_the_card_solves_the_failure,
    an_unknown_person_is_404_and_a_known_one_without_attempts_is_not,
    a_wrong_sms_code_gets_advice_about_the_code,
    a_number_that_failed_its_check_keeps_its_ends_for_support,
    a_bank_that_timed_out_is_told_as_a_timeout,
    phone_mismatch_says_which_phone_was_compared,
);
