//! Several `tessera serve` processes on one PostgreSQL database, as behind a
//! load balancer: the rules that span requests hold across nodes because the
//! database keeps them; a node killed mid-binding loses nothing it
//! acknowledged while the other keeps serving; a node with other keys is
//! refused; a database that goes away is a 503 the node recovers from by
//! itself. Each test has a fresh database (`tessera_store::test_support`):
//! skipped off CI when PostgreSQL is away, failed with CI=true.

mod failover;
mod faults;
mod payments;
mod rules;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use reqwest::{Client, Method};
use serde_json::{Value, json};
use tempfile::TempDir;
use tessera_core::vault::{ENV_MASTER_KEY, KeyRing};
use tessera_server::issuer::sandbox::{self, Outcome};
use tessera_server::test_support::{request, sign_up};
use tessera_store::test_support::{Proxy, TestDatabase, proxied_url, server_address};
use tokio::sync::Barrier;

use crate::{ServeProcess, TESSERA};

const NAME: &str = "张三";
/// Every wait in these tests ends by this, whatever happens.
const PATIENCE: Duration = Duration::from_secs(30);

/// An HTTP client whose every request ends by PATIENCE, sign-ups included.
fn client() -> Client {
    Client::builder().timeout(PATIENCE).build().unwrap()
}

/// A fresh key ring, as TESSERA_MASTER_KEY carries it.
fn master_key() -> String {
    KeyRing::generate()
        .unwrap()
        .to_env_value()
        .unwrap()
        .as_str()
        .to_owned()
}

fn approving_card() -> String {
    sandbox::card_number("622848", 19, Outcome::Approve).unwrap()
}

/// How a node is started: its arguments after `serve --data-dir DIR` and
/// its environment.
#[derive(Clone, Debug, Default)]
struct NodeSpec {
    /// What every command on the nodes' database takes (`--database-url`).
    args: Vec<String>,
    /// What only `serve` takes (`--card-limit`, `--load-test`).
    serve_args: Vec<String>,
    env: Vec<(String, String)>,
}

impl NodeSpec {
    /// A node of `database_url` holding `key` (TESSERA_MASTER_KEY), with a
    /// small pool: nodes x pool_size must fit the server's max_connections.
    fn new(database_url: &str, key: Option<&str>) -> NodeSpec {
        let mut spec = NodeSpec {
            args: vec!["--database-url".to_owned(), database_url.to_owned()],
            serve_args: Vec::new(),
            env: vec![
                ("TESSERA_DATABASE__POOL_SIZE".to_owned(), "5".to_owned()),
                // Every client of these tests is 127.0.0.1: the budgets per
                // address are the HTTP suite's to test (`rate_limits.rs`).
                (
                    "TESSERA_LIMITS__PUBLIC_PER_ADDRESS_PER_MINUTE".to_owned(),
                    "1000000".to_owned(),
                ),
            ],
        };
        if let Some(key) = key {
            spec.env.push((ENV_MASTER_KEY.to_owned(), key.to_owned()));
        }
        spec
    }

    fn arg(mut self, arg: &str) -> NodeSpec {
        self.serve_args.push(arg.to_owned());
        self
    }

    fn env(mut self, name: &str, value: &str) -> NodeSpec {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Starts the node on `data_dir` and waits (off the runtime's threads)
    /// for the address it prints.
    async fn start(&self, data_dir: PathBuf) -> ServeProcess {
        let spec = self.clone();
        let log = data_dir.with_extension("log");
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = spec
                .args
                .iter()
                .chain(&spec.serve_args)
                .map(String::as_str)
                .collect();
            let env: Vec<(&str, &str)> = spec
                .env
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str()))
                .collect();
            ServeProcess::start_env(&data_dir, &log, &args, &env)
        })
        .await
        .unwrap()
    }

    /// Starts the node expecting it to refuse: its exit code and stderr.
    async fn refused(&self, data_dir: &Path) -> (Option<i32>, String) {
        let mut command = tokio::process::Command::new(TESSERA);
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(&self.args)
            .args(&self.serve_args)
            .env_remove(ENV_MASTER_KEY)
            .env_remove("TESSERA_DATABASE_URL")
            .envs(self.env.iter().map(|(n, v)| (n.as_str(), v.as_str())))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let output = tokio::time::timeout(PATIENCE, command.output())
            .await
            .expect("the node should have refused to start, but it is still running")
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(!stdout.contains("listening"), "the node started: {stdout}");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }
}

/// Nodes sharing one fresh database and one key ring. Fields drop in
/// order: the nodes are killed before the database is dropped.
struct Cluster {
    nodes: Vec<ServeProcess>,
    bases: Vec<String>,
    spec: NodeSpec,
    dir: TempDir,
    database: TestDatabase,
}

impl Cluster {
    /// Two nodes started at once (they race to migrate the empty
    /// database), both holding the same TESSERA_MASTER_KEY.
    async fn start(extra: &[&str]) -> Option<Cluster> {
        Cluster::start_env(extra, &[]).await
    }

    /// [`Cluster::start`], with environment variables set on both nodes.
    async fn start_env(extra: &[&str], env: &[(&str, &str)]) -> Option<Cluster> {
        let database = TestDatabase::create().await?;
        let key = master_key();
        let mut spec = NodeSpec::new(database.url(), Some(&key));
        for arg in extra {
            spec = spec.arg(arg);
        }
        for (name, value) in env {
            spec = spec.env(name, value);
        }
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = tokio::join!(
            spec.start(dir.path().join("node-a")),
            spec.start(dir.path().join("node-b"))
        );
        let bases = vec![a.base.clone(), b.base.clone()];
        Some(Cluster {
            nodes: vec![a, b],
            bases,
            spec,
            dir,
            database,
        })
    }

    /// The base URL of node `i` (0 is A, 1 is B).
    fn base(&self, i: usize) -> &str {
        &self.bases[i % self.bases.len()]
    }

    /// An operator API key, made as an operator would: `tessera admin
    /// create-key` with the nodes' database and key ring.
    async fn operator_key(&self) -> String {
        self.spec.operator_key(&self.dir.path().join("admin")).await
    }

    /// An API key of `role` (`--role` and what follows, such as
    /// `["merchant", "--merchant", "M1"]`), made the same way.
    async fn key(&self, role: &[&str]) -> String {
        self.spec.key(&self.dir.path().join("admin"), role).await
    }
}

impl NodeSpec {
    /// An operator API key made with `tessera admin create-key` on this
    /// spec's database, with `data_dir` for its key file.
    async fn operator_key(&self, data_dir: &Path) -> String {
        self.key(data_dir, &["operator"]).await
    }

    /// A key of `role` made with `tessera admin create-key --role ...`.
    async fn key(&self, data_dir: &Path, role: &[&str]) -> String {
        let mut command = tokio::process::Command::new(TESSERA);
        command
            .args(["admin", "create-key", "--role"])
            .args(role)
            .arg("--data-dir")
            .arg(data_dir)
            .args(&self.args)
            .env_remove(ENV_MASTER_KEY)
            .env_remove("TESSERA_DATABASE_URL")
            .envs(self.env.iter().map(|(n, v)| (n.as_str(), v.as_str())))
            .kill_on_drop(true);
        let output = tokio::time::timeout(PATIENCE, command.output())
            .await
            .unwrap()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    }
}

/// One HTTP call: status, headers and JSON body.
async fn call(
    client: &Client,
    method: Method,
    url: String,
    bearer: Option<&str>,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> (u16, HeaderMap, Value) {
    let (status, headers, body) = request(client, method, &url, bearer, body, headers).await;
    (status.as_u16(), headers, body)
}

async fn bind(client: &Client, base: &str, token: &str, number: &str) -> (u16, Value) {
    let (status, _, body) = call(
        client,
        Method::POST,
        format!("{base}/v1/cards"),
        Some(token),
        Some(&json!({"number": number, "holder_name": NAME})),
        &[],
    )
    .await;
    (status, body)
}

async fn get(client: &Client, base: &str, path: &str, token: &str) -> (u16, Value) {
    let (status, _, body) = call(
        client,
        Method::GET,
        format!("{base}{path}"),
        Some(token),
        None,
        &[],
    )
    .await;
    (status, body)
}

/// The live cards a user holds, as node `base` lists them.
async fn live_cards(client: &Client, base: &str, token: &str) -> Vec<Value> {
    let (status, body) = get(client, base, "/v1/cards", token).await;
    assert_eq!(status, 200, "{body}");
    body["data"].as_array().unwrap().clone()
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

async fn sql_count(url: &str, query: &'static str) -> i64 {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let count = sqlx::query_scalar(query)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let _ = conn.close().await;
    count
}

/// One request of a burst: method, URL, bearer and body.
type Burst = (Method, String, Option<String>, Option<Value>);

/// A binding of `number` at `base`, for [`burst`].
fn binding(base: &str, token: &str, number: &str) -> Burst {
    let body = json!({"number": number, "holder_name": NAME});
    let url = format!("{base}/v1/cards");
    (Method::POST, url, Some(token.to_owned()), Some(body))
}

/// Sends every request at once, as an attacker does: each on a client (and
/// so a connection) of its own, opened first with `/healthz` at the same
/// node; a barrier then releases them all together. Status and body of
/// each, in the order given.
async fn burst(requests: Vec<Burst>) -> Vec<(u16, Value)> {
    let barrier = Arc::new(Barrier::new(requests.len()));
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|(method, url, bearer, body)| {
            let barrier = barrier.clone();
            tokio::spawn(async move {
                let own = client();
                let base = &url[..url.find("/v1/").unwrap_or(url.len())];
                let health = format!("{base}/healthz");
                let (status, _, _) = call(&own, Method::GET, health, None, None, &[]).await;
                assert_eq!(status, 200);
                barrier.wait().await;
                let (status, _, body) =
                    call(&own, method, url, bearer.as_deref(), body.as_ref(), &[]).await;
                (status, body)
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}
