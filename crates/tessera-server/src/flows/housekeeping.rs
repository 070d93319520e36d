//! Records that have outlived their use, deleted in the background every
//! few minutes for the life of the server: idempotency keys past their 24
//! hours, the limit buckets whose hits have all left the window, and
//! confirmations and passkey challenges that expired, support console
//! sessions idle or past their end, and, past their own `[retention]`
//! periods, binding attempts, expired sessions and text-message codes, and
//! closed accounts' masked records (`purge_retained`). And every minute,
//! this node's audit chain head is signed as a checkpoint
//! (`audit_chain.rs`).
//! (Nothing depends on this running: a replay inside its 24 hours and a
//! claim inside its window read only what is still theirs.)

use chrono::{DateTime, Utc};
use tessera_store::{PurgedRecords, RetentionCutoffs, StoreResult};

use crate::flows::{binding, idempotency};
use crate::state::AppState;
use crate::web::session;

/// Deletes what outlived its retention at `now` (`[retention]`): binding
/// attempts, expired sessions and text-message codes, and the masked
/// records of accounts closed longer ago than `closed_account_days`.
pub async fn purge_retained(state: &AppState, now: DateTime<Utc>) -> StoreResult<PurgedRecords> {
    let retention = &state.config.retention;
    state
        .store
        .purge_retained(&RetentionCutoffs {
            attempts_before: now - retention.attempts(),
            sessions_before: now - retention.sessions(),
            sms_codes_before: now - retention.sms_codes(),
            closed_before: now - retention.closed_accounts(),
            now,
        })
        .await
}

pub async fn purge_periodically(state: AppState) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
    loop {
        every.tick().await;
        state.public_rate_limits.forget_idle();
        let now = state.now();
        match state.store.idempotency_purge(now - idempotency::KEEP).await {
            Ok(0) => {}
            Ok(purged) => tracing::debug!(purged, "old idempotency keys purged"),
            Err(error) => tracing::warn!(error = %error, "could not purge old idempotency keys"),
        }
        match state
            .store
            .purge_limits(now - binding::limit_window())
            .await
        {
            Ok(0) => {}
            Ok(purged) => tracing::debug!(purged, "spent limit buckets purged"),
            Err(error) => tracing::warn!(error = %error, "could not purge spent limit buckets"),
        }
        match state.store.purge_confirmations(now).await {
            Ok(0) => {}
            Ok(purged) => tracing::debug!(purged, "expired confirmations purged"),
            Err(error) => tracing::warn!(error = %error, "could not purge expired confirmations"),
        }
        match state
            .store
            .purge_console_sessions(now, now - session::IDLE)
            .await
        {
            Ok(0) => {}
            Ok(purged) => tracing::debug!(purged, "ended console sessions purged"),
            Err(error) => tracing::warn!(error = %error, "could not purge ended console sessions"),
        }
        match purge_retained(&state, now).await {
            Ok(purged) if purged == PurgedRecords::default() => {}
            Ok(purged) => tracing::info!(
                attempts = purged.attempts,
                sessions = purged.sessions,
                sms_codes = purged.sms_codes,
                closed_accounts = purged.closed_accounts,
                "records past their retention purged"
            ),
            Err(error) => {
                tracing::warn!(error = %error, "could not purge records past their retention");
            }
        }
    }
}

/// How often this node signs its audit chain's head: entries cut from the
/// end of a chain are found back to the last checkpoint.
pub const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Signs this node's audit chain head every minute, while it moves.
pub async fn checkpoint_periodically(state: AppState) {
    let mut every = tokio::time::interval(CHECKPOINT_EVERY);
    loop {
        every.tick().await;
        match state
            .audit
            .checkpoint(state.store.as_ref(), &state.keys, state.now())
            .await
        {
            Ok(None) => {}
            Ok(Some(seq)) => {
                tracing::debug!(chain = state.audit.chain_id(), seq, "audit checkpoint")
            }
            Err(error) => tracing::warn!(error = %error, "could not sign the audit chain's head"),
        }
    }
}
