//! The payment password: six digits nobody would guess first, changed
//! with the old one, every check counted before it is made so that a
//! burst checks at most five, and a forgotten one reset with a texted code
//! and the full ID number.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tessera_server::test_support::User;

use crate::accounts::{burst, texts};
use crate::{Backend, TestServer, assert_error};

const PATH: &str = "/v1/me/payment-password";

async fn put(server: &TestServer, user: &User, body: Value) -> (StatusCode, Value) {
    let (status, _, body) = server
        .call(Method::PUT, PATH, Some(&user.token), Some(&body), &[])
        .await;
    (status, body)
}

async fn state(server: &TestServer, user: &User) -> Value {
    let (status, body) = server.get(PATH, &user.token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Six digits that are none of the user's guessable ones.
fn good_pin(user: &User, avoid: &str) -> String {
    let phone_tail = &user.phone[user.phone.len() - 6..];
    ["830271", "604917", "275903"]
        .into_iter()
        .find(|pin| {
            *pin != phone_tail && *pin != avoid && !birthdays(user).contains(&pin.to_string())
        })
        .unwrap()
        .to_owned()
}

/// YYMMDD, MMDDYY and DDMMYY of the user's ID number.
fn birthdays(user: &User) -> Vec<String> {
    let date = &user.id_number[6..14];
    let (yy, mm, dd) = (&date[2..4], &date[4..6], &date[6..8]);
    vec![
        format!("{yy}{mm}{dd}"),
        format!("{mm}{dd}{yy}"),
        format!("{dd}{mm}{yy}"),
    ]
}

/// The guessable choices are refused with their reason and change
/// nothing; a good one is set; changing it takes the old one, and a wrong
/// old one costs one of five tries.
async fn a_payment_password_is_six_digits_nobody_would_guess_first(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    assert_eq!(state(&server, &user).await, json!({"set": false}));
    let phone_tail = user.phone[user.phone.len() - 6..].to_owned();
    let mut refused = vec![
        ("12345".to_owned(), "not_six_digits"),
        ("12345a".to_owned(), "not_six_digits"),
        ("888888".to_owned(), "same_digit"),
        ("123456".to_owned(), "run"),
        ("987654".to_owned(), "run"),
        ("123123".to_owned(), "repeated"),
        ("525252".to_owned(), "repeated"),
        (phone_tail, "phone_number"),
    ];
    for birthday in birthdays(&user) {
        refused.push((birthday, "birthday"));
    }
    for (pin, reason) in refused {
        let (status, body) = put(&server, &user, json!({"payment_password": pin})).await;
        let error = assert_error(
            status,
            &body,
            StatusCode::UNPROCESSABLE_ENTITY,
            "payment_password_too_simple",
        );
        assert_eq!(
            (error["reason"].as_str(), error["param"].as_str()),
            (Some(reason), Some("payment_password")),
            "{pin}: {body}"
        );
        assert!(
            !body.to_string().contains(&pin),
            "the choice was echoed: {body}"
        );
    }
    assert_eq!(state(&server, &user).await, json!({"set": false}));

    let first = good_pin(&user, "");
    let (status, body) = put(&server, &user, json!({"payment_password": first})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"set": true, "attempts_left": 5}));

    // Changing it takes the old one.
    let second = good_pin(&user, &first);
    let (status, body) = put(&server, &user, json!({"payment_password": second})).await;
    let error = assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(error["param"], "old_payment_password");
    let (status, body) = put(
        &server,
        &user,
        json!({"payment_password": second, "old_payment_password": "135790"}),
    )
    .await;
    let error = assert_error(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "payment_password_incorrect",
    );
    assert_eq!(error["attempts_left"], 4, "{body}");
    assert_eq!(state(&server, &user).await["attempts_left"], 4);
    let (status, body) = put(
        &server,
        &user,
        json!({"payment_password": second, "old_payment_password": first}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A right one clears the count; the first no longer works.
    assert_eq!(body["attempts_left"], 5);
    let (status, body) = put(
        &server,
        &user,
        json!({"payment_password": first, "old_payment_password": first}),
    )
    .await;
    assert_error(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "payment_password_incorrect",
    );
}

/// 50 changes with a wrong old password, all at once: 5 are checked and
/// 45 refused unchecked with the time the lock lifts, three hours on; then
/// the right one is refused too.
async fn a_burst_of_wrong_payment_passwords_checks_five(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let pin = good_pin(&user, "");
    let (status, body) = put(&server, &user, json!({"payment_password": pin})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let next = good_pin(&user, &pin);
    let requests = (0..50)
        .map(|i| {
            let wrong = format!("{:06}", 100_000 + i * 7);
            (
                Method::PUT,
                PATH.to_owned(),
                Some(user.token.clone()),
                Some(json!({"payment_password": next, "old_payment_password": wrong})),
            )
        })
        .collect();
    let (mut checked, mut locked) = (0, 0);
    for (status, headers, body) in burst(&server, requests).await {
        match status {
            StatusCode::FORBIDDEN => {
                assert_error(status, &body, status, "payment_password_incorrect");
                checked += 1;
            }
            StatusCode::TOO_MANY_REQUESTS => {
                let error = assert_error(status, &body, status, "payment_password_locked");
                let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
                assert!((3 * 3600 - 60..=3 * 3600).contains(&retry), "{retry}");
                assert!(error["locked_until"].is_string(), "{body}");
                // The wrong one that locked it was checked, and says so.
                if error["attempts_left"] == 0 {
                    checked += 1;
                } else {
                    assert!(error["attempts_left"].is_null(), "{body}");
                    locked += 1;
                }
            }
            other => panic!("a wrong payment password answered {other}: {body}"),
        }
    }
    assert_eq!((checked, locked), (5, 45), "checked, refused unchecked");
    let (status, body) = put(
        &server,
        &user,
        json!({"payment_password": next, "old_payment_password": pin}),
    )
    .await;
    assert_error(
        status,
        &body,
        StatusCode::TOO_MANY_REQUESTS,
        "payment_password_locked",
    );
    let kept = state(&server, &user).await;
    assert_eq!(kept["attempts_left"], 0, "{kept}");
    assert!(kept["locked_until"].is_string(), "{kept}");
}

/// A lock lifts by itself when its time is over, and the count starts again.
async fn a_payment_password_lock_lifts_when_its_time_is_over(backend: Backend) {
    let server = TestServer::start_on(backend, |config| {
        config.limits.payment_password_max_failures = 2;
        config.limits.payment_password_lock_secs = 1;
    })
    .await;
    let user = server.user().await;
    let pin = good_pin(&user, "");
    put(&server, &user, json!({"payment_password": pin})).await;
    let next = good_pin(&user, &pin);
    let wrong = json!({"payment_password": next, "old_payment_password": "135790"});
    let (status, body) = put(&server, &user, wrong.clone()).await;
    assert_error(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "payment_password_incorrect",
    );
    // The second wrong one reaches the limit: it locks.
    let (status, body) = put(&server, &user, wrong.clone()).await;
    assert_error(
        status,
        &body,
        StatusCode::TOO_MANY_REQUESTS,
        "payment_password_locked",
    );
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    assert_eq!(state(&server, &user).await["attempts_left"], 2);
    let (status, body) = put(
        &server,
        &user,
        json!({"payment_password": next, "old_payment_password": pin}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Forgotten and locked: a texted code and the full ID number set a new
/// one and lift the lock. A wrong ID number spends the code.
async fn a_forgotten_payment_password_is_reset_with_a_code_and_the_id_number(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let pin = good_pin(&user, "");
    put(&server, &user, json!({"payment_password": pin})).await;
    let next = good_pin(&user, &pin);
    for _ in 0..5 {
        put(
            &server,
            &user,
            json!({"payment_password": next, "old_payment_password": "135790"}),
        )
        .await;
    }
    assert!(state(&server, &user).await["locked_until"].is_string());

    let code = reset_code(&server, &user, 2).await;
    let other_id = if user.id_number.ends_with('1') {
        format!("{}2", &user.id_number[..17])
    } else {
        format!("{}1", &user.id_number[..17])
    };
    let (status, body) = put(
        &server,
        &user,
        json!({"payment_password": next, "sms_code": code, "id_number": other_id}),
    )
    .await;
    let error = assert_error(status, &body, StatusCode::FORBIDDEN, "id_number_incorrect");
    assert_eq!(error["param"], "id_number");
    // The code is spent: the right ID number with it is too late.
    let (status, body) = put(
        &server,
        &user,
        json!({"payment_password": next, "sms_code": code, "id_number": user.id_number}),
    )
    .await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "sms_code_expired",
    );
    assert!(state(&server, &user).await["locked_until"].is_string());

    let code = reset_code(&server, &user, 3).await;
    let (status, body) = put(
        &server,
        &user,
        json!({"payment_password": next, "sms_code": code, "id_number": user.id_number}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"set": true, "attempts_left": 5}));
    // The new one is the one: it changes the password.
    let (status, body) = put(
        &server,
        &user,
        json!({"payment_password": pin, "old_payment_password": next}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Asks for a `reset_payment_password` code and reads it off the sandbox
/// phone, once `count` texts have arrived there.
async fn reset_code(server: &TestServer, user: &User, count: usize) -> String {
    let (status, _, body) = server
        .call(
            Method::POST,
            "/v1/sms-codes",
            None,
            Some(&json!({"phone": user.phone, "purpose": "reset_payment_password"})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    for _ in 0..100 {
        let texts = texts(server, &user.phone).await;
        if texts.len() >= count {
            assert!(texts[0].contains("重设支付密码"), "{texts:?}");
            return texts[0]
                .split(|c: char| !c.is_ascii_digit())
                .find(|part| part.len() == 6)
                .unwrap()
                .to_owned();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no code reached the phone");
}

on_both_backends!(
    a_payment_password_is_six_digits_nobody_would_guess_first,
    a_burst_of_wrong_payment_passwords_checks_five,
    a_payment_password_lock_lifts_when_its_time_is_over,
    a_forgotten_payment_password_is_reset_with_a_code_and_the_id_number,
);
