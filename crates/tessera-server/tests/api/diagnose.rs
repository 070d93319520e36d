//! Diagnosis from real attempts over HTTP: each of the four failure causes
//! (input mistake, card not supported, unstable network or issuer, system
//! failure or maintenance) and each wallet rule (real name, limit,
//! duplicate, security lock) gives its verdict, a story, the device and next
//! steps; and a person's own view of their failed attempts.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tessera_server::issuer::sandbox::{self, Outcome};

use crate::{Backend, TestServer, User, assert_error, card};

pub fn xiaomi(network: &str) -> Value {
    json!({"model": "Xiaomi 14", "os": "Android 14", "app_version": "3.2.1",
        "network_type": network, "locale": "zh-CN"})
}

/// Binds `number` from a device; returns the status, body and trace id.
pub async fn bind_from(
    server: &TestServer,
    user: &User,
    number: &str,
    device: Value,
) -> (StatusCode, Value, String) {
    bind_body(
        server,
        user,
        json!({"number": number, "holder_name": user.real_name, "device": device}),
    )
    .await
}

pub async fn bind_body(
    server: &TestServer,
    user: &User,
    body: Value,
) -> (StatusCode, Value, String) {
    let (status, headers, value) = server
        .call(
            Method::POST,
            "/v1/cards",
            Some(&user.token),
            Some(&body),
            &[],
        )
        .await;
    let trace = headers["x-request-id"].to_str().unwrap().to_owned();
    if let Some(error_trace) = value["error"]["trace_id"].as_str() {
        assert_eq!(error_trace, trace);
    }
    (status, value, trace)
}

/// Support's diagnosis of `query` in `lang`.
pub async fn diagnose(server: &TestServer, query: &str, lang: &str) -> Value {
    let (status, _, body) = server
        .call(
            Method::GET,
            &format!("/v1/support/diagnose?{query}"),
            Some(&server.support_key),
            None,
            &[("accept-language", lang)],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn codes(diagnosis: &Value) -> Vec<String> {
    diagnosis["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            a["error_code"]
                .as_str()
                .unwrap_or(a["outcome"].as_str().unwrap())
                .to_owned()
        })
        .collect()
}

/// A Luhn-invalid number: a good sandbox card with its check digit changed.
fn mistyped(number: &str) -> String {
    let (body, check) = number.split_at(number.len() - 1);
    let wrong = (check.parse::<u8>().unwrap() + 1) % 10;
    format!("{body}{wrong}")
}

async fn typos_then_a_prepaid_card_read_as_one_story(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let good = card(Outcome::Approve);
    for _ in 0..2 {
        let (status, body, _) = bind_from(&server, &user, &mistyped(&good), xiaomi("wifi")).await;
        assert_error(
            status,
            &body,
            StatusCode::UNPROCESSABLE_ENTITY,
            "incorrect_number",
        );
    }
    // 620010: 平安银行 prepaid, refused by the default policy.
    let prepaid = sandbox::card_number("620010", 16, Outcome::Approve).unwrap();
    let (status, body, trace) = bind_from(&server, &user, &prepaid, xiaomi("4g")).await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "card_not_supported",
    );

    let diagnosis = diagnose(&server, &format!("trace_id={trace}"), "en").await;
    assert_eq!(diagnosis["verdict"]["kind"], "card_not_supported");
    assert_eq!(diagnosis["verdict"]["cause"], "card_not_supported");
    assert_eq!(diagnosis["verdict"]["code"], "card_not_supported");
    assert_eq!(diagnosis["verdict"]["trace_id"], trace.as_str());
    assert_eq!(diagnosis["user_id"], user.id.as_str());
    let story = diagnosis["story"].as_str().unwrap();
    assert!(
        story.starts_with(
            "This person typed a wrong card number twice, then the card was refused because prepaid cards are not accepted."
        ),
        "{story}"
    );
    assert_eq!(
        diagnosis["headline"],
        "Card not supported: Prepaid cards can't be added"
    );
    let zh = &diagnosis["texts"]["zh-CN"];
    assert!(
        zh["story"]
            .as_str()
            .unwrap()
            .starts_with("此用户两次输错了卡号，随后这张卡被拒绝，因为暂不支持绑定预付费卡。"),
        "{zh}"
    );
    assert_eq!(zh["title"], "卡片不受支持");
    assert!(
        diagnosis["next_step"]["person"]
            .as_str()
            .unwrap()
            .contains("debit or credit card")
    );
    assert!(
        diagnosis["next_step"]["support"]
            .as_str()
            .unwrap()
            .contains("card_type")
    );
    // The device and network changed between attempts, and it says so.
    assert_eq!(
        diagnosis["device"],
        "All attempts came from Xiaomi 14 (Android 14, app 3.2.1), and the network changed between attempts (wifi, 4g)."
    );
    // The evidence: every attempt in order with its codes, BIN data, device.
    assert_eq!(
        codes(&diagnosis),
        ["incorrect_number", "incorrect_number", "card_not_supported"]
    );
    let last = &diagnosis["attempts"][2];
    assert_eq!(last["trace_id"], trace.as_str());
    assert_eq!(last["brand"], "unionpay");
    assert_eq!(last["card_type"], "prepaid");
    assert_eq!(last["issuer_name"], "平安银行");
    assert_eq!(last["reason"], "card_type");
    assert_eq!(last["device"]["network_type"], "4g");
    assert_eq!(last["help_url"], "/help/errors/card_not_supported");
    assert_eq!(
        last["masked_pan"],
        format!("{}******{}", &prepaid[..6], &prepaid[12..])
    );
    assert_eq!(
        diagnosis["attempts"][0]["happened"]["en"],
        "This person typed a wrong card number."
    );
    assert_eq!(diagnosis["attempts"][0]["param"], "number");

    // Everything the person tried gives the same verdict.
    let by_user = diagnose(&server, &format!("user_id={}&since=1h", user.id), "zh-CN").await;
    assert_eq!(by_user["verdict"]["kind"], "card_not_supported");
    assert_eq!(by_user["story"], zh["story"]);
    assert_eq!(by_user["attempts"].as_array().unwrap().len(), 3);
    // Nothing in it is a full card number.
    let text = by_user.to_string();
    assert!(!text.contains(&prepaid) && !text.contains(&good[..16]));
}

async fn verdict_of(server: &TestServer, trace: &str) -> Value {
    diagnose(server, &format!("trace_id={trace}"), "en").await
}

async fn sandbox_outcomes_give_their_verdicts(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    // The bank keeps another phone on file.
    let (status, body, trace) = bind_from(
        &server,
        &user,
        &card(Outcome::PhoneMismatch),
        xiaomi("wifi"),
    )
    .await;
    assert_error(
        status,
        &body,
        StatusCode::PAYMENT_REQUIRED,
        "phone_mismatch",
    );
    let diagnosis = verdict_of(&server, &trace).await;
    assert_eq!(diagnosis["verdict"]["kind"], "phone_on_file");
    assert_eq!(diagnosis["verdict"]["cause"], "input");
    let person = diagnosis["next_step"]["person"].as_str().unwrap();
    assert!(person.contains("call the bank or visit a branch") && person.contains("about a day"));
    assert_eq!(
        diagnosis["attempts"][0]["issuer_response"],
        "refused:phone_mismatch"
    );
    assert!(
        diagnosis["story"]
            .as_str()
            .unwrap()
            .starts_with("Agricultural Bank of China said that the phone number did not match")
    );

    // Reported lost: declined by the issuer.
    let (status, body, trace) =
        bind_from(&server, &user, &card(Outcome::LostCard), xiaomi("wifi")).await;
    assert_error(status, &body, StatusCode::PAYMENT_REQUIRED, "card_declined");
    let diagnosis = verdict_of(&server, &trace).await;
    assert_eq!(diagnosis["verdict"]["kind"], "declined_by_issuer");
    assert_eq!(diagnosis["verdict"]["cause"], "card_not_supported");
    assert!(
        diagnosis["story"].as_str().unwrap().contains(
            "then Agricultural Bank of China declined the card because it was reported lost"
        ),
        "{}",
        diagnosis["story"]
    );
    assert!(
        diagnosis["next_step"]["person"]
            .as_str()
            .unwrap()
            .contains("replacement card")
    );

    // The bank does not take part: card not supported, Class I accounts.
    let (status, body, trace) = bind_from(
        &server,
        &user,
        &card(Outcome::NotParticipating),
        xiaomi("wifi"),
    )
    .await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "card_not_supported",
    );
    let diagnosis = verdict_of(&server, &trace).await;
    assert_eq!(diagnosis["verdict"]["kind"], "card_not_supported");
    assert!(
        diagnosis["next_step"]["person"]
            .as_str()
            .unwrap()
            .contains("Class I")
    );
    assert!(
        diagnosis["texts"]["zh-CN"]["next_step_person"]
            .as_str()
            .unwrap()
            .contains("一类账户")
    );

    // The bank does not answer, on a 3G phone: unstable network or issuer.
    let (status, body, trace) =
        bind_from(&server, &user, &card(Outcome::Unavailable), xiaomi("3g")).await;
    assert_error(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "issuer_unavailable",
    );
    let diagnosis = verdict_of(&server, &trace).await;
    assert_eq!(diagnosis["verdict"]["kind"], "network_or_issuer");
    assert_eq!(diagnosis["verdict"]["cause"], "network");
    // The bank answered: not the phone's signal, though the device
    // sentence notes it.
    assert!(
        diagnosis["next_step"]["person"]
            .as_str()
            .unwrap()
            .contains("This is not your fault")
    );
    assert!(
        diagnosis["next_step"]["support"]
            .as_str()
            .unwrap()
            .contains("No incident is open")
    );
    assert!(
        diagnosis["device"]
            .as_str()
            .unwrap()
            .contains("weak network")
    );
    // A trace's story is the person's day up to it: four attempts now.
    assert_eq!(diagnosis["attempts"].as_array().unwrap().len(), 4);
    assert!(
        diagnosis["story"]
            .as_str()
            .unwrap()
            .contains("That is 4 failures in less than a minute.")
    );
}

async fn maintenance_is_a_system_verdict_with_the_time_to_retry(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let until = server.now() + chrono::Duration::minutes(30);
    let (status, _, body) = server
        .call(
            Method::PUT,
            "/v1/admin/maintenance",
            Some(&server.operator_key),
            Some(&json!({"until": until.to_rfc3339()})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body, trace) =
        bind_from(&server, &user, &card(Outcome::Approve), xiaomi("wifi")).await;
    assert_error(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "maintenance",
    );
    let diagnosis = verdict_of(&server, &trace).await;
    assert_eq!(diagnosis["verdict"]["kind"], "system_or_maintenance");
    assert_eq!(diagnosis["verdict"]["cause"], "system");
    let local = until
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%H:%M")
        .to_string();
    assert!(
        diagnosis["next_step"]["person"]
            .as_str()
            .unwrap()
            .contains(&format!("Try again after {local}")),
        "{}",
        diagnosis["next_step"]
    );
    assert!(
        diagnosis["texts"]["zh-CN"]["next_step_person"]
            .as_str()
            .unwrap()
            .contains(&format!("请在{local}之后重试"))
    );
}

async fn wallet_rules_give_their_verdicts(backend: Backend) {
    let server = TestServer::start_on(backend, |config| config.card_limit = 1).await;
    let user = server.user().await;
    let first = card(Outcome::Approve);
    let (status, _, _) = bind_from(&server, &user, &first, xiaomi("wifi")).await;
    assert_eq!(status, StatusCode::CREATED);

    // The same card again: duplicate.
    let (status, body, trace) = bind_from(&server, &user, &first, xiaomi("wifi")).await;
    assert_error(status, &body, StatusCode::CONFLICT, "card_already_bound");
    assert_eq!(
        verdict_of(&server, &trace).await["verdict"]["kind"],
        "duplicate"
    );

    // A second card over the limit of one.
    let (status, body, trace) =
        bind_from(&server, &user, &card(Outcome::Approve), xiaomi("wifi")).await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "card_limit_reached",
    );
    let diagnosis = verdict_of(&server, &trace).await;
    assert_eq!(diagnosis["verdict"]["kind"], "card_limit");
    assert_eq!(diagnosis["verdict"]["cause"], "account");
    assert!(
        diagnosis["next_step"]["person"]
            .as_str()
            .unwrap()
            .contains("Remove a card")
    );

    // Someone else's name: real name.
    let other = server.user().await;
    let (status, body, trace) = bind_body(
        &server,
        &other,
        json!({"number": card(Outcome::Approve), "holder_name": "李四"}),
    )
    .await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "name_mismatch",
    );
    let diagnosis = verdict_of(&server, &trace).await;
    assert_eq!(diagnosis["verdict"]["kind"], "real_name");
    // The wallet's own real-name check stopped it before the bank was
    // asked: the bank's old ID number has nothing to do with it.
    let help = diagnosis["next_step"]["support"].as_str().unwrap();
    assert!(help.contains("before the bank was asked"), "{help}");
    assert!(!help.contains("15-digit"), "{help}");
    assert!(
        !diagnosis["texts"]["zh-CN"]["next_step_support"]
            .as_str()
            .unwrap()
            .contains("15位")
    );
    assert_eq!(diagnosis["device"], "The app sent no device details.");
}

async fn wrong_sms_codes_end_in_a_security_lock(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let (status, bound, _) = bind_from(&server, &user, &card(Outcome::Otp), xiaomi("5g")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{bound}");
    let id = bound["id"].as_str().unwrap();
    let mut last_trace = String::new();
    for _ in 0..5 {
        let (_, headers, _) = server
            .call(
                Method::POST,
                &format!("/v1/cards/{id}/verify"),
                Some(&user.token),
                Some(&json!({"otp": "000000"})),
                &[],
            )
            .await;
        last_trace = headers["x-request-id"].to_str().unwrap().to_owned();
    }
    let diagnosis = verdict_of(&server, &last_trace).await;
    assert_eq!(diagnosis["verdict"]["kind"], "security_lock");
    assert_eq!(diagnosis["verdict"]["cause"], "security");
    assert_eq!(
        diagnosis["story"],
        "The bank sent an SMS code to the phone it has on file, then they entered a wrong SMS code 4 times, then verification was stopped after too many failures. That is 5 failures in less than a minute."
    );
    assert!(
        diagnosis["next_step"]["person"]
            .as_str()
            .unwrap()
            .contains("add the card again to get a new code")
    );
}

async fn a_binding_that_worked_in_the_end_is_bound(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let good = card(Outcome::Approve);
    bind_from(&server, &user, &mistyped(&good), xiaomi("wifi")).await;
    let (status, _, trace) = bind_from(&server, &user, &good, xiaomi("wifi")).await;
    assert_eq!(status, StatusCode::CREATED);
    let diagnosis = verdict_of(&server, &trace).await;
    assert_eq!(diagnosis["verdict"]["kind"], "bound");
    assert_eq!(diagnosis["verdict"]["cause"], Value::Null);
    assert_eq!(
        diagnosis["story"],
        "This person typed a wrong card number, then the card was bound."
    );
}

async fn diagnosis_asks_for_a_trace_or_a_user_and_is_for_support_only(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let (status, _, body) = server
        .call(
            Method::GET,
            "/v1/support/diagnose",
            Some(&server.support_key),
            None,
            &[],
        )
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
    let (status, body) = server
        .get(
            "/v1/support/diagnose?trace_id=req_nothing",
            &server.support_key,
        )
        .await;
    let error = assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(error["param"], "trace_id");
    let (status, body) = server
        .get(
            &format!("/v1/support/diagnose?user_id={}&since=yesterday", user.id),
            &server.support_key,
        )
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
    let (status, body) = server
        .get(
            &format!("/v1/support/diagnose?user_id={}", user.id),
            &user.token,
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    // An operator may diagnose too; nobody tried anything yet.
    let (status, body) = server
        .get(
            &format!("/v1/support/diagnose?user_id={}", user.id),
            &server.operator_key,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["verdict"]["kind"], "no_attempts");
}

async fn people_see_their_own_failed_attempts_explained(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let alice = server.user().await;
    let bob = server.user().await;
    let good = card(Outcome::Approve);
    bind_from(&server, &alice, &mistyped(&good), xiaomi("wifi")).await;
    bind_from(
        &server,
        &alice,
        &card(Outcome::PhoneMismatch),
        xiaomi("wifi"),
    )
    .await;
    bind_from(&server, &alice, &good, xiaomi("wifi")).await;
    bind_from(&server, &bob, &card(Outcome::LostCard), xiaomi("wifi")).await;

    let (status, _, mine) = server
        .call(
            Method::GET,
            "/v1/cards/attempts",
            Some(&alice.token),
            None,
            &[("accept-language", "en")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    let data = mine["data"].as_array().unwrap();
    assert_eq!(data.len(), 2, "failed ones only: {mine}");
    // Newest first.
    assert_eq!(data[0]["code"], "phone_mismatch");
    assert_eq!(data[1]["code"], "incorrect_number");
    assert_eq!(data[1]["happened"], "You typed a wrong card number.");
    assert_eq!(
        data[0]["message"],
        "The phone number doesn't match the one your bank has on file"
    );
    assert!(data[0]["remedy"].as_str().unwrap().contains("about a day"));
    assert_eq!(data[0]["help_url"], "/help/errors/phone_mismatch");
    assert_eq!(data[0]["card"]["issuer_name"], "中国农业银行");
    assert_eq!(mine["summary"]["verdict"], "bound");
    assert!(
        mine["summary"]["story"]
            .as_str()
            .unwrap()
            .starts_with("You typed a wrong card number, then Agricultural Bank of China said")
    );
    // Support's words are not in the person's view.
    assert!(mine.get("next_step_support").is_none());
    assert!(!mine.to_string().contains("issuer_response"));

    // In Chinese by default, and everything with ?all=true.
    let (status, all) = server
        .get("/v1/cards/attempts?all=true", &alice.token)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(all["data"].as_array().unwrap().len(), 3);
    assert_eq!(all["data"][2]["happened"], "你输错了卡号。");

    // Bob sees only his own.
    let (_, theirs) = server.get("/v1/cards/attempts", &bob.token).await;
    let data = theirs["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["code"], "card_declined");
    assert!(!theirs.to_string().contains(&alice.id));
    // Keys are not people.
    let (status, body) = server.get("/v1/cards/attempts", &server.support_key).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
}

/// The verdict each error code gives a failed attempt on its own, written
/// out: a change to the mapping has to change this table too.
const VERDICTS: [(&str, &str); 71] = [
    ("invalid_number", "input_mistake"),
    ("incorrect_number", "input_mistake"),
    ("invalid_expiry_month", "input_mistake"),
    ("invalid_expiry_year", "input_mistake"),
    ("expired_card", "input_mistake"),
    ("invalid_cvc", "input_mistake"),
    ("incorrect_cvc", "input_mistake"),
    ("invalid_holder_name", "input_mistake"),
    ("name_mismatch", "real_name"),
    ("phone_mismatch", "phone_on_file"),
    ("card_not_supported", "card_not_supported"),
    ("card_declined", "declined_by_issuer"),
    ("card_already_bound", "duplicate"),
    ("card_limit_reached", "card_limit"),
    ("otp_required", "awaiting_sms_code"),
    ("otp_incorrect", "input_mistake"),
    ("otp_expired", "input_mistake"),
    ("too_many_attempts", "security_lock"),
    ("issuer_unavailable", "network_or_issuer"),
    ("maintenance", "system_or_maintenance"),
    // The app's fault, never the person's typing.
    ("idempotency_conflict", "system_or_maintenance"),
    ("request_in_progress", "network_or_issuer"),
    ("payment_password_incorrect", "security_lock"),
    ("payment_password_locked", "security_lock"),
    ("token_suspended", "token_suspended"),
    ("card_unbound", "card_unbound"),
    ("token_expired", "token_expired"),
    ("cryptogram_invalid", "cryptogram_invalid"),
    ("atc_replayed", "atc_replayed"),
    ("domain_mismatch", "domain_mismatch"),
    ("risk_declined", "risk_declined"),
    ("internal_error", "system_or_maintenance"),
    ("invalid_request", "input_mistake"),
    ("unauthenticated", "security_lock"),
    ("forbidden", "security_lock"),
    ("not_found", "input_mistake"),
    ("method_not_allowed", "input_mistake"),
    ("payload_too_large", "input_mistake"),
    ("rate_limited", "security_lock"),
    ("database_unavailable", "system_or_maintenance"),
    ("invalid_phone", "input_mistake"),
    ("invalid_id_number", "input_mistake"),
    ("phone_taken", "account_state"),
    ("weak_password", "input_mistake"),
    ("invalid_credentials", "input_mistake"),
    ("sms_code_incorrect", "input_mistake"),
    ("sms_code_expired", "input_mistake"),
    ("field_too_long", "input_mistake"),
    ("invalid_characters", "input_mistake"),
    ("identity_mismatch", "input_mistake"),
    ("identity_not_found", "input_mistake"),
    ("identity_unavailable", "network_or_issuer"),
    ("id_number_taken", "account_state"),
    ("sms_unavailable", "network_or_issuer"),
    ("otp_resend_too_soon", "awaiting_sms_code"),
    ("overloaded", "system_or_maintenance"),
    ("request_timeout", "system_or_maintenance"),
    ("payment_password_too_simple", "input_mistake"),
    ("payment_password_not_set", "security_lock"),
    ("id_number_incorrect", "security_lock"),
    ("verification_required", "security_lock"),
    ("verification_invalid", "security_lock"),
    ("refund_exceeds_payment", "input_mistake"),
    ("payment_not_refundable", "input_mistake"),
    ("refund_declined", "declined_by_issuer"),
    ("card_wallet_limit_reached", "card_limit"),
    ("transfer_declined", "declined_by_issuer"),
    ("authentication_required", "confirmation_required"),
    ("account_frozen", "account_frozen"),
    ("account_closed", "account_state"),
    ("key_version_stale", "system_or_maintenance"),
];

/// Every code, as a stored attempt of its own person, gets the verdict the
/// table gives it, with the code and cause it was recorded with.
async fn every_error_code_gives_the_verdict_of_the_table(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let codes: Vec<&str> = tessera_core::error::CATALOGUE
        .iter()
        .map(|entry| entry.code.as_str())
        .collect();
    let listed: Vec<&str> = VERDICTS.iter().map(|(code, _)| *code).collect();
    assert_eq!(listed, codes, "the table lists every code, in order");
    for (entry, (code, verdict)) in tessera_core::error::CATALOGUE.iter().zip(VERDICTS) {
        let trace = format!("req_verdict_{code}");
        let attempt = tessera_store::AttemptRecord {
            client_gone: false,
            trace_id: trace.clone(),
            user_id: format!("usr_verdict_{code}").into(),
            outcome: tessera_store::AttemptOutcome::Error,
            error_code: Some(code.to_owned()),
            cause: Some(entry.cause.as_str().to_owned()),
            created_at: server.now(),
            ..tessera_store::AttemptRecord::default()
        };
        server.state().store.record_attempt(&attempt).await.unwrap();
        let diagnosis = verdict_of(&server, &trace).await;
        assert_eq!(diagnosis["verdict"]["kind"], verdict, "{code}");
        assert_eq!(diagnosis["verdict"]["code"], code);
        assert_eq!(diagnosis["verdict"]["trace_id"], trace.as_str());
        assert_eq!(diagnosis["attempts"][0]["cause"], entry.cause.as_str());
    }
}

on_both_backends!(
    every_error_code_gives_the_verdict_of_the_table,
    typos_then_a_prepaid_card_read_as_one_story,
    sandbox_outcomes_give_their_verdicts,
    maintenance_is_a_system_verdict_with_the_time_to_retry,
    wallet_rules_give_their_verdicts,
    wrong_sms_codes_end_in_a_security_lock,
    a_binding_that_worked_in_the_end_is_bound,
    diagnosis_asks_for_a_trace_or_a_user_and_is_for_support_only,
    people_see_their_own_failed_attempts_explained,
);
