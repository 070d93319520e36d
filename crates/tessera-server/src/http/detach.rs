//! Work that outlives its connection. hyper drops a handler's future when
//! the client disconnects; a binding, an SMS verification or a payment
//! dropped half-way would leave its reservation, its idempotency record
//! and its attempt unfinished. [`detached`] runs such work on a task of its
//! own, which the issuer timeout bounds, and notes in [`ClientGone`] that
//! nobody waits for the answer any more.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::response::Response;
use tessera_core::error::{DomainError, ErrorCode, Lang};
use tracing::Instrument;

use crate::http::error::error_response;
use crate::http::extract::Ctx;
use crate::state::AppState;

/// Set once the client of a request has gone before its answer.
#[derive(Debug, Clone, Default)]
pub struct ClientGone(Arc<AtomicBool>);

impl ClientGone {
    pub fn is_gone(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Marks the client gone when the handler's future is dropped first.
struct Watch<'a> {
    gone: &'a ClientGone,
    answered: bool,
}

impl Drop for Watch<'_> {
    fn drop(&mut self) {
        if !self.answered {
            self.gone.0.store(true, Ordering::Relaxed);
        }
    }
}

/// Runs `work` to its end whether or not the client stays for the answer.
/// A panic in it answers `internal_error`, as the panic layer would.
pub async fn detached<W>(gone: &ClientGone, lang: Lang, trace_id: &str, work: W) -> Response
where
    W: Future<Output = Response> + Send + 'static,
{
    let mut watch = Watch {
        gone,
        answered: false,
    };
    // In the request's span: the work's log lines keep its trace id.
    let answer = tokio::spawn(work.in_current_span()).await;
    watch.answered = true;
    answer.unwrap_or_else(|failed| {
        tracing::error!(trace_id, error = %failed, "a detached request failed");
        error_response(&DomainError::new(ErrorCode::InternalError), lang, trace_id)
    })
}

/// Asks `look` again, with pauses growing from 50 to 500 ms, for as long
/// as `in_flight` says its answer is another request still running and
/// `limit` has not passed; returns the last answer. A retry that meets its
/// first request in flight waits for it this way, for as long as the
/// issuer may take to answer that first request.
pub async fn wait_out_in_flight<T, F, Fut>(
    limit: Duration,
    mut look: F,
    in_flight: impl Fn(&T) -> bool,
) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = T>,
{
    let waited_enough = Instant::now() + limit;
    let mut pause = Duration::from_millis(50);
    loop {
        let answer = look().await;
        let left = waited_enough.saturating_duration_since(Instant::now());
        if !in_flight(&answer) || left.is_zero() {
            return answer;
        }
        tokio::time::sleep(pause.min(left)).await;
        pause = (pause * 2).min(Duration::from_millis(500));
    }
}

/// Marks the request's binding attempt or payment when its client left
/// before the answer ([`detached`] ran it to its end all the same).
pub async fn note_client_gone(state: &AppState, ctx: &Ctx) {
    if !ctx.client_gone.is_gone() {
        return;
    }
    tracing::info!(trace_id = %ctx.trace_id, "the client left before the answer");
    if let Err(error) = state.store.mark_client_gone(&ctx.trace_id).await {
        tracing::error!(trace_id = %ctx.trace_id, error = %error, "could not mark the client gone");
    }
}
