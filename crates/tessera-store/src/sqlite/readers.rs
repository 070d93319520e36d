//! Pools of read-only SQLite connections. WAL lets any number of readers
//! run beside the one writer (`group_commit.rs`). The hot reads (binding,
//! reading a card, signing a request in, paying) run inline on the calling
//! thread: one indexed lookup of microseconds is cheaper to run where the
//! request is than to hand to another thread, and on two cores the context
//! switches of a thread per connection cost more than SQLite's own work.
//! Reads over many rows run on a blocking thread (`Readers::scan`).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::{StoreError, StoreResult};

/// How much of the database file a reader maps (1 GiB of address space;
/// only the pages a read touches become resident, and they are the OS's
/// page cache, not the heap).
const READER_MMAP: i64 = 1 << 30;

/// How many statements each connection keeps prepared.
const STATEMENT_CACHE: usize = 64;

/// A pool of read-only connections used inline: a read is one indexed
/// lookup of microseconds, cheaper to run where the request is than to hand
/// to another thread. The pool never waits: when every connection is out (a
/// read runs on each runtime thread at most, plus blocking tasks), another
/// is opened, and kept if the pool is below its size.
#[derive(Debug)]
pub struct Readers {
    path: PathBuf,
    busy_timeout: Duration,
    keep: usize,
    mapped: bool,
    idle: Mutex<Vec<Connection>>,
    /// Connections a read holds now, for `/metrics`.
    busy: AtomicU32,
}

impl Readers {
    /// A pool of `keep` idle connections; `mapped` ones read through a
    /// memory map of the file.
    pub fn open(
        path: &Path,
        busy_timeout: Duration,
        keep: usize,
        mapped: bool,
    ) -> StoreResult<Readers> {
        let readers = Readers {
            path: path.to_owned(),
            busy_timeout,
            keep: keep.max(1),
            mapped,
            idle: Mutex::new(Vec::new()),
            busy: AtomicU32::new(0),
        };
        // One connection now, so that a database that cannot be read fails
        // at start rather than on the first request.
        let first = readers.connect()?;
        readers.give_back(first);
        Ok(readers)
    }

    fn connect(&self) -> StoreResult<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(self.busy_timeout)?;
        // Reads map the file instead of copying each page in through a
        // read call: at a million cards a lookup walks pages that no
        // connection's cache holds.
        if self.mapped {
            conn.pragma_update(None, "mmap_size", READER_MMAP)?;
        }
        // Reads need no durability; set as everywhere so that no connection
        // of the store runs below FULL.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(conn)
    }

    fn give_back(&self, conn: Connection) {
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if idle.len() < self.keep {
            idle.push(conn);
        }
    }

    /// Closes every idle connection now, rather than whenever the last
    /// clone of the store is dropped: SQLite removes the WAL and shared
    /// memory files when the last connection closes, and a store that was
    /// closed must leave its files settled.
    pub fn close_idle(&self) {
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clear();
    }

    /// Runs `read` on an idle connection (a fresh one if none is idle).
    pub fn read<T>(&self, read: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let taken = self
            .idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop();
        let conn = match taken {
            Some(conn) => conn,
            None => self.connect()?,
        };
        self.busy.fetch_add(1, Ordering::Relaxed);
        let result = read(&conn);
        self.busy.fetch_sub(1, Ordering::Relaxed);
        self.give_back(conn);
        result
    }

    /// (Connections in use, idle ones) now.
    pub fn usage(&self) -> (u32, u32) {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len();
        (
            self.busy.load(Ordering::Relaxed),
            u32::try_from(idle).unwrap_or(u32::MAX),
        )
    }
}

impl Readers {
    /// Runs `read` on a connection of the pool on a blocking thread, for
    /// reads that take long enough to hold up the requests sharing a
    /// runtime thread.
    pub async fn scan<T, F>(self: &Arc<Self>, read: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let readers = Arc::clone(self);
        tokio::task::spawn_blocking(move || readers.read(read))
            .await
            .map_err(|error| StoreError::Other(error.to_string()))?
    }
}
