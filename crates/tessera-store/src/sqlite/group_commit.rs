//! Group commit for SQLite. SQLite has none of its own, and with
//! synchronous=FULL every commit waits for an fsync (milliseconds here), so
//! one commit per request caps the whole service at a few hundred writes a
//! second. Instead one writer takes every write that is waiting, runs each
//! in its own savepoint inside one transaction, commits once, and only then
//! answers them all: no request is acknowledged before its data is on disk,
//! and a failed commit acknowledges none of the requests in it.
//!
//! The writer is a thread of its own that owns the one writer connection
//! (rusqlite). A write job is plain rusqlite code that runs whole there.
//! It used to be a task on the async runtime driving sqlx's connection
//! thread: every batch then waited for its turn on a runtime thread busy
//! with HTTP, and for three round trips to sqlx's thread, and the writer
//! was the bottleneck with a third of the CPU idle (BENCHMARKS.md).
//!
//! Checkpoints (copying the WAL back into the database file, with an fsync
//! of the file) run mostly on a second thread with its own connection, so
//! that a commit seldom waits for one. The writer still checkpoints when
//! the WAL passes 16 MiB: only a checkpoint with no write running beside it
//! can empty the WAL, which the next transaction then starts over.

use std::path::Path;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

use super::statements::exec;
use crate::{StoreError, StoreResult};

/// What runs after the batch's commit: delivers the job's answer, or the
/// commit's failure.
type Finish = Box<dyn FnOnce(StoreResult<()>) + Send>;

/// One write. Given the writer connection inside the batch's transaction it
/// runs and says whether it succeeded (a failed job's savepoint is rolled
/// back); given the reason a batch could not begin, it only answers.
type Run = Box<dyn FnOnce(Result<&Connection, &str>) -> (bool, Finish) + Send>;

enum Message {
    Job(Run),
    /// Finish the batch in hand, close the connection and say so.
    Stop(oneshot::Sender<()>),
}

/// When a `write_direct_settling` job is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settle {
    /// Once its batch is durable, like every other write.
    Durable,
    /// As soon as it has run: its batch may still fail.
    Early,
}

/// How many writes one transaction takes at most.
const MAX_BATCH: usize = 512;

/// How long the checkpointer lets commits gather between two checkpoints:
/// each checkpoint fsyncs the database file, and a page written by many
/// commits meanwhile is copied once.
const CHECKPOINT_PAUSE: Duration = Duration::from_millis(100);

/// The WAL size (in pages) at which the writer checkpoints after a
/// commit: 16 MiB of 4 KiB pages, about ten batches of bindings.
const WRITER_CHECKPOINT_PAGES: i64 = 4096;

/// Past this size (in bytes) the WAL file is cut back after a checkpoint
/// has emptied it, so a burst does not leave a huge file behind.
const WAL_SIZE_LIMIT: i64 = 64 << 20;

/// How the writer's connection is set up.
#[derive(Debug, Clone, Copy)]
pub struct WriterSettings {
    pub busy_timeout: Duration,
    /// The page cache, in KiB.
    pub cache_kib: i64,
}

#[derive(Debug, Clone)]
pub struct WriteQueue {
    jobs: mpsc::Sender<Message>,
}

impl WriteQueue {
    /// Opens the writer connection on the database at `path` (which must
    /// exist, migrated) and starts the writer and checkpointer threads.
    pub fn start(path: &Path, settings: WriterSettings) -> StoreResult<WriteQueue> {
        let conn = open(path, settings.busy_timeout, false)?;
        // The checkpointer copies the WAL in the background, but only a
        // checkpoint between the writer's transactions can finish with
        // nothing left to copy, which is what lets the next transaction
        // start the WAL over: without one, a seed of a million cards grew
        // it to 13 GB. So the writer checkpoints too, rarely, and finds
        // most frames already copied.
        conn.pragma_update(None, "wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)?;
        conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
        conn.pragma_update(None, "cache_size", -settings.cache_kib)?;
        // Each job's savepoint copies the pages it changes to a
        // sub-journal; SQLite spills that to a temporary file past 64 KiB
        // and then writes every page there with a syscall of its own (10%
        // of the writer's time in a profile). In memory it is a copy.
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        let checkpointer = open(path, settings.busy_timeout, false)?;
        let (commits, committed) = mpsc::sync_channel(1);
        let checkpointing = thread::Builder::new()
            .name("sqlite-checkpoint".to_owned())
            .spawn(move || checkpoints(&checkpointer, &committed))
            .map_err(|e| StoreError::Unavailable(format!("cannot start the checkpointer: {e}")))?;
        let (jobs, queue) = mpsc::channel();
        thread::Builder::new()
            .name("sqlite-writer".to_owned())
            .spawn(move || {
                let stop = writer(conn, &queue, &commits);
                // Both connections are closed before the stop is answered,
                // so whoever stopped the writer may reopen or remove the
                // database at once.
                drop(commits);
                let _ = checkpointing.join();
                if let Some(done) = stop {
                    let _ = done.send(());
                }
            })
            .map_err(|e| StoreError::Unavailable(format!("cannot start the writer: {e}")))?;
        Ok(WriteQueue { jobs })
    }

    /// Runs `job` whole on the writer connection in the next batch, in its
    /// own savepoint (rolled back if it fails), and answers once that batch
    /// is durable.
    pub async fn write_direct<T, F>(&self, job: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.write_direct_settling(move |conn| job(conn).map(|value| (value, Settle::Durable)))
            .await
    }

    /// Like `write_direct`, but a job that says `Settle::Early` is answered
    /// as soon as it has run, before its batch commits. Only for writes
    /// nobody is told about: see `reserve_card`. If that batch then fails,
    /// the write is gone, and whatever builds on it must find it missing.
    pub async fn write_direct_settling<T, F>(&self, job: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<(T, Settle)> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel::<StoreResult<T>>();
        let run: Run = Box::new(move |conn| {
            let result = match conn {
                Ok(conn) => job(conn),
                Err(reason) => Err(StoreError::Unavailable(reason.to_owned())),
            };
            let ok = result.is_ok();
            let finish: Finish = match result {
                Ok((value, Settle::Early)) => {
                    let _ = answer.send(Ok(value));
                    Box::new(|_| {})
                }
                Ok((value, Settle::Durable)) => Box::new(move |committed| {
                    let _ = answer.send(committed.map(|()| value));
                }),
                Err(error) => Box::new(move |_| {
                    let _ = answer.send(Err(error));
                }),
            };
            (ok, finish)
        });
        self.jobs.send(Message::Job(run)).map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }

    /// Lets the batch in hand commit, then closes the writer connection.
    /// Writes sent afterwards fail with `Unavailable`.
    pub async fn stop(&self) {
        let (done, stopped) = oneshot::channel();
        if self.jobs.send(Message::Stop(done)).is_ok() {
            let _ = stopped.await;
        }
    }
}

fn stopped() -> StoreError {
    StoreError::Unavailable("the database writer has stopped".to_owned())
}

/// A read-write connection with the durability every write relies on;
/// `create` makes the file when it is missing (the migrations do, first).
pub(super) fn open(path: &Path, busy_timeout: Duration, create: bool) -> StoreResult<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(busy_timeout)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Other(format!(
            "the database would not switch to WAL (journal_mode = {mode})"
        )));
    }
    // FULL: a commit returns only after the WAL is fsynced.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Deleted PAN ciphertexts are overwritten with zeros, not left in free
    // pages.
    conn.pragma_update(None, "secure_delete", "ON")?;
    Ok(conn)
}

/// Runs batches until every sender is gone or a stop arrives (returned).
fn writer(
    conn: Connection,
    queue: &mpsc::Receiver<Message>,
    commits: &mpsc::SyncSender<()>,
) -> Option<oneshot::Sender<()>> {
    let mut stop = None;
    while stop.is_none() {
        let Ok(first) = queue.recv() else { break };
        let mut batch = Vec::new();
        match first {
            Message::Job(run) => batch.push(run),
            Message::Stop(done) => stop = Some(done),
        }
        while stop.is_none() && batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(Message::Job(run)) => batch.push(run),
                Ok(Message::Stop(done)) => stop = Some(done),
                Err(_) => break,
            }
        }
        if batch.is_empty() {
            continue;
        }
        let (finishes, committed) = run_batch(&conn, batch);
        for finish in finishes {
            finish(
                committed
                    .as_ref()
                    .map(|_| ())
                    .map_err(|error| StoreError::Unavailable(error.clone())),
            );
        }
        match committed {
            // A checkpoint is due; one already pending covers this commit.
            Ok(()) => {
                let _ = commits.try_send(());
            }
            Err(error) => tracing::error!(
                error = %error,
                "a write batch failed to commit: none of it was acknowledged"
            ),
        }
    }
    drop(conn);
    stop
}

/// Runs a batch in one transaction and commits it. On any failure of the
/// transaction itself everything is rolled back and every job gets the
/// error.
fn run_batch(conn: &Connection, batch: Vec<Run>) -> (Vec<Finish>, Result<(), String>) {
    let mut finishes: Vec<Finish> = Vec::with_capacity(batch.len());
    let statement = |sql: &str| exec(conn, sql, []).map(|_| ()).map_err(|e| e.to_string());
    if let Err(error) = statement("BEGIN IMMEDIATE") {
        for run in batch {
            let (_, finish) = run(Err(&error));
            finishes.push(finish);
        }
        return (finishes, Err(error));
    }
    let mut jobs = batch.into_iter();
    let ran = jobs.try_for_each(|run| {
        statement("SAVEPOINT job")?;
        let (ok, finish) = run(Ok(conn));
        finishes.push(finish);
        if !ok {
            statement("ROLLBACK TO job")?;
        }
        statement("RELEASE job")
    });
    let committed = ran.and_then(|()| statement("COMMIT"));
    if let Err(error) = committed {
        let _ = statement("ROLLBACK");
        // Jobs the failure cut off are answered with it too.
        for run in jobs {
            let (_, finish) = run(Err(&error));
            finishes.push(finish);
        }
        return (finishes, Err(error));
    }
    (finishes, Ok(()))
}

/// Checkpoints the WAL after commits, at most once per `CHECKPOINT_PAUSE`,
/// until the writer stops. PASSIVE: it never blocks the writer or a reader,
/// and copies whatever no reader still needs from the WAL.
fn checkpoints(conn: &Connection, committed: &mpsc::Receiver<()>) {
    while committed.recv().is_ok() {
        // Let commits gather, but leave at once when the writer stops (the
        // last connection to close checkpoints by itself).
        let until = Instant::now() + CHECKPOINT_PAUSE;
        loop {
            match committed.recv_timeout(until.saturating_duration_since(Instant::now())) {
                Ok(()) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => break,
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
        }
        if let Err(error) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %error, "a WAL checkpoint failed; the next commit retries it");
        }
    }
}
