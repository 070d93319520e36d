//! The embedded default: one SQLite file in WAL mode with synchronous=FULL,
//! so an acknowledged write survives `kill -9` and power loss. All writes go
//! through one writer connection on a thread of its own, which commits
//! whatever is waiting together (SQLite allows one writer at a time; a
//! queue beats "database is locked" errors; see `group_commit.rs`), reads
//! through small pools of readers that WAL lets run beside it
//! (`readers.rs`). Every connection is rusqlite's.
//!
//! Each role of the store is one file here, beside its PostgreSQL twin:
//! `accounts.rs`, `cards.rs`, `payments.rs`, `lifecycle.rs`, `support.rs`,
//! `settings.rs`, `bulk_load.rs`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
#[cfg(feature = "test-support")]
use chrono::{DateTime, Utc};

use crate::model::*;
#[cfg(feature = "test-support")]
use crate::roles::Inspect;
use crate::rows::ms;
use crate::{Database, StoreResult};

mod accounts;
pub mod backup;
mod bound;
mod bulk_load;
mod cards;
mod console;
mod group_commit;
mod lifecycle;
mod limits;
pub(crate) mod migrate;
mod payments;
mod readers;
mod recent;
mod reservations;
mod retention;
mod safety;
mod settings;
mod statements;
mod support;
mod transfers;
mod vault_keys;

use cards::*;
use group_commit::{Settle, WriteQueue, WriterSettings};
use lifecycle::*;
use limits::Limits;
use readers::Readers;
use recent::RecentPayments;
use reservations::Reservations;
use rusqlite::{params, params_from_iter};
use settings::*;
use statements::{
    exec, listed, query_all, query_opt, row_all, row_one, row_opt, scalar_all, scalar_one,
    scalar_opt,
};
use support::*;

/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "tessera.db";

#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// The one writer connection, on its own thread (group commit).
    queue: WriteQueue,
    /// Read-only connections for the hot reads, used inline.
    readers: Arc<Readers>,
    /// Read-only connections for reads that pass over many rows (issuer
    /// statistics, a seed batch's token look-ups), run off the async
    /// runtime's threads and without mapping the file, so that the pages
    /// they pass do not stay resident.
    scans: Arc<Readers>,
    /// Cards being bound (`reservations.rs`).
    reservations: Arc<Reservations>,
    /// Binding and SMS limits, counted in memory (`limits.rs`).
    limits: Arc<Limits>,
    /// Each person's latest payments, for the risk rules (`recent.rs`).
    recent: Arc<RecentPayments>,
}

/// Pool sizes and timeouts for the embedded store.
#[derive(Debug, Clone, Copy)]
pub struct SqliteOptions {
    /// Idle read-only connections each pool keeps.
    pub readers: u32,
    pub busy_timeout: Duration,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            readers: 4,
            busy_timeout: Duration::from_secs(10),
        }
    }
}

/// The writer's page cache, in KiB. Every binding inserts into a handful
/// of indexes keyed by random values (fingerprints, PAR, token PAN): at a
/// million cards, SQLite's default 2 MiB cache misses on nearly each.
const WRITER_CACHE_KIB: i64 = 32 << 10;

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and applies the
    /// embedded migrations.
    pub async fn open(path: &Path, options: SqliteOptions) -> StoreResult<SqliteStore> {
        // The migrations run on a connection of their own, off the async
        // runtime; then the writer thread takes over every write (see
        // `group_commit.rs`).
        owner_only(path)?;
        let migrating = path.to_owned();
        let busy_timeout = options.busy_timeout;
        tokio::task::spawn_blocking(move || migrate::run(&migrating, busy_timeout))
            .await
            .map_err(|error| crate::StoreError::Other(error.to_string()))??;
        let keep = options.readers.max(1) as usize;
        let readers = Arc::new(Readers::open(path, options.busy_timeout, keep, true)?);
        let scans = Arc::new(Readers::open(path, options.busy_timeout, keep, false)?);
        // Before the writer starts: no claim can be logged meanwhile.
        let limits = Arc::new(readers.read(Limits::load)?);
        let queue = WriteQueue::start(
            path,
            WriterSettings {
                busy_timeout: options.busy_timeout,
                cache_kib: WRITER_CACHE_KIB,
            },
        )?;
        Ok(SqliteStore {
            queue,
            readers,
            scans,
            reservations: Arc::default(),
            limits,
            recent: Arc::default(),
        })
    }

    /// The database's files, as the owner alone may read them: the card
    /// vault's ciphertexts, the keyed hashes and the sessions are nobody
    /// else's business, whatever the umask. SQLite gives the WAL and the
    /// shared-memory file the database file's own mode, so the main file is
    /// made 0600 before SQLite first opens it; files an older version left
    /// readable are tightened.
    pub fn database_files(path: &Path) -> [std::path::PathBuf; 3] {
        let with = |suffix: &str| {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            std::path::PathBuf::from(name)
        };
        [path.to_owned(), with("-wal"), with("-shm")]
    }

    /// The writer's and each reader pool's `PRAGMA synchronous` (2 =
    /// FULL), for tests: durability must not depend on which connection
    /// ran.
    pub async fn synchronous_levels(&self) -> StoreResult<Vec<i64>> {
        let writer = self
            .queue
            .write_direct(|conn| scalar_one::<i64>(conn, "PRAGMA synchronous", []))
            .await?;
        let level = |conn: &rusqlite::Connection| scalar_one::<i64>(conn, "PRAGMA synchronous", []);
        Ok(vec![
            writer,
            self.readers.read(level)?,
            self.scans.scan(level).await?,
        ])
    }

    /// Stops the writer and closes the idle readers: once this returns,
    /// the database files are as the last connection left them.
    pub async fn close(&self) {
        self.queue.stop().await;
        self.readers.close_idle();
        self.scans.close_idle();
    }
}

#[async_trait]
impl Database for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn pool_use(&self) -> PoolUse {
        // The read connections; the one writer is the group commit's own.
        let (reading, idle) = self.readers.usage();
        let (scanning, idle_scans) = self.scans.usage();
        PoolUse {
            in_use: reading + scanning,
            idle: idle + idle_scans,
            max: None,
        }
    }

    async fn ping(&self) -> StoreResult<()> {
        self.readers
            .read(|conn| scalar_one::<i64>(conn, "SELECT 1", []))?;
        Ok(())
    }

    async fn has_data(&self) -> StoreResult<bool> {
        let found: i64 = self.readers.read(|conn| {
            scalar_one(
                conn,
                "SELECT EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM cards)",
                [],
            )
        })?;
        Ok(found != 0)
    }

    async fn close(&self) {
        SqliteStore::close(self).await;
    }
}
#[cfg(feature = "test-support")]
#[async_trait]
impl Inspect for SqliteStore {
    async fn durability(&self) -> StoreResult<Vec<String>> {
        Ok(self
            .synchronous_levels()
            .await?
            .into_iter()
            .map(|level| format!("synchronous={level}"))
            .collect())
    }

    async fn session_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<String>> {
        Ok(self.readers.read(|conn| {
            scalar_opt(
                conn,
                "SELECT s.user_id FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = ? AND s.expires_at > ? AND u.status = 'active'",
                params![token_hash, ms(now)],
            )
        })?)
    }

    async fn settings(&self, names: &[&str]) -> StoreResult<Vec<Option<String>>> {
        self.readers.read(|conn| setting_values(conn, names))
    }

    async fn complete_binding(&self, completion: &BindingCompletion) -> StoreResult<bool> {
        let completion = completion.clone();
        let reservations = Arc::clone(&self.reservations);
        self.queue
            .write_direct(move |conn| {
                complete_binding(conn, &reservations, &completion).map(|bound| bound.is_some())
            })
            .await
    }
}

/// Creates the database file 0600 when it is missing, and makes it and its
/// WAL and shared-memory files 0600 when they exist (see
/// `SqliteStore::database_files`).
#[cfg(unix)]
fn owner_only(path: &Path) -> StoreResult<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let io =
        |error: std::io::Error| crate::StoreError::Other(format!("{}: {error}", path.display()));
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    for file in SqliteStore::database_files(path) {
        match std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(io(error)),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn owner_only(_path: &Path) -> StoreResult<()> {
    Ok(())
}
