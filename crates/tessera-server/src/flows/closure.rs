//! A person's right to leave: an account closed by its owner (with a
//! confirmation, `close_account`) or by an operator (with a reason). Every
//! card ends as an unbinding ends it (token deleted, PAN erased), every
//! session ends, and only masked records stay, for
//! `retention.closed_account_days` (`flows/housekeeping.rs` purges them).

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use tessera_core::error::{DomainError, ErrorCode};
use tessera_core::text::mask_card_numbers;
use tessera_store::{AccountClosure, ClosedBy, UserId};

use crate::flows::verifications;
use crate::http::error::{ApiError, rfc3339};
use crate::http::views::AccountClosureView;
use crate::state::AppState;

/// What the closure of an account answers, now and on a retry.
fn view(state: &AppState, closure: &AccountClosure) -> AccountClosureView {
    AccountClosureView {
        user_id: closure.user_id.to_string(),
        status: "closed".to_owned(),
        closed_by: closure.closed_by.as_str().to_owned(),
        reason: closure.reason.clone(),
        closed_at: rfc3339(closure.closed_at),
        records_kept_until: rfc3339(closure.closed_at + state.config.retention.closed_accounts()),
    }
}

/// Closes the account now; an account closed already answers with its
/// closure as it was recorded.
async fn close(
    state: &AppState,
    closure: AccountClosure,
    trace_id: &str,
) -> Result<AccountClosureView, ApiError> {
    if state.store.close_account(&closure).await? {
        // This node forgets the sessions at once; every other node's
        // cache within its two seconds (`http/auth.rs`).
        state.sessions.forget_user(&closure.user_id);
        tracing::info!(trace_id = %trace_id, user_id = %closure.user_id,
            closed_by = closure.closed_by.as_str(), "account closed");
    }
    let recorded = state
        .store
        .account_closure(&closure.user_id)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    Ok(view(state, &recorded))
}

/// `DELETE /v1/me`: the person closes their own account, with a
/// confirmation (`close_account`) in `Tessera-Verification`.
pub async fn close_own(
    state: &AppState,
    headers: &HeaderMap,
    user_id: &UserId,
    trace_id: &str,
    now: DateTime<Utc>,
) -> Result<AccountClosureView, ApiError> {
    verifications::require(
        state,
        headers,
        user_id,
        verifications::Purpose::CloseAccount,
        "",
        now,
    )
    .await?;
    let closure = AccountClosure {
        user_id: user_id.clone(),
        closed_by: ClosedBy::Holder,
        key_id: None,
        reason: None,
        closed_at: now,
        purged_at: None,
    };
    close(state, closure, trace_id).await
}

/// An operator closes an account, with a reason (its length and
/// characters checked by the caller; a blank one is `invalid_request`;
/// card numbers in it masked here). `key_id` is the operator's API key, or `cli`
/// for `tessera admin close-account` on the server. An unknown user is
/// `not_found`.
pub async fn close_by_operator(
    state: &AppState,
    user_id: &UserId,
    key_id: &str,
    reason: &str,
    trace_id: &str,
    now: DateTime<Utc>,
) -> Result<AccountClosureView, ApiError> {
    if reason.trim().is_empty() {
        return Err(DomainError::new(ErrorCode::InvalidRequest)
            .with_param("reason")
            .into());
    }
    state
        .store
        .user_by_id(user_id)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    let closure = AccountClosure {
        user_id: user_id.clone(),
        closed_by: ClosedBy::Operator,
        key_id: Some(key_id.to_owned()),
        reason: Some(mask_card_numbers(reason.trim()).into_owned()),
        closed_at: now,
        purged_at: None,
    };
    close(state, closure, trace_id).await
}
