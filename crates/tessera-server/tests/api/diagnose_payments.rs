//! A payment's diagnosis over HTTP, by payment id or by trace id: each stop
//! a payment can meet (token suspended and by whom, cryptogram, ATC,
//! domain, risk, frozen wallet, bank decline, bank unavailable) and an
//! approval give their verdict, a story and next steps in both languages;
//! a decline that a later payment fixed is told as solved.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tessera_server::test_support::Device;

use crate::diagnose::diagnose;
use crate::payments::{set_up_unscreened, set_up_with};
use crate::{Backend, TestServer, assert_error, purchase};

/// Pays `body`; returns the status, the payment id and its trace id.
async fn pay(server: &TestServer, merchant: &str, body: &Value) -> (StatusCode, String, String) {
    let (status, answer) = server.pay(merchant, body).await;
    let id = answer["id"]
        .as_str()
        .or_else(|| answer["error"]["payment_id"].as_str())
        .unwrap_or_else(|| panic!("no payment id: {answer}"))
        .to_owned();
    let stored = server
        .state()
        .store
        .payment(&id.clone().into())
        .await
        .unwrap()
        .expect("the payment is recorded");
    if let Some(trace) = answer["error"]["trace_id"].as_str() {
        assert_eq!(trace, stored.trace_id);
    }
    (status, id, stored.trace_id)
}

async fn signed_pay(
    server: &TestServer,
    merchant: &str,
    device: &mut Device,
    amount: u64,
) -> (StatusCode, String, String) {
    let signed = device.sign(&purchase(amount, "M1")).unwrap();
    pay(server, merchant, &signed.body).await
}

/// The diagnosis of a payment, in English; its texts in both languages
/// checked, and the same answer by its trace id.
async fn of_payment(server: &TestServer, payment_id: &str, trace: &str) -> Value {
    let by_id = diagnose(server, &format!("payment_id={payment_id}"), "en").await;
    assert_eq!(by_id["verdict"]["payment_id"], payment_id, "{by_id}");
    assert_eq!(by_id["verdict"]["trace_id"], trace);
    let by_trace = diagnose(server, &format!("trace_id={trace}"), "en").await;
    assert_eq!(by_trace["verdict"], by_id["verdict"]);
    assert_eq!(by_trace["texts"], by_id["texts"]);
    for (lang, texts) in by_id["texts"].as_object().unwrap() {
        for (name, text) in texts.as_object().unwrap() {
            let text = text.as_str().unwrap();
            assert!(!text.trim().is_empty(), "{lang} {name}");
            let han = text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
            // The story names the merchant as it calls itself.
            if name != "story" {
                assert_eq!(han, lang == "zh-CN", "{lang} {name}: {text}");
            }
            assert!(!text.contains("()") && !text.contains("（）"), "{text}");
        }
    }
    let text = by_id.to_string();
    assert!(!text.contains("token_pan\":\"6"), "no token number: {text}");
    by_id
}

fn says(diagnosis: &Value, path: &str, expected: &str) {
    let text = diagnosis
        .pointer(path)
        .and_then(Value::as_str)
        .unwrap_or("");
    assert!(
        text.contains(expected),
        "{path}: {expected:?} not in {text:?}"
    );
}

async fn payments_get_their_verdicts_by_payment_id_and_trace_id(backend: Backend) {
    let (server, user, card, mut device, merchant) = set_up_unscreened(backend).await;
    // Approved: nothing to fix.
    let (status, approved, approved_trace) =
        signed_pay(&server, &merchant, &mut device, 1234).await;
    assert_eq!(status, StatusCode::CREATED);
    let diagnosis = of_payment(&server, &approved, &approved_trace).await;
    assert_eq!(diagnosis["verdict"]["kind"], "approved");
    assert_eq!(diagnosis["verdict"]["cause"], Value::Null);
    assert_eq!(diagnosis["user_id"], user.id.as_str());
    says(&diagnosis, "/next_step/person", "Nothing to do");
    let evidence = &diagnosis["payments"][0];
    assert_eq!(evidence["id"], approved.as_str());
    assert_eq!(evidence["status"], "approved");
    assert_eq!(evidence["cryptogram_result"], "verified");
    let masked = evidence["masked_pan"].as_str().unwrap();
    assert!(masked.starts_with("622848") && masked.contains("******"));
    assert_eq!(diagnosis["attempts"], json!([]));

    // The bank declines, with its reason.
    let (_, declined, trace) = signed_pay(&server, &merchant, &mut device, 1251).await;
    let diagnosis = of_payment(&server, &declined, &trace).await;
    assert_eq!(diagnosis["verdict"]["kind"], "declined_by_issuer");
    assert_eq!(diagnosis["verdict"]["code"], "card_declined");
    says(
        &diagnosis,
        "/next_step/support",
        "decline_code insufficient_funds",
    );
    says(
        &diagnosis,
        "/next_step/person",
        "Put money into the account",
    );
    says(&diagnosis, "/story", "This person paid 12.34 CNY at");
    let (_, honor, trace) = signed_pay(&server, &merchant, &mut device, 1205).await;
    let diagnosis = of_payment(&server, &honor, &trace).await;
    says(
        &diagnosis,
        "/next_step/support",
        "decline_code do_not_honor",
    );
    says(
        &diagnosis,
        "/next_step/person",
        "declined the payment without saying why",
    );

    // The bank does not answer: nothing was charged.
    let (status, failed, trace) = signed_pay(&server, &merchant, &mut device, 1291).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let diagnosis = of_payment(&server, &failed, &trace).await;
    assert_eq!(diagnosis["verdict"]["kind"], "network_or_issuer");
    assert_eq!(diagnosis["verdict"]["code"], "issuer_unavailable");
    says(&diagnosis, "/next_step/person", "nothing was charged");
    says(&diagnosis, "/next_step/support", "ATC was given back");

    // A cryptogram over other data than was sent.
    let mut forged = device.sign(&purchase(500, "M1")).unwrap().body;
    forged["amount"] = json!(50_000);
    let (_, invalid, trace) = pay(&server, &merchant, &forged).await;
    let diagnosis = of_payment(&server, &invalid, &trace).await;
    assert_eq!(diagnosis["verdict"]["kind"], "cryptogram_invalid");
    assert_eq!(diagnosis["verdict"]["cause"], "security");
    says(&diagnosis, "/next_step/support", "ARQC failed verification");

    // The same cryptogram twice: the second is a replay.
    let signed = device.sign(&purchase(600, "M1")).unwrap();
    let (status, _, _) = pay(&server, &merchant, &signed.body).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, replayed, trace) = pay(&server, &merchant, &signed.body).await;
    let diagnosis = of_payment(&server, &replayed, &trace).await;
    assert_eq!(diagnosis["verdict"]["kind"], "atc_replayed");
    says(&diagnosis, "/next_step/person", "don't pay twice");
    says(
        &diagnosis,
        "/next_step/support",
        &format!("ATC {}", signed.body["atc"].as_str().unwrap()),
    );

    // Device keys do not pay on the web: the channel's domain.
    let mut web = device.sign(&purchase(700, "M1")).unwrap().body;
    web["channel"] = json!("ecommerce");
    let (_, mismatch, trace) = pay(&server, &merchant, &web).await;
    let diagnosis = of_payment(&server, &mismatch, &trace).await;
    assert_eq!(diagnosis["verdict"]["kind"], "domain_mismatch");
    says(
        &diagnosis,
        "/next_step/person",
        "can't be used for online payment",
    );

    // Every payment of the day is evidence, oldest first.
    let ids: Vec<&str> = diagnosis["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.first(), Some(&approved.as_str()));
    assert_eq!(ids.last(), Some(&mismatch.as_str()));
    assert_eq!(card["token"]["ref"], diagnosis["payments"][0]["token_ref"]);
}

async fn a_token_the_cardholder_suspended_says_so(backend: Backend) {
    let (server, user, card, mut device, merchant) = set_up_unscreened(backend).await;
    let token_ref = card["token"]["ref"].as_str().unwrap();
    let (status, body) = server
        .post(
            &format!("/v1/tokens/{token_ref}/suspend"),
            &user.token,
            json!({"reason": "phone left at the office"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, id, trace) = signed_pay(&server, &merchant, &mut device, 100).await;
    let diagnosis = of_payment(&server, &id, &trace).await;
    assert_eq!(diagnosis["verdict"]["kind"], "token_suspended");
    assert_eq!(diagnosis["verdict"]["code"], "token_suspended");
    says(
        &diagnosis,
        "/story",
        "The card had been suspended by the cardholder (reason: phone left at the office)",
    );
    says(&diagnosis, "/next_step/person", "You suspended this card");
    says(&diagnosis, "/next_step/support", "only they can resume it");
    says(&diagnosis, "/texts/zh-CN/story", "被持卡人本人暂停");
}

async fn risk_and_a_frozen_wallet_say_why(backend: Backend) {
    let (server, _user, _card, mut device, merchant) = set_up_with(backend, |config| {
        config.risk.card_just_bound.points = 90;
    })
    .await;
    let verified = purchase(100, "M1").verified(tessera_core::emv::DeviceCvm::Biometric);
    let (_, id, trace) = pay(&server, &merchant, &device.sign(&verified).unwrap().body).await;
    let diagnosis = of_payment(&server, &id, &trace).await;
    assert_eq!(diagnosis["verdict"]["kind"], "risk_declined");
    says(
        &diagnosis,
        "/texts/zh-CN/next_step_support",
        "这张卡刚刚添加到钱包",
    );
    says(&diagnosis, "/next_step/support", "(score 90)");
    says(
        &diagnosis,
        "/next_step/person",
        "this card was added to your wallet only minutes ago",
    );

    let (server, user, _card, mut device, merchant) = set_up_unscreened(backend).await;
    let (status, body) = server.post("/v1/me/freeze", &user.token, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, id, trace) = signed_pay(&server, &merchant, &mut device, 100).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let diagnosis = of_payment(&server, &id, &trace).await;
    assert_eq!(diagnosis["verdict"]["kind"], "account_frozen");
    assert_eq!(diagnosis["verdict"]["cause"], "account");
    says(&diagnosis, "/next_step/person", "Your wallet is frozen");
}

async fn a_decline_a_later_payment_fixed_is_solved(backend: Backend) {
    let (server, _user, _card, mut device, merchant) = set_up_unscreened(backend).await;
    let (_, declined, trace) = signed_pay(&server, &merchant, &mut device, 1261).await;
    let open = of_payment(&server, &declined, &trace).await;
    assert_eq!(open["verdict"]["resolved_by"], Value::Null);
    server.advance(std::time::Duration::from_secs(90));
    let (status, _, paid_trace) = signed_pay(&server, &merchant, &mut device, 900).await;
    assert_eq!(status, StatusCode::CREATED);
    let solved = of_payment(&server, &declined, &trace).await;
    assert_eq!(solved["verdict"]["kind"], "declined_by_issuer");
    assert_eq!(solved["verdict"]["resolved_by"], paid_trace.as_str());
    says(
        &solved,
        "/story",
        "1 minute later, this person paid 9.00 CNY at",
    );
    says(&solved, "/next_step/support", "Nothing to do");
    says(&solved, "/next_step/support", &paid_trace);
    says(&solved, "/texts/zh-CN/next_step_support", "无需处理");
    assert_eq!(solved["payments"].as_array().unwrap().len(), 2);
}

async fn support_finds_any_wallets_payment_and_unknown_ones_are_404(backend: Backend) {
    let (server, user, _card, mut device, merchant) = set_up_unscreened(backend).await;
    let (_, id, trace) = signed_pay(&server, &merchant, &mut device, 1251).await;
    // Another person's wallet and key: support reads every wallet.
    let other = server.user().await;
    let (status, body) = server
        .get(
            &format!("/v1/support/diagnose?payment_id={id}"),
            &server.support_key,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user_id"], user.id.as_str());
    assert_ne!(body["user_id"], other.id.as_str());
    // Narrowed to another person, the trace is not theirs.
    let (status, body) = server
        .get(
            &format!("/v1/support/diagnose?trace_id={trace}&user_id={}", other.id),
            &server.support_key,
        )
        .await;
    let error = assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(error["param"], "trace_id");
    // People read no diagnosis, of their own payment or any.
    let (status, body) = server
        .get(
            &format!("/v1/support/diagnose?payment_id={id}"),
            &user.token,
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = server
        .get(
            "/v1/support/diagnose?payment_id=pay_nothing",
            &server.support_key,
        )
        .await;
    let error = assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(error["param"], "payment_id");
    let (status, body) = server
        .get(
            "/v1/support/diagnose?trace_id=req_nothing",
            &server.support_key,
        )
        .await;
    let error = assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(error["param"], "trace_id");
}

on_both_backends!(
    payments_get_their_verdicts_by_payment_id_and_trace_id,
    a_token_the_cardholder_suspended_says_so,
    risk_and_a_frozen_wallet_say_why,
    a_decline_a_later_payment_fixed_is_solved,
    support_finds_any_wallets_payment_and_unknown_ones_are_404,
);
