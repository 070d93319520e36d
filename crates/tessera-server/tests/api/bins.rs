//! `GET /v1/bins/{first6}`: what a card number's first six digits say,
//! from the BIN index and the support policy a binding uses, for
//! signed-in people only and within each person's budget.

use reqwest::{Method, StatusCode};

use crate::accounts::burst;
use crate::{Backend, TestServer, assert_error};

/// The demo's debit (ABC) and credit prefixes answer what a binding
/// needs of them; a prefix nobody issues is 404, a malformed one 400,
/// and nobody signed out may ask.
async fn a_prefix_tells_brand_type_bank_and_what_to_fill(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let (status, debit) = server.get("/v1/bins/622848", &user.token).await;
    assert_eq!(status, StatusCode::OK, "{debit}");
    assert_eq!(debit["first6"], "622848");
    assert_eq!(debit["brand"], "unionpay");
    assert_eq!(debit["card_type"], "debit");
    assert_eq!(debit["issuer"]["code"], "ABC");
    assert_eq!(debit["issuer"]["name_zh"], "中国农业银行");
    assert_eq!(debit["needs_expiry_and_cvc"], false);
    assert_eq!(debit["cvc_length"], 3);
    assert_eq!(debit["pan_lengths"], serde_json::json!([19]));
    assert_eq!(debit["supported"], true);
    assert!(debit.get("not_supported").is_none(), "{debit}");

    let (status, credit) = server.get("/v1/bins/622575", &user.token).await;
    assert_eq!(status, StatusCode::OK, "{credit}");
    assert_eq!(credit["card_type"], "credit");
    assert_eq!(credit["needs_expiry_and_cvc"], true);

    let (status, body) = server.get("/v1/bins/000000", &user.token).await;
    let error = assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(error["param"], "first6");
    for malformed in ["62284", "62284a", "6228481"] {
        let (status, body) = server
            .get(&format!("/v1/bins/{malformed}"), &user.token)
            .await;
        let error = assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
        assert_eq!(error["param"], "first6", "{malformed}");
    }
    let (status, _, body) = server
        .call(Method::GET, "/v1/bins/622848", None, None, &[])
        .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
}

/// A card the support policy refuses is answered with why, in the
/// person's language, as the binding would refuse it.
async fn a_refused_card_type_says_why(backend: Backend) {
    let server = TestServer::start_on(backend, |config| {
        config.policy.refused_card_types = vec![tessera_core::bins::CardType::Credit];
    })
    .await;
    let user = server.user().await;
    let (status, _, credit) = server
        .call(
            Method::GET,
            "/v1/bins/622575",
            Some(&user.token),
            None,
            &[("accept-language", "en")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{credit}");
    assert_eq!(credit["supported"], false);
    assert_eq!(credit["not_supported"]["reason"], "card_type");
    assert_eq!(
        credit["not_supported"]["message"],
        "Credit cards can't be added"
    );
    let (_, debit) = server.get("/v1/bins/622848", &user.token).await;
    assert_eq!(debit["supported"], true);
}

/// Thirty lookups at once by one person with a budget of five: five are
/// answered, the rest refused with `Retry-After`; another person's budget
/// is untouched.
async fn a_burst_of_lookups_gets_the_persons_budget_and_no_more(backend: Backend) {
    let server = TestServer::start_on(backend, |config| {
        config.limits.bin_lookups_per_minute = 5;
    })
    .await;
    let (one, two) = (server.user().await, server.user().await);
    let requests = (0..30)
        .map(|_| {
            (
                Method::GET,
                "/v1/bins/622848".to_owned(),
                Some(one.token.clone()),
                None,
            )
        })
        .collect();
    let (mut answered, mut refused) = (0, 0);
    for (status, headers, body) in burst(&server, requests).await {
        match status {
            StatusCode::OK => {
                assert_eq!(body["brand"], "unionpay", "{body}");
                answered += 1;
            }
            StatusCode::TOO_MANY_REQUESTS => {
                let error = assert_error(status, &body, status, "rate_limited");
                let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
                assert!((1..=60).contains(&retry), "{retry}");
                assert_eq!(error["retry_after"], retry, "{body}");
                refused += 1;
            }
            other => panic!("a lookup answered {other}: {body}"),
        }
    }
    assert_eq!((answered, refused), (5, 25));
    let (status, body) = server.get("/v1/bins/622848", &two.token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = server.get("/v1/bins/622848", &one.token).await;
    assert_error(status, &body, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
}

on_both_backends!(
    a_prefix_tells_brand_type_bank_and_what_to_fill,
    a_refused_card_type_says_why,
    a_burst_of_lookups_gets_the_persons_budget_and_no_more,
);
