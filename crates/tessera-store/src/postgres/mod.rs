//! PostgreSQL, for more than one node: any number of stateless servers share
//! one database, so every rule that spans requests is kept by the database.
//! Each transaction that changes a user's cards first locks that user's row
//! (`SELECT ... FOR UPDATE`): reservations, completions, unbinds and OTP
//! outcomes of one user take turns across all nodes, as SQLite's single
//! writer makes them take turns in one process. Ties in `ORDER BY` use
//! `COLLATE "C"` so rows come back in SQLite's (byte) order whatever the
//! database's collation.
//!
//! Round trips and WAL flushes are what a binding pays for most: reserving
//! and completing one are PL/pgSQL functions, one statement each; the
//! completion records the attempt and reads the card back in the same
//! statement, and the reservation does not wait for its flush ("Unflushed
//! commits" below), so a binding waits for one flush. A store call that
//! ends cleanly keeps its connection warm for the next rather than handing
//! it back to the pool (`lease`).
//!
//! Each role of the store is one file here, beside its SQLite twin:
//! `accounts.rs`, `cards.rs`, `payments.rs`, `lifecycle.rs`, `support.rs`,
//! `settings.rs`, `bulk_load.rs`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
#[cfg(feature = "test-support")]
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions};
use sqlx::{Connection, Postgres, Row};

use crate::listings::{Listing, Param};
use crate::model::*;
#[cfg(feature = "test-support")]
use crate::roles::Inspect;
#[cfg(feature = "test-support")]
use crate::rows::ms;
use crate::{Database, StoreResult};

mod accounts;
mod bulk_load;
mod cards;
mod console;
mod lease;
mod lifecycle;
pub(crate) mod migrate;
mod payments;
mod primary;
mod retention;
mod safety;
mod settings;
mod support;
mod transfers;
mod vault_keys;

use cards::*;
use lease::{Lease, PING_IF_IDLE_FOR, Warm};
use lifecycle::*;
use primary::Primary;

/// Pool size and timeouts for PostgreSQL.
#[derive(Debug, Clone, Copy)]
pub struct PgOptions {
    /// Connections this node may hold; every node holds its own pool, so
    /// nodes x this must stay under the server's `max_connections`.
    pub max_connections: u32,
    /// How long a request waits for a connection (including connecting)
    /// before it is answered "database unavailable".
    pub acquire_timeout: Duration,
    /// Idle connections are closed after this.
    pub idle_timeout: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(300),
        }
    }
}

#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    warm: Arc<Warm>,
    primary: Arc<Primary>,
}

/// Whether a database URL names PostgreSQL.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The URL without its password, for logs and error messages; every host
/// of a URL that names several.
pub fn describe_url(url: &str) -> String {
    match primary::hosts(url) {
        Ok(hosts) => {
            let addresses: Vec<String> = hosts
                .iter()
                .map(|host| format!("{}:{}", host.get_host(), host.get_port()))
                .collect();
            format!(
                "postgres://{}@{}/{}",
                hosts[0].get_username(),
                addresses.join(","),
                hosts[0].get_database().unwrap_or_default()
            )
        }
        Err(_) => "an unreadable PostgreSQL URL".to_owned(),
    }
}

/// The schema versions this binary applies, in order.
pub fn migration_versions() -> Vec<i64> {
    migrate::versions()
}

impl PgStore {
    /// Connects to `url` and applies the embedded migrations (safely when
    /// several nodes start at once). A URL naming several hosts connects
    /// to the one that is the primary, and follows it (`primary.rs`).
    pub async fn connect(url: &str, options: PgOptions) -> StoreResult<PgStore> {
        let hosts = primary::hosts(url)?
            .into_iter()
            .map(|host| {
                host.application_name("tessera")
                    // An acknowledged binding must survive a crash whatever
                    // the server's or role's default: the client's setting
                    // wins.
                    .options([("synchronous_commit", "on")])
            })
            .collect();
        let primary = Primary::find(hosts, options.acquire_timeout).await?;
        let check_recovery = primary.has_standbys();
        let moves = primary.moves();
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .min_connections(0)
            .acquire_timeout(options.acquire_timeout)
            .idle_timeout(options.idle_timeout)
            // A connection broken while the database was away is found
            // and replaced here rather than failing a request: the pool
            // reconnects by itself when the database returns. sqlx already
            // pings every connection as it comes back to the pool, so only
            // one that has sat idle since can have broken unseen: pinging
            // every acquire as well cost a round trip per statement (a
            // binding makes nine acquires).
            .test_before_acquire(false)
            .before_acquire(move |conn, meta| {
                // Made to a host that was the primary before it moved.
                let stale = moves.predate(meta.age);
                Box::pin(async move {
                    if stale {
                        return Ok(false);
                    }
                    if meta.idle_for >= PING_IF_IDLE_FOR {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            // With standbys named, a new connection must not land on one
            // (its reads would be stale): it is refused, and the pool
            // tries again while the watch finds the promoted host.
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if check_recovery && primary::is_in_recovery(conn).await? {
                        return Err(sqlx::Error::Protocol(
                            "the host is a standby (in recovery), not the primary".to_owned(),
                        ));
                    }
                    Ok(())
                })
            })
            .connect_with(primary.options())
            .await?;
        migrate::run(&pool).await?;
        let warm = Warm::new(
            options.max_connections,
            options.acquire_timeout,
            options.idle_timeout,
        );
        primary.watch(pool.clone(), warm.clone());
        Ok(PgStore {
            pool,
            warm,
            primary,
        })
    }

    /// The pool, for tests and tools: the connections this store keeps
    /// warm go back to it first.
    pub fn pool(&self) -> &PgPool {
        self.warm.release_idle();
        &self.pool
    }

    pub async fn close(&self) {
        self.warm.close();
        self.pool.close().await;
    }

    /// A connection for one operation (see `lease`).
    async fn lease(&self) -> StoreResult<Lease> {
        self.primary.check_writable()?;
        self.warm.lease(&self.pool).await
    }
}

#[async_trait]
impl Database for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn pool_use(&self) -> PoolUse {
        // Every operation holds a permit while it holds a connection (or
        // is opening one); every other open connection is idle, warm or in
        // sqlx's pool.
        let in_use = self.warm.in_use();
        PoolUse {
            in_use,
            idle: self.pool.size().saturating_sub(in_use),
            max: Some(self.pool.options().get_max_connections()),
        }
    }

    async fn ping(&self) -> StoreResult<()> {
        let mut lease = self.lease().await?;
        sqlx::query("SELECT 1").execute(&mut *lease).await?;
        lease.finish();
        Ok(())
    }

    async fn has_data(&self) -> StoreResult<bool> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM cards)",
        )
        .fetch_one(&mut *self.lease().await?)
        .await?)
    }

    async fn close(&self) {
        PgStore::close(self).await;
    }
}
#[cfg(feature = "test-support")]
#[async_trait]
impl Inspect for PgStore {
    async fn durability(&self) -> StoreResult<Vec<String>> {
        let value: String = sqlx::query_scalar("SHOW synchronous_commit")
            .fetch_one(&mut *self.lease().await?)
            .await?;
        Ok(vec![format!("synchronous_commit={value}")])
    }

    async fn session_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<String>> {
        let mut lease = self.lease().await?;
        let user_id = sqlx::query_scalar(
            "SELECT s.user_id FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.status = 'active'",
        )
        .bind(token_hash)
        .bind(ms(now))
        .fetch_optional(&mut *lease)
        .await?;
        lease.finish();
        Ok(user_id)
    }

    async fn complete_binding(&self, completion: &BindingCompletion) -> StoreResult<bool> {
        // One round trip and one transaction: `tessera_complete_binding`
        // locks the user's row (two completions on two nodes must not both
        // make their card the default), completes the card, stores its
        // token and OTP challenge, and gives the user a default.
        let mut lease = self.lease().await?;
        let row = bind_completion(
            sqlx::query(
                "SELECT tessera_complete_binding($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
                 $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)",
            ),
            completion,
        )
        .fetch_one(&mut *lease)
        .await?;
        lease.finish();
        Ok(row.try_get(0)?)
    }

    async fn settings(&self, names: &[&str]) -> StoreResult<Vec<Option<String>>> {
        let mut lease = self.lease().await?;
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT name, value FROM settings WHERE name = ANY($1)")
                .bind(names)
                .fetch_all(&mut *lease)
                .await?;
        lease.finish();
        Ok(names
            .iter()
            .map(|name| {
                rows.iter()
                    .find(|(stored, _)| stored == name)
                    .map(|(_, value)| value.clone())
            })
            .collect())
    }
}

/// A listing's query (`listings.rs`) with its parameters bound.
fn listed(listing: &Listing) -> PgQuery<'_> {
    let mut query = sqlx::query(sqlx::AssertSqlSafe(listing.sql.as_str()));
    for param in &listing.params {
        query = match param {
            Param::Int(value) => query.bind(*value),
            Param::Text(value) => query.bind(value.as_str()),
        };
    }
    query
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert!(is_postgres_url("postgres://db/x"));
        assert!(is_postgres_url("postgresql://db/x"));
        assert!(!is_postgres_url("sqlite://x.db"));
        assert_eq!(
            describe_url("postgres://tessera:s3cret@db.internal:6432/wallet?sslmode=require"),
            "postgres://tessera@db.internal:6432/wallet"
        );
        assert!(!describe_url("postgres://u:s3cret@h/d").contains("s3cret"));
    }
}
