//! PostgreSQL for the HTTP suite: a fresh database per server, dropped when
//! the test ends. The same rules as the store suite: the URL from
//! `TESSERA_TEST_DATABASE_URL` (a maintenance database to create from),
//! required with CI=true or TESSERA_REQUIRE_POSTGRES=1, otherwise skipped
//! with a line on stderr. Databases are named like the store suite's, so
//! either suite sweeps what a killed run left behind.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use sqlx::Connection;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const PREFIX: &str = "tessera_test_";

static COUNTER: AtomicU32 = AtomicU32::new(0);
static SKIP_REPORTED: AtomicBool = AtomicBool::new(false);

fn required() -> bool {
    ["CI", "TESSERA_REQUIRE_POSTGRES"].iter().any(|name| {
        std::env::var(name)
            .is_ok_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
    })
}

fn admin_url() -> String {
    std::env::var("TESSERA_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// The same URL naming another database.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let start = base.find("://").map_or(0, |i| i + 3);
    let base = base[start..]
        .find('/')
        .map_or(base, |slash| &base[..start + slash]);
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

/// A database that lives as long as its test's server.
#[derive(Debug)]
pub struct PgDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl PgDatabase {
    /// A fresh database, or None (after saying so) when PostgreSQL is not
    /// there and not required.
    pub async fn create() -> Option<PgDatabase> {
        let admin_url = admin_url();
        let connected = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            sqlx::PgConnection::connect(&admin_url),
        )
        .await;
        let mut conn = match connected {
            Ok(Ok(conn)) => conn,
            Ok(Err(error)) if !required() => return skip(&error.to_string()),
            Err(_) if !required() => return skip("no answer within 5 s"),
            Ok(Err(error)) => panic!("PostgreSQL is required here but: {error}"),
            Err(_) => panic!("PostgreSQL is required here but did not answer within 5 s"),
        };
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let random: [u8; 4] = tessera_core::crypto::random_array().unwrap();
        let name = format!(
            "{PREFIX}{secs}_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            hex::encode(random)
        );
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await
            .unwrap();
        let _ = conn.close().await;
        Some(PgDatabase {
            url: with_database(&admin_url, &name),
            admin_url,
            name,
        })
    }
}

fn skip(reason: &str) -> Option<PgDatabase> {
    if !SKIP_REPORTED.swap(true, Ordering::SeqCst) {
        let _ = writeln!(
            std::io::stderr(),
            "PostgreSQL HTTP tests skipped: {reason}; set TESSERA_TEST_DATABASE_URL or start PostgreSQL"
        );
    }
    None
}

impl Drop for PgDatabase {
    /// Drops the database (FORCE ends the server's connections) from a
    /// thread of its own: Drop cannot await, and the test's runtime may be
    /// shutting down.
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut conn = sqlx::PgConnection::connect(&admin_url).await.ok()?;
                let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(&mut conn)
                    .await
                    .ok()?;
                let _ = conn.close().await;
                Some(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            let _ = writeln!(
                std::io::stderr(),
                "could not drop test database {} (a later store suite run sweeps it)",
                self.name
            );
        }
    }
}
