//! Request extractors that speak the error catalogue: a malformed body or
//! query string is `invalid_request` naming the field, never axum's
//! plain-text rejection.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use tessera_core::error::{DomainError, ErrorCode, Lang};
use tower_http::request_id::RequestId;

use crate::http::detach::ClientGone;
use crate::http::error::ApiError;
use crate::http::query;
use crate::http::request_id::ClientRequestId;
use crate::state::AppState;

/// The request's trace id (the server's), the client's own id if it sent
/// a valid one, language, arrival time (on the state's clock), and whether
/// its client has gone (for work that runs on without it).
#[derive(Debug, Clone)]
pub struct Ctx {
    pub trace_id: String,
    pub client_request_id: Option<String>,
    pub lang: Lang,
    pub now: DateTime<Utc>,
    pub client_gone: ClientGone,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let trace_id = parts
            .extensions
            .get::<RequestId>()
            .and_then(|id| id.header_value().to_str().ok())
            .unwrap_or("")
            .to_owned();
        let lang = Lang::from_accept_language(
            parts
                .headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
        );
        let client_request_id = parts
            .extensions
            .get::<ClientRequestId>()
            .map(|ClientRequestId(id)| id.clone());
        Ok(Ctx {
            trace_id,
            client_request_id,
            lang,
            now: state.now(),
            client_gone: ClientGone::default(),
        })
    }
}

/// A JSON body, with its raw bytes kept for idempotency fingerprints.
#[derive(Debug)]
pub struct JsonBody<T> {
    pub value: T,
    pub raw: Bytes,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let raw = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::from(ErrorCode::PayloadTooLarge)
                } else {
                    ApiError::from(ErrorCode::InvalidRequest)
                }
            })?;
        let value = parse_json(&raw)?;
        Ok(JsonBody { value, raw })
    }
}

/// Parses JSON, naming the field at fault in `param` (`device.model`).
pub fn parse_json<T: DeserializeOwned>(raw: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(raw);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let mut domain = DomainError::new(ErrorCode::InvalidRequest);
        // serde names a missing field in its message, not in the path.
        let missing = inner
            .to_string()
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned);
        if let Some(field) = missing {
            let full = if path == "." {
                field
            } else {
                format!("{path}.{field}")
            };
            domain = domain.with_param(full);
        } else if path != "." && !path.is_empty() {
            domain = domain.with_param(path);
        }
        ApiError(domain)
    })
}

/// A query string read strictly into `T` (which denies unknown fields): a
/// parameter the route does not take, one given twice, or a value that
/// does not parse is `invalid_request` naming the parameter, with a
/// message about it (`http::query`), never a silently ignored parameter.
#[derive(Debug, Clone)]
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(QueryParams(parse_query(parts.uri.query().unwrap_or(""))?))
    }
}

/// Parses a query string strictly (see [`QueryParams`]).
pub fn parse_query<T: DeserializeOwned>(raw: &str) -> Result<T, DomainError> {
    let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(raw.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        query_error(&path, &error.into_inner().to_string())
    })
}

/// The catalogue's error for serde's: serde names an unknown, repeated or
/// missing field in its message, a value's field in the path.
fn query_error(path: &str, message: &str) -> DomainError {
    let named = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split_once('`'))
    };
    if let Some((name, rest)) = named("unknown field `") {
        // "..., expected one of `a`, `b`" or "expected `a`".
        let known: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
        return query::unknown_param(name, &known);
    }
    if let Some((name, _)) = named("duplicate field `") {
        return query::repeated(name);
    }
    if let Some((name, _)) = named("missing field `") {
        return query::missing(name, ("这个接口需要它", "this route needs it"));
    }
    if !path.is_empty() && path != "." {
        return query::bad_value(path);
    }
    DomainError::new(ErrorCode::InvalidRequest)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use tessera_core::error::Lang;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Asked {
        since: Option<String>,
        limit: Option<u32>,
    }

    fn param(error: &DomainError) -> Option<&str> {
        error.param.as_deref()
    }

    #[test]
    fn queries_are_read_strictly_naming_the_parameter() {
        let asked: Asked = parse_query("since=1h&limit=5").unwrap();
        assert_eq!((asked.since.as_deref(), asked.limit), (Some("1h"), Some(5)));
        let asked: Asked = parse_query("").unwrap();
        assert_eq!((asked.since, asked.limit), (None, None));

        let error = parse_query::<Asked>("limit=5&phone=13700137007").unwrap_err();
        assert_eq!(param(&error), Some("phone"));
        assert_eq!(
            error.message(Lang::En),
            "This route takes no parameter phone: it takes since, limit"
        );
        let error = parse_query::<Asked>("limit=abc").unwrap_err();
        assert_eq!(param(&error), Some("limit"));
        assert!(error.message(Lang::ZhCn).starts_with("limit 的值无法识别"));
        let error = parse_query::<Asked>("limit=1&limit=2").unwrap_err();
        assert_eq!(param(&error), Some("limit"));
        // A card number sent as a name is never shown back.
        let error = parse_query::<Asked>("6222020000000000008=1").unwrap_err();
        let shown = format!("{:?} {}", error.param, error.message(Lang::En));
        assert!(!shown.contains("6222020000000000008"), "{shown}");
    }
}
