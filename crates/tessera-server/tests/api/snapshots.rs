//! What callers see must not change by accident: `/openapi.json` and the
//! error body of every catalogue code, in both languages, compared with the
//! snapshots in `snapshots/`. A deliberate change rewrites them with
//! `TESSERA_BLESS=1 cargo test -p tessera-server --test api snapshots` and
//! shows up in review as a diff of those files.

use std::path::PathBuf;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tessera_core::error::{AttemptLimit, DomainError, ErrorCode, Lang};

use crate::TestServer;

fn snapshot_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/api/snapshots")
        .join(name)
}

/// Compares `actual` with the stored snapshot, or stores it when blessing.
fn assert_snapshot(name: &str, actual: &Value) {
    let path = snapshot_path(name);
    let rendered = format!("{}\n", serde_json::to_string_pretty(actual).unwrap());
    if std::env::var_os("TESSERA_BLESS").is_some() {
        std::fs::write(&path, rendered).unwrap();
        return;
    }
    let stored = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let stored: Value = serde_json::from_str(&stored).unwrap();
    assert!(
        &stored == actual,
        "{name} differs from its snapshot; if the change is meant, rerun with TESSERA_BLESS=1 and review the diff"
    );
}

#[tokio::test]
async fn the_openapi_document_matches_its_snapshot() {
    let server = TestServer::start().await;
    let (status, _, spec) = server
        .call(Method::GET, "/openapi.json", None, None, &[])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        spec["paths"]
            .as_object()
            .is_some_and(|paths| paths.len() > 20)
    );
    assert_snapshot("openapi.json", &spec);
}

#[tokio::test]
async fn every_error_body_matches_its_snapshot() {
    let mut bodies = serde_json::Map::new();
    for code in ErrorCode::all() {
        // field_too_long always names its field and limit: shown as sent.
        let error = match code {
            ErrorCode::FieldTooLong => DomainError::new(code)
                .with_param("device.model")
                .with_max_length(64),
            _ => DomainError::new(code),
        };
        bodies.insert(
            code.as_str().to_owned(),
            json!({
                "status": tessera_server::http::error::status_of(&error).as_u16(),
                "zh-CN": tessera_server::http::error::error_body(&error, Lang::ZhCn, "trace_snapshot"),
                "en": tessera_server::http::error::error_body(&error, Lang::En, "trace_snapshot"),
            }),
        );
    }
    // Each limit of too_many_attempts speaks for itself, with when it lifts.
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-27T08:00:00Z")
        .unwrap()
        .to_utc();
    let until = now + chrono::TimeDelta::seconds(3 * 3600 + 5 * 60 + 1);
    for limit in AttemptLimit::ALL {
        let lifts = (limit != AttemptLimit::OtpAttempts).then_some((until, now));
        let error = DomainError::limit_hit(limit, 5, lifts);
        bodies.insert(
            format!("too_many_attempts/{}", limit.as_str()),
            json!({
                "status": tessera_server::http::error::status_of(&error).as_u16(),
                "zh-CN": tessera_server::http::error::error_body(&error, Lang::ZhCn, "trace_snapshot"),
                "en": tessera_server::http::error::error_body(&error, Lang::En, "trace_snapshot"),
            }),
        );
    }
    assert_eq!(
        bodies.len(),
        ErrorCode::all().count() + AttemptLimit::ALL.len()
    );
    assert_snapshot("errors.json", &Value::Object(bodies));
}
