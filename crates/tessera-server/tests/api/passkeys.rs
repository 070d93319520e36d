//! Passkeys over HTTP with a software authenticator that verifies its user
//! (`webauthn-authenticator-rs`): a registration confirmed first, an
//! assertion that confirms a step in place of the payment password, each
//! challenge answered once and only in time, and removal.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tessera_server::test_support::User;
use url::Url;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse};

use crate::{Backend, TestServer, assert_error};

fn origin() -> Url {
    // The wallet's origin in the default configuration (`[webauthn]`).
    Url::parse("http://localhost:8080").unwrap()
}

/// Registers the authenticator's passkey for `user`; answers its view.
async fn register(
    server: &TestServer,
    user: &User,
    authenticator: &mut WebauthnAuthenticator<SoftPasskey>,
) -> Value {
    let settings = server
        .confirm(user, json!({"purpose": "security_settings"}))
        .await;
    let (status, challenge) = server
        .confirmed(
            Method::POST,
            "/v1/me/passkeys/registrations",
            &user.token,
            None,
            Some(&settings),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{challenge}");
    let options: CreationChallengeResponse =
        serde_json::from_value(challenge["options"].clone()).unwrap();
    let answer = authenticator.do_registration(origin(), options).unwrap();
    let body = json!({
        "challenge_id": challenge["challenge_id"],
        "name": "我的手机",
        "credential": serde_json::to_value(&answer).unwrap(),
    });
    // A control character in the challenge id is refused before anything
    // is taken, as the document says, and the challenge still answers.
    let mut garbled = body.clone();
    garbled["challenge_id"] = json!("\u{14}R\u{1}");
    let (status, refused) = server
        .confirmed(
            Method::POST,
            "/v1/me/passkeys",
            &user.token,
            Some(garbled),
            None,
        )
        .await;
    let error = assert_error(
        status,
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_characters",
    );
    assert_eq!(error["param"], "challenge_id");
    let (_, _, spec) = server
        .call(Method::GET, "/openapi.json", None, None, &[])
        .await;
    let responses = &spec["paths"]["/v1/me/passkeys"]["post"]["responses"];
    assert!(responses.get("422").is_some(), "{responses}");
    let (status, passkey) = server
        .confirmed(
            Method::POST,
            "/v1/me/passkeys",
            &user.token,
            Some(body.clone()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{passkey}");
    // A registration challenge answers once.
    let (status, again) = server
        .confirmed(
            Method::POST,
            "/v1/me/passkeys",
            &user.token,
            Some(body),
            None,
        )
        .await;
    let error = assert_error(
        status,
        &again,
        StatusCode::FORBIDDEN,
        "verification_invalid",
    );
    assert_eq!(error["param"], "challenge_id");
    passkey
}

/// An assertion from the authenticator, answering a fresh challenge.
async fn assertion(
    server: &TestServer,
    user: &User,
    authenticator: &mut WebauthnAuthenticator<SoftPasskey>,
) -> Value {
    let (status, challenge) = server
        .confirmed(
            Method::POST,
            "/v1/me/passkeys/assertions",
            &user.token,
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{challenge}");
    let options: RequestChallengeResponse =
        serde_json::from_value(challenge["options"].clone()).unwrap();
    let answer = authenticator.do_authentication(origin(), options).unwrap();
    json!({
        "challenge_id": challenge["challenge_id"],
        "credential": serde_json::to_value(&answer).unwrap(),
    })
}

async fn a_passkey_registered_and_asserted_confirms_a_step(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let mut authenticator = WebauthnAuthenticator::new(SoftPasskey::new(true));
    // Registering is a security setting: confirmed first.
    let (status, body) = server
        .confirmed(
            Method::POST,
            "/v1/me/passkeys/registrations",
            &user.token,
            None,
            None,
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "verification_required",
    );
    // No passkey yet: nothing to assert.
    let (status, body) = server
        .confirmed(
            Method::POST,
            "/v1/me/passkeys/assertions",
            &user.token,
            None,
            None,
        )
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let passkey = register(&server, &user, &mut authenticator).await;
    assert_eq!(passkey["name"], "我的手机");
    let (_, list) = server.get("/v1/me/passkeys", &user.token).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["data"][0]["last_used_at"], Value::Null);

    // The fingerprint confirms a step; the confirmation says how.
    let webauthn = assertion(&server, &user, &mut authenticator).await;
    let ask = json!({"purpose": "security_settings", "webauthn": webauthn});
    let (status, confirmed) = server
        .confirmed(
            Method::POST,
            "/v1/me/verifications",
            &user.token,
            Some(ask.clone()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{confirmed}");
    assert_eq!(confirmed["method"], "webauthn");
    // The same assertion again: its challenge is spent.
    let (status, body) = server
        .confirmed(
            Method::POST,
            "/v1/me/verifications",
            &user.token,
            Some(ask),
            None,
        )
        .await;
    let error = assert_error(status, &body, StatusCode::FORBIDDEN, "verification_invalid");
    assert_eq!(error["param"], "challenge_id");
    let (_, list) = server.get("/v1/me/passkeys", &user.token).await;
    assert!(list["data"][0]["last_used_at"].is_string(), "{list}");
    // A payment that needs confirming names the passkey first.
    let limits = json!({"per_payment": 0, "per_day": 0});
    let (status, body) = server
        .confirmed(
            Method::PUT,
            "/v1/me/payment-limits",
            &user.token,
            Some(limits),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let card = server
        .bind_on(
            &user,
            &crate::card(tessera_server::issuer::sandbox::Outcome::Approve),
            "phone-1",
        )
        .await;
    let path = format!(
        "/v1/tokens/{}/cryptograms",
        card["token"]["ref"].as_str().unwrap()
    );
    let (status, body) = server
        .confirmed(
            Method::POST,
            &path,
            &user.token,
            Some(json!({"amount": 100, "currency": "CNY", "merchant_id": "SHOP-1"})),
            None,
        )
        .await;
    let error = assert_error(
        status,
        &body,
        StatusCode::PAYMENT_REQUIRED,
        "authentication_required",
    );
    assert_eq!(
        error["next_action"]["methods"],
        json!(["webauthn", "sms_code"])
    );
    let webauthn = assertion(&server, &user, &mut authenticator).await;
    let ask = json!({"purpose": "payment", "amount": 100, "currency": "CNY",
        "merchant_id": "SHOP-1", "webauthn": webauthn});
    let (status, confirmed) = server
        .confirmed(
            Method::POST,
            "/v1/me/verifications",
            &user.token,
            Some(ask),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{confirmed}");
    let (status, made) = server
        .confirmed(
            Method::POST,
            &path,
            &user.token,
            Some(json!({"amount": 100, "currency": "CNY", "merchant_id": "SHOP-1"})),
            confirmed["verification"].as_str(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
}

async fn a_challenge_expires_and_a_removed_passkey_confirms_nothing(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let mut authenticator = WebauthnAuthenticator::new(SoftPasskey::new(true));
    let passkey = register(&server, &user, &mut authenticator).await;
    // Answered too late.
    let late = assertion(&server, &user, &mut authenticator).await;
    server.advance(std::time::Duration::from_secs(301));
    let ask = json!({"purpose": "unfreeze", "webauthn": late});
    let (status, body) = server
        .confirmed(
            Method::POST,
            "/v1/me/verifications",
            &user.token,
            Some(ask),
            None,
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "verification_invalid");
    // Another person cannot answer this person's challenge.
    let stranger = server.user_named("赵六").await;
    let theirs = assertion(&server, &user, &mut authenticator).await;
    let ask = json!({"purpose": "unfreeze", "webauthn": theirs});
    let (status, body) = server
        .confirmed(
            Method::POST,
            "/v1/me/verifications",
            &stranger.token,
            Some(ask),
            None,
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "verification_invalid");
    // Removing takes a confirmation; then the passkey is gone.
    let path = format!("/v1/me/passkeys/{}", passkey["id"].as_str().unwrap());
    let (status, body) = server
        .confirmed(Method::DELETE, &path, &user.token, None, None)
        .await;
    assert_error(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "verification_required",
    );
    let settings = server
        .confirm(&user, json!({"purpose": "security_settings"}))
        .await;
    let (status, _) = server
        .confirmed(Method::DELETE, &path, &user.token, None, Some(&settings))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, list) = server.get("/v1/me/passkeys", &user.token).await;
    assert_eq!(list["data"], json!([]));
    let (status, body) = server
        .confirmed(
            Method::POST,
            "/v1/me/passkeys/assertions",
            &user.token,
            None,
            None,
        )
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
}

on_both_backends!(
    a_passkey_registered_and_asserted_confirms_a_step,
    a_challenge_expires_and_a_removed_passkey_confirms_nothing,
);
