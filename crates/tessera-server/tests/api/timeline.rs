//! A person's timeline for support over HTTP: a person signs up, fails a
//! sign-in, signs in, fails a binding, binds a card, pays, has a payment
//! declined, pauses the token, reports a payment and freezes the wallet;
//! the timeline lists each newest first with its trace id, the failed
//! binding with its verdict; pages walk it exactly once; the type filter,
//! another person's entries, an unknown person and bad parameters.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tessera_server::issuer::sandbox::Outcome;

use crate::{Backend, TestServer, User, assert_error, card, purchase};

async fn timeline(server: &TestServer, user_id: &str, query: &str) -> (StatusCode, Value) {
    server
        .get(
            &format!("/v1/support/users/{user_id}/timeline{query}"),
            &server.support_key,
        )
        .await
}

async fn entries(server: &TestServer, user_id: &str, query: &str) -> Vec<Value> {
    let (status, body) = timeline(server, user_id, query).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].as_array().unwrap().clone()
}

fn types(entries: &[Value]) -> Vec<&str> {
    entries
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect()
}

/// The person's story, a second apart each step. Returns the server, the
/// person, the card and the declined payment's id.
async fn story(backend: Backend) -> (TestServer, User, Value, String) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let step = || server.advance(Duration::from_secs(1));
    let user = server.user().await;
    step();
    let wrong = json!({"phone": user.phone, "password": "not-the-password-1"});
    let (status, _, body) = server
        .call(
            reqwest::Method::POST,
            "/v1/sessions",
            None,
            Some(&wrong),
            &[],
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );
    step();
    let right = json!({"phone": user.phone, "password": user.password});
    let (status, _, body) = server
        .call(
            reqwest::Method::POST,
            "/v1/sessions",
            None,
            Some(&right),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    step();
    let (status, body) = server.bind(&user, &card(Outcome::DoNotHonor)).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{body}");
    step();
    let bound = server
        .bind_on(&user, &card(Outcome::Approve), "phone-1")
        .await;
    let mut device = server.device(&user, &bound, "phone-1").await;
    let merchant = server.merchant_key(&["M1"]).await;
    step();
    let (status, paid) = server
        .pay(
            &merchant,
            &device.sign(&purchase(4_200, "M1")).unwrap().body,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    step();
    let (status, declined) = server
        .pay(
            &merchant,
            &device.sign(&purchase(1_251, "M1")).unwrap().body,
        )
        .await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{declined}");
    let declined_id = declined["error"]["payment_id"].as_str().unwrap().to_owned();
    step();
    let token_ref = bound["token"]["ref"].as_str().unwrap();
    let (status, body) = server
        .post(
            &format!("/v1/tokens/{token_ref}/suspend"),
            &user.token,
            json!({"reason": "phone lost"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    step();
    let paid_id = paid["id"].as_str().unwrap();
    let (status, body) = server
        .post(
            &format!("/v1/payments/{paid_id}/report"),
            &user.token,
            json!({"message": "不是我付的"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    step();
    let (status, body) = server.post("/v1/me/freeze", &user.token, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (server, user, bound, declined_id)
}

/// The first entry of `kind` at or after `from`: its index.
fn find(entries: &[Value], kind: &str, from: usize) -> usize {
    entries[from..]
        .iter()
        .position(|e| e["type"] == kind)
        .map(|at| at + from)
        .unwrap_or_else(|| panic!("no {kind} after {from} in {:?}", types(entries)))
}

async fn the_timeline_tells_what_happened_newest_first(backend: Backend) {
    let (server, user, bound, declined_id) = story(backend).await;
    let all = entries(&server, &user.id, "").await;
    // Newest first, each step where it happened.
    let mut at = 0;
    let mut order = Vec::new();
    for kind in [
        "wallet_frozen",
        "payment_report",
        "token_event",
        "payment_declined",
        "payment",
        "card_bound",
        "binding_attempt",
        "sign_in",
        "sign_in_failed",
        "sign_in",
        "signup",
    ] {
        at = find(&all, kind, at);
        order.push(at);
        at += 1;
    }
    assert_eq!(all.last().unwrap()["type"], "signup", "{:?}", types(&all));
    let times: Vec<&str> = all.iter().map(|e| e["at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    // Every entry but the sign-up and token changes has its trace id.
    for entry in &all {
        let traced = !matches!(entry["type"].as_str(), Some("signup" | "token_event"));
        assert_eq!(entry["trace_id"].is_string(), traced, "{entry}");
        assert!(
            !entry["summary"]["zh"].as_str().unwrap().is_empty(),
            "{entry}"
        );
        assert!(
            !entry["summary"]["en"].as_str().unwrap().is_empty(),
            "{entry}"
        );
    }
    // The failed binding, with its verdict and the masked card.
    let failed = &all[order[6]];
    assert_eq!(failed["verdict"]["kind"], "declined_by_issuer", "{failed}");
    assert!(failed["verdict"]["headline"]["zh"].is_string(), "{failed}");
    assert!(failed["verdict"]["headline"]["en"].is_string(), "{failed}");
    assert_eq!(failed["error_code"], "card_declined", "{failed}");
    let masked = failed["card"].as_str().unwrap();
    assert!(masked.contains("*") && masked.len() >= 16, "{masked}");
    let (status, diagnosis) = server
        .get(
            &format!(
                "/v1/support/diagnose?trace_id={}",
                failed["trace_id"].as_str().unwrap()
            ),
            &server.support_key,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{diagnosis}");
    assert_eq!(diagnosis["verdict"]["kind"], failed["verdict"]["kind"]);
    // The card bound, the payments with their ids and codes.
    let added = &all[order[5]];
    assert_eq!(added["card_id"], bound["id"], "{added}");
    assert!(added["verdict"].is_null(), "{added}");
    let declined = &all[order[3]];
    assert_eq!(declined["payment_id"], declined_id.as_str(), "{declined}");
    assert_eq!(declined["token_ref"], bound["token"]["ref"], "{declined}");
    assert!(declined["error_code"].is_string(), "{declined}");
    assert!(declined["decline_code"].is_string(), "{declined}");
    assert_eq!(declined["amount"], 1_251);
    assert!(
        declined["summary"]["en"]
            .as_str()
            .unwrap()
            .contains("not enough money"),
        "{declined}"
    );
    // The token paused by the person, said so.
    let paused = &all[order[2]];
    assert_eq!(
        (paused["status"].clone(), paused["actor"].clone()),
        (json!("suspend"), json!("cardholder")),
        "{paused}"
    );
    assert!(paused["card"].as_str().unwrap().contains('*'), "{paused}");
    // The sign-in failure and the freeze carry their requests' trace ids.
    assert!(
        all[order[8]]["trace_id"]
            .as_str()
            .unwrap()
            .starts_with("req_")
    );
    // No card number in clear anywhere.
    let text = serde_json::to_string(&all).unwrap();
    assert!(!text.contains(&card(Outcome::Approve)), "a clear PAN");
}

async fn pages_walk_every_entry_once_and_types_filter(backend: Backend) {
    let (server, user, _, declined_id) = story(backend).await;
    let all = entries(&server, &user.id, "").await;
    let ids: Vec<&str> = all.iter().map(|e| e["id"].as_str().unwrap()).collect();
    let mut walked: Vec<String> = Vec::new();
    let mut query = "?limit=2".to_owned();
    loop {
        let (status, page) = timeline(&server, &user.id, &query).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let data = page["data"].as_array().unwrap();
        assert!(data.len() <= 2);
        walked.extend(data.iter().map(|e| e["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(cursor) => query = format!("?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(walked, ids);
    // One type at a time; together they make the whole.
    let declined = entries(&server, &user.id, "?type=payment_declined").await;
    assert_eq!(types(&declined), ["payment_declined"]);
    assert_eq!(declined[0]["payment_id"], declined_id.as_str());
    let sign_ins = entries(&server, &user.id, "?type=sign_in").await;
    assert_eq!(types(&sign_ins), ["sign_in", "sign_in"]);
    let mut counted = 0;
    for kind in [
        "signup",
        "sign_in",
        "sign_in_failed",
        "sign_in_locked",
        "binding_attempt",
        "card_bound",
        "card_unbound",
        "token_event",
        "payment",
        "payment_declined",
        "refund",
        "transfer",
        "payment_report",
        "wallet_frozen",
        "wallet_unfrozen",
        "ticket",
    ] {
        let some = entries(&server, &user.id, &format!("?type={kind}&limit=200")).await;
        assert!(some.iter().all(|e| e["type"] == kind), "{kind}");
        counted += some.len();
    }
    assert_eq!(counted, all.len());
    // Since a time: only what came after.
    let bound_at = all.iter().find(|e| e["type"] == "card_bound").unwrap()["at"]
        .as_str()
        .unwrap()
        .to_owned();
    let since = entries(&server, &user.id, &format!("?since={bound_at}")).await;
    assert!(
        since
            .iter()
            .all(|e| e["at"].as_str().unwrap() >= bound_at.as_str())
    );
    assert!(since.iter().any(|e| e["type"] == "card_bound"));
    assert!(!since.iter().any(|e| e["type"] == "binding_attempt"));
}

async fn only_the_persons_entries_and_bad_requests_are_refused(backend: Backend) {
    let (server, user, _, _) = story(backend).await;
    let other = server.user_named("李四").await;
    // Five wrong passwords lock the phone: the fifth failure records the
    // lockout with it; the refusals after it record nothing more.
    let wrong = json!({"phone": other.phone, "password": "not-the-password-1"});
    for expected in [StatusCode::UNAUTHORIZED; 5]
        .into_iter()
        .chain([StatusCode::TOO_MANY_REQUESTS])
    {
        let (status, _, _) = server
            .call(
                reqwest::Method::POST,
                "/v1/sessions",
                None,
                Some(&wrong),
                &[],
            )
            .await;
        assert_eq!(status, expected);
    }
    let theirs = entries(&server, &other.id, "").await;
    assert_eq!(
        types(&theirs),
        [
            "sign_in_locked",
            "sign_in_failed",
            "sign_in_failed",
            "sign_in_failed",
            "sign_in_failed",
            "sign_in_failed",
            "sign_in",
            "signup"
        ],
    );
    assert!(
        theirs[0]["summary"]["en"]
            .as_str()
            .unwrap()
            .starts_with("Too many failed sign-ins: locked until 20"),
        "{}",
        theirs[0]
    );
    let text = serde_json::to_string(&theirs).unwrap();
    assert!(!text.contains("not-the-password-1") && !text.contains(&other.password));
    let mine = entries(&server, &user.id, "?limit=200").await;
    let their_traces: Vec<&Value> = theirs.iter().map(|e| &e["trace_id"]).collect();
    assert!(
        mine.iter()
            .all(|e| e["trace_id"].is_null() || !their_traces.contains(&&e["trace_id"]))
    );
    assert_eq!(
        mine.iter()
            .filter(|e| e["type"] == "sign_in_failed")
            .count(),
        1
    );

    let (status, body) = timeline(&server, "usr_NOSUCHPERSON", "").await;
    let error = assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(error["param"], "id");
    let (status, body) = timeline(&server, &user.id, "?verbose=1").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    for (query, param) in [
        ("?type=lunch", "type"),
        ("?since=soon", "since"),
        ("?cursor=12", "cursor"),
        ("?cursor=12.nowhere:1", "cursor"),
    ] {
        let (status, body) = timeline(&server, &user.id, query).await;
        let error = assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
        assert_eq!(error["param"], param, "{query}");
    }
    // The person's own session is not support's key.
    let (status, body) = server
        .get(
            &format!("/v1/support/users/{}/timeline", user.id),
            &user.token,
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    // Asking changed nothing.
    assert_eq!(entries(&server, &user.id, "?limit=200").await, mine);
}

on_both_backends!(
    the_timeline_tells_what_happened_newest_first,
    pages_walk_every_entry_once_and_types_filter,
    only_the_persons_entries_and_bad_requests_are_refused,
);
