//! Sign-up proves who signs up: the phone by a texted code, the real name
//! and ID number by the identity provider (the sandbox's reads the ID
//! number's sequence digits), one wallet per ID number. Every refusal
//! leaves nothing stored.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode as AxumStatus;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::accounts::burst;
use crate::{Backend, TestServer, assert_error, id_number, phone};
use tessera_server::test_support::{PASSWORD, id_number_with_sequence};

/// No user holds `phone`.
async fn nobody_has(server: &TestServer, phone: &str) {
    let stored = server.state().store.user_by_phone(phone).await.unwrap();
    assert!(stored.is_none(), "a refused sign-up stored a user");
}

fn body(phone: &str, name: &str, id_number: &str, code: &str) -> Value {
    json!({"phone": phone, "real_name": name, "id_number": id_number,
        "password": PASSWORD, "sms_code": code})
}

/// A code other than `code`.
fn other_than(code: &str) -> &'static str {
    if code == "000000" { "111111" } else { "000000" }
}

async fn sign_up_needs_the_phones_own_code(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let phone = phone();
    let code = server.sign_up_code(&phone).await;
    let mut good = body(&phone, "张三", &id_number(), &code);

    // No code at all.
    let mut without = good.clone();
    without.as_object_mut().unwrap().remove("sms_code");
    let (status, answer) = server.create_user(&without).await;
    let error = assert_error(status, &answer, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(error["param"], "sms_code");
    nobody_has(&server, &phone).await;

    // A wrong code.
    good["sms_code"] = json!(other_than(&code));
    let (status, answer) = server.create_user(&good).await;
    let error = assert_error(
        status,
        &answer,
        StatusCode::UNPROCESSABLE_ENTITY,
        "sms_code_incorrect",
    );
    assert_eq!(error["param"], "sms_code");
    nobody_has(&server, &phone).await;

    // Another phone's code: this phone's code is not it.
    let other = crate::phone();
    let mut other_code = server.sign_up_code(&other).await;
    while other_code == code {
        other_code = server.sign_up_code(&other).await;
    }
    let (status, answer) = server
        .create_user(&body(&other, "李四", &id_number(), &code))
        .await;
    assert_error(
        status,
        &answer,
        StatusCode::UNPROCESSABLE_ENTITY,
        "sms_code_incorrect",
    );
    nobody_has(&server, &other).await;
    // A phone never sent a code.
    let never = crate::phone();
    let (status, answer) = server
        .create_user(&body(&never, "李四", &id_number(), &code))
        .await;
    assert_error(
        status,
        &answer,
        StatusCode::UNPROCESSABLE_ENTITY,
        "sms_code_expired",
    );
    nobody_has(&server, &never).await;

    // The right code signs up, once; a code past its life is refused.
    good["sms_code"] = json!(code);
    let (status, answer) = server.create_user(&good).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (status, answer) = server.create_user(&good).await;
    assert_error(
        status,
        &answer,
        StatusCode::UNPROCESSABLE_ENTITY,
        "sms_code_expired",
    );
    server.advance(std::time::Duration::from_secs(301));
    let (status, answer) = server
        .create_user(&body(&other, "李四", &id_number(), &other_code))
        .await;
    assert_error(
        status,
        &answer,
        StatusCode::UNPROCESSABLE_ENTITY,
        "sms_code_expired",
    );
    nobody_has(&server, &other).await;
}

/// The same answer for a phone with an account and one without; both get
/// a code (the sign-up then says `phone_taken` to the phone's owner only).
async fn a_sign_up_code_is_asked_for_alike_with_or_without_an_account(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let ask = |phone: String| {
        let server = &server;
        async move {
            server
                .call(
                    Method::POST,
                    "/v1/sms-codes",
                    None,
                    Some(&json!({"phone": phone, "purpose": "sign_up"})),
                    &[],
                )
                .await
        }
    };
    let (s1, _, known) = ask(user.phone.clone()).await;
    let (s2, _, unknown) = ask(crate::phone()).await;
    assert_eq!((s1, s2), (StatusCode::ACCEPTED, StatusCode::ACCEPTED));
    assert_eq!(known, unknown);
    assert_eq!(known, json!({"status": "accepted", "expires_in": 300}));
    // The owner proves the phone and learns it is taken.
    let code = server.sign_up_code(&user.phone).await;
    let (status, answer) = server
        .create_user(&body(&user.phone, "张三", &id_number(), &code))
        .await;
    assert_error(status, &answer, StatusCode::CONFLICT, "phone_taken");
}

/// 30 wrong codes at once and then the right one: at most 5 are compared,
/// and the right one comes too late; nothing is stored.
async fn a_burst_of_wrong_sign_up_codes_compares_five(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let phone = phone();
    let code = server.sign_up_code(&phone).await;
    let id = id_number();
    let requests = (0..30u32)
        .map(|i| {
            let mut guess = format!("{:06}", (i * 7_919) % 1_000_000);
            if guess == code {
                guess = format!("{:06}", (i * 7_919 + 1) % 1_000_000);
            }
            (
                Method::POST,
                "/v1/users".to_owned(),
                None,
                Some(body(&phone, "张三", &id, &guess)),
            )
        })
        .collect();
    let (mut compared, mut refused) = (0, 0);
    for (status, _, answer) in burst(&server, requests).await {
        match answer["error"]["code"].as_str() {
            Some("sms_code_incorrect") => compared += 1,
            Some("too_many_attempts") => {
                assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
                refused += 1;
            }
            _ => panic!("a guess answered {status}: {answer}"),
        }
    }
    assert_eq!((compared, refused), (5, 25));
    let (status, answer) = server.create_user(&body(&phone, "张三", &id, &code)).await;
    assert_error(
        status,
        &answer,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
    );
    nobody_has(&server, &phone).await;
}

/// The sandbox provider's outcomes by sequence digits, each storing
/// nothing; "Mickey Mouse" with another person's ID number (990) is the
/// defect this guards against.
async fn the_identity_provider_decides_and_refusals_store_nothing(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let phone = phone();
    let code = server.sign_up_code(&phone).await;
    for (sequence, name, status, error_code, param) in [
        (
            "990",
            "Mickey Mouse",
            StatusCode::UNPROCESSABLE_ENTITY,
            "identity_mismatch",
            Some("real_name"),
        ),
        (
            "991",
            "张三",
            StatusCode::UNPROCESSABLE_ENTITY,
            "identity_not_found",
            Some("id_number"),
        ),
        (
            "992",
            "张三",
            StatusCode::SERVICE_UNAVAILABLE,
            "identity_unavailable",
            None,
        ),
    ] {
        let id = id_number_with_sequence(sequence);
        let (got, answer) = server.create_user(&body(&phone, name, &id, &code)).await;
        let error = assert_error(got, &answer, status, error_code);
        assert_eq!(error["param"].as_str(), param, "{answer}");
        assert_eq!(error["retryable"], sequence == "992", "{answer}");
        nobody_has(&server, &phone).await;
        let hash = server.state().keys.id_number_hash(&id).as_str().to_owned();
        assert!(!format!("{answer}").contains(&id));
        assert!(!format!("{answer}").contains(&hash));
    }
    // The code has comparisons left: the real person signs up with it.
    let (status, answer) = server
        .create_user(&body(
            &phone,
            "张三",
            &id_number_with_sequence("123"),
            &code,
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
}

/// One wallet per ID number: a second sign-up is `id_number_taken`, also
/// when six race from six phones at once.
async fn one_wallet_per_id_number(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let id = id_number();
    let first = server.sign_up_body("张三", &id).await;
    let (status, answer) = server.create_user(&first).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let second = server.sign_up_body("张三", &id).await;
    let (status, answer) = server.create_user(&second).await;
    let error = assert_error(status, &answer, StatusCode::CONFLICT, "id_number_taken");
    assert_eq!(error["param"], "id_number");
    // Nothing about the wallet that holds it.
    let text = answer.to_string();
    assert!(!text.contains(first["phone"].as_str().unwrap()) && !text.contains(&id[14..]));
    nobody_has(&server, second["phone"].as_str().unwrap()).await;

    assert_eq!(race(&server, &id_number(), 6).await, (1, 5));
}

/// `n` sign-ups with one ID number from `n` proven phones, at once:
/// (created, refused as id_number_taken).
async fn race(server: &TestServer, id: &str, n: usize) -> (usize, usize) {
    let mut requests = Vec::new();
    for _ in 0..n {
        let body = server.sign_up_body("张三", id).await;
        requests.push((Method::POST, "/v1/users".to_owned(), None, Some(body)));
    }
    let (mut created, mut taken) = (0, 0);
    for (status, _, answer) in burst(server, requests).await {
        match answer["error"]["code"].as_str() {
            None if status == StatusCode::CREATED => created += 1,
            Some("id_number_taken") => taken += 1,
            _ => panic!("a racing sign-up answered {status}: {answer}"),
        }
    }
    (created, taken)
}

async fn the_wallets_per_id_number_are_configurable(backend: Backend) {
    let server = TestServer::start_on(backend, |config| {
        config.limits.wallets_per_id_number = 2;
    })
    .await;
    let id = id_number();
    assert_eq!(race(&server, &id, 5).await, (2, 3));
    let late = server.sign_up_body("张三", &id).await;
    let (status, answer) = server.create_user(&late).await;
    assert_error(status, &answer, StatusCode::CONFLICT, "id_number_taken");
}

/// Outside sandbox mode the server does not start without a real SMS
/// sender and identity provider, and says which is missing.
async fn without_sandbox_the_providers_are_required(backend: Backend) {
    let database = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(crate::TestDatabase::create().await.unwrap()),
    };
    let dir = tempfile::tempdir().unwrap();
    let refusal = |adjust: fn(&mut tessera_server::Config)| {
        let mut config = tessera_server::Config::new_for_test(dir.path().join("data"));
        config.database_url = database.as_ref().map(|d| d.url().to_owned());
        config.sandbox = false;
        adjust(&mut config);
        async move {
            match tessera_server::open(config).await {
                Ok(_) => panic!("the server opened without sandbox"),
                Err(error) => error.0,
            }
        }
    };
    let error = refusal(|_| {}).await;
    assert!(error.contains("sms.http_url"), "{error}");
    let error = refusal(|c| c.sms.http_url = Some("http://127.0.0.1:9/sms".to_owned())).await;
    assert!(error.contains("identity.http_url"), "{error}");
    // With both, the issuer is what is still missing in this version.
    let error = refusal(|c| {
        c.sms.http_url = Some("http://127.0.0.1:9/sms".to_owned());
        c.identity.http_url = Some("http://127.0.0.1:9/identity".to_owned());
    })
    .await;
    assert!(error.contains("sandbox issuer"), "{error}");
    // A URL the build cannot speak to is refused when the config loads.
    let error = tessera_server::Config::from_toml("[sms]\nhttp_url = \"https://sms.example\"\n")
        .unwrap_err();
    assert!(error.contains("sms.http_url"), "{error}");
}

/// What the fake gateway and provider received, and how they answer.
#[derive(Clone, Default)]
struct Received {
    bodies: Arc<Mutex<Vec<Value>>>,
    fail: Arc<std::sync::atomic::AtomicBool>,
}

async fn gateway(State(seen): State<Received>, Json(body): Json<Value>) -> AxumStatus {
    seen.bodies.lock().unwrap().push(body);
    if seen.fail.load(std::sync::atomic::Ordering::SeqCst) {
        AxumStatus::INTERNAL_SERVER_ERROR
    } else {
        AxumStatus::ACCEPTED
    }
}

/// Answers match for 张三 and mismatch for anyone else.
async fn provider(State(seen): State<Received>, Json(body): Json<Value>) -> Json<Value> {
    let result = if body["real_name"] == "张三" {
        "match"
    } else {
        "mismatch"
    };
    seen.bodies.lock().unwrap().push(body);
    Json(json!({"result": result}))
}

/// A real HTTP server on loopback port 0: its base URL.
async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

/// The HTTP SMS sender posts the phone and the text; the HTTP identity
/// provider gets the name and ID number; a gateway that fails is the
/// person's retryable `sms_unavailable`, and no log line holds a code.
async fn the_http_sender_and_provider_carry_sign_up(backend: Backend) {
    let texts = Received::default();
    let checks = Received::default();
    let sms_base = serve(
        axum::Router::new()
            .route("/sms", axum::routing::post(gateway))
            .with_state(texts.clone()),
    )
    .await;
    let identity_base = serve(
        axum::Router::new()
            .route("/identity", axum::routing::post(provider))
            .with_state(checks.clone()),
    )
    .await;
    let server = TestServer::start_on(backend, |config| {
        config.sms.http_url = Some(format!("{sms_base}/sms"));
        config.identity.http_url = Some(format!("{identity_base}/identity"));
    })
    .await;
    let phone = phone();
    let ask = json!({"phone": phone, "purpose": "sign_up"});
    let (status, _, answer) = server
        .call(Method::POST, "/v1/sms-codes", None, Some(&ask), &[])
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let sent = texts.bodies.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["phone"], phone);
    let text = sent[0]["text"].as_str().unwrap();
    let code = tessera_server::client::code_in(text).unwrap();
    assert!(text.contains("开通钱包"), "{text}");

    let id = id_number();
    let (status, answer) = server.create_user(&body(&phone, "王五", &id, &code)).await;
    assert_error(
        status,
        &answer,
        StatusCode::UNPROCESSABLE_ENTITY,
        "identity_mismatch",
    );
    nobody_has(&server, &phone).await;
    let (status, answer) = server.create_user(&body(&phone, "张三", &id, &code)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let asked = checks.bodies.lock().unwrap().clone();
    assert_eq!(asked.len(), 2);
    assert_eq!(
        (
            asked[1]["real_name"].as_str(),
            asked[1]["id_number"].as_str()
        ),
        (Some("张三"), Some(id.as_str()))
    );

    texts.fail.store(true, std::sync::atomic::Ordering::SeqCst);
    let other = json!({"phone": crate::phone(), "purpose": "sign_up"});
    let (status, _, answer) = server
        .call(Method::POST, "/v1/sms-codes", None, Some(&other), &[])
        .await;
    let error = assert_error(
        status,
        &answer,
        StatusCode::SERVICE_UNAVAILABLE,
        "sms_unavailable",
    );
    assert_eq!(error["retryable"], true);
    let failed = texts.bodies.lock().unwrap().last().unwrap()["text"]
        .as_str()
        .unwrap()
        .to_owned();
    let failed_code = tessera_server::client::code_in(&failed).unwrap();
    let logs = String::from_utf8_lossy(&crate::log_buffer().lock().unwrap()).into_owned();
    assert!(logs.contains("an SMS code was not sent"));
    for code in [&code, &failed_code] {
        assert!(!logs.contains(&format!("code {code}")) && !logs.contains(&format!("is {code}")));
    }
    assert!(!answer.to_string().contains(&failed_code));
}

on_both_backends!(
    sign_up_needs_the_phones_own_code,
    a_sign_up_code_is_asked_for_alike_with_or_without_an_account,
    a_burst_of_wrong_sign_up_codes_compares_five,
    the_identity_provider_decides_and_refusals_store_nothing,
    one_wallet_per_id_number,
    the_wallets_per_id_number_are_configurable,
    without_sandbox_the_providers_are_required,
    the_http_sender_and_provider_carry_sign_up,
);
