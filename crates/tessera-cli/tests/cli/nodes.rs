//! Several `tessera serve` processes on one PostgreSQL database, as behind a
//! load balancer: the rules that span requests hold across nodes because the
//! database keeps them; a node killed mid-binding loses nothing it
//! acknowledged while the other keeps serving; a node with other keys is
//! refused; a database that goes away is a 503 the node recovers from by
//! itself. Each test has a fresh database (`tessera_store::test_support`):
//! skipped off CI when PostgreSQL is away, failed with CI=true.

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
use tessera_store::test_support::{Proxy, TestDatabase, proxied_url, server_address};
use tokio::sync::Barrier;

use crate::{ServeProcess, TESSERA};

const NAME: &str = "张三";
const ID_NUMBER: &str = "11010519491231002X";
const PASSWORD: &str = "nodes-pass-12";
/// Every wait in these tests ends by this, whatever happens.
const PATIENCE: Duration = Duration::from_secs(30);

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
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl NodeSpec {
    /// A node of `database_url` holding `key` (TESSERA_MASTER_KEY), with a
    /// small pool: nodes x pool_size must fit the server's max_connections.
    fn new(database_url: &str, key: Option<&str>) -> NodeSpec {
        let mut spec = NodeSpec {
            args: vec!["--database-url".to_owned(), database_url.to_owned()],
            env: vec![("TESSERA_DATABASE__POOL_SIZE".to_owned(), "5".to_owned())],
        };
        if let Some(key) = key {
            spec.env.push((ENV_MASTER_KEY.to_owned(), key.to_owned()));
        }
        spec
    }

    fn arg(mut self, name: &str, value: &str) -> NodeSpec {
        self.args.extend([name.to_owned(), value.to_owned()]);
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
            let args: Vec<&str> = spec.args.iter().map(String::as_str).collect();
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
    async fn start(extra: &[(&str, &str)]) -> Option<Cluster> {
        let database = TestDatabase::create().await?;
        let key = master_key();
        let mut spec = NodeSpec::new(database.url(), Some(&key));
        for (name, value) in extra {
            spec = spec.arg(name, value);
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
        let mut command = tokio::process::Command::new(TESSERA);
        command
            .args(["admin", "create-key", "--role", "operator", "--data-dir"])
            .arg(self.dir.path().join("admin"))
            .args(&self.spec.args)
            .env_remove(ENV_MASTER_KEY)
            .env_remove("TESSERA_DATABASE_URL")
            .envs(self.spec.env.iter().map(|(n, v)| (n.as_str(), v.as_str())))
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
    let mut request = client.request(method, url).timeout(PATIENCE);
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
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, headers, value)
}

/// Signs up at `base` and returns a session token made there.
async fn sign_up(client: &Client, base: &str, phone: &str) -> String {
    let (status, _, body) = call(
        client,
        Method::POST,
        format!("{base}/v1/users"),
        None,
        Some(
            &json!({"phone": phone, "real_name": NAME, "id_number": ID_NUMBER,
            "password": PASSWORD}),
        ),
        &[],
    )
    .await;
    assert_eq!(status, 201, "{body}");
    sign_in(client, base, phone, PASSWORD).await.2["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn sign_in(
    client: &Client,
    base: &str,
    phone: &str,
    password: &str,
) -> (u16, HeaderMap, Value) {
    call(
        client,
        Method::POST,
        format!("{base}/v1/sessions"),
        None,
        Some(&json!({"phone": phone, "password": password})),
        &[],
    )
    .await
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

mod postgres {
    use super::*;

    /// 20 binds of different cards for one user (limit 5), released
    /// together and split across the nodes: exactly 5 cards.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_card_limit_holds_across_nodes() {
        let Some(cluster) = Cluster::start(&[("--card-limit", "5")]).await else {
            return;
        };
        let client = Client::new();
        let token = sign_up(&client, cluster.base(0), "13700000001").await;
        // A session made at A is good at B: sessions live in the database.
        let (status, me) = get(&client, cluster.base(1), "/v1/me", &token).await;
        assert_eq!(status, 200, "{me}");

        let barrier = Arc::new(Barrier::new(20));
        let mut tasks = Vec::new();
        for i in 0..20 {
            let (client, barrier, token) = (client.clone(), barrier.clone(), token.clone());
            let base = cluster.base(i).to_owned();
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                bind(&client, &base, &token, &approving_card()).await
            }));
        }
        let mut created = 0;
        for task in tasks {
            let (status, body) = task.await.unwrap();
            match status {
                201 => created += 1,
                422 => assert_eq!(code(&body), "card_limit_reached", "{body}"),
                other => panic!("a bind answered {other}: {body}"),
            }
        }
        assert_eq!(created, 5, "exactly the limit binds");
        for node in 0..2 {
            assert_eq!(
                live_cards(&client, cluster.base(node), &token).await.len(),
                5
            );
        }
        let url = cluster.database.url();
        let active = sql_count(url, "SELECT count(*) FROM cards WHERE status = 'active'").await;
        assert_eq!(active, 5);
    }

    /// 16 binds of one card, released together and split across the
    /// nodes: one card.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_card_binds_once_across_nodes() {
        let Some(cluster) = Cluster::start(&[]).await else {
            return;
        };
        let client = Client::new();
        let token = sign_up(&client, cluster.base(0), "13700000002").await;
        // The slow outcome keeps the first binding in flight while the
        // others arrive.
        let number = sandbox::card_number("622848", 19, Outcome::Slow).unwrap();
        let barrier = Arc::new(Barrier::new(16));
        let mut tasks = Vec::new();
        for i in 0..16 {
            let (client, barrier, token) = (client.clone(), barrier.clone(), token.clone());
            let (base, number) = (cluster.base(i).to_owned(), number.clone());
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                bind(&client, &base, &token, &number).await
            }));
        }
        let mut created = Vec::new();
        for task in tasks {
            let (status, body) = task.await.unwrap();
            match status {
                201 => created.push(body),
                409 => assert!(
                    ["card_already_bound", "request_in_progress"].contains(&code(&body)),
                    "{body}"
                ),
                other => panic!("a double tap answered {other}: {body}"),
            }
        }
        assert_eq!(created.len(), 1, "exactly one tap binds");
        for node in 0..2 {
            let cards = live_cards(&client, cluster.base(node), &token).await;
            assert_eq!(cards.len(), 1);
            assert_eq!(cards[0]["id"], created[0]["id"]);
        }
        let url = cluster.database.url();
        assert_eq!(sql_count(url, "SELECT count(*) FROM cards").await, 1);
    }

    /// One Idempotency-Key sent to both nodes at once: one binding, and
    /// afterwards both nodes replay its answer.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_idempotency_key_binds_once_across_nodes() {
        let Some(cluster) = Cluster::start(&[]).await else {
            return;
        };
        let client = Client::new();
        let token = sign_up(&client, cluster.base(0), "13700000003").await;
        let body = json!({"number": sandbox::card_number("622848", 19, Outcome::Slow).unwrap(),
            "holder_name": NAME});
        let barrier = Arc::new(Barrier::new(8));
        let mut tasks = Vec::new();
        for i in 0..8 {
            let (client, barrier, token) = (client.clone(), barrier.clone(), token.clone());
            let (base, body) = (cluster.base(i).to_owned(), body.clone());
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                call(
                    &client,
                    Method::POST,
                    format!("{base}/v1/cards"),
                    Some(&token),
                    Some(&body),
                    &[("idempotency-key", "both-nodes-1")],
                )
                .await
            }));
        }
        let mut created = Vec::new();
        for task in tasks {
            let (status, _, answer) = task.await.unwrap();
            match status {
                201 => created.push(answer["id"].clone()),
                409 => assert_eq!(code(&answer), "request_in_progress", "{answer}"),
                other => panic!("the key answered {other}: {answer}"),
            }
        }
        assert!(!created.is_empty(), "one request must bind");
        assert!(
            created.iter().all(|id| *id == created[0]),
            "one key, one card: {created:?}"
        );
        for node in 0..2 {
            let (status, _, replay) = call(
                &client,
                Method::POST,
                format!("{}/v1/cards", cluster.base(node)),
                Some(&token),
                Some(&body),
                &[("idempotency-key", "both-nodes-1")],
            )
            .await;
            assert_eq!(status, 201, "{replay}");
            assert_eq!(replay["id"], created[0]);
            assert_eq!(
                live_cards(&client, cluster.base(node), &token).await.len(),
                1
            );
        }
        let url = cluster.database.url();
        assert_eq!(sql_count(url, "SELECT count(*) FROM cards").await, 1);
        assert_eq!(
            sql_count(url, "SELECT count(*) FROM idempotency_keys").await,
            1
        );
    }

    /// Operator switches live in the database: maintenance and the sandbox
    /// issuer's behaviour set at A hold at B on its very next request.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn switches_set_at_one_node_hold_at_the_other_at_once() {
        let Some(cluster) = Cluster::start(&[]).await else {
            return;
        };
        let client = Client::new();
        let operator = cluster.operator_key().await;
        let token = sign_up(&client, cluster.base(1), "13700000004").await;
        let (a, b) = (cluster.base(0), cluster.base(1));

        // The nodes are processes of their own, on the system clock.
        let until = (chrono::Utc::now() + chrono::Duration::minutes(30)).to_rfc3339();
        let (status, _, body) = call(
            &client,
            Method::PUT,
            format!("{a}/v1/admin/maintenance"),
            Some(&operator),
            Some(&json!({"until": until, "message_zh": "维护中", "message_en": "Upgrading"})),
            &[],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let (status, headers, body) = call(
            &client,
            Method::POST,
            format!("{b}/v1/cards"),
            Some(&token),
            Some(&json!({"number": approving_card(), "holder_name": NAME})),
            &[],
        )
        .await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(code(&body), "maintenance", "{body}");
        assert!(headers.contains_key("retry-after"));
        let (status, _, window) = call(
            &client,
            Method::GET,
            format!("{b}/v1/admin/maintenance"),
            Some(&operator),
            None,
            &[],
        )
        .await;
        assert_eq!(status, 200, "{window}");
        assert!(window.to_string().contains("Upgrading"), "{window}");
        // Switched off at B: A binds again at once.
        let (status, _, body) = call(
            &client,
            Method::DELETE,
            format!("{b}/v1/admin/maintenance"),
            Some(&operator),
            None,
            &[],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = bind(&client, a, &token, &approving_card()).await;
        assert_eq!(status, 201, "{body}");

        // The sandbox issuer made to fail at A fails at B, and back.
        for (rate, expected) in [(1.0, 503), (0.0, 201)] {
            let (status, _, body) = call(
                &client,
                Method::PUT,
                format!("{a}/v1/sandbox/issuer"),
                Some(&operator),
                Some(&json!({"latency_ms": 0, "failure_rate": rate})),
                &[],
            )
            .await;
            assert_eq!(status, 200, "{body}");
            let (status, body) = bind(&client, b, &token, &approving_card()).await;
            assert_eq!(status, expected, "{body}");
            if expected == 503 {
                assert_eq!(code(&body), "issuer_unavailable", "{body}");
            }
        }
    }

    /// OTP attempts and sign-in failures count in the database: spread
    /// over both nodes, they still stop at five.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn attempt_counters_are_shared_across_nodes() {
        let Some(cluster) = Cluster::start(&[]).await else {
            return;
        };
        let client = Client::new();
        let phone = "13700000005";
        let token = sign_up(&client, cluster.base(0), phone).await;
        let number = sandbox::card_number("622848", 19, Outcome::Otp).unwrap();
        let (status, pending) = bind(&client, cluster.base(0), &token, &number).await;
        assert_eq!(status, 202, "{pending}");
        let id = pending["id"].as_str().unwrap();
        let (status, sms) = get(
            &client,
            cluster.base(1),
            &format!("/v1/sandbox/sms?phone={phone}"),
            &token,
        )
        .await;
        assert_eq!(status, 200, "{sms}");
        let otp = sms["data"][0]["body"]
            .as_str()
            .unwrap()
            .split(|c: char| !c.is_ascii_digit())
            .find(|part| part.len() == 6)
            .unwrap()
            .to_owned();
        let wrong = if otp == "000000" { "111111" } else { "000000" };
        let verify = |node: usize, code: &str| {
            let url = format!("{}/v1/cards/{id}/verify", cluster.base(node));
            let (client, token, body) = (client.clone(), token.clone(), json!({"otp": code}));
            async move {
                let (status, _, body) =
                    call(&client, Method::POST, url, Some(&token), Some(&body), &[]).await;
                (status, body)
            }
        };
        for (node, left) in [(1, 4), (0, 3), (1, 2), (0, 1)] {
            let (status, body) = verify(node, wrong).await;
            assert_eq!(status, 422, "{body}");
            assert_eq!(code(&body), "otp_incorrect");
            assert_eq!(body["error"]["attempts_left"], left, "{body}");
        }
        let (status, body) = verify(1, wrong).await;
        assert_eq!((status, code(&body)), (429, "too_many_attempts"), "{body}");
        let (status, body) = verify(0, &otp).await;
        assert_eq!((status, code(&body)), (429, "too_many_attempts"), "{body}");

        for node in 0..5 {
            let (status, _, body) =
                sign_in(&client, cluster.base(node), phone, "not-the-password-1").await;
            assert_eq!(status, 401, "{body}");
        }
        let (status, headers, body) = sign_in(&client, cluster.base(1), phone, PASSWORD).await;
        assert_eq!((status, code(&body)), (429, "rate_limited"), "{body}");
        assert!(headers.contains_key("retry-after"));
    }

    /// Every node must hold the key ring the database was written with: a
    /// copied key file joins; no key file, or other keys, is refused with a
    /// message that says what to do.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_node_joins_only_with_the_same_key_ring() {
        let Some(database) = TestDatabase::create().await else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let client = Client::new();
        // A creates a key file in its own data directory.
        let spec = NodeSpec::new(database.url(), None);
        let a = spec.start(dir.path().join("node-a")).await;
        let token = sign_up(&client, &a.base, "13700000006").await;
        let number = approving_card();
        let (status, card) = bind(&client, &a.base, &token, &number).await;
        assert_eq!(status, 201, "{card}");

        // B with A's key file copied in: the same fingerprints, the same cards.
        std::fs::create_dir_all(dir.path().join("node-b")).unwrap();
        std::fs::copy(
            dir.path().join("node-a/tessera.keys"),
            dir.path().join("node-b/tessera.keys"),
        )
        .unwrap();
        let b = spec.start(dir.path().join("node-b")).await;
        let path = format!("/v1/cards/{}", card["id"].as_str().unwrap());
        let (status, body) = get(&client, &b.base, &path, &token).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = bind(&client, &b.base, &token, &number).await;
        assert_eq!((status, code(&body)), (409, "card_already_bound"), "{body}");

        // C without a key file, on a database holding data: refused.
        let (exit, stderr) = spec.refused(&dir.path().join("node-c")).await;
        assert_ne!(exit, Some(0));
        assert!(stderr.contains("is missing"), "{stderr}");
        assert!(!dir.path().join("node-c/tessera.keys").exists());

        // D with other keys: refused before it serves anything.
        let other = master_key();
        let spec_d = NodeSpec::new(database.url(), Some(&other));
        let (exit, stderr) = spec_d.refused(&dir.path().join("node-d")).await;
        assert_ne!(exit, Some(0));
        assert!(
            stderr.contains("key ring is not the one the database was written with"),
            "{stderr}"
        );
        assert!(stderr.contains(ENV_MASTER_KEY), "{stderr}");
        drop((a, b));
    }

    /// SIGKILL one node while both bind under load: every acknowledged
    /// binding is there, no card lacks its token (nor a token its card), and
    /// the other node never stopped answering.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_node_killed_mid_binding_loses_nothing_acknowledged() {
        let Some(mut cluster) = Cluster::start(&[("--card-limit", "10000")]).await else {
            return;
        };
        let client = Client::new();
        let mut tokens = Vec::new();
        for i in 0..6 {
            tokens.push(sign_up(&client, cluster.base(i), &format!("1370001{i:04}")).await);
        }
        let (a, b) = (cluster.base(0).to_owned(), cluster.base(1).to_owned());
        let stop = Arc::new(AtomicBool::new(false));
        let killed = Arc::new(AtomicBool::new(false));
        let acked_at_a = Arc::new(AtomicUsize::new(0));
        let acked_at_b_after_kill = Arc::new(AtomicUsize::new(0));
        let deadline = Instant::now() + PATIENCE;
        let mut tasks = Vec::new();
        // Ten clients on A, six on B, each binding as fast as it can.
        for worker in 0..16 {
            let at_a = worker < 10;
            let base = if at_a { a.clone() } else { b.clone() };
            let token = tokens[worker % tokens.len()].clone();
            let (client, stop, killed) = (client.clone(), stop.clone(), killed.clone());
            let (acked_at_a, acked_at_b_after_kill) =
                (acked_at_a.clone(), acked_at_b_after_kill.clone());
            tasks.push(tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                let mut failures = Vec::new();
                while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
                    let response = client
                        .post(format!("{base}/v1/cards"))
                        .bearer_auth(&token)
                        .json(&json!({"number": approving_card(), "holder_name": NAME}))
                        .timeout(PATIENCE)
                        .send()
                        .await;
                    let was_killed = killed.load(Ordering::SeqCst);
                    let response = match response {
                        Ok(response) => response,
                        // A's requests fail once it is killed: never acknowledged.
                        Err(_) if at_a && was_killed => break,
                        Err(error) => {
                            failures.push(format!("{base}: {error}"));
                            break;
                        }
                    };
                    let status = response.status().as_u16();
                    let Ok(body) = response.json::<Value>().await else {
                        if !(at_a && was_killed) {
                            failures.push(format!("{base}: an unreadable {status} answer"));
                        }
                        break;
                    };
                    if status != 201 {
                        failures.push(format!("{base}: {status} {body}"));
                        continue;
                    }
                    acknowledged.push((token.clone(), body["id"].as_str().unwrap().to_owned()));
                    if at_a {
                        acked_at_a.fetch_add(1, Ordering::SeqCst);
                    } else if killed.load(Ordering::SeqCst) {
                        acked_at_b_after_kill.fetch_add(1, Ordering::SeqCst);
                    }
                }
                (acknowledged, failures)
            }));
        }
        let wait_for = |counter: Arc<AtomicUsize>, at_least: usize| async move {
            while counter.load(Ordering::SeqCst) < at_least && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            counter.load(Ordering::SeqCst) >= at_least
        };
        assert!(
            wait_for(acked_at_a.clone(), 20).await,
            "A should bind under load"
        );
        let node_a = cluster.nodes.remove(0);
        killed.store(true, Ordering::SeqCst);
        tokio::task::spawn_blocking(move || node_a.kill_9())
            .await
            .unwrap();
        assert!(
            wait_for(acked_at_b_after_kill.clone(), 20).await,
            "B should keep binding after A died"
        );
        stop.store(true, Ordering::SeqCst);
        let mut acknowledged = Vec::new();
        for task in tasks {
            let (acks, failures) = task.await.unwrap();
            assert!(failures.is_empty(), "{failures:?}");
            acknowledged.extend(acks);
        }

        // Every acknowledged binding, read at B: the card with its token.
        for (token, card_id) in &acknowledged {
            let (status, card) = get(&client, &b, &format!("/v1/cards/{card_id}"), token).await;
            assert_eq!(status, 200, "acknowledged card {card_id} was lost");
            assert_eq!(card["status"], "active");
            assert_eq!(
                card["token"]["status"], "active",
                "a card without its token"
            );
        }
        // Every card the API shows has its token.
        let mut shown = 0;
        for token in &tokens {
            let (status, cards) = get(&client, &b, "/v1/cards?status=all", token).await;
            assert_eq!(status, 200, "{cards}");
            for card in cards["data"].as_array().unwrap() {
                assert!(card["token"].is_object(), "card without token: {card}");
                shown += 1;
            }
        }
        assert!(shown >= acknowledged.len());
        // And in the database itself: only a reservation (status binding,
        // no vaulted PAN) may lack a token, and no token lacks a finished card.
        let url = cluster.database.url();
        let orphan_cards = sql_count(
            url,
            "SELECT count(*) FROM cards c WHERE c.status <> 'binding' \
             AND NOT EXISTS (SELECT 1 FROM tokens t WHERE t.card_id = c.id)",
        )
        .await;
        assert_eq!(orphan_cards, 0, "a card without its token");
        let vaulted_reservations = sql_count(
            url,
            "SELECT count(*) FROM cards WHERE status = 'binding' \
             AND (pan_ciphertext IS NOT NULL OR EXISTS \
                  (SELECT 1 FROM tokens t WHERE t.card_id = cards.id))",
        )
        .await;
        assert_eq!(vaulted_reservations, 0, "a half-made card");
        let orphan_tokens = sql_count(
            url,
            "SELECT count(*) FROM tokens t WHERE NOT EXISTS \
             (SELECT 1 FROM cards c WHERE c.id = t.card_id AND c.status <> 'binding')",
        )
        .await;
        assert_eq!(orphan_tokens, 0, "a token without its card");
        let active = sql_count(url, "SELECT count(*) FROM cards WHERE status = 'active'").await;
        assert_eq!(usize::try_from(active).unwrap(), shown);
    }

    /// The database goes away behind a TCP proxy (the shared PostgreSQL
    /// server keeps running) and comes back: meanwhile the node answers
    /// 503 database_unavailable with Retry-After within its acquire
    /// timeout; afterwards it serves again by itself, the same process.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_database_that_goes_away_is_503_until_it_returns() {
        let Some(database) = TestDatabase::create().await else {
            return;
        };
        let proxy = Proxy::start(server_address(database.url())).await;
        let key = master_key();
        let spec = NodeSpec::new(&proxied_url(database.url(), proxy.port), Some(&key))
            .env("TESSERA_DATABASE__ACQUIRE_TIMEOUT_SECS", "1");
        let dir = tempfile::tempdir().unwrap();
        let mut node = spec.start(dir.path().join("node")).await;
        let base = node.base.clone();
        let client = Client::new();
        let phone = "13700000007";
        let token = sign_up(&client, &base, phone).await;
        let (status, card) = bind(&client, &base, &token, &approving_card()).await;
        assert_eq!(status, 201, "{card}");

        proxy.cut();
        let started = Instant::now();
        let bind_body = json!({"number": approving_card(), "holder_name": NAME});
        let sign_in_body = json!({"phone": phone, "password": PASSWORD});
        let requests = [
            (Method::GET, "/v1/cards", Some(token.as_str()), None),
            (
                Method::POST,
                "/v1/cards",
                Some(token.as_str()),
                Some(&bind_body),
            ),
            (Method::POST, "/v1/sessions", None, Some(&sign_in_body)),
        ];
        for (method, path, bearer, body) in requests {
            let (status, headers, answer) =
                call(&client, method, format!("{base}{path}"), bearer, body, &[]).await;
            assert_eq!(status, 503, "{path}: {answer}");
            let error = &answer["error"];
            assert_eq!(error["code"], "database_unavailable", "{answer}");
            assert_eq!(error["retryable"], true, "{answer}");
            for field in ["message", "remedy", "trace_id"] {
                assert!(
                    error[field].as_str().is_some_and(|s| !s.is_empty()),
                    "{field} missing in {answer}"
                );
            }
            let retry_after = headers.get("retry-after").map(|v| v.to_str().unwrap());
            assert!(
                retry_after.is_some_and(|v| v.parse::<u64>().is_ok()),
                "{retry_after:?}"
            );
        }
        let (status, _, ready) = call(
            &client,
            Method::GET,
            format!("{base}/readyz"),
            None,
            None,
            &[],
        )
        .await;
        assert_eq!(status, 503, "{ready}");
        let (status, _, _) = call(
            &client,
            Method::GET,
            format!("{base}/healthz"),
            None,
            None,
            &[],
        )
        .await;
        assert_eq!(status, 200, "the process itself is up");
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "each answer should come within the 1 s acquire timeout, not hang"
        );

        proxy.restore();
        let deadline = Instant::now() + PATIENCE;
        loop {
            let (status, body) = get(&client, &base, "/v1/cards", &token).await;
            if status == 200 {
                assert_eq!(body["data"].as_array().unwrap().len(), 1, "{body}");
                break;
            }
            assert_eq!(code(&body), "database_unavailable", "{body}");
            assert!(
                Instant::now() < deadline,
                "not back after the database returned"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let (status, body) = bind(&client, &base, &token, &approving_card()).await;
        assert_eq!(status, 201, "{body}");
        let (status, _, ready) = call(
            &client,
            Method::GET,
            format!("{base}/readyz"),
            None,
            None,
            &[],
        )
        .await;
        assert_eq!(status, 200, "{ready}");
        assert!(
            node.child.try_wait().unwrap().is_none(),
            "recovered without a restart"
        );
        drop(node);
        drop(proxy);
    }
}
