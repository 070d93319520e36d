//! The listener: our own accept loop over hyper's connection builder, so
//! that a crowd of slow or silent clients cannot hold the server. Each
//! connection must send complete headers within the header-read timeout (a
//! TLS handshake included), is closed after the idle timeout with no
//! request in flight, and counts against a cap sized below the open-file
//! limit; past the cap a connection is answered `503 overloaded` and closed
//! without its request being read, so `accept` never fails for want of file
//! descriptors while the connections already open keep being served.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use hyper::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;
use tower::ServiceExt as _;

use crate::config::ListenerConfig;

mod refuse;
pub mod tls;

use refuse::{LogEvery, refuse};

/// Open files kept aside from connections: database connections, the
/// SQLite files and their journals, the log, refusals being written.
pub const RESERVED_FILES: u64 = 512;

/// The cap when `listener.max_connections` is 0 and the open-file limit
/// allows more. A connection reading headers holds about 27 KB of resident
/// memory (BENCHMARKS.md, the slow-headers siege): 4,096 of them keep a
/// node near 170 MB, where 10,000 took it past 340 MB.
pub const DEFAULT_MOST_CONNECTIONS: u64 = 4_096;

/// Refusals being written at once; past them an excess connection is
/// closed at once, answer or not.
const REFUSING_AT_ONCE: usize = 256;

/// How long a connection asked to close (idle, or the server stopping) may
/// take to finish before it is dropped.
const CLOSING_GRACE: Duration = Duration::from_secs(1);

/// The connection limits in force, resolved from `[listener]` and the
/// open-file limit the process got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

impl Limits {
    pub fn new(config: &ListenerConfig, open_files: u64, pool_size: u32) -> Limits {
        Limits {
            header_read_timeout: Duration::from_secs(config.header_read_timeout_secs.max(1)),
            idle_timeout: Duration::from_secs(config.idle_timeout_secs.max(1)),
            max_connections: connection_cap(config.max_connections, open_files, pool_size),
        }
    }
}

/// The connection cap: `configured` (0: [`DEFAULT_MOST_CONNECTIONS`]), and
/// never more than the open-file limit leaves once the database's pool and
/// [`RESERVED_FILES`] are kept aside, so that accepting never runs out of
/// descriptors.
pub fn connection_cap(configured: u32, open_files: u64, pool_size: u32) -> usize {
    let reserve = RESERVED_FILES + u64::from(pool_size);
    // A tiny limit (a test harness, a container's 1024) still serves: half
    // of it goes to connections.
    let room = if open_files > 2 * reserve {
        open_files - reserve
    } else {
        open_files / 2
    };
    let wanted = match configured {
        0 => DEFAULT_MOST_CONNECTIONS,
        n => u64::from(n),
    };
    let cap = wanted
        .min(room)
        .clamp(1, u64::from(ListenerConfig::MOST_CONNECTIONS));
    usize::try_from(cap).unwrap_or(1)
}

/// Raises the soft open-file limit as far as the hard limit allows and
/// returns what it is now.
pub fn raise_open_file_limit() -> io::Result<u64> {
    rlimit::increase_nofile_limit(u64::MAX)
}

/// What every connection task shares.
struct Shared {
    router: Router,
    builder: auto::Builder<TokioExecutor>,
    limits: Limits,
    tls: Option<tokio_rustls::TlsAcceptor>,
}

/// Serves `router` on `listener` until `shutdown` completes, then stops
/// accepting, asks every connection to close once its request is answered,
/// and returns when all have.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    let shared = Arc::new(Shared {
        router,
        builder,
        limits,
        tls,
    });
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let refusing = Arc::new(Semaphore::new(REFUSING_AT_ONCE));
    let (stop, stopping) = watch::channel(false);
    let refusals = LogEvery::new(Duration::from_secs(10));
    let accept_errors = LogEvery::new(Duration::from_secs(10));
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                if let Some(count) = accept_errors.note() {
                    tracing::warn!(%error, count, "cannot accept connections");
                }
                // Out of descriptors (or buffers): wait for some to be
                // freed rather than spin on a listener that stays ready.
                // Other errors are one client's, already gone.
                if is_out_of_resources(&error) {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                continue;
            }
        };
        match slots.clone().try_acquire_owned() {
            Ok(slot) => {
                let (shared, stopping) = (shared.clone(), stopping.clone());
                tokio::spawn(connection(stream, peer, shared, slot, stopping));
            }
            Err(_) => {
                if let Some(count) = refusals.note() {
                    tracing::warn!(
                        count,
                        max_connections = limits.max_connections,
                        "connection limit reached: refusing new connections with 503 overloaded"
                    );
                }
                match refusing.clone().try_acquire_owned() {
                    Ok(permit) => {
                        let plain = shared.tls.is_none();
                        tokio::spawn(refuse(stream, plain, permit));
                    }
                    Err(_) => drop(stream),
                }
            }
        }
    }
    // New connections now wait in (then overflow) the kernel's backlog.
    drop(listener);
    let _ = stop.send(true);
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
    Ok(())
}

fn is_out_of_resources(error: &io::Error) -> bool {
    // EMFILE, ENFILE, ENOBUFS, ENOMEM on Linux and the BSDs.
    matches!(error.raw_os_error(), Some(23 | 24 | 55 | 105 | 12))
        || error.kind() == io::ErrorKind::OutOfMemory
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    _slot: OwnedSemaphorePermit,
    stopping: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    match &shared.tls {
        None => drive(TokioIo::new(stream), peer, &shared, stopping).await,
        Some(acceptor) => {
            // The handshake counts against the header-read time: a client
            // that never finishes it holds a slot no longer than one that
            // never sends its headers.
            let handshake = acceptor.accept(stream);
            if let Ok(Ok(stream)) =
                tokio::time::timeout(shared.limits.header_read_timeout, handshake).await
            {
                drive(TokioIo::new(stream), peer, &shared, stopping).await;
            }
        }
    }
}

/// Requests in flight on one connection, and when the last one ended.
#[derive(Debug, Default)]
struct Activity {
    in_flight: usize,
    last_answered: Option<Instant>,
}

/// One connection's [`Activity`]. Its watchdog in `drive` is not woken
/// when it changes (a wake-up per request cost every request two timer
/// resets): it wakes at its deadline, or sooner when the idle timeout is
/// the shorter one, reads the activity and sleeps again.
#[derive(Default)]
struct Watched {
    activity: Mutex<Activity>,
}

/// Drops from a request's count when its answer is ready (or the request
/// is abandoned).
struct InFlight(Arc<Watched>);

impl InFlight {
    fn begin(watched: &Arc<Watched>) -> InFlight {
        watched
            .activity
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .in_flight += 1;
        InFlight(watched.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut activity = self
            .0
            .activity
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        activity.in_flight = activity.in_flight.saturating_sub(1);
        activity.last_answered = Some(Instant::now());
    }
}

/// When the connection is next due to close, if nothing happens: the
/// header-read time before its first request (hyper's own timer does not
/// run while the builder reads which protocol the client speaks), the idle
/// time after its last; with a request in flight, look again later.
fn due(watched: &Watched, opened: Instant, limits: &Limits) -> (Instant, bool) {
    let activity = watched
        .activity
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if activity.in_flight > 0 {
        return (Instant::now() + limits.idle_timeout, false);
    }
    match activity.last_answered {
        None => (opened + limits.header_read_timeout, true),
        Some(last) => (last + limits.idle_timeout, true),
    }
}

async fn drive<I>(
    io: TokioIo<I>,
    peer: SocketAddr,
    shared: &Shared,
    mut stopping: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let opened = Instant::now();
    let activity = Arc::new(Watched::default());
    let service = {
        let (router, activity) = (shared.router.clone(), activity.clone());
        hyper::service::service_fn(move |request: Request<Incoming>| {
            let router = router.clone();
            let in_flight = InFlight::begin(&activity);
            async move {
                let mut request = request.map(axum::body::Body::new);
                // The peer's address feeds the per-address rate limits.
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                let answer = router.oneshot(request).await;
                drop(in_flight);
                answer
            }
        })
    };
    let conn = shared.builder.serve_connection(io, service);
    tokio::pin!(conn);
    let mut closing: Option<Instant> = None;
    loop {
        let (deadline, idle) = match closing {
            Some(since) => (since + CLOSING_GRACE, true),
            None => {
                // A request may bring the deadline nearer (an idle timeout
                // shorter than the header-read one): look again at least
                // that often.
                let limits = &shared.limits;
                let (due, idle) = due(&activity, opened, limits);
                let look_again = limits.header_read_timeout.min(limits.idle_timeout);
                (due.min(Instant::now() + look_again), idle)
            }
        };
        tokio::select! {
            _ = conn.as_mut() => return,
            () = tokio::time::sleep_until(deadline) => {
                if closing.is_some() {
                    // Asked to close: a request in flight still gets its
                    // answer (the request timeout bounds it); otherwise
                    // the client had its grace.
                    let in_flight = activity
                        .activity
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .in_flight;
                    if in_flight == 0 {
                        return;
                    }
                    closing = Some(Instant::now());
                    continue;
                }
                // Only close if nothing started meanwhile.
                let (now_due, still_idle) = due(&activity, opened, &shared.limits);
                if idle && still_idle && now_due <= Instant::now() {
                    conn.as_mut().graceful_shutdown();
                    closing = Some(Instant::now());
                }
            }
            changed = stopping.changed(), if closing.is_none() => {
                if changed.is_err() || *stopping.borrow() {
                    conn.as_mut().graceful_shutdown();
                    closing = Some(Instant::now());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_stays_below_the_open_file_limit() {
        // The default ceiling where the limit is generous.
        assert_eq!(connection_cap(0, 1_048_576, 8), 4_096);
        // Below the limit, with the reserve kept aside.
        assert_eq!(connection_cap(0, 4096, 8), 4096 - 520);
        assert_eq!(connection_cap(50_000, 20_000, 8), 20_000 - 520);
        // A configured cap under the limit is kept as it is.
        assert_eq!(connection_cap(3, 1_048_576, 8), 3);
        // --load-test: as far as the limit goes.
        assert_eq!(
            connection_cap(ListenerConfig::MOST_CONNECTIONS, 200_000, 8),
            200_000 - 520
        );
        assert_eq!(
            connection_cap(ListenerConfig::MOST_CONNECTIONS, 1 << 30, 8),
            1_000_000
        );
        // A tiny limit still serves, with half of it.
        assert_eq!(connection_cap(0, 1024, 8), 512);
        assert_eq!(connection_cap(0, 0, 8), 1);
    }
}
