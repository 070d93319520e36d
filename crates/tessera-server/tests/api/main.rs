//! The HTTP integration suite: one test binary (link time is dear on a
//! two-core machine) that starts the real server on a loopback port 0 with a
//! temporary data directory, and drives it over HTTP. Each test runs twice:
//! `sqlite::name` on a real SQLite file and `postgres::name` on a fresh
//! PostgreSQL database (skipped off CI when none is reachable, failed with
//! CI=true or TESSERA_REQUIRE_POSTGRES=1; see `tessera_store::test_support`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// Runs each listed `async fn name(backend: Backend)` of the calling module
/// as `sqlite::name` and `postgres::name`. The functions stay private, so
/// one left off the list is dead code and fails the lint.
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test(crate::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $test() {
                    if crate::postgres_available().await.is_some() {
                        super::$test(crate::Backend::Postgres).await;
                    }
                }
            )*
        }
    };
}

mod binding;
mod diagnose;
mod health;
mod help;
mod hygiene;
mod idempotency;
mod issuer_events;
mod payments;
mod service;
mod snapshots;
mod tickets;
mod tokens;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;
use tessera_server::issuer::sandbox::{self, Outcome};
use tessera_server::{Config, RunningServer, TestClock};
pub use tessera_store::test_support::{TestDatabase, postgres_available};

/// Where a test server keeps its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in the server's temporary data directory.
    Sqlite,
    /// A fresh PostgreSQL database, dropped with the server.
    Postgres,
}

impl Backend {
    /// The name `/readyz` and `Store::backend` give.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Every log line the servers in this binary write, for the hygiene scans.
pub fn log_buffer() -> Arc<Mutex<Vec<u8>>> {
    static BUFFER: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUFFER
        .get_or_init(|| {
            let buffer = Arc::new(Mutex::new(Vec::new()));
            let writer = BufferWriter(buffer.clone());
            let _ = tracing_subscriber::fmt()
                .json()
                .with_env_filter("debug,sqlx=warn,hyper=info,h2=info")
                .with_writer(move || writer.clone())
                .try_init();
            buffer
        })
        .clone()
}

#[derive(Clone)]
struct BufferWriter(Arc<Mutex<Vec<u8>>>);

impl Write for BufferWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[allow(missing_debug_implementations)]
pub struct TestServer {
    pub base: String,
    pub client: Client,
    pub server: Option<RunningServer>,
    pub dir: TempDir,
    pub operator_key: String,
    pub support_key: String,
    pub backend: Backend,
    /// The PostgreSQL database, dropped (after the server) with this value.
    pub database: Option<TestDatabase>,
    /// The server's clock: `advance` moves it past a deadline.
    pub clock: TestClock,
}

/// A signed-in test user.
#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub token: String,
    pub phone: String,
    pub real_name: String,
    pub password: String,
    pub id_number: String,
}

/// A random, valid 18-character resident ID number.
pub fn id_number() -> String {
    let mut digits = [0u8; 4];
    tessera_core::crypto::random_digits(&mut digits).unwrap();
    let serial: String = digits[..3].iter().map(|d| char::from(*d)).collect();
    let first17 = format!("11010519800101{serial}");
    let check = tessera_core::identity::id_number::check_char(&first17).unwrap();
    format!("{first17}{check}")
}

/// A random mainland mobile number.
pub fn phone() -> String {
    let mut digits = [0u8; 8];
    tessera_core::crypto::random_digits(&mut digits).unwrap();
    let rest: String = digits.iter().map(|d| char::from(*d)).collect();
    format!("139{rest}")
}

/// A 19-digit Agricultural Bank of China debit card asking for `outcome`.
pub fn card(outcome: Outcome) -> String {
    sandbox::card_number("622848", 19, outcome).unwrap()
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> TestServer {
        TestServer::start_on(Backend::Sqlite, adjust).await
    }

    /// A server on `backend`; for PostgreSQL, on a fresh database whose URL
    /// is in `config.database_url` when `adjust` runs.
    pub async fn start_on(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestServer {
        log_buffer();
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::new_for_test(dir.path().join("data"));
        let database = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => {
                let database = TestDatabase::create()
                    .await
                    .expect("PostgreSQL is away: run PostgreSQL tests through on_both_backends!");
                config.database_url = Some(database.url().to_owned());
                Some(database)
            }
        };
        adjust(&mut config);
        let clock = TestClock::default();
        let opened = tessera_server::open_with_clock(config, clock.clock())
            .await
            .unwrap();
        let state = opened.state;
        let operator_key = tessera_server::create_api_key(&state, "operator", "tests")
            .await
            .unwrap();
        let support_key = tessera_server::create_api_key(&state, "support", "tests")
            .await
            .unwrap();
        let server = tessera_server::start(state).await.unwrap();
        TestServer {
            base: format!("http://{}", server.addr),
            client: Client::new(),
            server: Some(server),
            dir,
            operator_key,
            support_key,
            backend,
            database,
            clock,
        }
    }

    /// Moves the server's clock forward: deadlines pass without a wait.
    pub fn advance(&self, by: std::time::Duration) {
        self.clock.advance(by);
    }

    /// The time on the server's clock: what issuers and operators in these
    /// tests take the time to be.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// The running server's state: its store and key ring.
    pub fn state(&self) -> &tessera_server::AppState {
        &self.server.as_ref().unwrap().state
    }

    pub fn data_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    /// Sends a request and returns the status, headers and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, headers, value)
    }

    pub async fn post(&self, path: &str, bearer: &str, body: Value) -> (StatusCode, Value) {
        let (status, _, value) = self
            .call(Method::POST, path, Some(bearer), Some(&body), &[])
            .await;
        (status, value)
    }

    pub async fn get(&self, path: &str, bearer: &str) -> (StatusCode, Value) {
        let (status, _, value) = self.call(Method::GET, path, Some(bearer), None, &[]).await;
        (status, value)
    }

    pub async fn delete(&self, path: &str, bearer: &str) -> (StatusCode, Value) {
        let (status, _, value) = self
            .call(Method::DELETE, path, Some(bearer), None, &[])
            .await;
        (status, value)
    }

    /// Signs up a user with the real name 张三 and signs in.
    pub async fn user(&self) -> User {
        self.user_named("张三").await
    }

    pub async fn user_named(&self, real_name: &str) -> User {
        let phone = phone();
        let id_number = id_number();
        let password = "correct-horse-42".to_owned();
        let (status, _, body) = self
            .call(
                Method::POST,
                "/v1/users",
                None,
                Some(&json!({"phone": phone, "real_name": real_name,
                    "id_number": id_number, "password": password})),
                &[],
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = body["id"].as_str().unwrap().to_owned();
        let (status, _, session) = self
            .call(
                Method::POST,
                "/v1/sessions",
                None,
                Some(&json!({"phone": phone, "password": password})),
                &[],
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{session}");
        User {
            id,
            token: session["token"].as_str().unwrap().to_owned(),
            phone,
            real_name: real_name.to_owned(),
            password,
            id_number,
        }
    }

    /// Binds a card with the user's name; returns the status and body.
    pub async fn bind(&self, user: &User, number: &str) -> (StatusCode, Value) {
        self.post(
            "/v1/cards",
            &user.token,
            json!({"number": number, "holder_name": user.real_name}),
        )
        .await
    }

    /// The cards the user holds (live ones).
    pub async fn cards(&self, user: &User) -> Vec<Value> {
        let (status, body) = self.get("/v1/cards", &user.token).await;
        assert_eq!(status, StatusCode::OK);
        body["data"].as_array().unwrap().clone()
    }

    /// The newest sandbox SMS code sent to `phone`.
    pub async fn latest_otp(&self, user: &User) -> String {
        let (status, body) = self
            .get(
                &format!("/v1/sandbox/sms?phone={}", user.phone),
                &user.token,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let text = body["data"][0]["body"].as_str().unwrap().to_owned();
        text.split(|c: char| !c.is_ascii_digit())
            .find(|part| part.len() == 6)
            .unwrap()
            .to_owned()
    }

    pub async fn stop(mut self) -> TempDir {
        if let Some(server) = self.server.take() {
            server.stop().await.unwrap();
        }
        self.dir
    }
}

/// Asserts an error envelope with this status and code, and returns it.
#[track_caller]
pub fn assert_error(status: StatusCode, body: &Value, expected: StatusCode, code: &str) -> Value {
    assert_eq!(status, expected, "{body}");
    let error = &body["error"];
    assert_eq!(error["code"], code, "{body}");
    for field in ["type", "message", "remedy", "cause", "trace_id", "doc_url"] {
        assert!(
            error[field].as_str().is_some_and(|s| !s.is_empty()),
            "{field} missing in {body}"
        );
    }
    assert!(error["retryable"].is_boolean(), "{body}");
    record_error_body(error);
    error.clone()
}

/// With `TESSERA_RECORD_ERROR_BODIES=FILE`, appends every error body the
/// suite checks to FILE, one JSON line each with ids and times redacted:
/// two runs' sorted files compared show whether a change altered any.
fn record_error_body(error: &Value) {
    let Some(path) = std::env::var_os("TESSERA_RECORD_ERROR_BODIES") else {
        return;
    };
    let mut redacted = error.clone();
    for field in ["trace_id", "locked_until", "payment_id"] {
        if redacted.get(field).is_some() {
            redacted[field] = Value::String("(redacted)".into());
        }
    }
    let line = format!("{redacted}\n");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    file.write_all(line.as_bytes()).unwrap();
}

/// A run without PostgreSQL fails here unless TESSERA_SKIP_POSTGRES=1.
#[tokio::test]
async fn postgres_is_reachable_or_skipped_on_purpose() {
    tessera_store::test_support::assert_postgres_or_skipped().await;
}
