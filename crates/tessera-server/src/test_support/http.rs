//! The client side of the tests: `client::Http` over reqwest, signing up
//! and in against any server (in process or a `tessera serve`), and the
//! check every error answer must pass.

use std::io::Write;

use reqwest::header::HeaderMap;
use reqwest::{Client, Method, StatusCode};
use serde_json::Value;

use crate::client::{self, Purchase, Reply, User};

/// The password of the users the tests sign up.
pub const PASSWORD: &str = "correct-horse-42";

/// `client::Http` over a reqwest client and a server's base URL.
#[derive(Debug, Clone, Copy)]
pub struct Api<'a> {
    pub client: &'a Client,
    /// `http://host:port`, no trailing slash.
    pub base: &'a str,
}

impl client::Http for Api<'_> {
    type Error = reqwest::Error;

    async fn post(
        &mut self,
        path: &str,
        bearer: Option<&str>,
        body: &Value,
    ) -> Result<Reply, reqwest::Error> {
        let mut request = self.client.post(format!("{}{path}", self.base)).json(body);
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(Reply { status, body })
    }

    async fn get(&mut self, path: &str, bearer: Option<&str>) -> Result<Reply, reqwest::Error> {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(Reply { status, body })
    }
}

/// Sends a request to `url` and returns the status, headers and JSON body
/// (a JSON string when the body is not JSON).
pub async fn request(
    client: &Client,
    method: Method,
    url: &str,
    bearer: Option<&str>,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, Value) {
    let mut request = client.request(method, url);
    if let Some(bearer) = bearer {
        request = request.bearer_auth(bearer);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, headers, value)
}

/// Signs up `real_name` at `base` with a fresh phone and ID number and the
/// tests' password (the phone's code read from the sandbox phone with
/// `operator_key`), and signs in.
pub async fn sign_up(client: &Client, base: &str, real_name: &str, operator_key: &str) -> User {
    client::sign_up(
        &mut Api { client, base },
        real_name,
        PASSWORD,
        Some(operator_key),
    )
    .await
    .unwrap_or_else(|error| panic!("{error}: {error:?}"))
}

/// Signs in at `base`: the session token.
pub async fn sign_in(client: &Client, base: &str, phone: &str, password: &str) -> String {
    client::sign_in(&mut Api { client, base }, phone, password)
        .await
        .unwrap_or_else(|error| panic!("{error}: {error:?}"))
}

/// A random mainland mobile number.
pub fn phone() -> String {
    client::fresh_phone().unwrap()
}

/// A random, valid 18-character resident ID number (its sequence outside
/// the sandbox identity provider's refusals).
pub fn id_number() -> String {
    client::fresh_id_number().unwrap()
}

/// A valid ID number whose sequence digits (15th to 17th) are `sequence`:
/// the sandbox identity provider's outcome.
pub fn id_number_with_sequence(sequence: &str) -> String {
    let drawn = id_number();
    let first17 = format!("{}{sequence}", &drawn[..14]);
    let check = tessera_core::identity::id_number::check_char(&first17).unwrap();
    format!("{first17}{check}")
}

/// Asks `base` to text `phone` a sign-up code and reads it from the
/// sandbox phone with `operator_key`.
pub async fn sign_up_code(client: &Client, base: &str, phone: &str, operator_key: &str) -> String {
    client::sign_up_code(&mut Api { client, base }, phone, Some(operator_key))
        .await
        .unwrap_or_else(|error| panic!("{error}: {error:?}"))
        .expect("the server sends sign-up codes")
}

/// A purchase as the tests make them: CNY at a 便利店, over NFC, today.
pub fn purchase(amount: u64, merchant_id: &str) -> Purchase<'_> {
    Purchase::new(amount, merchant_id).named("便利店")
}

/// Asserts an error envelope with this status and code, and returns it.
#[track_caller]
pub fn assert_error(status: StatusCode, body: &Value, expected: StatusCode, code: &str) -> Value {
    assert_eq!(status, expected, "{body}");
    let error = &body["error"];
    assert_eq!(error["code"], code, "{body}");
    for field in ["type", "message", "remedy", "cause", "trace_id", "doc_url"] {
        assert!(
            error[field].as_str().is_some_and(|s| !s.is_empty()),
            "{field} missing in {body}"
        );
    }
    assert!(error["retryable"].is_boolean(), "{body}");
    record_error_body(error);
    error.clone()
}

/// With `TESSERA_RECORD_ERROR_BODIES=FILE`, appends every error body the
/// suite checks to FILE, one JSON line each with ids and times redacted:
/// two runs' sorted files compared show whether a change altered any.
fn record_error_body(error: &Value) {
    let Some(path) = std::env::var_os("TESSERA_RECORD_ERROR_BODIES") else {
        return;
    };
    let mut redacted = error.clone();
    for field in ["trace_id", "locked_until", "payment_id", "refund_id"] {
        if redacted.get(field).is_some() {
            redacted[field] = Value::String("(redacted)".into());
        }
    }
    let line = format!("{redacted}\n");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    file.write_all(line.as_bytes()).unwrap();
}
