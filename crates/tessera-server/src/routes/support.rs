//! What support reads: binding attempts and token histories, masked data
//! only.

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use tessera_core::error::{DomainError, ErrorCode};
use tessera_store::AttemptFilter;
use utoipa::IntoParams;

use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::error::rfc3339;
use crate::extract::Ctx;
use crate::state::from_millis;
use crate::state::{AppState, millis};
use crate::views::{AttemptList, AttemptView, ErrorEnvelope, TokenEventList, TokenEventView};

#[derive(Debug, Deserialize, IntoParams)]
pub struct AttemptQuery {
    pub user_id: Option<String>,
    pub trace_id: Option<String>,
    /// RFC 3339 time, or a duration back from now: `30m`, `1h`, `7d`.
    pub since: Option<String>,
    /// At most 200; 50 by default.
    pub limit: Option<u32>,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// Parses `since`: an RFC 3339 time or a duration back from `now`.
pub fn parse_since(text: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let number: i64 = number.parse().ok()?;
    let span = match unit {
        "s" => Duration::try_seconds(number)?,
        "m" | "min" => Duration::try_minutes(number)?,
        "h" => Duration::try_hours(number)?,
        "d" => Duration::try_days(number)?,
        _ => return None,
    };
    now.checked_sub_signed(span)
}

/// Binding attempts by user, trace id or time, newest first.
#[utoipa::path(get, path = "/v1/support/attempts", tag = "support", security(("bearer" = [])),
    params(AttemptQuery),
    responses((status = 200, body = AttemptList), (status = 403, body = ErrorEnvelope)))]
pub async fn list_attempts(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    Query(query): Query<AttemptQuery>,
) -> Result<Json<AttemptList>, ApiError> {
    caller.require_role(&[Role::Support, Role::Operator])?;
    let since = query
        .since
        .as_deref()
        .map(|s| {
            parse_since(s, ctx.now)
                .ok_or_else(|| DomainError::new(ErrorCode::InvalidRequest).with_param("since"))
        })
        .transpose()?;
    let before = query
        .cursor
        .as_deref()
        .map(|c| {
            c.split_once('.')
                .and_then(|(at, trace)| Some((at.parse::<i64>().ok()?, trace.to_owned())))
                .ok_or_else(|| DomainError::new(ErrorCode::InvalidRequest).with_param("cursor"))
        })
        .transpose()?;
    let limit = query.limit.unwrap_or(50).clamp(1, 200);
    let attempts = state
        .store
        .attempts(&AttemptFilter {
            user_id: query.user_id.clone(),
            trace_id: query.trace_id.clone(),
            since: since.map(millis),
            before,
            limit,
        })
        .await?;
    let next_cursor = (attempts.len() == usize::try_from(limit).unwrap_or(usize::MAX))
        .then(|| {
            attempts
                .last()
                .map(|a| format!("{}.{}", a.created_at, a.trace_id))
        })
        .flatten();
    Ok(Json(AttemptList {
        data: attempts.iter().map(AttemptView::from_record).collect(),
        next_cursor,
    }))
}

/// A token's history, newest first: every suspend, resume, delete and issuer
/// change, who made it and why (at most 200).
#[utoipa::path(get, path = "/v1/support/tokens/{ref}/events", tag = "support", security(("bearer" = [])),
    params(("ref" = String, Path, description = "token reference (tok_...)")),
    responses((status = 200, body = TokenEventList), (status = 403, body = ErrorEnvelope)))]
pub async fn token_events(
    State(state): State<AppState>,
    caller: Caller,
    Path(token_ref): Path<String>,
) -> Result<Json<TokenEventList>, ApiError> {
    caller.require_role(&[Role::Support, Role::Operator])?;
    let events = state.store.token_events(&token_ref, 200).await?;
    Ok(Json(TokenEventList {
        data: events
            .into_iter()
            .map(|event| TokenEventView {
                kind: event.kind,
                actor: event.actor,
                reason: event.reason,
                status_after: event.status_after,
                created_at: rfc3339(from_millis(event.created_at)),
            })
            .collect(),
        next_cursor: None,
    }))
}
