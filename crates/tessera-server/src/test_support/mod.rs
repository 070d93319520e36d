//! For tests only (cargo feature `test-support`): the real server started
//! on a loopback port 0, on a SQLite file in a temporary directory or on a
//! fresh PostgreSQL database (`tessera_store::test_support`), with operator
//! and support keys and a clock the test moves; signing up users against
//! it or any other server; `assert_error` for error answers. Used by the
//! HTTP suite, the CLI suite and the server's benches. What `tessera bench`
//! shares with them (signing up, the device that signs payments) is in
//! `crate::client`, which is compiled always.

// Test fixtures: failing loudly is their job.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod http;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;
pub use tessera_store::test_support::{TestDatabase, postgres_available};

pub use self::http::{
    Api, PASSWORD, assert_error, id_number, id_number_with_sequence, phone, purchase, request,
    sign_in, sign_up, sign_up_code,
};
pub use crate::client::{Device, Purchase, Signed, User};
use crate::flows::lifecycle::issuer_signature;
use crate::issuer::sandbox::{self, Outcome};
use crate::{AppState, Config, RunningServer, StartError, TestClock};

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

/// Every log line the test servers of this process write, for the hygiene
/// scans. The first server installs the subscriber, so that no line is
/// missed.
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

/// An issuer key as `tessera admin create-key --role issuer` prints it.
#[derive(Clone, Debug)]
pub struct IssuerKey {
    pub id: String,
    pub key: String,
    pub signing_secret: String,
}

/// A 19-digit Agricultural Bank of China debit card asking for `outcome`.
pub fn card(outcome: Outcome) -> String {
    sandbox::card_number("622848", 19, outcome).unwrap()
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

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> TestServer {
        TestServer::start_on(Backend::Sqlite, adjust).await
    }

    /// A server on `backend`; for PostgreSQL, on a fresh database whose URL
    /// is in `config.database_url` when `adjust` runs. Its log lines go to
    /// `log_buffer`.
    pub async fn start_on(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestServer {
        log_buffer();
        TestServer::start_unlogged(backend, adjust).await
    }

    /// `start_on` without installing the log capture: for benches, where
    /// formatting every line would be part of what is measured.
    pub async fn start_unlogged(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::new_for_test(dir.path().join("data"));
        let database = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => {
                let database = TestDatabase::create()
                    .await
                    .expect("PostgreSQL is away: check postgres_available() first");
                config.database_url = Some(database.url().to_owned());
                Some(database)
            }
        };
        adjust(&mut config);
        let clock = TestClock::default();
        let opened = crate::open_with_clock(config, clock.clock()).await.unwrap();
        let state = opened.state;
        let operator_key = crate::create_api_key(&state, "operator", "tests", &[])
            .await
            .unwrap()
            .key;
        let support_key = crate::create_api_key(&state, "support", "tests", &[])
            .await
            .unwrap()
            .key;
        let server = crate::start(state).await.unwrap();
        TestServer {
            base: server.base_url(),
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
    pub fn state(&self) -> &AppState {
        &self.server.as_ref().unwrap().state
    }

    /// The token `token_ref` as stored now.
    pub async fn stored_token(&self, token_ref: &str) -> tessera_store::TokenRecord {
        self.state()
            .store
            .payment_token(tessera_store::TokenLookup::Ref(token_ref))
            .await
            .unwrap()
            .unwrap()
            .token
    }

    pub fn data_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    /// A new API key with `role` (operator or support: the roles without a
    /// scope).
    pub async fn key(&self, role: &str) -> String {
        crate::create_api_key(self.state(), role, "tests", &[])
            .await
            .unwrap()
            .key
    }

    /// A new merchant key paying as `merchant_ids`.
    pub async fn merchant_key(&self, merchant_ids: &[&str]) -> String {
        let scope: Vec<String> = merchant_ids.iter().map(|&m| m.to_owned()).collect();
        crate::create_api_key(self.state(), "merchant", "tests", &scope)
            .await
            .unwrap()
            .key
    }

    /// A new issuer key acting for `issuer_codes`, with its signing secret.
    pub async fn issuer_key(&self, issuer_codes: &[&str]) -> IssuerKey {
        let scope: Vec<String> = issuer_codes.iter().map(|&c| c.to_owned()).collect();
        let created = crate::create_api_key(self.state(), "issuer", "tests", &scope)
            .await
            .unwrap();
        IssuerKey {
            id: created.id,
            key: created.key,
            signing_secret: created.signing_secret.unwrap(),
        }
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
        let url = format!("{}{}", self.base, path);
        request(&self.client, method, &url, bearer, body, headers).await
    }

    /// A call that may carry a confirmation (`Tessera-Verification`).
    pub async fn confirmed(
        &self,
        method: Method,
        path: &str,
        bearer: &str,
        body: Option<Value>,
        verification: Option<&str>,
    ) -> (StatusCode, Value) {
        let headers: Vec<(&str, &str)> = verification
            .map(|v| ("Tessera-Verification", v))
            .into_iter()
            .collect();
        let (status, _, value) = self
            .call(method, path, Some(bearer), body.as_ref(), &headers)
            .await;
        (status, value)
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
        sign_up(&self.client, &self.base, real_name, &self.operator_key).await
    }

    /// A sign-up code texted to `phone`, as the sandbox phone shows it.
    pub async fn sign_up_code(&self, phone: &str) -> String {
        sign_up_code(&self.client, &self.base, phone, &self.operator_key).await
    }

    /// `POST /v1/users` with `body`: status and body.
    pub async fn create_user(&self, body: &Value) -> (StatusCode, Value) {
        let (status, _, value) = self
            .call(Method::POST, "/v1/users", None, Some(body), &[])
            .await;
        (status, value)
    }

    /// A sign-up body for `real_name` and `id_number` on a fresh phone,
    /// with that phone's code.
    pub async fn sign_up_body(&self, real_name: &str, id_number: &str) -> Value {
        let phone = phone();
        let code = self.sign_up_code(&phone).await;
        json!({"phone": phone, "real_name": real_name, "id_number": id_number,
            "password": PASSWORD, "sms_code": code})
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

    /// Binds an approved card from `device_id` and returns its card body.
    pub async fn bind_on(&self, user: &User, number: &str, device_id: &str) -> Value {
        let (status, body) = self
            .post(
                "/v1/cards",
                &user.token,
                json!({"number": number, "holder_name": user.real_name,
                    "device": {"id": device_id, "model": "Xiaomi 14"}}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// The cards the user holds (live ones).
    pub async fn cards(&self, user: &User) -> Vec<Value> {
        let (status, body) = self.get("/v1/cards", &user.token).await;
        assert_eq!(status, StatusCode::OK);
        body["data"].as_array().unwrap().clone()
    }

    /// `POST /v1/tokens/{token_ref}/keys` with `body`.
    pub async fn keys(&self, user: &User, token_ref: &str, body: Value) -> (StatusCode, Value) {
        self.post(&format!("/v1/tokens/{token_ref}/keys"), &user.token, body)
            .await
    }

    /// The device `device_id` holding the default batch of keys for the
    /// token of `card` (a card body).
    pub async fn device(&self, user: &User, card: &Value, device_id: &str) -> Device {
        let token_ref = card["token"]["ref"].as_str().unwrap();
        let (status, body) = self
            .keys(user, token_ref, json!({"device_id": device_id}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        Device::from_keys(&body).unwrap()
    }

    /// Submits a payment as the merchant.
    pub async fn pay(&self, merchant_key: &str, body: &Value) -> (StatusCode, Value) {
        self.post("/v1/payments", merchant_key, body.clone()).await
    }

    /// The user's payments.
    pub async fn payments(&self, user: &User) -> Vec<Value> {
        let (status, body) = self.get("/v1/payments", &user.token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"].as_array().unwrap().clone()
    }

    /// Sends an issuer event signed with the issuer key's signing secret,
    /// made `age_secs` ago on the server's clock; returns status and body.
    pub async fn issuer_event(
        &self,
        issuer: &IssuerKey,
        event: &Value,
        age_secs: i64,
    ) -> (StatusCode, Value) {
        let t = self.now().timestamp() - age_secs;
        self.issuer_event_signed(&issuer.key, &issuer.signing_secret, event, t)
            .await
    }

    /// Sends an issuer event presenting `bearer`, signed at `t` with
    /// `signing_secret`.
    pub async fn issuer_event_signed(
        &self,
        bearer: &str,
        signing_secret: &str,
        event: &Value,
        t: i64,
    ) -> (StatusCode, Value) {
        let raw = event.to_string();
        let signature = issuer_signature(signing_secret.as_bytes(), t, raw.as_bytes()).unwrap();
        let response = self
            .client
            .post(format!("{}/v1/issuer/events", self.base))
            .bearer_auth(bearer)
            .header("Tessera-Signature", format!("t={t},v1={signature}"))
            .header("Content-Type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
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

    /// A confirmation to unbind `card_id`, as a person with no payment
    /// password gets one: a code texted, then sent back.
    pub async fn confirm_unbind(&self, user: &User, card_id: &str) -> String {
        self.confirm(user, json!({"purpose": "unbind_card", "card_id": card_id}))
            .await
    }

    /// A confirmation for `ask` (purpose and scope) by a person with no
    /// payment password: asked, texted, confirmed with the code.
    pub async fn confirm(&self, user: &User, mut ask: Value) -> String {
        let (status, _, body) = self
            .call(
                Method::POST,
                "/v1/me/verifications",
                Some(&user.token),
                Some(&ask),
                &[],
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        ask["sms_code"] = json!(self.latest_otp(user).await);
        let (status, _, body) = self
            .call(
                Method::POST,
                "/v1/me/verifications",
                Some(&user.token),
                Some(&ask),
                &[],
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["verification"].as_str().unwrap().to_owned()
    }

    /// Unbinds `card_id` as the person does: confirmed first.
    pub async fn unbind(&self, user: &User, card_id: &str) -> (StatusCode, Value) {
        let verification = self.confirm_unbind(user, card_id).await;
        let (status, _, body) = self
            .call(
                Method::DELETE,
                &format!("/v1/cards/{card_id}"),
                Some(&user.token),
                None,
                &[("Tessera-Verification", verification.as_str())],
            )
            .await;
        (status, body)
    }

    /// Stops the server and starts it again on the same data directory,
    /// database and clock, with `adjust` applied to a fresh test
    /// configuration: an operator's restart with a changed configuration.
    /// API keys made before stay valid (they are in the database).
    pub async fn restart(&mut self, adjust: impl FnOnce(&mut Config)) -> Result<(), StartError> {
        if let Some(server) = self.server.take() {
            server.stop().await.unwrap();
        }
        let mut config = Config::new_for_test(self.data_dir());
        config.database_url = self.database.as_ref().map(|d| d.url().to_owned());
        adjust(&mut config);
        let opened = crate::open_with_clock(config, self.clock.clock()).await?;
        let server = crate::start(opened.state).await?;
        self.base = server.base_url();
        self.server = Some(server);
        Ok(())
    }

    pub async fn stop(mut self) -> TempDir {
        if let Some(server) = self.server.take() {
            server.stop().await.unwrap();
        }
        self.dir
    }
}
