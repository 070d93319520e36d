//! Accounts under attack: sign-in attempts and guesses at a texted code
//! are counted before anything is compared, so bursts sent at once are
//! limited as surely as one after another; and the way back, a password
//! reset by text message.

use std::sync::Arc;

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::Barrier;

use crate::{Backend, TestServer, assert_error};

/// Sends every `(method, path, bearer, body)` at once, as an attacker does:
/// each on a client (and so a connection) of its own, opened first with a
/// request to `/healthz`; a barrier then releases them all together.
/// Answers come back in the order of `requests`.
pub async fn burst(
    server: &TestServer,
    requests: Vec<(Method, String, Option<String>, Option<Value>)>,
) -> Vec<(StatusCode, HeaderMap, Value)> {
    let requests = requests
        .into_iter()
        .map(|(method, path, bearer, body)| (method, path, bearer, body, None))
        .collect();
    burst_forwarded(server, requests).await
}

/// A request of a burst: method, path, bearer, body and the
/// `X-Forwarded-For` it carries, if any.
pub type Forwarded = (
    Method,
    String,
    Option<String>,
    Option<Value>,
    Option<String>,
);

/// [`burst`], each request with the `X-Forwarded-For` given to it, if any.
pub async fn burst_forwarded(
    server: &TestServer,
    requests: Vec<Forwarded>,
) -> Vec<(StatusCode, HeaderMap, Value)> {
    let barrier = Arc::new(Barrier::new(requests.len()));
    let mut tasks = Vec::new();
    for (method, path, bearer, body, forwarded_for) in requests {
        let (barrier, base) = (barrier.clone(), server.base.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let health = client.get(format!("{base}/healthz")).send().await.unwrap();
            assert_eq!(health.status(), StatusCode::OK);
            health.bytes().await.unwrap();
            let headers: Vec<(&str, &str)> = forwarded_for
                .as_deref()
                .map(|address| ("x-forwarded-for", address))
                .into_iter()
                .collect();
            barrier.wait().await;
            tessera_server::test_support::request(
                &client,
                method,
                &format!("{base}{path}"),
                bearer.as_deref(),
                body.as_ref(),
                &headers,
            )
            .await
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

pub fn sign_in(phone: &str, password: &str) -> (Method, String, Option<String>, Option<Value>) {
    (
        Method::POST,
        "/v1/sessions".to_owned(),
        None,
        Some(json!({"phone": phone, "password": password})),
    )
}

/// 800 wrong passwords for one phone, all at once: 5 are checked, 795 are
/// refused unchecked with the time the lock lifts; then even the right
/// password is refused.
async fn a_burst_of_wrong_passwords_checks_five(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let requests = (0..800)
        .map(|i| sign_in(&user.phone, &format!("wrong-pass-{i}")))
        .collect();
    let (mut checked, mut locked) = (0, 0);
    for (status, headers, body) in burst(&server, requests).await {
        match status {
            StatusCode::UNAUTHORIZED => {
                assert_error(status, &body, status, "invalid_credentials");
                checked += 1;
            }
            StatusCode::TOO_MANY_REQUESTS => {
                let error = assert_error(status, &body, status, "too_many_attempts");
                let retry: u32 = headers["retry-after"].to_str().unwrap().parse().unwrap();
                assert!((1..=900).contains(&retry), "{retry}");
                assert!(error["locked_until"].is_string(), "{body}");
                locked += 1;
            }
            other => panic!("a wrong password answered {other}: {body}"),
        }
    }
    assert_eq!((checked, locked), (5, 795), "passwords checked, refused");
    let (status, _, body) = server
        .call(
            Method::POST,
            "/v1/sessions",
            None,
            Some(&json!({"phone": user.phone, "password": user.password})),
            &[],
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
    );
}

/// 40 sign-ins at once, the right password 25th: at most 5 wrong
/// passwords are checked. The right one signs in only if it was among the
/// first 5 counted (it then gives its attempt back, which one more wrong
/// password may take); otherwise it is refused like the rest, and so is
/// the right password after the burst.
async fn a_burst_hiding_the_right_password_checks_at_most_five(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let requests = (0..40)
        .map(|i| match i {
            24 => sign_in(&user.phone, &user.password),
            _ => sign_in(&user.phone, &format!("wrong-pass-{i}")),
        })
        .collect();
    let answers = burst(&server, requests).await;
    let count = |status: StatusCode| answers.iter().filter(|(s, _, _)| *s == status).count();
    let (wrong, signed_in, locked) = (
        count(StatusCode::UNAUTHORIZED),
        count(StatusCode::CREATED),
        count(StatusCode::TOO_MANY_REQUESTS),
    );
    assert_eq!(wrong + signed_in + locked, 40, "{answers:?}");
    assert!(wrong <= 5, "{wrong} wrong passwords were checked");
    assert!(wrong + signed_in >= 5, "the limit was not used up: {wrong}");
    if signed_in == 1 {
        assert_eq!(answers[24].0, StatusCode::CREATED);
        return;
    }
    assert_eq!(signed_in, 0);
    let (status, _, body) = server
        .call(
            Method::POST,
            "/v1/sessions",
            None,
            Some(&json!({"phone": user.phone, "password": user.password})),
            &[],
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
    );
}

/// A phone without an account is counted and locked like one with, and
/// another phone is not touched by either lock.
async fn an_unknown_phone_locks_like_a_known_one(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let other = server.user().await;
    let unknown = crate::phone();
    for phone in [&user.phone, &unknown] {
        let requests = (0..20)
            .map(|i| sign_in(phone, &format!("wrong-pass-{i}")))
            .collect();
        let answers = burst(&server, requests).await;
        let codes: Vec<&str> = answers
            .iter()
            .map(|(_, _, body)| body["error"]["code"].as_str().unwrap())
            .collect();
        let checked = codes
            .iter()
            .filter(|code| **code == "invalid_credentials")
            .count();
        let locked = codes
            .iter()
            .filter(|code| **code == "too_many_attempts")
            .count();
        assert_eq!((checked, locked), (5, 15), "{phone}: {codes:?}");
    }
    let (status, _, body) = server
        .call(
            Method::POST,
            "/v1/sessions",
            None,
            Some(&json!({"phone": other.phone, "password": other.password})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// Sixty sign-ins at once against a queue of one hash: the excess is shed
/// at once with `overloaded` and `Retry-After`, never queued; a shed
/// sign-in gives its attempt back, so the flood brings no lock closer, and
/// once it has passed a sign-in is checked again.
async fn a_flood_of_sign_ins_is_shed_and_locks_nobody(backend: Backend) {
    let server = TestServer::start_on(backend, |config| {
        config.limits.password_queue_max = 1;
        config.limits.sign_in_max_attempts = 3;
    })
    .await;
    let user = server.user().await;
    let requests = (0..60)
        .map(|i| match i % 6 {
            0 => sign_in(&user.phone, &format!("wrong-pass-{i}")),
            _ => sign_in(&crate::phone(), &format!("made-up-{i}")),
        })
        .collect();
    let answers = burst(&server, requests).await;
    let (mut shed, mut user_checked) = (0, 0);
    for (i, (status, headers, body)) in answers.iter().enumerate() {
        match status.as_u16() {
            401 => {
                assert_error(*status, body, *status, "invalid_credentials");
                user_checked += usize::from(i % 6 == 0);
            }
            429 => {
                assert_eq!(i % 6, 0, "only the real phone can lock: {body}");
                assert_error(*status, body, *status, "too_many_attempts");
            }
            503 => {
                assert_error(*status, body, *status, "overloaded");
                assert_eq!(headers["retry-after"], "1");
                shed += 1;
            }
            other => panic!("a sign-in answered {other}: {body}"),
        }
    }
    assert!(
        shed > 0,
        "sixty hashes at once against a queue of one: none shed"
    );
    assert!(user_checked <= 3, "{user_checked} wrong passwords checked");
    let (status, _, body) = server
        .call(
            Method::POST,
            "/v1/sessions",
            None,
            Some(&json!({"phone": user.phone, "password": user.password})),
            &[],
        )
        .await;
    if user_checked < 3 {
        // Shed attempts were given back: the lock is not reached.
        assert_eq!(status, StatusCode::CREATED, "{body}");
    } else {
        assert_error(
            status,
            &body,
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
        );
    }
    let (status, _, body) = server
        .call(
            Method::POST,
            "/v1/sessions",
            None,
            Some(&json!({"phone": crate::phone(), "password": "made-up-pass-1"})),
            &[],
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );
}

/// The texts the sandbox phone `phone` received, newest first.
pub async fn texts(server: &TestServer, phone: &str) -> Vec<String> {
    let (status, body) = server
        .get(
            &format!("/v1/sandbox/sms?phone={phone}"),
            &server.operator_key,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|sms| sms["body"].as_str().unwrap().to_owned())
        .collect()
}

/// Asks for a reset code for `phone` and answers the body.
pub async fn ask_for_code(server: &TestServer, phone: &str) -> Value {
    let (status, _, body) = server
        .call(
            Method::POST,
            "/v1/sms-codes",
            None,
            Some(&json!({"phone": phone, "purpose": "reset_password"})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    body
}

/// The newest reset code texted to `phone`, once it has arrived (it is
/// sent after the answer); `count` texts are awaited (the sign-up code
/// counts one).
pub async fn reset_code(server: &TestServer, phone: &str, count: usize) -> String {
    for _ in 0..100 {
        let texts = texts(server, phone).await;
        if texts.len() >= count {
            assert!(texts[0].contains("重设登录密码"), "{texts:?}");
            return texts[0]
                .split(|c: char| !c.is_ascii_digit())
                .find(|part| part.len() == 6)
                .unwrap()
                .to_owned();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no reset code reached {phone}");
}

pub async fn reset(
    server: &TestServer,
    phone: &str,
    code: &str,
    password: &str,
) -> (StatusCode, Value) {
    let (status, _, body) = server
        .call(
            Method::POST,
            "/v1/password-resets",
            None,
            Some(&json!({"phone": phone, "sms_code": code, "new_password": password})),
            &[],
        )
        .await;
    (status, body)
}

/// A code is asked for with the same answer whether or not the phone has
/// an account; only an account's phone receives one, and the store keeps
/// no code in clear.
async fn a_reset_code_is_asked_for_alike_with_or_without_an_account(backend: Backend) {
    let mut server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let unknown = crate::phone();
    let known = ask_for_code(&server, &user.phone).await;
    let other = ask_for_code(&server, &unknown).await;
    assert_eq!(known, other);
    assert_eq!(known, json!({"status": "accepted", "expires_in": 300}));
    let code = reset_code(&server, &user.phone, 2).await;
    assert!(texts(&server, &unknown).await.is_empty());
    for (body, param) in [
        (
            json!({"phone": user.phone, "purpose": "sign_in"}),
            "purpose",
        ),
        (
            json!({"phone": "12345", "purpose": "reset_password"}),
            "phone",
        ),
    ] {
        let (status, _, answer) = server
            .call(Method::POST, "/v1/sms-codes", None, Some(&body), &[])
            .await;
        assert!(status.is_client_error(), "{answer}");
        assert_eq!(answer["error"]["param"], param, "{answer}");
    }
    assert_eq!(texts(&server, &user.phone).await.len(), 2);
    let database = server.database.take();
    let dir = server.stop().await;
    for value in crate::hygiene::stored_values(&dir, database.as_ref()).await {
        let holds = value.bytes.windows(6).any(|w| w == code.as_bytes());
        assert!(
            !holds || value.table == "sandbox_sms",
            "the code is in {}.{}",
            value.table,
            value.column
        );
    }
}

/// The way back: locked out by wrong passwords, a person resets the
/// password with the texted code; the lock lifts, every old session ends
/// at once, and the code works once.
async fn a_reset_sets_the_password_lifts_the_lock_and_ends_every_session(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let phone = user.phone.as_str();
    assert_eq!(server.get("/v1/me", &user.token).await.0, StatusCode::OK);
    let requests = (0..10)
        .map(|i| sign_in(phone, &format!("wrong-pass-{i}")))
        .collect();
    burst(&server, requests).await;
    let (status, _, body) = server
        .call(
            Method::POST,
            "/v1/sessions",
            None,
            Some(&json!({"phone": phone, "password": user.password})),
            &[],
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
    );

    ask_for_code(&server, phone).await;
    let code = reset_code(&server, phone, 2).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    // Refusals that change nothing: a malformed code and a weak password
    // cost no guess; a wrong code costs one.
    let (status, body) = reset(&server, phone, "12ab56", "new-pass-word-7").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
    let (status, body) = reset(&server, phone, &code, "short").await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "weak_password",
    );
    let (status, body) = reset(&server, phone, wrong, "new-pass-word-7").await;
    let error = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "sms_code_incorrect",
    );
    assert_eq!(error["param"], "sms_code");
    assert_eq!(server.get("/v1/me", &user.token).await.0, StatusCode::OK);

    let (status, body) = reset(&server, phone, &code, "new-pass-word-7").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user_id"], user.id);
    assert_eq!(body["sessions_ended"], 1);
    // The old session ended at once, though this node had just read it.
    let (status, body) = server.get("/v1/me", &user.token).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
    // The lock is lifted: the old password is wrong, the new one signs in.
    let sign_in_with = |password: &'static str| {
        let server = &server;
        async move {
            server
                .call(
                    Method::POST,
                    "/v1/sessions",
                    None,
                    Some(&json!({"phone": phone, "password": password})),
                    &[],
                )
                .await
        }
    };
    let (status, _, body) = sign_in_with(tessera_server::test_support::PASSWORD).await;
    assert_error(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );
    let (status, _, body) = sign_in_with("new-pass-word-7").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // The code worked once.
    let (status, body) = reset(&server, phone, &code, "another-pass-8").await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "sms_code_expired",
    );
    let (status, _, _) = sign_in_with("new-pass-word-7").await;
    assert_eq!(status, StatusCode::CREATED);
}

/// 100 guesses at one code, all at once: 5 are compared, the rest refused
/// unchecked, and then even the right code is refused until a new one is
/// asked for.
async fn a_burst_of_wrong_codes_compares_five(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let phone = user.phone.as_str();
    ask_for_code(&server, phone).await;
    let code = reset_code(&server, phone, 2).await;
    let requests = (0..100)
        .map(|i: u32| {
            let mut guess = format!("{:06}", (i * 7_919) % 1_000_000);
            if guess == code {
                guess = format!("{:06}", (i * 7_919 + 1) % 1_000_000);
            }
            (
                Method::POST,
                "/v1/password-resets".to_owned(),
                None,
                Some(json!({"phone": phone, "sms_code": guess, "new_password": "new-pass-word-7"})),
            )
        })
        .collect();
    let (mut compared, mut refused) = (0, 0);
    for (status, _, body) in burst(&server, requests).await {
        match body["error"]["code"].as_str() {
            Some("sms_code_incorrect") => compared += 1,
            Some("too_many_attempts") => {
                assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
                refused += 1;
            }
            _ => panic!("a guess answered {status}: {body}"),
        }
    }
    assert_eq!((compared, refused), (5, 95));
    let (status, body) = reset(&server, phone, &code, "new-pass-word-7").await;
    let error = assert_error(
        status,
        &body,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
    );
    assert_eq!(error["remedy"], "请重新获取验证码后再试。");
    assert_eq!(server.get("/v1/me", &user.token).await.0, StatusCode::OK);
    // A new code is a new start.
    ask_for_code(&server, phone).await;
    let code = reset_code(&server, phone, 3).await;
    let (status, body) = reset(&server, phone, &code, "new-pass-word-7").await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

on_both_backends!(
    a_burst_of_wrong_passwords_checks_five,
    a_burst_hiding_the_right_password_checks_at_most_five,
    an_unknown_phone_locks_like_a_known_one,
    a_flood_of_sign_ins_is_shed_and_locks_nobody,
    a_reset_code_is_asked_for_alike_with_or_without_an_account,
    a_reset_sets_the_password_lifts_the_lock_and_ends_every_session,
    a_burst_of_wrong_codes_compares_five,
);
