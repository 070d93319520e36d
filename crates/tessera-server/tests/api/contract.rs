//! The API keeps to its own OpenAPI document where the document is easiest
//! to forget: the answers given in front of a handler (no credential, a body
//! or a parameter that cannot be read, an id that names nothing) and the
//! field checks of a payment. Every status answered must be one the
//! operation documents, with an error body. `scripts/schemathesis.sh` does
//! the same with generated requests, in CI.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{Backend, TestServer};

on_both_backends!(
    answers_in_front_of_a_handler_are_documented,
    a_payment_with_a_token_pan_that_is_no_card_number_is_a_documented_422,
);

/// The documented statuses of one operation.
fn documented(spec: &Value, path: &str, method: &str) -> Vec<String> {
    spec["paths"][path][method]["responses"]
        .as_object()
        .map(|responses| responses.keys().cloned().collect())
        .unwrap_or_default()
}

fn assert_documented(spec: &Value, path: &str, method: &str, status: StatusCode, body: &Value) {
    let statuses = documented(spec, path, method);
    assert!(
        statuses.contains(&status.as_u16().to_string()),
        "{} {path} answered {status}, documented {statuses:?}: {body}",
        method.to_uppercase()
    );
    assert!(body["error"]["code"].is_string(), "{method} {path}: {body}");
}

async fn answers_in_front_of_a_handler_are_documented(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let (_, _, spec) = server
        .call(Method::GET, "/openapi.json", None, None, &[])
        .await;
    let user = server.user().await;
    let merchant = server.merchant_key(&["m-1"]).await;
    let issuer = server.issuer_key(&["ABC"]).await.key;
    let mut secured = 0;
    let mut with_input = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let verb = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            // Path parameters name nothing; query parameters are no number
            // or date; a body is an array where an object is expected.
            let mut url = path
                .split('/')
                .map(|part| {
                    if part.starts_with('{') {
                        "nothing-here"
                    } else {
                        part
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let query: Vec<String> = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query")
                .map(|p| format!("{}=-1x", p["name"].as_str().unwrap()))
                .collect();
            if !query.is_empty() {
                url = format!("{url}?{}", query.join("&"));
            }
            let has_body = operation.get("requestBody").is_some();
            let body = has_body.then(|| json!([]));
            if operation.get("security").is_some() {
                secured += 1;
                let (status, _, answer) = server
                    .call(verb.clone(), &url, None, body.as_ref(), &[])
                    .await;
                assert_eq!(
                    status,
                    StatusCode::UNAUTHORIZED,
                    "{method} {path}: {answer}"
                );
                assert_documented(&spec, path, method, status, &answer);
            }
            let has_parameters = operation["parameters"]
                .as_array()
                .is_some_and(|p| !p.is_empty());
            if !has_body && !has_parameters {
                continue;
            }
            with_input += 1;
            let credential = if path.starts_with("/v1/admin")
                || path.starts_with("/v1/support")
                || path.starts_with("/v1/sandbox")
            {
                Some(server.operator_key.as_str())
            } else if path == "/v1/issuer/events" {
                Some(issuer.as_str())
            } else if path == "/v1/payments" && method == "post" {
                Some(merchant.as_str())
            } else if operation.get("security").is_some() {
                Some(user.token.as_str())
            } else {
                None
            };
            let (status, _, answer) = server
                .call(verb, &url, credential, body.as_ref(), &[])
                .await;
            if status.is_success() {
                // A query a handler reads as text (a cursor, a phone) may pass.
                assert!(!has_body, "{method} {path}: {status} {answer}");
                assert!(documented(&spec, path, method).contains(&status.as_u16().to_string()));
            } else {
                assert!(
                    status.is_client_error(),
                    "{method} {path}: {status} {answer}"
                );
                assert_documented(&spec, path, method, status, &answer);
            }
        }
    }
    assert!(
        secured > 25 && with_input > 15,
        "{secured} secured, {with_input} with input"
    );
}

async fn a_payment_with_a_token_pan_that_is_no_card_number_is_a_documented_422(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let (_, _, spec) = server
        .call(Method::GET, "/openapi.json", None, None, &[])
        .await;
    let merchant = server.merchant_key(&["m-1"]).await;
    let payment = json!({
        "token_pan": "1234", "token_expiry": "12/30", "amount": 100, "currency": "CNY",
        "transaction_date": "2026-06-15", "merchant_id": "m-1", "channel": "nfc",
        "atc": "0001", "unpredictable_number": "01020304", "cryptogram": "0011223344556677",
    });
    let (status, answer) = server.pay(&merchant, &payment).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["error"]["code"], "invalid_number");
    assert_eq!(answer["error"]["param"], "token_pan");
    assert_documented(&spec, "/v1/payments", "post", status, &answer);
}
