//! Group commit for SQLite. SQLite has none of its own, and with
//! synchronous=FULL every commit waits for an fsync (milliseconds here), so
//! one commit per request caps the whole service at a few hundred writes a
//! second. Instead one writer task takes every write that is waiting, runs
//! each in its own savepoint inside one transaction, commits once, and only
//! then answers them all: no request is acknowledged before its data is on
//! disk, and a failed commit acknowledges none of the requests in it.
//!
//! A job is either async sqlx code or a direct job: plain rusqlite code that
//! runs inline on the writer connection while sqlx's worker is parked (see
//! `direct.rs`), with no round trip per statement. Consecutive direct jobs
//! share one lock; the commit, which waits for the fsync, stays on sqlx's
//! thread so that no runtime thread blocks on the disk.

use std::future::Future;
use std::pin::Pin;

use sqlx::{SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use super::direct::Borrowed;
use crate::{StoreError, StoreResult};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What runs after the batch's commit: delivers the job's answer, or the
/// commit's failure.
type Finish = Box<dyn FnOnce(StoreResult<()>) + Send>;

/// One write: runs on the writer connection inside the batch's transaction
/// and says whether it succeeded (a failed job's savepoint is rolled back).
type Run =
    Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, (bool, Finish)> + Send>;

/// A direct job: runs inline on the borrowed writer connection.
type DirectRun = Box<dyn FnOnce(&rusqlite::Connection) -> (bool, Finish) + Send>;

enum Job {
    Async(Run),
    Direct(DirectRun),
}

/// How many writes one transaction takes at most.
const MAX_BATCH: usize = 512;

#[derive(Debug, Clone)]
pub struct WriteQueue {
    jobs: mpsc::UnboundedSender<Job>,
}

impl WriteQueue {
    /// Starts the writer task on `pool` (which must hold the one writer
    /// connection).
    pub fn start(pool: SqlitePool) -> WriteQueue {
        let (jobs, queue) = mpsc::unbounded_channel();
        tokio::spawn(writer(pool, queue));
        WriteQueue { jobs }
    }

    /// Runs `job` in the next batch, in its own savepoint, and answers once
    /// that batch is durable.
    pub async fn write<T, F>(&self, job: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, StoreResult<T>>
            + Send
            + 'static,
    {
        self.submit(job).await
    }

    async fn submit<T, F>(&self, job: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, StoreResult<T>>
            + Send
            + 'static,
    {
        let (answer, answered) = oneshot::channel::<StoreResult<T>>();
        let run: Run = Box::new(move |conn| {
            Box::pin(async move {
                let result = job(conn).await;
                let ok = result.is_ok();
                let finish: Finish = Box::new(move |committed| {
                    let _ = answer.send(committed.and(result));
                });
                (ok, finish)
            })
        });
        self.enqueue(Job::Async(run), answered).await
    }

    /// Runs `job` whole on the writer connection in the next batch, in its
    /// own savepoint (rolled back if it fails), and answers once that batch
    /// is durable.
    pub async fn write_direct<T, F>(&self, job: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> StoreResult<T> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel::<StoreResult<T>>();
        let run: DirectRun = Box::new(move |conn| {
            let result = job(conn);
            let ok = result.is_ok();
            let finish: Finish = Box::new(move |committed| {
                let _ = answer.send(committed.and(result));
            });
            (ok, finish)
        });
        self.enqueue(Job::Direct(run), answered).await
    }

    async fn enqueue<T>(
        &self,
        job: Job,
        answered: oneshot::Receiver<StoreResult<T>>,
    ) -> StoreResult<T> {
        self.jobs
            .send(job)
            .map_err(|_| StoreError::Unavailable("the database writer has stopped".to_owned()))?;
        answered
            .await
            .map_err(|_| StoreError::Unavailable("the database writer has stopped".to_owned()))?
    }
}

async fn writer(pool: SqlitePool, mut queue: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let finishes = run_batch(&pool, batch).await;
        let (finishes, committed) = match finishes {
            Ok(finishes) => (finishes, Ok(())),
            Err((finishes, error)) => (finishes, Err(error)),
        };
        for finish in finishes {
            let outcome = match &committed {
                Ok(()) => Ok(()),
                Err(error) => Err(StoreError::Unavailable(error.clone())),
            };
            finish(outcome);
        }
        if let Err(error) = committed {
            tracing::error!(error = %error, "a write batch failed to commit: none of it was acknowledged");
        }
    }
}

type BatchFailure = (Vec<Finish>, String);

/// Runs a batch in one transaction. On any failure of the transaction
/// itself, everything is rolled back and every job gets the error.
async fn run_batch(pool: &SqlitePool, batch: Vec<Job>) -> Result<Vec<Finish>, BatchFailure> {
    let mut finishes: Vec<Finish> = Vec::with_capacity(batch.len());
    let mut conn = match pool.acquire().await {
        Ok(conn) => conn,
        Err(error) => {
            // The jobs never ran; dropping them tells each caller the
            // writer could not take it.
            drop(batch);
            return Err((finishes, error.to_string()));
        }
    };
    if let Err(error) = sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await {
        return Err((finishes, error.to_string()));
    }
    let mut jobs = batch.into_iter().peekable();
    while let Some(job) = jobs.next() {
        let run = match job {
            Job::Async(run) => run,
            Job::Direct(first) => {
                let mut group = vec![first];
                while matches!(jobs.peek(), Some(Job::Direct(_))) {
                    if let Some(Job::Direct(run)) = jobs.next() {
                        group.push(run);
                    }
                }
                if let Err(error) = run_direct(&mut conn, group, &mut finishes).await {
                    let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                    return Err((finishes, error));
                }
                continue;
            }
        };
        if let Err(error) = sqlx::query("SAVEPOINT job").execute(&mut *conn).await {
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            return Err((finishes, error.to_string()));
        }
        let (ok, finish) = run(&mut conn).await;
        finishes.push(finish);
        let end = if ok {
            sqlx::query("RELEASE job").execute(&mut *conn).await
        } else {
            match sqlx::query("ROLLBACK TO job").execute(&mut *conn).await {
                Ok(_) => sqlx::query("RELEASE job").execute(&mut *conn).await,
                Err(error) => Err(error),
            }
        };
        if let Err(error) = end {
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            return Err((finishes, error.to_string()));
        }
    }
    if let Err(error) = sqlx::query("COMMIT").execute(&mut *conn).await {
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
        return Err((finishes, error.to_string()));
    }
    Ok(finishes)
}

/// Runs consecutive direct jobs under one lock of the writer connection.
async fn run_direct(
    conn: &mut SqliteConnection,
    group: Vec<DirectRun>,
    finishes: &mut Vec<Finish>,
) -> Result<(), String> {
    let mut locked = conn.lock_handle().await.map_err(|e| e.to_string())?;
    let handle = locked.as_raw_handle().as_ptr();
    // SAFETY: `locked` parks sqlx's worker, so nothing else touches the
    // handle until it is dropped, and `borrowed` is dropped first.
    #[allow(unsafe_code)]
    let borrowed = unsafe { Borrowed::new(handle) }.map_err(|e| e.to_string())?;
    let result = run_direct_jobs(borrowed.conn(), group, finishes);
    drop(borrowed);
    drop(locked);
    result
}

fn run_direct_jobs(
    conn: &rusqlite::Connection,
    group: Vec<DirectRun>,
    finishes: &mut Vec<Finish>,
) -> Result<(), String> {
    let exec = |sql: &str| -> Result<(), String> {
        super::direct::exec(conn, sql, [])
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    for run in group {
        exec("SAVEPOINT job")?;
        let (ok, finish) = run(conn);
        finishes.push(finish);
        if !ok {
            exec("ROLLBACK TO job")?;
        }
        exec("RELEASE job")?;
    }
    Ok(())
}
