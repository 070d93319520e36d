//! End-to-end payments over HTTP against a real server on a loopback port
//! with its SQLite file (synchronous=FULL, group commit): what one payment
//! costs when everything runs, and what 16 at once cost. Run:
//! cargo bench -p tessera-server --bench payments
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use divan::Bencher;
use serde_json::{Value, json};
use tessera_server::client::{Device, Purchase};
use tessera_server::issuer::sandbox::Outcome;
use tessera_server::test_support::{Backend, TestServer, User, card};

fn main() {
    divan::main();
}

/// A running server, a user's token with a device, a merchant key.
struct Shop {
    runtime: tokio::runtime::Runtime,
    server: TestServer,
    user: User,
    merchant_key: String,
    token_ref: String,
    device: Mutex<Option<Device>>,
}

impl Shop {
    fn open() -> Arc<Shop> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (server, user, merchant_key, token_ref) = runtime.block_on(async {
            // No log capture: formatting log lines is not what is measured.
            let server = TestServer::start_unlogged(Backend::Sqlite, |_| {}).await;
            let user = server.user().await;
            let (status, card) = server.bind(&user, &card(Outcome::Approve)).await;
            assert_eq!(status, reqwest::StatusCode::CREATED, "{card}");
            let merchant_key = server.merchant_key(&["BENCH"]).await;
            let token_ref = card["token"]["ref"].as_str().unwrap().to_owned();
            (server, user, merchant_key, token_ref)
        });
        Arc::new(Shop {
            runtime,
            server,
            user,
            merchant_key,
            token_ref,
            device: Mutex::new(None),
        })
    }

    /// The next payment the device signs, fetching 50 more keys when out.
    async fn next_payment(&self, amount: u64) -> Value {
        let needs_keys = self
            .device
            .lock()
            .unwrap()
            .as_ref()
            .is_none_or(|device| device.keys.is_empty());
        if needs_keys {
            let (status, keys) = self
                .server
                .keys(&self.user, &self.token_ref, json!({"count": 50}))
                .await;
            assert_eq!(status, reqwest::StatusCode::OK, "{keys}");
            *self.device.lock().unwrap() = Some(Device::from_keys(&keys).unwrap());
        }
        let purchase = Purchase {
            unpredictable_number: Some([1, 2, 3, 4]),
            ..Purchase::new(amount, "BENCH")
        };
        let mut device = self.device.lock().unwrap();
        device.as_mut().unwrap().sign(&purchase).unwrap().body
    }

    async fn pay(&self, body: &Value) {
        let (status, answer) = self.server.pay(&self.merchant_key, body).await;
        assert_eq!(status, reqwest::StatusCode::CREATED, "{answer}");
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
