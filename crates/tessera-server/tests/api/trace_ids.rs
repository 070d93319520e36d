//! Trace ids are the server's. A client's `X-Request-Id` is kept beside the
//! trace id as `client_request_id` when it is a plain token, and dropped
//! otherwise: it never names an attempt record, a log field or a row.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tessera_server::issuer::sandbox::Outcome;

use crate::{Backend, TestServer, User, card, log_buffer};

/// Binds an approved card sending `headers`; returns the response's trace
/// id and its `X-Client-Request-Id`, if any.
async fn bind_with(
    server: &TestServer,
    user: &User,
    headers: &[(&str, &str)],
) -> (String, Option<String>) {
    let body = json!({"number": card(Outcome::Approve), "holder_name": user.real_name});
    let (status, response_headers, response) = server
        .call(
            Method::POST,
            "/v1/cards",
            Some(&user.token),
            Some(&body),
            headers,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{response}");
    let trace_id = response_headers["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        trace_id.starts_with("req_") && trace_id.len() <= 64,
        "{trace_id}"
    );
    let client = response_headers
        .get("x-client-request-id")
        .map(|value| value.to_str().unwrap().to_owned());
    (trace_id, client)
}

/// Support's view of the attempts matching `query`.
async fn attempts(server: &TestServer, query: &str) -> Vec<Value> {
    let (status, body) = server
        .get(
            &format!("/v1/support/attempts?{query}"),
            &server.support_key,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].as_array().unwrap().clone()
}

fn logs() -> String {
    String::from_utf8(log_buffer().lock().unwrap().clone()).unwrap()
}

async fn a_client_id_is_kept_beside_the_servers_trace_id(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    // Two bindings sent with one id once shared one attempt record.
    let client_id = format!("app-{}.retry_1", backend.name());
    let mut traces = Vec::new();
    for header in ["x-request-id", "x-client-request-id"] {
        let (trace_id, echoed) = bind_with(&server, &user, &[(header, &client_id)]).await;
        assert_ne!(trace_id, client_id);
        assert_eq!(echoed.as_deref(), Some(client_id.as_str()));
        traces.push(trace_id);
    }
    assert_ne!(traces[0], traces[1]);
    assert_eq!(server.cards(&user).await.len(), 2);

    let found = attempts(&server, &format!("client_request_id={client_id}")).await;
    let mut found_traces: Vec<&str> = found
        .iter()
        .map(|a| a["trace_id"].as_str().unwrap())
        .collect();
    found_traces.sort_unstable();
    let mut expected: Vec<&str> = traces.iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(found_traces, expected);
    assert!(found.iter().all(|a| a["client_request_id"] == client_id));

    // The log line of each request carries both ids as separate fields.
    let logs = logs();
    for trace_id in &traces {
        assert!(
            logs.lines().any(|line| line.contains(trace_id.as_str())
                && line.contains(&format!("\"client_request_id\":\"{client_id}\""))),
            "no log line carries {trace_id} with its client id"
        );
    }

    // Without a client id, the attempt says so.
    let (trace_id, echoed) = bind_with(&server, &user, &[]).await;
    assert_eq!(echoed, None);
    let attempt = &attempts(&server, &format!("trace_id={trace_id}")).await[0];
    assert_eq!(attempt["client_request_id"], Value::Null);
}

async fn a_hostile_client_id_is_dropped(backend: Backend) {
    // One card for each id tried.
    let server = TestServer::start_on(backend, |config| config.card_limit = 6).await;
    let user = server.user().await;
    let marker = format!("forged{}", backend.name());
    let long = "a".repeat(60_004);
    let tabbed = format!("x\ttrace_id={marker} level=ERROR");
    let spaced = format!("x {marker}=1");
    let card_number = card(Outcome::Approve);
    let dashed = format!("order-{}", &card_number[..16]);
    let too_long = "b".repeat(65);
    for id in [
        long.as_str(),
        tabbed.as_str(),
        spaced.as_str(),
        card_number.as_str(),
        dashed.as_str(),
        too_long.as_str(),
    ] {
        let (trace_id, echoed) = bind_with(&server, &user, &[("x-request-id", id)]).await;
        assert_eq!(echoed, None, "{id:.80}");
        let attempt = &attempts(&server, &format!("trace_id={trace_id}")).await[0];
        assert_eq!(attempt["client_request_id"], Value::Null, "{id:.80}");
    }
    // None of them reached a log line or a stored attempt.
    let logs = logs();
    assert!(!logs.contains(&marker));
    assert!(!logs.contains(&long[..100]));
    assert!(!logs.contains(&card_number));
    let stored = attempts(&server, &format!("user_id={}", user.id)).await;
    assert_eq!(stored.len(), 6);
    assert!(
        stored
            .iter()
            .all(|a| a["trace_id"].as_str().unwrap().starts_with("req_"))
    );
}

on_both_backends!(
    a_client_id_is_kept_beside_the_servers_trace_id,
    a_hostile_client_id_is_dropped,
);
