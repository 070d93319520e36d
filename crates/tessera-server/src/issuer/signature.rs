//! The one signature of every message between Tessera and a bank, both
//! ways: the events an issuer sends (`routes/issuer.rs`) and the requests
//! the HTTP connector sends (`issuer/http.rs`, docs/issuer-protocol.md).
//! `Tessera-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw
//! body>">`, keyed with the issuer's signing secret.

/// The header a signed message carries its signature in.
pub const SIGNATURE_HEADER: &str = "tessera-signature";

/// The hex HMAC-SHA256 of `<t>.<raw body>` under `signing_secret`.
pub fn issuer_signature(signing_secret: &[u8], timestamp: i64, body: &[u8]) -> Option<String> {
    let t = timestamp.to_string();
    tessera_core::crypto::hmac_sha256_with(signing_secret, &[t.as_bytes(), b".", body])
        .ok()
        .map(hex::encode)
}

/// The whole header value for `body` signed at `timestamp`.
pub fn signature_header(signing_secret: &[u8], timestamp: i64, body: &[u8]) -> Option<String> {
    issuer_signature(signing_secret, timestamp, body).map(|v1| format!("t={timestamp},v1={v1}"))
}

/// True when `header` holds a `v1` signature of `body` under
/// `signing_secret` and its timestamp is at most `max_age_secs` from `now`
/// either way (a replayed message is refused).
pub fn verify_signature_header(
    header: &str,
    signing_secret: &[u8],
    body: &[u8],
    now: i64,
    max_age_secs: u64,
) -> bool {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => signatures.push(value),
            _ => {}
        }
    }
    let Some(timestamp) = timestamp else {
        return false;
    };
    // Checked: a timestamp near i64::MIN must not wrap into "fresh".
    let fresh = now
        .checked_sub(timestamp)
        .map(i64::unsigned_abs)
        .is_some_and(|age| age <= max_age_secs);
    if !fresh {
        return false;
    }
    let Some(expected) = issuer_signature(signing_secret, timestamp, body) else {
        return false;
    };
    signatures.iter().any(|given| {
        tessera_core::crypto::constant_time_eq(
            given.to_ascii_lowercase().as_bytes(),
            expected.as_bytes(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_body_verifies_and_any_change_does_not() {
        let header = signature_header(b"tsg_secret", 1_000, b"{\"a\":1}").unwrap();
        assert!(verify_signature_header(
            &header,
            b"tsg_secret",
            b"{\"a\":1}",
            1_100,
            300
        ));
        assert!(!verify_signature_header(
            &header,
            b"tsg_secret",
            b"{\"a\":2}",
            1_100,
            300
        ));
        assert!(!verify_signature_header(
            &header,
            b"tsg_other",
            b"{\"a\":1}",
            1_100,
            300
        ));
        assert!(!verify_signature_header(
            &header,
            b"tsg_secret",
            b"{\"a\":1}",
            1_301,
            300
        ));
        assert!(!verify_signature_header(
            "t=x,v1=00",
            b"tsg_secret",
            b"",
            0,
            300
        ));
        assert!(!verify_signature_header(
            &format!("t={},v1=00", i64::MIN),
            b"tsg_secret",
            b"",
            1,
            300
        ));
    }
}
