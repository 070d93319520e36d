//! What support reads: the people it looks up, binding attempts,
//! diagnoses, binding health, incidents and tickets; masked data only.
//! Reads of a person's data are audited (`flows::audit`).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use tessera_core::error::{DomainError, ErrorCode};
use tessera_core::ids::UserId;

use crate::flows::binding_stats::{self, HealthReport};
use crate::flows::{
    attempts, audit, diagnose, issuer_health, lifecycle, support_users, tickets, timeline,
    transactions,
};
use crate::http::auth::{Caller, Role};
use crate::http::error::ApiError;
use crate::http::extract::{Ctx, QueryParams};
use crate::http::views::{
    AttemptList, AttemptQuery, DiagnoseQuery, DiagnosisView, ErrorEnvelope, FoundUserList,
    IncidentList, IncidentQuery, SupportTicketList, TicketQuery, TimelineList, TokenEventList,
    TransactionList, TransactionQuery, UserSearchQuery, UserTimelineQuery,
};
use crate::state::AppState;

/// Support and operator keys read what support reads.
const READERS: [Role; 2] = [Role::Support, Role::Operator];

/// The caller of this request, for the audit of what it reads.
fn reader<'a>(caller: &'a Caller, ctx: &'a Ctx) -> audit::Reader<'a> {
    audit::Reader {
        caller,
        trace_id: &ctx.trace_id,
    }
}

/// Find a person by one of: `phone`; `user_id`; `id_last4` with `name`
/// (the ID number's last four and the real name); `card_first6` with
/// `card_last4` (a card they added). Each person found is answered masked
/// (phone, name, ID number, cards' first six and last four), with their
/// sign-up time, whether the wallet is frozen and their cards; each
/// search is audited.
#[utoipa::path(get, path = "/v1/support/users", tag = "support", security(("bearer" = [])),
    params(UserSearchQuery),
    responses((status = 200, body = FoundUserList),
        (status = 400, description = "invalid_request naming the parameter missing, combined with another way of searching, unknown, or not understood", body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope)))]
pub async fn find_users(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    QueryParams(query): QueryParams<UserSearchQuery>,
) -> Result<Json<FoundUserList>, ApiError> {
    caller.require_role(&READERS)?;
    Ok(Json(
        support_users::search(&state, &caller, &ctx, &query).await?,
    ))
}

/// Binding attempts by user, trace id or time, newest first. Reading a
/// person's (`user_id`) is audited.
#[utoipa::path(get, path = "/v1/support/attempts", tag = "support", security(("bearer" = [])),
    params(AttemptQuery),
    responses((status = 200, body = AttemptList),
        (status = 400, description = "invalid_request naming an unknown parameter or one not understood", body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope)))]
pub async fn list_attempts(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    QueryParams(query): QueryParams<AttemptQuery>,
) -> Result<Json<AttemptList>, ApiError> {
    caller.require_role(&READERS)?;
    let page = attempts::page(&state, &query, ctx.now).await?;
    if let Some(user_id) = &query.user_id {
        let user_id = UserId::from(user_id.clone());
        audit::record_read(
            &state,
            &caller,
            audit::USER_ATTEMPTS,
            Some(&user_id),
            &ctx.trace_id,
        )
        .await?;
    }
    Ok(Json(page))
}

/// Why a binding or a payment failed: a verdict naming the failure's cause
/// (input mistake, card not supported, unstable network or issuer, system
/// failure or maintenance), the wallet rule (real name, limit, duplicate,
/// security lock) or the payment's stop (token suspended and by whom, card
/// removed or replaced, cryptogram, ATC, domain, risk, confirmation, frozen
/// wallet, bank decline), the attempts or payments as evidence, what the
/// person did next with the same card, and the next step for the person and
/// for support, in zh-CN and en. Each read is audited.
#[utoipa::path(get, path = "/v1/support/diagnose", tag = "support", security(("bearer" = [])),
    params(DiagnoseQuery),
    responses((status = 200, body = DiagnosisView),
        (status = 400, description = "invalid_request: none of trace_id, payment_id or user_id, a bad since, or an unknown parameter", body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 404, description = "not_found: no attempt or payment with this trace id (param trace_id), no such payment (payment_id) or no such person (user_id)", body = ErrorEnvelope)))]
pub async fn diagnose(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    QueryParams(query): QueryParams<DiagnoseQuery>,
) -> Result<Json<DiagnosisView>, ApiError> {
    caller.require_role(&READERS)?;
    Ok(Json(
        diagnose::for_support(&state, reader(&caller, &ctx), &query, ctx.now, ctx.lang).await?,
    ))
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
    caller.require_role(&READERS)?;
    Ok(Json(
        binding_stats::current(&state, ctx.now, ctx.lang).await?,
    ))
}

/// Issuers flagged by the anomaly rule: a failure rate or latency well above
/// the issuer's own baseline, with the message, the numbers and the state of
/// its circuit breaker.
#[utoipa::path(get, path = "/v1/support/incidents", tag = "support", security(("bearer" = [])),
    params(IncidentQuery),
    responses((status = 200, body = IncidentList),
        (status = 400, description = "invalid_request naming an unknown parameter or one not understood", body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope)))]
pub async fn list_incidents(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    QueryParams(query): QueryParams<IncidentQuery>,
) -> Result<Json<IncidentList>, ApiError> {
    caller.require_role(&READERS)?;
    Ok(Json(
        issuer_health::incidents(&state, &query, ctx.now, ctx.lang).await?,
    ))
}

/// Support tickets, each with what it is about (the attempt with its
/// device and diagnosis, the payment or the transfer) as it was when the
/// person opened it, its last activity and its reply count. Newest first;
/// with a `status`, the longest waiting first (the queue).
#[utoipa::path(get, path = "/v1/support/tickets", tag = "support", security(("bearer" = [])),
    params(TicketQuery),
    responses((status = 200, body = SupportTicketList),
        (status = 400, description = "invalid_request: an unknown status, a bad older_than or cursor (`param` names it)", body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope)))]
pub async fn list_tickets(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    QueryParams(query): QueryParams<TicketQuery>,
) -> Result<Json<SupportTicketList>, ApiError> {
    caller.require_role(&READERS)?;
    Ok(Json(tickets::page(&state, &query, ctx.now).await?))
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
    caller.require_role(&READERS)?;
    Ok(Json(lifecycle::history(&state, &token_ref).await?))
}

/// A person's records, as they see them at `GET /v1/transactions` (the
/// same filters and `format=csv`): masked data only. An unknown person is
/// 404. Each read is audited.
#[utoipa::path(get, path = "/v1/support/users/{id}/transactions", tag = "support", security(("bearer" = [])),
    params(("id" = String, Path, description = "user id (usr_...)"), TransactionQuery),
    responses((status = 200, body = TransactionList,
            description = "a page of records; with format=csv, text/csv instead"),
        (status = 400, description = "invalid_request naming the parameter", body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 404, description = "not_found: no such person", body = ErrorEnvelope)))]
pub async fn user_transactions(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    caller.require_role(&READERS)?;
    let user_id = UserId::from(id);
    if state.store.user_by_id(&user_id).await?.is_none() {
        return Err(DomainError::new(ErrorCode::NotFound)
            .with_param("id")
            .into());
    }
    let answer = transactions::list(&state, &user_id, &pairs, ctx.lang).await?;
    audit::record_read(
        &state,
        &caller,
        audit::USER_TRANSACTIONS,
        Some(&user_id),
        &ctx.trace_id,
    )
    .await?;
    Ok(answer)
}

/// What happened to a person, newest first, in one list: signing up and
/// in (failed sign-ins and lockouts too), binding attempts (a failure with
/// its diagnosis), cards added and removed, token changes and who made
/// them, payments (declined ones with their codes), refunds, transfers,
/// reports, wallet freezes and tickets. Each entry has its trace id, the
/// ids it concerns and a summary in zh-CN and en; card data masked. Each
/// read is audited.
#[utoipa::path(get, path = "/v1/support/users/{id}/timeline", tag = "support", security(("bearer" = [])),
    params(("id" = String, Path, description = "user id (usr_...)"), UserTimelineQuery),
    responses((status = 200, body = TimelineList),
        (status = 400, description = "invalid_request naming the parameter (type, since, cursor), or an unknown parameter", body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 404, description = "not_found: no such person", body = ErrorEnvelope)))]
pub async fn user_timeline(
    State(state): State<AppState>,
    ctx: Ctx,
    caller: Caller,
    Path(id): Path<String>,
    QueryParams(query): QueryParams<UserTimelineQuery>,
) -> Result<Json<TimelineList>, ApiError> {
    caller.require_role(&READERS)?;
    Ok(Json(
        timeline::page(
            &state,
            reader(&caller, &ctx),
            &UserId::from(id),
            &query,
            ctx.now,
        )
        .await?,
    ))
}
