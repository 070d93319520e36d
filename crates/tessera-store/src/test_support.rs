//! For tests only (cargo feature `test-support`): a fresh PostgreSQL database
//! per test, dropped afterwards, under the one skip-or-fail rule every suite
//! shares, and a TCP proxy a test can cut to make the database go away.
//! Used by the store suite, the HTTP suite and the CLI's multi-node tests.
//!
//! PostgreSQL comes from `TESSERA_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`, a maintenance database the
//! tests create their databases from). When it is unreachable, the
//! PostgreSQL tests fail with CI=true or TESSERA_REQUIRE_POSTGRES=1, and
//! otherwise skip; then one test per suite (`assert_postgres_or_skipped`)
//! fails unless TESSERA_SKIP_POSTGRES=1 says the skip is meant, so that a
//! run without PostgreSQL never passes silently.

// Test fixtures: failing loudly is their job.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use sqlx::Connection;

use crate::postgres::describe_url;

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const DATABASE_PREFIX: &str = "tessera_test_";
/// Databases of runs that died before dropping them are swept after this.
const LEFTOVER_AFTER_SECS: u64 = 6 * 3600;

/// At most this many test databases at once, whatever the machine's thread
/// count: each test holds pools against the server's max_connections. A
/// test holds one database at a time (or it could wait on itself).
static PG_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);
/// The maintenance URL once PostgreSQL answered, or why it did not.
static PG_PROBE: tokio::sync::OnceCell<Result<String, String>> = tokio::sync::OnceCell::const_new();
static SKIP_REPORTED: AtomicBool = AtomicBool::new(false);
static DATABASE_COUNTER: AtomicU32 = AtomicU32::new(0);

/// The time `ms` milliseconds after the Unix epoch: tests write their times
/// as small numbers, so that which comes first reads at a glance.
pub fn at(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).expect("a time in range")
}

/// Whether this run must fail rather than skip without PostgreSQL.
pub fn postgres_required() -> bool {
    let set = |name: &str| {
        std::env::var(name)
            .map(|value| matches!(value.to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
            .unwrap_or(false)
    };
    set("CI") || set("TESSERA_REQUIRE_POSTGRES")
}

async fn admin_connection(url: &str) -> Result<sqlx::PgConnection, String> {
    match tokio::time::timeout(
        std::time::Duration::from_secs(5),
        sqlx::PgConnection::connect(url),
    )
    .await
    {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(error)) => Err(format!("cannot connect to {}: {error}", describe_url(url))),
        Err(_) => Err(format!("no answer from {} within 5 s", describe_url(url))),
    }
}

/// The same URL naming another database.
pub fn url_with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

/// The URL with its host and port replaced by `127.0.0.1:port` (a proxy's).
pub fn proxied_url(url: &str, port: u16) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let credentials = authority.rfind('@').map_or("", |at| &authority[..=at]);
    format!(
        "{}{credentials}127.0.0.1:{port}{}",
        &url[..scheme_end],
        &rest[authority_end..]
    )
}

/// `host:port` of the server a URL names, for a proxy's upstream.
pub fn server_address(url: &str) -> String {
    use std::str::FromStr;
    let options = sqlx::postgres::PgConnectOptions::from_str(url).unwrap();
    format!("{}:{}", options.get_host(), options.get_port())
}

/// Whether PostgreSQL is there: Some(maintenance URL), or None after
/// saying why it was skipped. Panics instead when CI requires PostgreSQL.
pub async fn postgres_available() -> Option<String> {
    let probe = PG_PROBE
        .get_or_init(|| async {
            let url = std::env::var("TESSERA_TEST_DATABASE_URL")
                .unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned());
            let mut conn = admin_connection(&url).await?;
            sweep_leftovers(&mut conn).await;
            let _ = conn.close().await;
            Ok(url)
        })
        .await;
    match probe {
        Ok(url) => Some(url.clone()),
        Err(reason) if postgres_required() => panic!(
            "PostgreSQL is required here (CI or TESSERA_REQUIRE_POSTGRES) but {reason}; \
             set TESSERA_TEST_DATABASE_URL or start PostgreSQL"
        ),
        Err(reason) => {
            if !SKIP_REPORTED.swap(true, Ordering::SeqCst) {
                // Straight to stderr: the test harness captures eprintln!.
                let _ = writeln!(
                    std::io::stderr(),
                    "PostgreSQL suite skipped: {reason}; set TESSERA_TEST_DATABASE_URL or \
                     start PostgreSQL"
                );
            }
            None
        }
    }
}

/// For one test in each suite: passes when PostgreSQL answers, or when
/// TESSERA_SKIP_POSTGRES=1 says to run without it; otherwise fails with
/// what to do, so that the skipped half of a suite is never missed.
pub async fn assert_postgres_or_skipped() {
    if postgres_available().await.is_some() {
        return;
    }
    let skip = std::env::var("TESSERA_SKIP_POSTGRES")
        .is_ok_and(|value| matches!(value.to_ascii_lowercase().as_str(), "1" | "true" | "yes"));
    if let (false, Some(Err(reason))) = (skip, PG_PROBE.get()) {
        panic!(
            "the PostgreSQL half of this suite did not run: {reason}. Start PostgreSQL \
             (for example `pg_ctlcluster 15 main start`) or point TESSERA_TEST_DATABASE_URL \
             at one; or set TESSERA_SKIP_POSTGRES=1 to run the SQLite half alone"
        );
    }
}

fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// Drops test databases left by runs that were killed before cleaning up.
async fn sweep_leftovers(conn: &mut sqlx::PgConnection) {
    let Ok(names) = sqlx::query_scalar::<_, String>(
        "SELECT datname FROM pg_database WHERE datname LIKE 'tessera\\_test\\_%'",
    )
    .fetch_all(&mut *conn)
    .await
    else {
        return;
    };
    let now = unix_secs();
    for name in names {
        let created = name[DATABASE_PREFIX.len()..]
            .split('_')
            .next()
            .and_then(|secs| secs.parse::<u64>().ok());
        if created.is_some_and(|created| created + LEFTOVER_AFTER_SECS < now) {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
            )))
            .execute(&mut *conn)
            .await;
        }
    }
}

async fn drop_database(admin_url: &str, name: &str) {
    let dropped = async {
        let mut conn = admin_connection(admin_url).await?;
        // FORCE: servers a test left running still hold connections.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
        let _ = conn.close().await;
        Ok::<(), String>(())
    }
    .await;
    if let Err(reason) = dropped {
        let _ = writeln!(
            std::io::stderr(),
            "could not drop test database {name} (swept by a later run): {reason}"
        );
    }
}

/// A fresh, empty database for one test. Dropped by `drop_now`, or when the
/// value drops (a panicking test included), from a thread of its own.
#[derive(Debug)]
pub struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
    dropped: bool,
    _slot: tokio::sync::SemaphorePermit<'static>,
}

impl TestDatabase {
    /// None (after the skip line) when PostgreSQL is away and not required.
    pub async fn create() -> Option<TestDatabase> {
        let admin_url = postgres_available().await?;
        let slot = PG_SLOTS.acquire().await.unwrap();
        use std::hash::{BuildHasher, Hasher};
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        // Creation time first, so sweep_leftovers can tell old from live.
        let name = format!(
            "{DATABASE_PREFIX}{}_{}_{}_{:08x}",
            unix_secs(),
            std::process::id(),
            DATABASE_COUNTER.fetch_add(1, Ordering::SeqCst),
            random as u32
        );
        let mut conn = admin_connection(&admin_url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await
            .unwrap();
        let _ = conn.close().await;
        let url = url_with_database(&admin_url, &name);
        Some(TestDatabase {
            admin_url,
            name,
            url,
            dropped: false,
            _slot: slot,
        })
    }

    /// The URL of this database.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub async fn drop_now(mut self) {
        self.dropped = true;
        drop_database(&self.admin_url, &self.name).await;
    }

    /// Runs `test` against this database in a task of its own, then drops
    /// it, even when the test panicked (the panic is passed on afterwards).
    pub async fn run<F, Fut>(self, test: F)
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let outcome = tokio::spawn(test(self.url.clone())).await;
        self.drop_now().await;
        if let Err(error) = outcome {
            match error.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(error) => panic!("the test task failed: {error}"),
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        // No async drop: a thread with its own runtime, so this works from
        // inside any runtime, a single-threaded one included.
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                runtime.block_on(drop_database(&admin_url, &name));
            }
        })
        .join();
    }
}

pub use proxy::Proxy;

mod proxy {
    //! A TCP proxy the test can cut (closing every connection and refusing
    //! new ones) and restore, standing for a database that goes away.

    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::watch;

    #[derive(Debug)]
    pub struct Proxy {
        pub port: u16,
        up: Arc<AtomicBool>,
        generation: watch::Sender<u64>,
        task: tokio::task::JoinHandle<()>,
    }

    impl Proxy {
        /// Listens on a loopback port 0 and forwards to `upstream` (host:port).
        pub async fn start(upstream: String) -> Proxy {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let up = Arc::new(AtomicBool::new(true));
            let (generation, _) = watch::channel(0u64);
            let task = {
                let up = up.clone();
                let generation = generation.clone();
                tokio::spawn(async move {
                    while let Ok((mut client, _)) = listener.accept().await {
                        if !up.load(Ordering::SeqCst) {
                            drop(client);
                            continue;
                        }
                        let upstream = upstream.clone();
                        let mut cut = generation.subscribe();
                        tokio::spawn(async move {
                            let Ok(mut server) = TcpStream::connect(&upstream).await else {
                                return;
                            };
                            tokio::select! {
                                _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                                _ = cut.changed() => {}
                            }
                        });
                    }
                })
            };
            Proxy {
                port,
                up,
                generation,
                task,
            }
        }

        /// Closes every connection through the proxy and refuses new ones.
        pub fn cut(&self) {
            self.up.store(false, Ordering::SeqCst);
            self.generation.send_modify(|generation| *generation += 1);
        }

        pub fn restore(&self) {
            self.up.store(true, Ordering::SeqCst);
        }
    }

    impl Drop for Proxy {
        fn drop(&mut self) {
            self.task.abort();
            self.generation.send_modify(|generation| *generation += 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_another_database_or_the_proxy() {
        assert_eq!(
            url_with_database("postgres://u:p@h:5432/postgres?sslmode=disable", "t1"),
            "postgres://u:p@h:5432/t1?sslmode=disable"
        );
        assert_eq!(url_with_database("postgres://h", "t1"), "postgres://h/t1");
        assert_eq!(
            proxied_url("postgres://u:p@db.example:5432/t1?sslmode=disable", 7000),
            "postgres://u:p@127.0.0.1:7000/t1?sslmode=disable"
        );
        assert_eq!(
            proxied_url("postgresql://h/t1", 7000),
            "postgresql://127.0.0.1:7000/t1"
        );
        assert_eq!(
            server_address("postgres://u@db.example:6543/t1"),
            "db.example:6543"
        );
    }
}
