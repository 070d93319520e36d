//! The audit: every security-relevant event is one entry of this node's
//! chain (`audit_chain.rs`): sign-ins and lockouts, console sign-ins, API
//! keys made and revoked, key files restored, maintenance windows, tokens
//! suspended and resumed, issuer events, cards unbound, payment passwords
//! set, wallets frozen and unfrozen, and each time an API key (support's,
//! an operator's) reads what belongs to a person, written before the data
//! is answered (a read whose entry cannot be written is refused). Entries
//! hold ids and what happened, never a name, a phone or card digits.
//! Operators list them, newest first; `tessera audit verify` walks the
//! chains.

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

/// A person signed in (`POST /v1/sessions`).
pub const SIGNED_IN: &str = "session.signed_in";
/// A support or operator key signed in to the support console.
pub const CONSOLE_SIGNED_IN: &str = "console.signed_in";
/// Failed sign-ins locked a phone out for the window.
pub const SIGN_IN_LOCKED: &str = "session.locked";
/// An API key was made (at the command line or by an operator).
pub const KEY_CREATED: &str = "api_key.created";
pub const KEY_REVOKED: &str = "api_key.revoked";
pub const MAINTENANCE_STARTED: &str = "maintenance.started";
pub const MAINTENANCE_ENDED: &str = "maintenance.ended";
/// A token suspended or resumed by one of its suspenders.
pub const TOKEN_SUSPENDED: &str = "token.suspended";
pub const TOKEN_RESUMED: &str = "token.resumed";
pub const TOKEN_DELETED: &str = "token.deleted";
/// An EMV key generation added to or retired from the key file
/// (`tessera keys emv-generation`).
pub const EMV_GENERATION_ADDED: &str = "emv_generation.added";
pub const EMV_GENERATION_RETIRED: &str = "emv_generation.retired";
/// Every live token of an EMV key generation renewed under the current one
/// (`tessera keys emv-generation renew`).
pub const EMV_GENERATION_RENEWED: &str = "emv_generation.renewed";
/// An issuer's event, applied or not (`POST /v1/issuer/events`).
pub const ISSUER_EVENT: &str = "issuer.event";
pub const CARD_UNBOUND: &str = "card.unbound";
pub const PAYMENT_PASSWORD_SET: &str = "payment_password.set";
pub const WALLET_FROZEN: &str = "wallet.frozen";
pub const WALLET_UNFROZEN: &str = "wallet.unfrozen";
/// The key file replaced from a backup (`tessera keys restore`).
pub const KEY_RING_RESTORED: &str = "key_ring.restored";
/// A data key version added and made active (`tessera keys rotate`,
/// `POST /v1/admin/keys/rotate`).
pub const KEY_ROTATED: &str = "key_ring.key_rotated";
/// A data key version no record used any more, deleted.
pub const KEY_RETIRED: &str = "key_ring.key_retired";
/// The root key replaced and every data key re-wrapped under the new one.
pub const ROOT_ROTATED: &str = "key_ring.root_rotated";
/// The key file's keys copied into a PKCS#11 token (`tessera keys
/// move-to-hsm`).
pub const KEYS_MOVED_TO_HSM: &str = "key_ring.moved_to_hsm";

/// Who acted, for the audit, and the request's trace id. Without a caller
/// it is the service itself (a command run by whoever runs it).
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub caller: Option<&'a Caller>,
    pub trace_id: &'a str,
}

impl<'a> Actor<'a> {
    pub fn caller(caller: &'a Caller, trace_id: &'a str) -> Self {
        Actor {
            caller: Some(caller),
            trace_id,
        }
    }

    /// The service acting on its own (the command line).
    pub fn service(trace_id: &'a str) -> Self {
        Actor {
            caller: None,
            trace_id,
        }
    }

    /// Appends `action` on `user_id` and `subject` (`card:crd_...`) to the
    /// audit.
    pub async fn record(
        &self,
        state: &AppState,
        action: &str,
        user_id: Option<&UserId>,
        subject: Option<String>,
    ) -> Result<(), ApiError> {
        let (key_id, key_holder, role) = match self.caller {
            Some(Caller::Key {
                key_id,
                role,
                holder,
                ..
            }) => (key_id.clone(), holder.clone(), role.as_str().to_owned()),
            Some(Caller::User { .. }) => (String::new(), String::new(), "user".to_owned()),
            None => (String::new(), String::new(), "service".to_owned()),
        };
        let event = AuditEvent {
            id: ids::random_id("aud_", 20),
            created_at: state.now(),
            key_id,
            key_holder,
            role,
            action: action.to_owned(),
            user_id: user_id.cloned(),
            subject,
            trace_id: self.trace_id.to_owned(),
            link: None,
        };
        state
            .audit
            .append(state.store.as_ref(), &state.keys, event)
            .await?;
        Ok(())
    }
}

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
    if !matches!(caller, Caller::Key { .. }) {
        return Ok(());
    }
    Actor::caller(caller, trace_id)
        .record(state, action, user_id, None)
        .await
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
                subject: event.subject,
                trace_id: event.trace_id,
                chain_id: event.link.as_ref().map(|l| l.chain_id.clone()),
                seq: event.link.map(|l| l.seq),
            })
            .collect(),
    })
}
