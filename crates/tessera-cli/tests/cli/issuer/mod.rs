//! A bank over a real network: `tessera issuer-sim` started as a process of
//! its own, a Tessera server (on SQLite and on PostgreSQL) whose
//! `[issuers]` sends 中国农业银行 (ABC) cards to it, and the bank killed,
//! stalled and made to answer garbage in the middle of bindings and
//! payments. Whatever the bank does, no card is half bound, no payment is
//! approved without its record, and every attempt says why it failed.
//! Short timeouts keep each fault to about two seconds.

mod binding;
mod payments;
mod simulator;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use tessera_core::card::status::CardStatus;
use tessera_core::ids::{CardId, UserId};
use tessera_server::issuer::http::{IssuerEndpoint, SigningSecret};
use tessera_server::test_support::{Backend, TestServer, User};

use crate::TESSERA;

/// Runs each listed `async fn name(backend: Backend)` as `sqlite::name`
/// and `postgres::name`, as the HTTP suite does.
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test(tessera_server::test_support::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $test() {
                    if tessera_server::test_support::postgres_available().await.is_some() {
                        super::$test(tessera_server::test_support::Backend::Postgres).await;
                    }
                }
            )*
        }
    };
}
use on_both_backends;

const SECRET: &str = "tsg_issuer_sim_tests_0123456789";
/// One try's time: a stalled bank costs a binding this long. Room enough
/// for a loaded two-core machine's answers, short enough for the suite.
pub const REQUEST_TIMEOUT_MS: u64 = 2_000;
/// When a `late` bank answers: after Tessera gave up.
pub const LATE_MS: u64 = REQUEST_TIMEOUT_MS + 1_000;

/// `tessera issuer-sim` on a loopback port.
#[allow(missing_debug_implementations)]
pub struct Bank {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    client: Client,
}

impl Bank {
    /// On a free port.
    pub fn start() -> Bank {
        Bank::start_on("127.0.0.1:0")
    }

    /// On `listen` (`127.0.0.1:PORT`: the same address again after a kill).
    pub fn start_on(listen: &str) -> Bank {
        let mut child = Command::new(TESSERA)
            .args(["issuer-sim", "--listen", listen, "--signing-secret", SECRET])
            .args(["--slow-ms", "100"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .trim()
            .strip_prefix("tessera issuer-sim listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_owned();
        Bank {
            child,
            base,
            client: Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
        }
    }

    /// SIGKILL: the bank's process is gone at once, mid-request.
    pub fn kill_9(mut self) -> String {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.base.trim_start_matches("http://").to_owned()
    }

    /// `PUT /control/faults`.
    pub async fn faults(&self, faults: Value) {
        let response = self
            .client
            .put(format!("{}/control/faults", self.base))
            .json(&faults)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }

    /// Protocol requests received: `{"total": n, "by_request_id": {...}}`.
    pub async fn requests(&self) -> Value {
        let response = self
            .client
            .get(format!("{}/control/requests", self.base))
            .send()
            .await
            .unwrap();
        response.json().await.unwrap()
    }

    /// Waits (up to 10 s) until the bank has received `total` requests.
    pub async fn wait_for_requests(&self, total: u64) {
        for _ in 0..200 {
            if self.requests().await["total"] == total {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the bank never received {total} requests");
    }
}

impl Drop for Bank {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server whose ABC cards go to `bank`, with short timeouts, two retries,
/// and an anomaly rule that judges a bank on four answers (as
/// `tests/api/health.rs` has it).
pub async fn server_for(backend: Backend, bank: &Bank) -> TestServer {
    server_with(backend, bank, |_| {}).await
}

/// `server_for`, then `adjust`.
pub async fn server_with(
    backend: Backend,
    bank: &Bank,
    adjust: impl FnOnce(&mut tessera_server::Config) + Send + 'static,
) -> TestServer {
    let base_url = bank.base.clone();
    TestServer::start_on(backend, move |config| {
        config.issuers.insert(
            "ABC".to_owned(),
            IssuerEndpoint {
                base_url,
                signing_secret: SigningSecret(SECRET.to_owned()),
                connect_timeout_ms: 500,
                request_timeout_ms: REQUEST_TIMEOUT_MS,
                retries: 2,
                retry_backoff_ms: 20,
            },
        );
        config.issuer_timeout_secs = 6;
        config.health.anomaly.min_samples = 4;
        config.health.evaluate_interval_ms = 0;
        config.card_limit = 50;
        config.limits.user_bindings_per_day = 100;
        config.limits.card_bindings_per_day = 100;
        adjust(config);
    })
    .await
}

/// `POST /v1/cards` for `number`, with an Idempotency-Key when given:
/// status, body.
pub async fn bind(
    server: &TestServer,
    user: &User,
    number: &str,
    key: Option<&str>,
) -> (StatusCode, Value) {
    let headers: Vec<(&str, &str)> = key.map(|k| ("idempotency-key", k)).into_iter().collect();
    let (status, _, body) = server
        .call(
            Method::POST,
            "/v1/cards",
            Some(&user.token),
            Some(&json!({"number": number, "holder_name": user.real_name})),
            &headers,
        )
        .await;
    (status, body)
}

/// The binding attempt recorded under `trace_id`.
pub async fn attempt(server: &TestServer, trace_id: &str) -> Value {
    let (status, body) = server
        .get(
            &format!("/v1/support/attempts?trace_id={trace_id}"),
            &server.support_key,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"].as_array().unwrap().len(), 1, "{body}");
    body["data"][0].clone()
}

/// A 503 issuer_unavailable whose attempt is recorded with the bank's
/// silence as its cause, and whose card was not left half bound: no row,
/// or one that is neither reserved, waiting for a code, nor active.
pub async fn assert_unavailable_and_recorded(
    server: &TestServer,
    user: &User,
    status: StatusCode,
    body: &Value,
) {
    let error = tessera_server::test_support::assert_error(
        status,
        body,
        StatusCode::SERVICE_UNAVAILABLE,
        "issuer_unavailable",
    );
    let trace_id = error["trace_id"].as_str().unwrap();
    let attempt = attempt(server, trace_id).await;
    assert_eq!(attempt["error_code"], "issuer_unavailable", "{attempt}");
    assert_eq!(attempt["cause"], error["cause"], "{attempt}");
    assert_eq!(attempt["issuer_code"], "ABC", "{attempt}");
    // The bank said so (or refused the connection), or it was silent past
    // the issuer timeout.
    assert!(
        matches!(
            attempt["issuer_response"].as_str(),
            Some("unavailable" | "timeout")
        ),
        "{attempt}"
    );
    if let Some(card_id) = attempt["card_id"].as_str() {
        let stored = server
            .state()
            .store
            .card(
                &UserId::from(user.id.clone()),
                &CardId::from(card_id.to_owned()),
            )
            .await
            .unwrap();
        if let Some(card) = stored {
            assert!(
                !matches!(
                    card.status,
                    CardStatus::Binding | CardStatus::PendingVerification | CardStatus::Active
                ),
                "{:?}",
                card.status
            );
        }
    }
}
