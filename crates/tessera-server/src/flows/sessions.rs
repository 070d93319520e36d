//! A person's sessions: listed (never their tokens), ended one or all. The
//! store forgets them at once; this node's session cache too, and every
//! other node's within its two seconds (`http/auth.rs`).

use chrono::{DateTime, Utc};
use tessera_store::UserId;

use crate::http::auth::CurrentSession;
use crate::http::error::{ApiError, rfc3339};
use crate::http::views::{SessionInfoView, SessionList};
use crate::state::AppState;

/// The user's live sessions, newest first, the current one marked.
pub async fn list(
    state: &AppState,
    current: &CurrentSession,
    now: DateTime<Utc>,
) -> Result<SessionList, ApiError> {
    let sessions = state.store.user_sessions(&current.user_id, now).await?;
    Ok(SessionList {
        data: sessions
            .into_iter()
            .map(|session| SessionInfoView {
                current: session.token_hash == current.token_hash,
                id: session.id,
                created_at: rfc3339(session.created_at),
                expires_at: rfc3339(session.expires_at),
                user_agent: session.user_agent,
            })
            .collect(),
    })
}

/// Signs out: the session of this request ends.
pub async fn end_current(state: &AppState, current: &CurrentSession) -> Result<(), ApiError> {
    state.store.end_session(&current.token_hash).await?;
    state.sessions.forget(&current.token_hash);
    tracing::info!(user_id = %current.user_id, "signed out");
    Ok(())
}

/// Ends every session of the user (this one too); how many there were.
pub async fn end_all(state: &AppState, user_id: &UserId) -> Result<u64, ApiError> {
    let ended = state.store.end_user_sessions(user_id).await?;
    state.sessions.forget_user(user_id);
    tracing::info!(user_id = %user_id, ended, "every session ended");
    Ok(ended)
}
