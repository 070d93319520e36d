//! End-to-end payments over HTTP against a real server on a loopback port
//! with its SQLite file (synchronous=FULL, group commit): what one payment
//! costs when everything runs, and what 16 at once cost. Run:
//! cargo bench -p tessera-server --bench payments
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use divan::Bencher;
use serde_json::{Value, json};
use tessera_core::emv::{Arqc, Atc, Cdol1, SessionKey};
use tessera_server::issuer::sandbox::{self, Outcome};
use tessera_server::{Config, RunningServer};

fn main() {
    divan::main();
}

/// A running server, a user's token with a device, a merchant key.
struct Shop {
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
    base: String,
    user_token: String,
    merchant_key: String,
    token_ref: String,
    device: Mutex<Device>,
    _server: RunningServer,
    _dir: tempfile::TempDir,
}

struct Device {
    token_pan: String,
    token_expiry: String,
    aip: [u8; 2],
    iad: Vec<u8>,
    keys: VecDeque<(u16, SessionKey)>,
}

impl Shop {
    fn open() -> Arc<Shop> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (server, merchant_key) = runtime.block_on(async {
            let opened = tessera_server::open(Config::new_for_test(dir.path().join("data")))
                .await
                .unwrap();
            let merchant_key = tessera_server::create_api_key(&opened.state, "merchant", "bench")
                .await
                .unwrap();
            (
                tessera_server::start(opened.state).await.unwrap(),
                merchant_key,
            )
        });
        let base = format!("http://{}", server.addr);
        let http = reqwest::Client::new();
        let (user_token, token_ref) = runtime.block_on(async {
            let post = |path: &str, token: Option<&str>, body: Value| {
                let mut request = http.post(format!("{base}{path}")).json(&body);
                if let Some(token) = token {
                    request = request.bearer_auth(token);
                }
                async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
            };
            post(
                "/v1/users",
                None,
                json!({"phone": "13900139000", "real_name": "张三",
                    "id_number": "11010519491231002X", "password": "bench-pass-1"}),
            )
            .await;
            let session = post(
                "/v1/sessions",
                None,
                json!({"phone": "13900139000", "password": "bench-pass-1"}),
            )
            .await;
            let token = session["token"].as_str().unwrap().to_owned();
            let number = sandbox::card_number("622848", 19, Outcome::Approve).unwrap();
            let card = post(
                "/v1/cards",
                Some(&token),
                json!({"number": number, "holder_name": "张三"}),
            )
            .await;
            (token, card["token"]["ref"].as_str().unwrap().to_owned())
        });
        let shop = Shop {
            runtime,
            http,
            base,
            user_token,
            merchant_key,
            token_ref,
            device: Mutex::new(Device {
                token_pan: String::new(),
                token_expiry: String::new(),
                aip: [0; 2],
                iad: Vec::new(),
                keys: VecDeque::new(),
            }),
            _server: server,
            _dir: dir,
        };
        Arc::new(shop)
    }

    /// The next payment the device signs, fetching 50 more keys when out.
    async fn next_payment(&self, amount: u64) -> Value {
        let needs_keys = self.device.lock().unwrap().keys.is_empty();
        if needs_keys {
            let body: Value = self
                .http
                .post(format!("{}/v1/tokens/{}/keys", self.base, self.token_ref))
                .bearer_auth(&self.user_token)
                .json(&json!({"count": 50}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let mut device = self.device.lock().unwrap();
            device.token_pan = body["token_pan"].as_str().unwrap().to_owned();
            device.token_expiry = body["token_expiry"].as_str().unwrap().to_owned();
            device.aip = hex::decode(body["profile"]["aip"].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap();
            device.iad = hex::decode(body["profile"]["iad"].as_str().unwrap()).unwrap();
            for key in body["keys"].as_array().unwrap() {
                let atc = u16::from_str_radix(key["atc"].as_str().unwrap(), 16).unwrap();
                let bytes = hex::decode(key["session_key"].as_str().unwrap()).unwrap();
                device
                    .keys
                    .push_back((atc, SessionKey::from_bytes(&bytes).unwrap()));
            }
        }
        let mut device = self.device.lock().unwrap();
        let (atc, key) = device.keys.pop_front().unwrap();
        let date = Utc::now().date_naive();
        let data = Cdol1 {
            amount,
            other_amount: 0,
            terminal_country: 156,
            tvr: [0; 5],
            currency: 156,
            date,
            transaction_type: 0,
            unpredictable_number: [1, 2, 3, 4],
            aip: device.aip,
            atc: Atc::new(atc),
            iad: Some(device.iad.clone()),
        }
        .to_bytes()
        .unwrap();
        json!({
            "token_pan": device.token_pan, "token_expiry": device.token_expiry,
            "amount": amount, "currency": "CNY", "transaction_date": date.to_string(),
            "merchant_id": "BENCH", "channel": "nfc", "atc": format!("{atc:04X}"),
            "unpredictable_number": "01020304",
            "cryptogram": Arqc::generate(&key, &data).to_string(),
        })
    }

    async fn pay(&self, body: &Value) {
        let response = self
            .http
            .post(format!("{}/v1/payments", self.base))
            .bearer_auth(&self.merchant_key)
            .json(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    }
}

/// One payment at a time: sign, POST, wait for the durable answer.
#[divan::bench(sample_count = 50)]
fn payment_http_one_at_a_time(bencher: Bencher) {
    let shop = Shop::open();
    bencher.bench_local(|| {
        shop.runtime.block_on(async {
            let body = shop.next_payment(1234).await;
            shop.pay(&body).await;
        });
    });
}

/// Sixteen payments in flight at once (sixteen ATCs of one token): the
/// batch's time; divide by 16 for a payment's share.
#[divan::bench(sample_count = 30)]
fn payment_http_16_at_once(bencher: Bencher) {
    let shop = Shop::open();
    bencher.bench_local(|| {
        shop.runtime.block_on(async {
            let mut bodies = Vec::new();
            for _ in 0..16 {
                bodies.push(shop.next_payment(1234).await);
            }
            let mut tasks = Vec::new();
            for body in bodies {
                let shop = shop.clone();
                tasks.push(tokio::spawn(async move { shop.pay(&body).await }));
            }
            for task in tasks {
                task.await.unwrap();
            }
        });
    });
}
