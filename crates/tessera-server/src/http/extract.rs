//! Request extractors that speak the error catalogue: a malformed body is
//! `invalid_request` naming the field, never axum's plain-text rejection.

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
