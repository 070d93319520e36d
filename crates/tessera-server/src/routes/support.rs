//! What support reads: binding attempts, diagnoses, binding health,
//! incidents and tickets; masked data only.

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use tessera_core::diagnosis::Audience;
use tessera_core::error::{DomainError, ErrorCode};
use tessera_store::{AttemptFilter, IncidentFilter, TicketFilter};
use utoipa::IntoParams;

use crate::flows::binding_stats::{self, HealthReport};
use crate::flows::diagnose;
use crate::flows::issuer_health;
use crate::http::auth::{Caller, Role};
use crate::http::error::{ApiError, rfc3339};
use crate::http::extract::Ctx;
use crate::http::views::{AttemptList, AttemptView, ErrorEnvelope, TokenEventList, TokenEventView};
use crate::http::views::{
    DiagnosisView, IncidentList, IncidentView, SupportTicketList, SupportTicketView,
};
use crate::state::{AppState, from_millis, millis};

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

#[derive(Debug, Deserialize, IntoParams)]
pub struct DiagnoseQuery {
    /// One attempt: its verdict, told with the same person's attempts in
    /// the day before it.
    pub trace_id: Option<String>,
    /// Everything one person tried (with `since`).
    pub user_id: Option<String>,
    /// With `user_id`: RFC 3339 time, or a duration back from now (`1h`,
    /// `7d`); 24 hours by default.
    pub since: Option<String>,
}

/// Why a binding failed: a verdict naming the seed's cause (input mistake,
/// card not supported, unstable network or issuer, system failure or
/// maintenance) or the wallet rule (real name, limit, duplicate, security
/// lock), the attempts as evidence, and the next step for the person and
/// for support, in zh-CN and en.
#[utoipa::path(get, path = "/v1/support/diagnose", tag = "support", security(("bearer" = [])),
    params(DiagnoseQuery),
    responses((status = 200, body = DiagnosisView),
        (status = 400, description = "invalid_request: neither trace_id nor user_id, or a bad since", body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, description = "no attempt with this trace id", body = ErrorEnvelope)))]
pub async fn diagnose(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    Query(query): Query<DiagnoseQuery>,
) -> Result<Json<DiagnosisView>, ApiError> {
    caller.require_role(&[Role::Support, Role::Operator])?;
    let case = match (query.trace_id.as_deref(), query.user_id.as_deref()) {
        (Some(trace), _) if !trace.trim().is_empty() => {
            diagnose::case_of_trace(&state, trace.trim(), query.user_id.as_deref())
                .await?
                .ok_or_else(|| DomainError::new(ErrorCode::NotFound).with_param("trace_id"))?
        }
        (_, Some(user)) if !user.trim().is_empty() => {
            let since = match query.since.as_deref() {
                Some(text) => parse_since(text, ctx.now).ok_or_else(|| {
                    DomainError::new(ErrorCode::InvalidRequest).with_param("since")
                })?,
                None => ctx.now - Duration::hours(diagnose::STORY_HOURS),
            };
            diagnose::case_of_user(&state, user.trim(), since, ctx.now, diagnose::MAX_ATTEMPTS)
                .await?
        }
        _ => {
            return Err(DomainError::new(ErrorCode::InvalidRequest)
                .with_param("trace_id")
                .into());
        }
    };
    let (diagnosis, incidents) =
        diagnose::diagnose_case(&state, &case, Audience::Support, ctx.now).await?;
    Ok(Json(diagnose::support_view(
        &case, &diagnosis, &incidents, ctx.lang, ctx.now,
    )))
}

/// Binding health across everyone, over the last 5 minutes, hour and day:
/// success rate, failures by cause and code, and issuer latency, overall and
/// per issuer, brand and card type; with the open incidents.
#[utoipa::path(get, path = "/v1/support/health/binding", tag = "support", security(("bearer" = [])),
    responses((status = 200, body = HealthReport), (status = 403, body = ErrorEnvelope)))]
pub async fn binding_health(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
) -> Result<Json<HealthReport>, ApiError> {
    caller.require_role(&[Role::Support, Role::Operator])?;
    issuer_health::evaluate_issuers(&state, None, ctx.now).await?;
    Ok(Json(
        binding_stats::report(&state, ctx.now, ctx.lang).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct IncidentQuery {
    /// `open` (default) or `all`.
    pub status: Option<String>,
    /// One issuer code (`ICBC`).
    pub issuer: Option<String>,
    /// With `status=all`: RFC 3339 time or a duration back (`24h`, the default).
    pub since: Option<String>,
}

/// Issuers flagged by the anomaly rule: a failure rate or latency well above
/// the issuer's own baseline, with the message, the numbers and the state of
/// its circuit breaker.
#[utoipa::path(get, path = "/v1/support/incidents", tag = "support", security(("bearer" = [])),
    params(IncidentQuery),
    responses((status = 200, body = IncidentList), (status = 403, body = ErrorEnvelope)))]
pub async fn list_incidents(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    Query(query): Query<IncidentQuery>,
) -> Result<Json<IncidentList>, ApiError> {
    caller.require_role(&[Role::Support, Role::Operator])?;
    let open_only = match query.status.as_deref() {
        None | Some("open") => true,
        Some("all") => false,
        Some(_) => {
            return Err(DomainError::new(ErrorCode::InvalidRequest)
                .with_param("status")
                .into());
        }
    };
    let since = match query.since.as_deref() {
        Some(text) => parse_since(text, ctx.now)
            .ok_or_else(|| DomainError::new(ErrorCode::InvalidRequest).with_param("since"))?,
        None => ctx.now - Duration::hours(24),
    };
    let issuer = query
        .issuer
        .as_deref()
        .map(|code| code.trim().to_ascii_uppercase())
        .filter(|code| !code.is_empty());
    issuer_health::evaluate_issuers(&state, None, ctx.now).await?;
    let incidents = state
        .store
        .incidents(&IncidentFilter {
            open_only,
            issuer_code: issuer,
            since: (!open_only).then(|| millis(since)),
            limit: 200,
        })
        .await?;
    Ok(Json(IncidentList {
        data: incidents
            .iter()
            .map(|i| IncidentView::from_record(i, ctx.lang, millis(ctx.now)))
            .collect(),
        next_cursor: None,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TicketQuery {
    pub user_id: Option<String>,
    /// open or closed
    pub status: Option<String>,
    /// At most 200; 50 by default.
    pub limit: Option<u32>,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// Support tickets, newest first, each with the attempt (device included)
/// and its diagnosis as they were when the person opened it.
#[utoipa::path(get, path = "/v1/support/tickets", tag = "support", security(("bearer" = [])),
    params(TicketQuery),
    responses((status = 200, body = SupportTicketList), (status = 403, body = ErrorEnvelope)))]
pub async fn list_tickets(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<TicketQuery>,
) -> Result<Json<SupportTicketList>, ApiError> {
    caller.require_role(&[Role::Support, Role::Operator])?;
    let before = query
        .cursor
        .as_deref()
        .map(|c| {
            c.split_once('.')
                .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id.to_owned())))
                .ok_or_else(|| DomainError::new(ErrorCode::InvalidRequest).with_param("cursor"))
        })
        .transpose()?;
    let limit = query.limit.unwrap_or(50).clamp(1, 200);
    let tickets = state
        .store
        .tickets(&TicketFilter {
            user_id: query.user_id.clone(),
            status: query.status.clone(),
            before,
            limit,
        })
        .await?;
    let next_cursor = (tickets.len() == usize::try_from(limit).unwrap_or(usize::MAX))
        .then(|| tickets.last().map(|t| format!("{}.{}", t.created_at, t.id)))
        .flatten();
    Ok(Json(SupportTicketList {
        data: tickets.iter().map(SupportTicketView::from_record).collect(),
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
