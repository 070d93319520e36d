//! Writes that must land even when the database was away at the moment
//! they were due (a restart, a failover): a finished idempotency record, a
//! reservation given back, a binding attempt or a payment's outcome on
//! record. Left undone, the first two would hold a person's retry for
//! minutes and the others leave support a gap; done once the database is
//! back, the retry goes through and the record is whole.

use std::time::Duration;

use tessera_store::{AttemptRecord, StoreError};

use crate::state::AppState;

/// How often a write the database could not take is offered again.
const AGAIN_EVERY: Duration = Duration::from_millis(250);
/// How long a record (an attempt, a payment's outcome) is offered: longer
/// than a failover takes, short enough not to pile up behind a database
/// that is gone for good.
pub const RECORD_WITHIN: Duration = Duration::from_secs(600);

/// `write` failed with `error`: when the database was away, it is run again
/// in the background every [`AGAIN_EVERY`] until it lands or `within` has
/// passed; any other error is logged as `what` (such as "record the
/// payment outcome"), with the caller's span and so its trace id.
pub fn retry_when_back<F, Fut>(error: StoreError, what: &'static str, within: Duration, write: F)
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), StoreError>> + Send,
{
    use tracing::Instrument;
    if !matches!(error, StoreError::Unavailable(_)) {
        tracing::error!(error = %error, "could not {what}");
        return;
    }
    tracing::warn!(error = %error, "could not {what} yet; trying again while the database is away");
    let mut write = write;
    tokio::spawn(
        async move {
            let until = tokio::time::Instant::now() + within;
            loop {
                tokio::time::sleep(AGAIN_EVERY).await;
                match write().await {
                    Ok(()) => {
                        tracing::info!("could {what} once the database was back");
                        break;
                    }
                    Err(StoreError::Unavailable(_)) if tokio::time::Instant::now() < until => {}
                    // A try the database never answered had landed.
                    Err(StoreError::Conflict(_)) => break,
                    Err(error) => {
                        tracing::error!(error = %error, "could not {what}");
                        break;
                    }
                }
            }
        }
        .in_current_span(),
    );
}

/// A binding attempt or SMS code step the database could not take.
pub fn record_attempt_when_back(state: &AppState, error: StoreError, attempt: &AttemptRecord) {
    let (state, attempt) = (state.clone(), attempt.clone());
    retry_when_back(
        error,
        "record the binding attempt",
        RECORD_WITHIN,
        move || {
            let (state, attempt) = (state.clone(), attempt.clone());
            async move { state.store.record_attempt(&attempt).await }
        },
    );
}
