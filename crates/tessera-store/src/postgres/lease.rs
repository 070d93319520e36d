//! Connections for the store's operations, kept warm between them.
//!
//! sqlx's pool pings every connection as it is returned, a round trip to
//! the database that a finished statement does not need: a card binding
//! makes nine store calls, so nine of its round trips were these pings. An
//! operation that finished cleanly hands its connection back here instead
//! ([`Lease::finish`]), and the next operation takes it without a round
//! trip. Anything else (an error, a future dropped mid-statement, a
//! transaction left open) drops the lease, and the connection goes back
//! through sqlx's pool, which pings it, rolls back what was left open, and
//! closes it if it is broken: the same path every connection took before.
//!
//! Every operation takes a permit first, one per connection of the pool,
//! and holds it while it holds a connection; warm connections hold none.
//! A permit holder that finds no warm connection therefore always finds
//! room in sqlx's pool (at most waiting for a returning connection's
//! ping): warm connections can never starve it.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnection, PgPool};
use sqlx::{Connection, Postgres};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::{StoreError, StoreResult};

/// A connection unused this long is pinged before it is handed out: it
/// may have been cut meanwhile (the database restarted, a proxy timed out).
pub(super) const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// A warm connection, since when it is idle, and the epoch it was leased in.
type Idle = (PoolConnection<Postgres>, Instant, u64);

#[derive(Debug)]
pub(super) struct Warm {
    /// Newest last: taken from the end, so a light load keeps reusing a
    /// few connections and the others age out.
    idle: Mutex<Vec<Idle>>,
    /// Raised when the primary moves (`primary.rs`): a connection leased
    /// under an older epoch leads to the old host and is not kept warm.
    epoch: AtomicU64,
    permits: Arc<Semaphore>,
    /// The permits there are: one per connection of the pool.
    connections: usize,
    acquire_timeout: Duration,
    idle_timeout: Duration,
}

impl Warm {
    pub(super) fn new(
        connections: u32,
        acquire_timeout: Duration,
        idle_timeout: Duration,
    ) -> Arc<Warm> {
        let connections = usize::try_from(connections.max(1)).unwrap_or(1);
        let warm = Arc::new(Warm {
            idle: Mutex::new(Vec::new()),
            epoch: AtomicU64::new(0),
            permits: Arc::new(Semaphore::new(connections)),
            connections,
            acquire_timeout,
            idle_timeout,
        });
        // Warm connections are checked out of sqlx's pool, out of reach of
        // its idle timeout: this closes them instead, until the store is
        // gone.
        let period = (idle_timeout / 2).max(Duration::from_secs(1));
        let weak: Weak<Warm> = Arc::downgrade(&warm);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(period).await;
                let Some(warm) = weak.upgrade() else { break };
                warm.close_idle_since(warm.idle_timeout);
            }
        });
        warm
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Idle>> {
        // The list stays whole whatever panicked while holding it.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Closes the warm connections unused for `at_least`.
    fn close_idle_since(&self, at_least: Duration) {
        let stale: Vec<_> = {
            let mut idle = self.idle();
            let keep = idle
                .iter()
                .position(|(_, since, _)| since.elapsed() < at_least)
                .unwrap_or(idle.len());
            idle.drain(..keep).collect()
        };
        for (mut conn, _, _) in stale {
            conn.close_on_drop();
        }
    }

    /// Gives every warm connection back to sqlx's pool.
    pub(super) fn release_idle(&self) {
        let all: Vec<_> = self.idle().drain(..).collect();
        drop(all);
    }

    /// Operations holding a connection, or opening one, now.
    pub(super) fn in_use(&self) -> u32 {
        let taken = self
            .connections
            .saturating_sub(self.permits.available_permits());
        u32::try_from(taken).unwrap_or(u32::MAX)
    }

    /// The primary moved: every warm connection leads to the old host, and
    /// so does every one leased now; none of them is kept warm again.
    pub(super) fn forget_all(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.close_idle_since(Duration::ZERO);
    }

    /// No more leases; the warm connections are closed.
    pub(super) fn close(&self) {
        self.permits.close();
        self.close_idle_since(Duration::ZERO);
    }

    /// Waits for a permit, without taking a connection: for a caller that
    /// takes its connection from sqlx's pool itself.
    pub(super) async fn permit(&self) -> StoreResult<OwnedSemaphorePermit> {
        match tokio::time::timeout(self.acquire_timeout, self.permits.clone().acquire_owned()).await
        {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) => Err(sqlx::Error::PoolClosed.into()),
            Err(_) => Err(sqlx::Error::PoolTimedOut.into()),
        }
    }

    /// A warm connection, or one from the pool, within the acquire timeout.
    pub(super) async fn lease(self: &Arc<Warm>, pool: &PgPool) -> StoreResult<Lease> {
        let deadline = tokio::time::Instant::now() + self.acquire_timeout;
        let permit = self.permit().await?;
        loop {
            // Read before taking a connection: one made while the primary
            // moves counts as the old host's, and is not kept warm.
            let epoch = self.epoch.load(Ordering::Acquire);
            let popped = self.idle().pop();
            let Some((mut conn, since, leased_in)) = popped else {
                let conn = match tokio::time::timeout_at(deadline, pool.acquire()).await {
                    Ok(conn) => conn?,
                    Err(_) => return Err(sqlx::Error::PoolTimedOut.into()),
                };
                return Ok(self.wrap(conn, permit, epoch));
            };
            if leased_in != epoch {
                conn.close_on_drop();
                continue;
            }
            if since.elapsed() < PING_IF_IDLE_FOR {
                return Ok(self.wrap(conn, permit, epoch));
            }
            match tokio::time::timeout_at(deadline, conn.ping()).await {
                Ok(Ok(())) => return Ok(self.wrap(conn, permit, epoch)),
                // Broken (or silent): closed, and the next one is tried.
                Ok(Err(_)) => conn.close_on_drop(),
                Err(_) => {
                    conn.close_on_drop();
                    return Err(StoreError::Unavailable(
                        "no answer from the database within the acquire timeout".to_owned(),
                    ));
                }
            }
        }
    }

    fn wrap(
        self: &Arc<Warm>,
        conn: PoolConnection<Postgres>,
        permit: OwnedSemaphorePermit,
        epoch: u64,
    ) -> Lease {
        Lease {
            conn,
            warm: self.clone(),
            permit,
            epoch,
        }
    }
}

/// One operation's connection. Dropped, it goes back through sqlx's pool
/// (a ping); [`Lease::finish`]ed, it stays warm for the next operation.
pub(super) struct Lease {
    // Fields drop in this order: the connection is on its way back before
    // the permit lets the next operation look for one.
    conn: PoolConnection<Postgres>,
    warm: Arc<Warm>,
    permit: OwnedSemaphorePermit,
    epoch: u64,
}

impl Lease {
    /// The operation is over and left the connection as it found it: every
    /// statement answered in full, no transaction open. Only then may the
    /// connection skip sqlx's return ping.
    pub(super) fn finish(self) {
        let Lease {
            conn,
            warm,
            permit,
            epoch,
        } = self;
        // Checked under the lock `Warm::close` drains under: an operation
        // finishing after the store closed (one a request spawned, still
        // running at shutdown) must not leave its connection warm, where
        // nothing closes it before the idle timeout and `PgPool::close`
        // would wait for it that long.
        let mut idle = warm.idle();
        if epoch == warm.epoch.load(Ordering::Acquire) && !warm.permits.is_closed() {
            idle.push((conn, Instant::now(), epoch));
            drop(idle);
        } else {
            drop(idle);
            drop(conn);
        }
        drop(permit);
    }
}

impl Deref for Lease {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        &self.conn
    }
}

impl DerefMut for Lease {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.conn
    }
}
