//! The routes that need no account, flooded as attackers flood them: every
//! connection opened first, all requests released together, and what got
//! past the rate limits counted by the answers (a sign-in that got past is
//! checked and answers `invalid_credentials`).

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::accounts::{burst_forwarded, sign_in};
use crate::{Backend, TestServer, assert_error};

/// Each `(forwarded_for, count)` sends `count` sign-ins for made-up phones
/// at once; how many got past the rate limits, per entry. Every refusal is
/// `rate_limited` with a `Retry-After` of at least a second.
async fn sign_ins_past_the_limits(
    server: &TestServer,
    senders: &[(Option<&str>, usize)],
) -> Vec<usize> {
    let requests = senders
        .iter()
        .flat_map(|(forwarded, count)| {
            (0..*count).map(move |i| {
                let (method, path, bearer, body) =
                    sign_in(&crate::phone(), &format!("made-up-pass-{i}"));
                (method, path, bearer, body, forwarded.map(str::to_owned))
            })
        })
        .collect();
    let answers = burst_forwarded(server, requests).await;
    let mut past = vec![0; senders.len()];
    let mut answer = answers.iter();
    for (n, (_, count)) in senders.iter().enumerate() {
        for (status, headers, body) in answer.by_ref().take(*count) {
            match status.as_u16() {
                401 => {
                    assert_error(*status, body, *status, "invalid_credentials");
                    past[n] += 1;
                }
                429 => {
                    let error = assert_error(*status, body, *status, "rate_limited");
                    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
                    assert!(retry >= 1, "{retry}");
                    assert_eq!(error["retry_after"], retry, "{body}");
                }
                other => panic!("a sign-in answered {other}: {body}"),
            }
        }
    }
    past
}

/// Thirty sign-ins at once from one address with a budget of five: five
/// are checked, the rest refused unchecked. A forged `X-Forwarded-For`
/// from a peer that is no trusted proxy changes nothing: the ten that carry
/// one share the peer's budget (had they a budget of their own, ten would
/// get past). Routes that need an account are not limited by it.
async fn one_address_gets_its_budget_and_no_more(backend: Backend) {
    let server = TestServer::start_on(backend, |config| {
        config.limits.public_per_address_per_minute = 5;
    })
    .await;
    let past = sign_ins_past_the_limits(&server, &[(None, 20), (Some("203.0.113.7"), 10)]).await;
    assert_eq!(past.iter().sum::<usize>(), 5, "{past:?}");
    let text = server
        .client
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("tessera_requests_shed_total{code=\"rate_limited\"} 25"),
        "{text}"
    );
    let (status, body) = server
        .get("/v1/support/attempts", &server.support_key)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Sign-up's own route shares the address's spent budget.
    let (status, _, body) = server
        .call(
            Method::POST,
            "/v1/sms-codes",
            None,
            Some(&json!({"phone": crate::phone(), "purpose": "sign_up"})),
            &[],
        )
        .await;
    assert_error(status, &body, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
}

/// Behind a trusted proxy each forwarded client has a budget of its own;
/// the overall budget caps them all together.
async fn forwarded_clients_have_their_own_budgets_under_one_overall(backend: Backend) {
    let server = TestServer::start_on(backend, |config| {
        config.trusted_proxies = vec!["127.0.0.0/8".to_owned()];
        config.limits.public_per_address_per_minute = 3;
    })
    .await;
    let senders = [
        (Some("203.0.113.1"), 6),
        (Some("198.51.100.2, 203.0.113.2"), 6),
        (Some("2001:db8::3"), 6),
    ];
    assert_eq!(sign_ins_past_the_limits(&server, &senders).await, [3, 3, 3]);

    let crowd = TestServer::start_on(backend, |config| {
        config.trusted_proxies = vec!["127.0.0.1".to_owned()];
        config.limits.public_per_second = 1;
    })
    .await;
    let addresses: Vec<String> = (1..=20).map(|n| format!("203.0.113.{n}")).collect();
    let senders: Vec<(Option<&str>, usize)> =
        addresses.iter().map(|a| (Some(a.as_str()), 1)).collect();
    let past: usize = sign_ins_past_the_limits(&crowd, &senders)
        .await
        .iter()
        .sum();
    // One a second for everyone: the first, and one more only if the
    // burst took longer than a second to arrive.
    assert!((1..=2).contains(&past), "{past} of 20 got past");
}

on_both_backends!(
    one_address_gets_its_budget_and_no_more,
    forwarded_clients_have_their_own_budgets_under_one_overall,
);
