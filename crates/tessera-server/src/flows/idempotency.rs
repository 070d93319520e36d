//! Idempotency keys with Stripe's semantics, scoped to the caller: the same
//! key and body answer with the first response (status and body) for 24
//! hours and across restarts; the same key with another body is
//! `idempotency_conflict`. A retry that meets the first still running (a
//! phone that gave up on a slow answer and tried again) waits for its
//! answer, up to the issuer timeout, and only then is
//! `request_in_progress`. Retryable answers are not kept, so a retry runs
//! again. Only a keyed HMAC of the body is stored, never the body.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use chrono::TimeDelta;
use tessera_core::error::{DomainError, ErrorCode, Lang};
use tessera_core::vault::LookupPurpose;
use tessera_store::{IdempotencyBegin, StoreResult};

use crate::flows::later;
use crate::http::auth::Caller;
use crate::http::detach;
use crate::http::error::{ApiError, error_body, error_response, json_response};
use crate::http::extract::Ctx;
use crate::state::AppState;

pub const HEADER: &str = "idempotency-key";
/// Keys answer for 24 hours; older records are purged in the background.
pub const KEEP: TimeDelta = TimeDelta::hours(24);

/// A request still "in progress" after this long died with its node: a
/// live one ends within the request timeout, or, detached from a client
/// that left (`http/detach.rs`), within the issuer timeout.
fn stale_after(state: &AppState) -> TimeDelta {
    let config = &state.config;
    let longest = config.request_timeout_secs.max(config.issuer_timeout_secs);
    TimeDelta::seconds(i64::try_from(longest).unwrap_or(i64::MAX / 1_000) + 10)
}

/// What a handler produced: a status and JSON body, or an error.
pub type Outcome = Result<(StatusCode, serde_json::Value), ApiError>;

/// The `Idempotency-Key` header, if sent: 1 to 255 visible ASCII characters.
pub fn key_of(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(HEADER) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError(DomainError::new(ErrorCode::InvalidRequest).with_param("Idempotency-Key"))
        })?;
    Ok(Some(key.to_owned()))
}

/// Runs `work` at most once per (caller, key, body).
pub async fn run<F>(
    state: &AppState,
    caller: &Caller,
    key: Option<String>,
    route: &str,
    body: &[u8],
    ctx: &Ctx,
    work: F,
) -> Response
where
    F: Future<Output = Outcome>,
{
    let (lang, trace_id) = (ctx.lang, ctx.trace_id.as_str());
    let Some(key) = key else {
        return render(work.await, lang, trace_id).0;
    };
    let scope = caller.scope();
    let mut fingerprinted = Vec::with_capacity(route.len() + 1 + body.len());
    fingerprinted.extend_from_slice(route.as_bytes());
    fingerprinted.push(0);
    fingerprinted.extend_from_slice(body);
    let fingerprint = hex::encode(
        state
            .keys
            .keyed_hash(LookupPurpose::IdempotencyBody, &fingerprinted),
    );
    let stale_after = stale_after(state);
    let limit = Duration::from_secs(state.config.issuer_timeout_secs);
    let begin = detach::wait_out_in_flight(
        limit,
        || {
            let now = state.now();
            state
                .store
                .idempotency_begin(&scope, &key, &fingerprint, now, stale_after)
        },
        |begin| matches!(begin, Ok(IdempotencyBegin::InProgress { .. })),
    )
    .await;
    match begin {
        Err(error) => {
            let error = crate::http::error::store_error(&error);
            error_response(&error, lang, trace_id)
        }
        Ok(IdempotencyBegin::Conflict) => error_response(
            &DomainError::new(ErrorCode::IdempotencyConflict).with_param("Idempotency-Key"),
            lang,
            trace_id,
        ),
        Ok(IdempotencyBegin::InProgress { since }) => {
            // Still running after the issuer timeout: its node may have
            // died, and the key is free again once the record is stale.
            let free_at = since + stale_after;
            let seconds = (free_at - state.now()).num_seconds().max(1);
            error_response(
                &DomainError::new(ErrorCode::RequestInProgress)
                    .with_retry_after(u64::try_from(seconds).unwrap_or(1)),
                lang,
                trace_id,
            )
        }
        Ok(IdempotencyBegin::Replay { status, body }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let value = serde_json::from_str(&body).unwrap_or(serde_json::Value::Null);
            let mut response = json_response(status, &value);
            response
                .headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            response
        }
        Ok(IdempotencyBegin::Started) => {
            let (response, kept) = render(work.await, lang, trace_id);
            if let Err(error) = settle(state, &scope, &key, kept.as_ref()).await {
                // Until the record is stale, when the key is free anyway.
                let within = stale_after.to_std().unwrap_or_default();
                let state = state.clone();
                later::retry_when_back(error, "store an idempotent response", within, move || {
                    let (state, scope, key, kept) =
                        (state.clone(), scope.clone(), key.clone(), kept.clone());
                    async move { settle(&state, &scope, &key, kept.as_ref()).await }
                });
            }
            response
        }
    }
}

/// Finishes the record with the answer to keep, or frees the key when the
/// answer is one to retry.
async fn settle(
    state: &AppState,
    scope: &str,
    key: &str,
    kept: Option<&(u16, String)>,
) -> StoreResult<()> {
    match kept {
        Some((status, body)) => {
            state
                .store
                .idempotency_finish(scope, key, *status, body)
                .await
        }
        None => state.store.idempotency_abandon(scope, key).await,
    }
}

/// The response, and what to keep of it (None for retryable errors).
fn render(outcome: Outcome, lang: Lang, trace_id: &str) -> (Response, Option<(u16, String)>) {
    match outcome {
        Ok((status, body)) => (
            json_response(status, &body),
            Some((status.as_u16(), body.to_string())),
        ),
        Err(ApiError(error)) => {
            let response = error_response(&error, lang, trace_id);
            // A refused confirmation changed nothing: a retry with a good
            // one must run, not meet this answer again.
            let refused_confirmation = matches!(
                error.code,
                ErrorCode::VerificationRequired | ErrorCode::VerificationInvalid
            );
            let kept = (!error.code.retryable() && !refused_confirmation).then(|| {
                (
                    response.status().as_u16(),
                    error_body(&error, lang, trace_id).to_string(),
                )
            });
            (response, kept)
        }
    }
}
