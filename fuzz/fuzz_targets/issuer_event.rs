//! What an issuer sends: the `Tessera-Signature` header, checked against
//! an issuer key's sealed signing secret
//! (`flows::lifecycle::verify_signature`), then the body (`parse_json`)
//! and the event's fields (`check_event`). Nothing may panic; a signature
//! made with the signing secret over the body must verify when its
//! timestamp is near now, and never when the body differs.
#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use axum::http::{HeaderMap, HeaderValue};
use chrono::{DateTime, NaiveDate, Utc};
use libfuzzer_sys::fuzz_target;
use tessera_core::vault::Sealed;
use tessera_server::flows::lifecycle::{
    SIGNATURE_HEADER, check_event, issuer_signature, verify_signature,
};
use tessera_server::http::extract::parse_json;
use tessera_server::http::views::IssuerEventRequest;
use tessera_server::{AppState, Config};

#[derive(Debug, Arbitrary)]
struct Input {
    /// Signs with the key's own secret when true, else with `other_secret`.
    right_secret: bool,
    other_secret: Vec<u8>,
    /// The header as sent, or (when absent) one signed here.
    header: Option<String>,
    timestamp: i64,
    body: Vec<u8>,
}

/// An issuer key of a sandbox wallet: its id, its sealed signing secret
/// and the secret itself.
struct Issuer {
    state: AppState,
    key_id: String,
    sealed: Sealed,
    secret: String,
}

/// One server state for the whole run: a sandbox wallet in a temporary
/// directory, as `tessera serve` opens it, with one issuer key.
fn issuer() -> &'static Issuer {
    static ISSUER: OnceLock<(tempfile::TempDir, tokio::runtime::Runtime, Issuer)> = OnceLock::new();
    &ISSUER
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            let config = Config::new_for_test(dir.path().join("data"));
            let state = runtime
                .block_on(tessera_server::open(config))
                .expect("the wallet opens")
                .state;
            let created = runtime
                .block_on(tessera_server::create_api_key(
                    &state,
                    "issuer",
                    "fuzz",
                    &["ABC".to_owned()],
                ))
                .expect("an issuer key");
            let record = runtime
                .block_on(state.store.api_keys())
                .expect("the keys")
                .into_iter()
                .find(|key| key.id == created.id)
                .expect("the key just made");
            let (key_version, blob) = record.signing_secret.expect("a signing secret");
            let issuer = Issuer {
                state,
                key_id: created.id,
                sealed: Sealed { key_version, blob },
                secret: created.signing_secret.expect("a signing secret"),
            };
            (dir, runtime, issuer)
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
    let issuer = issuer();
    let state = &issuer.state;
    let signed = input.header.is_none();
    let secret = if input.right_secret {
        issuer.secret.as_bytes().to_vec()
    } else {
        input.other_secret.clone()
    };
    let value = match input.header {
        Some(header) => header,
        None => {
            let signature = issuer_signature(&secret, input.timestamp, &input.body)
                .expect("HMAC takes any key");
            format!("t={},v1={signature}", input.timestamp)
        }
    };
    let Ok(value) = HeaderValue::from_str(&value) else {
        return;
    };
    let mut headers = HeaderMap::new();
    headers.insert(SIGNATURE_HEADER, value);
    let verify = |body: &[u8]| {
        verify_signature(
            state,
            &issuer.key_id,
            Some(&issuer.sealed),
            &headers,
            body,
            now(),
        )
    };
    let verified = verify(&input.body);
    let max_age = state.config.payments.issuer_event_max_age_secs;
    let near = now()
        .timestamp()
        .checked_sub(input.timestamp)
        .is_some_and(|d| d.unsigned_abs() <= max_age);
    if signed {
        let genuine = secret == issuer.secret.as_bytes();
        assert_eq!(
            verified.is_ok(),
            near && genuine,
            "a fresh signature with the key's secret must verify, any other not"
        );
        let mut other = input.body.clone();
        other.push(b' ');
        assert!(verify(&other).is_err());
    }
    if let Ok(request) = parse_json::<IssuerEventRequest>(&input.body) {
        let max_skew = state.config.payments.issuer_event_max_age_secs;
        if let Ok(event) = check_event(&request, now(), max_skew, now().date_naive()) {
            let _ = event.kind.name();
        }
    }
});
