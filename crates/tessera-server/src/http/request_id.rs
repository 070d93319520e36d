//! Trace ids are the server's. A client's `X-Request-Id` never becomes the
//! trace id: two requests sent with one id would share an attempt record,
//! and whatever the client wrote would land in the log line and the
//! database. The client's id, when it is a plain token, is kept beside the
//! trace id as `client_request_id` (in the log span, the attempt record
//! and support's views) and echoed in `X-Client-Request-Id`.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName};

/// The header a client may send its own id in, besides `X-Request-Id`; the
/// response echoes the kept id in it.
pub const CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("x-client-request-id");
/// The trace id's header: the server's own on every response.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest client id kept.
pub const MAX_CLIENT_REQUEST_ID: usize = 64;

/// A client's own id for a request, valid by `client_request_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRequestId(pub String);

/// A client's id if it is at most 64 characters of `[A-Za-z0-9._-]`: such
/// an id cannot forge a log field or carry card data in clear (a digit run
/// of a card number has no separator to hide in, and is masked by length
/// long before: 64 characters fit a PAN, so digits-only ids are refused
/// when they are 13 digits or longer).
pub fn client_request_id(text: &str) -> Option<ClientRequestId> {
    let plain = !text.is_empty()
        && text.len() <= MAX_CLIENT_REQUEST_ID
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    (plain && !has_card_length_digit_run(text)).then(|| ClientRequestId(text.to_owned()))
}

/// Whether `text` holds 13 or more digits in a row (separated by at most
/// the id's own punctuation), the length of a card number.
fn has_card_length_digit_run(text: &str) -> bool {
    let mut run = 0;
    for b in text.bytes() {
        match b {
            b'0'..=b'9' => {
                run += 1;
                if run >= 13 {
                    return true;
                }
            }
            b'.' | b'_' | b'-' => {}
            _ => run = 0,
        }
    }
    false
}

/// Takes the client's ids out of the request before the trace id is made,
/// so that `SetRequestIdLayer` always makes a new one, and keeps a plain
/// one in the request's extensions, which `http::error::render_errors`
/// echoes on the answer. A plain function of the request (a
/// `MapRequestLayer`), so no future or service clone per request.
pub fn take_client_request_id(mut request: Request) -> Request {
    let kept = client_id_from(request.headers());
    request.headers_mut().remove(REQUEST_ID);
    request.headers_mut().remove(CLIENT_REQUEST_ID);
    if let Some(id) = kept {
        request.extensions_mut().insert(id);
    }
    request
}

/// `X-Client-Request-Id` first, else `X-Request-Id`; one value only.
fn client_id_from(headers: &HeaderMap) -> Option<ClientRequestId> {
    [CLIENT_REQUEST_ID, REQUEST_ID].iter().find_map(|name| {
        let mut values = headers.get_all(name).iter();
        let first = values.next()?;
        if values.next().is_some() {
            return None;
        }
        client_request_id(first.to_str().ok()?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_plain_tokens_up_to_64_characters() {
        let longest = "x".repeat(64);
        for id in [
            "a",
            "req-42",
            "A.b_c-9",
            longest.as_str(),
            "2026-12-05T08.01",
        ] {
            assert_eq!(
                client_request_id(id),
                Some(ClientRequestId(id.to_owned())),
                "{id}"
            );
        }
    }

    #[test]
    fn drops_anything_that_could_forge_a_field_or_hide_a_card_number() {
        let too_long = "x".repeat(65);
        for id in [
            "",
            too_long.as_str(),
            "a b",
            "a\tb",
            "trace_id=forged",
            "a\nlevel=ERROR",
            "id\"quoted",
            "编号1",
            "6222021234567890123",
            "6222-0212-3456-7890",
            "order.4111.1111.1111.1111",
        ] {
            assert_eq!(client_request_id(id), None, "{id:?}");
        }
    }

    #[test]
    fn twelve_digits_in_a_row_are_an_ordinary_id() {
        assert!(client_request_id("order-202612050801").is_some());
        assert!(client_request_id("order-2026120508011").is_none());
    }
}
