//! Readiness says whether writes go through, not only whether the database
//! answers: while another connection holds the database's write lock (as a
//! full disk or a read-only standby would refuse every write), reads still
//! work but `/readyz` answers 503 `writes_failing`; once the lock is gone
//! it answers ready again, without a restart.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::{Backend, TestServer};

async fn ready(server: &TestServer) -> (StatusCode, Value) {
    let (status, _, body) = server.call(Method::GET, "/readyz", None, None, &[]).await;
    (status, body)
}

/// Holds every write of the server's database back until dropped.
enum WriteLock {
    Sqlite(std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>),
    Postgres(sqlx::PgConnection),
}

async fn lock_writes(server: &TestServer) -> WriteLock {
    match &server.database {
        None => {
            let path = server.data_dir().join("tessera.db");
            let (release, released) = std::sync::mpsc::channel::<()>();
            let (locked, is_locked) = std::sync::mpsc::channel::<()>();
            // rusqlite's connection is not Send across awaits: a thread holds it.
            let holder = std::thread::spawn(move || {
                let conn = rusqlite::Connection::open(path).unwrap();
                conn.execute_batch("BEGIN EXCLUSIVE").unwrap();
                locked.send(()).unwrap();
                let _ = released.recv();
                conn.execute_batch("ROLLBACK").unwrap();
            });
            is_locked.recv().unwrap();
            WriteLock::Sqlite(release, holder)
        }
        Some(database) => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(database.url()).await.unwrap();
            sqlx::query("BEGIN").execute(&mut conn).await.unwrap();
            // EXCLUSIVE lets reads through and holds every write back.
            sqlx::query("LOCK TABLE settings IN EXCLUSIVE MODE")
                .execute(&mut conn)
                .await
                .unwrap();
            WriteLock::Postgres(conn)
        }
    }
}

async fn unlock(lock: WriteLock) {
    match lock {
        WriteLock::Sqlite(release, holder) => {
            release.send(()).unwrap();
            holder.join().unwrap();
        }
        WriteLock::Postgres(mut conn) => {
            sqlx::query("ROLLBACK").execute(&mut conn).await.unwrap();
        }
    }
}

async fn readiness_follows_whether_writes_go_through(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let (status, body) = ready(&server).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "ready");

    let lock = lock_writes(&server).await;
    let (status, body) = ready(&server).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["reason"], "writes_failing", "{body}");
    // Reads still work meanwhile.
    let (status, cards) = server.get("/v1/cards", &user.token).await;
    assert_eq!(status, StatusCode::OK, "{cards}");

    unlock(lock).await;
    let waited = Instant::now();
    loop {
        let (status, body) = ready(&server).await;
        if status == StatusCode::OK {
            assert_eq!(body["status"], "ready");
            break;
        }
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "never ready again: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

on_both_backends!(readiness_follows_whether_writes_go_through);
