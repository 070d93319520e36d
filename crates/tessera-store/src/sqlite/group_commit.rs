//! Group commit for SQLite. SQLite has none of its own, and with
//! synchronous=FULL every commit waits for an fsync (milliseconds here), so
//! one commit per request caps the whole service at a few hundred writes a
//! second. Instead one writer task takes every write that is waiting, runs
//! each in its own savepoint inside one transaction, commits once, and only
//! then answers them all: no request is acknowledged before its data is on
//! disk, and a failed commit acknowledges none of the requests in it.

use std::future::Future;
use std::pin::Pin;

use sqlx::{SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use crate::{StoreError, StoreResult};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What runs after the batch's commit: delivers the job's answer, or the
/// commit's failure.
type Finish = Box<dyn FnOnce(StoreResult<()>) + Send>;

/// One write: runs on the writer connection inside the batch's transaction
/// and says whether it succeeded (a failed job's savepoint is rolled back).
type Run =
    Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, (bool, Finish)> + Send>;

struct Job {
    run: Run,
    /// A job of one statement needs no savepoint: SQLite undoes a failed
    /// statement by itself and leaves the transaction open.
    savepoint: bool,
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
        self.submit(job, true).await
    }

    /// Like [`write`](Self::write), for a job that runs exactly one
    /// statement: it saves the two savepoint round trips.
    pub async fn write_single<T, F>(&self, job: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, StoreResult<T>>
            + Send
            + 'static,
    {
        self.submit(job, false).await
    }

    async fn submit<T, F>(&self, job: F, savepoint: bool) -> StoreResult<T>
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
        self.jobs
            .send(Job { run, savepoint })
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
    for job in batch {
        if !job.savepoint {
            let (_, finish) = (job.run)(&mut conn).await;
            finishes.push(finish);
            continue;
        }
        if let Err(error) = sqlx::query("SAVEPOINT job").execute(&mut *conn).await {
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            return Err((finishes, error.to_string()));
        }
        let (ok, finish) = (job.run)(&mut conn).await;
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
