//! What an issuer sends: the `Tessera-Signature` header and the bearer it
//! is checked with (`flows::lifecycle::verify_signature`), then the body
//! (`parse_json`) and the event's fields (`check_event`). Nothing may panic;
//! a signature made with the key over the body must verify when its
//! timestamp is near now, and never when the body differs.
#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use axum::http::{HeaderMap, HeaderValue, header};
use chrono::{DateTime, NaiveDate, Utc};
use libfuzzer_sys::fuzz_target;
use tessera_server::flows::lifecycle::{
    SIGNATURE_HEADER, check_event, issuer_signature, verify_signature,
};
use tessera_server::http::extract::parse_json;
use tessera_server::http::views::IssuerEventRequest;
use tessera_server::{AppState, Config};

#[derive(Debug, Arbitrary)]
struct Input {
    api_key: String,
    /// The header as sent, or (when absent) one signed here.
    header: Option<String>,
    timestamp: i64,
    body: Vec<u8>,
}

/// One server state for the whole run: a sandbox wallet in a temporary
/// directory, as `tessera serve` opens it.
fn state() -> &'static AppState {
    static STATE: OnceLock<(tempfile::TempDir, tokio::runtime::Runtime, AppState)> =
        OnceLock::new();
    &STATE
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            let config = Config::new_for_test(dir.path().join("data"));
            let opened = runtime
                .block_on(tessera_server::open(config))
                .expect("the wallet opens");
            (dir, runtime, opened.state)
        })
        .2
}

fn now() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(2026, 6, 15)
        .and_then(|d| d.and_hms_opt(12, 0, 0))
        .expect("a time")
        .and_utc()
}

fuzz_target!(|input: Input| {
    let state = state();
    let mut headers = HeaderMap::new();
    let Ok(bearer) = HeaderValue::from_str(&format!("Bearer {}", input.api_key)) else {
        return;
    };
    headers.insert(header::AUTHORIZATION, bearer);
    let signed = input.header.is_none();
    let value = match input.header {
        Some(header) => header,
        None => {
            let signature = issuer_signature(input.api_key.trim(), input.timestamp, &input.body)
                .expect("HMAC takes any key");
            format!("t={},v1={signature}", input.timestamp)
        }
    };
    let Ok(value) = HeaderValue::from_str(&value) else {
        return;
    };
    headers.insert(SIGNATURE_HEADER, value);
    let verified = verify_signature(state, &headers, &input.body, now());
    let max_age = i64::try_from(state.config.payments.issuer_event_max_age_secs).unwrap_or(300);
    let near = input
        .timestamp
        .checked_sub(now().timestamp())
        .is_some_and(|d| d.abs() <= max_age);
    let plain_key =
        !input.api_key.is_empty() && input.api_key.bytes().all(|b| b.is_ascii_graphic());
    if signed && plain_key {
        assert_eq!(
            verified.is_ok(),
            near,
            "a fresh signature must verify, a stale one not"
        );
        let mut other = input.body.clone();
        other.push(b' ');
        assert!(verify_signature(state, &headers, &other, now()).is_err());
    }
    if let Ok(request) = parse_json::<IssuerEventRequest>(&input.body) {
        if let Ok((kind, _occurred_at)) = check_event(&request, now().date_naive()) {
            let _ = kind.name();
        }
    }
});
