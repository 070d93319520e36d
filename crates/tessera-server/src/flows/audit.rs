//! The audit of reads of a person's data: each time an API key (support's,
//! an operator's) reads what belongs to a person, one row is appended
//! (`audit_events`: when, which key, its holder and role, what was done,
//! whose data, the trace id), before the data is answered; a read whose
//! row cannot be written is refused. Operators list the rows, newest
//! first.

use tessera_core::ids::UserId;
use tessera_store::{AuditEvent, AuditFilter};

use crate::http::auth::Caller;
use crate::http::error::{ApiError, rfc3339};
use crate::http::query;
use crate::http::views::{AuditEventList, AuditEventQuery, AuditEventView};
use crate::ids;
use crate::state::AppState;

/// Support searched for a person (`GET /v1/support/users`): one row per
/// person found, or one without a person when none was.
pub const USERS_SEARCH: &str = "support.users.search";
/// Support read a person's records (`GET /v1/support/users/{id}/transactions`).
pub const USER_TRANSACTIONS: &str = "support.user.transactions";
/// Support read a person's binding attempts (`GET /v1/support/attempts?user_id=`).
pub const USER_ATTEMPTS: &str = "support.user.attempts";

/// Support read a person's timeline (`GET /v1/support/users/{id}/timeline`,
/// the console's person page).
pub const USER_TIMELINE: &str = "support.user.timeline";
/// Support read a diagnosis of a person's attempt, payment or day
/// (`GET /v1/support/diagnose`, the console's diagnosis page).
pub const DIAGNOSIS: &str = "support.diagnosis";
/// Support read a person's ticket (`GET /v1/support/tickets/{id}`, the
/// console's ticket page).
pub const TICKET: &str = "support.ticket";

/// Who reads a person's data, for the audit: the caller and the request's
/// trace id. The flows that answer a person's data take one, so the API
/// and the console record their reads the same way.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    pub caller: &'a Caller,
    pub trace_id: &'a str,
}

impl Reader<'_> {
    /// Appends this read of `action` on `user_id`'s data.
    pub async fn record(
        &self,
        state: &AppState,
        action: &str,
        user_id: Option<&UserId>,
    ) -> Result<(), ApiError> {
        record_read(state, self.caller, action, user_id, self.trace_id).await
    }
}

/// Appends one read by `caller` to the audit. A person reading their own
/// data is not audited.
pub async fn record_read(
    state: &AppState,
    caller: &Caller,
    action: &str,
    user_id: Option<&UserId>,
    trace_id: &str,
) -> Result<(), ApiError> {
    let Caller::Key {
        key_id,
        role,
        holder,
        ..
    } = caller
    else {
        return Ok(());
    };
    let event = AuditEvent {
        id: ids::random_id("aud_", 20),
        created_at: state.now(),
        key_id: key_id.clone(),
        key_holder: holder.clone(),
        role: role.as_str().to_owned(),
        action: action.to_owned(),
        user_id: user_id.cloned(),
        trace_id: trace_id.to_owned(),
    };
    state.store.record_audit_event(&event).await?;
    Ok(())
}

/// `GET /v1/admin/audit-events`: newest first, a page at a time (at most
/// 200; 50 by default).
pub async fn page(state: &AppState, asked: &AuditEventQuery) -> Result<AuditEventList, ApiError> {
    let before = query::cursor(asked.cursor.as_deref())?;
    let limit = query::page_limit(asked.limit, 50, 200)?;
    let events = state
        .store
        .audit_events(&AuditFilter { before, limit })
        .await?;
    Ok(AuditEventList {
        next_cursor: query::next_cursor(&events, limit, |e| (e.created_at, &e.id)),
        data: events
            .into_iter()
            .map(|event| AuditEventView {
                id: event.id,
                at: rfc3339(event.created_at),
                key_id: event.key_id,
                key_holder: event.key_holder,
                role: event.role,
                action: event.action,
                user_id: event.user_id.map(|u| u.to_string()),
                trace_id: event.trace_id,
            })
            .collect(),
    })
}
