//! The one place a domain error becomes an HTTP response. Handlers return
//! `ApiError`; the `render_errors` middleware writes the body in the caller's
//! language with the request's trace id, and also turns the bare statuses
//! that layers produce (413, 408, a caught panic's 500) into catalogue errors.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tessera_core::error::{DomainError, ErrorCode, ErrorRecord, Lang};
use tessera_store::StoreError;
use tower_http::request_id::RequestId;

use crate::http::request_id::{CLIENT_REQUEST_ID, ClientRequestId};

/// A domain error on its way out of a handler.
#[derive(Debug)]
pub struct ApiError(pub DomainError);

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        ApiError(error)
    }
}

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> Self {
        ApiError(DomainError::new(code))
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        ApiError(store_error(&error))
    }
}

/// Maps a storage failure to what the caller may know: the database is away
/// (retry) or something is wrong inside (trace id). The detail goes to the
/// log only; it never holds card data, but it is internal.
pub fn store_error(error: &StoreError) -> DomainError {
    match error {
        StoreError::Unavailable(_) => {
            tracing::warn!(error = %error, "database unavailable");
            DomainError::new(ErrorCode::DatabaseUnavailable).with_retry_after(5)
        }
        StoreError::KeyVersionStale => {
            tracing::info!("a sealing write was refused: a newer data key version is active");
            crate::flows::key_rotation::stale_error()
        }
        _ => {
            tracing::error!(error = %error, "store error");
            DomainError::new(ErrorCode::InternalError)
        }
    }
}

/// Any failure that the caller must not see the detail of (a key ring or
/// random source failing): `internal_error`, with the trace id.
pub fn internal<E>(_: E) -> DomainError {
    DomainError::new(ErrorCode::InternalError)
}

/// Carries the error to `render_errors` inside the response.
#[derive(Debug, Clone)]
struct PendingError(DomainError);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status_of(&self.0);
        let mut response = status.into_response();
        response.extensions_mut().insert(PendingError(self.0));
        response
    }
}

/// The code of the error a response carries, before or after
/// `render_errors` has written its body.
pub fn answered_code(response: &Response) -> Option<ErrorCode> {
    let extensions = response.extensions();
    extensions
        .get::<PendingError>()
        .map(|PendingError(error)| error.code)
        .or_else(|| extensions.get::<ErrorCode>().copied())
}

pub fn status_of(error: &DomainError) -> StatusCode {
    StatusCode::from_u16(error.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The JSON body of every error answer, `{"error": {...}}`: the catalogue's
/// type, code, message, remedy, cause and retryable, the trace id, the help
/// page, and whichever details the error carries (docs/architecture.md,
/// section 9).
pub fn error_body(error: &DomainError, lang: Lang, trace_id: &str) -> Value {
    let entry = error.entry();
    let mut object = json!({
        "type": entry.error_type.as_str(),
        "code": error.code.as_str(),
        "message": error.message(lang),
        "remedy": error.remedy(lang),
        "cause": entry.cause.as_str(),
        "retryable": entry.retryable,
        "trace_id": trace_id,
        "doc_url": format!("/help/errors/{}", error.code.as_str()),
    });
    if let Value::Object(map) = &mut object {
        if let Some(param) = &error.param {
            map.insert("param".into(), json!(param));
        }
        if let Some(not_supported) = &error.not_supported {
            map.insert("reason".into(), json!(not_supported.reason.as_str()));
        }
        if let Some(reason) = error.too_simple {
            map.insert("reason".into(), json!(reason.as_str()));
        }
        if let Some(decline) = error.decline_code {
            map.insert("decline_code".into(), json!(decline.as_str()));
        }
        if let Some(left) = error.attempts_left {
            map.insert("attempts_left".into(), json!(left));
        }
        if let Some(hit) = &error.limit {
            map.insert("limit".into(), json!(hit.limit.as_str()));
            if let Some(until) = hit.until {
                map.insert("locked_until".into(), json!(rfc3339(until)));
            }
        }
        if let Some(until) = &error.locked_until {
            map.insert("locked_until".into(), json!(rfc3339(**until)));
        }
        if let Some(seconds) = error.retry_after_secs {
            map.insert("retry_after".into(), json!(seconds));
        }
        if !error.suspended_by.is_empty() {
            map.insert("suspended_by".into(), json!(error.suspended_by));
        }
        match error.record.as_deref() {
            Some(ErrorRecord::Payment(id)) => {
                map.insert("payment_id".into(), json!(id));
            }
            Some(ErrorRecord::Card(id)) => {
                map.insert("card_id".into(), json!(id));
            }
            Some(ErrorRecord::Refund(id)) => {
                map.insert("refund_id".into(), json!(id));
            }
            Some(ErrorRecord::Transfer(id)) => {
                map.insert("transfer_id".into(), json!(id));
            }
            None => {}
        }
        if let Some(max_length) = error.max_length {
            map.insert("max_length".into(), json!(max_length));
        }
        let safety = error.safety.as_deref();
        if let Some(next) = safety.and_then(|s| s.next_action.as_ref()) {
            map.insert(
                "next_action".into(),
                json!({"type": "confirm", "methods": next.methods, "reason": next.reason}),
            );
        }
        if let Some(reasons) = safety.map(|s| &s.risk_reasons).filter(|r| !r.is_empty()) {
            let reasons: Vec<Value> = reasons
                .iter()
                .map(|r| json!({"code": r.as_str(), "message": r.message().get(lang)}))
                .collect();
            map.insert("risk_reasons".into(), Value::Array(reasons));
        }
    }
    json!({ "error": object })
}

pub fn rfc3339(time: chrono::DateTime<chrono::Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The full response for an error: status, `Retry-After`, JSON body.
pub fn error_response(error: &DomainError, lang: Lang, trace_id: &str) -> Response {
    let body = error_body(error, lang, trace_id);
    let mut response = (status_of(error), axum::Json(body)).into_response();
    if let Some(seconds) = error.retry_after_secs
        && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response.headers_mut().insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(lang.tag()),
    );
    // For the request's log line (`log_answer`).
    response.extensions_mut().insert(error.code);
    response
}

/// The request's log line once it is answered. A server error is logged at
/// the level its cause deserves: maintenance is planned (INFO); the bank,
/// the database or a provider being down is outside the service (WARN,
/// with the code); anything else is the service's own failure (ERROR).
pub fn log_answer(response: &Response, latency: std::time::Duration, _span: &tracing::Span) {
    let status = response.status().as_u16();
    let latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
    if !response.status().is_server_error() {
        tracing::debug!(status, latency_ms, "answered");
        return;
    }
    match response.extensions().get::<ErrorCode>() {
        Some(ErrorCode::Maintenance) => {
            tracing::info!(
                status,
                latency_ms,
                code = "maintenance",
                "answered during maintenance"
            );
        }
        Some(code) if *code != ErrorCode::InternalError => {
            tracing::warn!(
                status,
                latency_ms,
                code = code.as_str(),
                "answered unavailable"
            );
        }
        _ => tracing::error!(status, latency_ms, "answered with a server error"),
    }
}

pub fn request_lang(request: &Request) -> Lang {
    Lang::from_accept_language(
        request
            .headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

pub fn request_trace_id(request: &Request) -> String {
    request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// Middleware: renders every error response the same way.
pub async fn render_errors(request: Request, next: Next) -> Response {
    let lang = request_lang(&request);
    let trace_id = request_trace_id(&request);
    let client_id = request.extensions().get::<ClientRequestId>().cloned();
    let mut response = render(next.run(request).await, lang, &trace_id);
    // The client's own id, kept (`request_id::take_client_request_id`),
    // echoed on every answer.
    if let Some(value) = client_id.and_then(|id| HeaderValue::from_str(&id.0).ok()) {
        response.headers_mut().insert(CLIENT_REQUEST_ID, value);
    }
    response
}

/// The answer as sent: a pending error or a bare status rendered in the
/// request's language.
fn render(mut response: Response, lang: Lang, trace_id: &str) -> Response {
    if let Some(PendingError(error)) = response.extensions_mut().remove::<PendingError>() {
        return error_response(&error, lang, trace_id);
    }
    let status = response.status();
    if status.is_client_error() || status.is_server_error() {
        // JSON errors are already rendered; HTML pages (the help center's
        // 404) speak to people and stay as they are.
        let rendered = response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| {
                v.as_bytes().starts_with(b"application/json")
                    || v.as_bytes().starts_with(b"text/html")
            });
        if !rendered {
            let code = match status {
                StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
                StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
                StatusCode::NOT_FOUND => ErrorCode::NotFound,
                StatusCode::UNAUTHORIZED => ErrorCode::Unauthenticated,
                StatusCode::FORBIDDEN => ErrorCode::Forbidden,
                StatusCode::TOO_MANY_REQUESTS => ErrorCode::RateLimited,
                // `request_timeout_secs` ran out (the timeout layer in `app`).
                StatusCode::GATEWAY_TIMEOUT => ErrorCode::RequestTimeout,
                StatusCode::REQUEST_TIMEOUT | StatusCode::SERVICE_UNAVAILABLE => {
                    ErrorCode::DatabaseUnavailable
                }
                s if s.is_client_error() => ErrorCode::InvalidRequest,
                _ => ErrorCode::InternalError,
            };
            if code == ErrorCode::InternalError {
                tracing::error!(status = status.as_u16(), "internal error");
            }
            let mut rendered = error_response(&DomainError::new(code), lang, trace_id);
            if status != rendered.status() && code == ErrorCode::DatabaseUnavailable {
                *rendered.status_mut() = status;
            }
            return rendered;
        }
    }
    response
}

/// A plain JSON response with a status.
pub fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
