//! `tessera pay`, the device simulator, run as the real binary against the
//! real server: an approval whose ARPC the "device" verifies, a decline with
//! its reason, a suspended card, the JSON answer, and bad usage.

use std::process::{Output, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tempfile::TempDir;
use tessera_server::issuer::sandbox::{self, Outcome};
use tessera_server::{Config, RunningServer};

struct Shop {
    base: String,
    running: RunningServer,
    user_token: String,
    merchant_key: String,
    card_id: String,
    token_ref: String,
    http: reqwest::Client,
    _data: TempDir,
}

impl Shop {
    /// A server, a user with one card bound from `phone-1`, a merchant key.
    async fn open() -> Shop {
        let data = tempfile::tempdir().unwrap();
        let opened = tessera_server::open(Config::new_for_test(data.path().to_path_buf()))
            .await
            .unwrap();
        let merchant_key = tessera_server::create_api_key(&opened.state, "merchant", "cli")
            .await
            .unwrap();
        let running = tessera_server::start(opened.state).await.unwrap();
        let base = format!("http://{}", running.addr);
        let http = reqwest::Client::new();
        let post = |path: &str, token: Option<&str>, body: Value| {
            let mut request = http.post(format!("{base}{path}")).json(&body);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            async move {
                let response = request.send().await.unwrap();
                let status = response.status();
                (status, response.json::<Value>().await.unwrap())
            }
        };
        let (status, _) = post(
            "/v1/users",
            None,
            json!({"phone": "13900139000", "real_name": "张三",
                "id_number": "11010519491231002X", "password": "s3cret-pass-1"}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
        let (_, session) = post(
            "/v1/sessions",
            None,
            json!({"phone": "13900139000", "password": "s3cret-pass-1"}),
        )
        .await;
        let user_token = session["token"].as_str().unwrap().to_owned();
        let number = sandbox::card_number("622848", 19, Outcome::Approve).unwrap();
        let (status, card) = post(
            "/v1/cards",
            Some(&user_token),
            json!({"number": number, "holder_name": "张三", "device": {"id": "phone-1"}}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{card}");
        Shop {
            card_id: card["id"].as_str().unwrap().to_owned(),
            token_ref: card["token"]["ref"].as_str().unwrap().to_owned(),
            base,
            running,
            user_token,
            merchant_key,
            http,
            _data: data,
        }
    }

    /// `tessera pay` for this shop's card from its own device.
    async fn pay(&self, amount: &str, extra: &[&str]) -> Output {
        self.pay_from("phone-1", amount, extra).await
    }

    /// `tessera pay` from `device`, with `extra` arguments.
    async fn pay_from(&self, device: &str, amount: &str, extra: &[&str]) -> Output {
        let mut args = vec![
            "pay",
            "--card",
            &self.card_id,
            "--amount",
            amount,
            "--merchant",
            "SHOP-1",
            "--merchant-name",
            "楼下便利店",
            "--device-id",
            device,
        ];
        args.extend_from_slice(extra);
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_tessera"));
        command
            .args(&args)
            .stdin(Stdio::null())
            .env_remove("TESSERA_PASSWORD")
            .env("TESSERA_SERVER", &self.base)
            .env("TESSERA_TOKEN", &self.user_token)
            .env("TESSERA_MERCHANT_KEY", &self.merchant_key);
        for proxy in ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"] {
            command.env_remove(proxy);
        }
        tokio::time::timeout(Duration::from_secs(60), command.output())
            .await
            .expect("tessera pay did not finish")
            .unwrap()
    }

    async fn payments(&self) -> Vec<Value> {
        let response = self
            .http
            .get(format!("{}/v1/payments", self.base))
            .bearer_auth(&self.user_token)
            .send()
            .await
            .unwrap();
        response.json::<Value>().await.unwrap()["data"]
            .as_array()
            .unwrap()
            .clone()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn pay_approves_and_the_device_verifies_the_arpc() {
    let shop = Shop::open().await;
    let out = shop.pay("12.34", &["--lang", "en"]).await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with("Approved 12.34 CNY (card ending "),
        "{stdout}"
    );
    assert!(stdout.contains("authorization code: "), "{stdout}");
    assert!(stdout.contains("ATC: 0001"), "{stdout}");
    assert!(stdout.contains("(verified by the device)"), "{stdout}");
    let records = shop.payments().await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["status"], "approved");
    assert_eq!(records[0]["amount"], 1234);
    assert_eq!(records[0]["merchant_name"], "楼下便利店");
    assert!(stdout.contains(records[0]["id"].as_str().unwrap()));

    // In Chinese, the next key (ATC 2), and the raw answer with --json.
    let out = shop.pay("8", &[]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("支付成功 8.00 CNY"),
        "{}",
        text(&out.stdout)
    );
    assert!(text(&out.stdout).contains("设备校验通过"));
    let out = shop.pay("1", &["--json"]).await;
    assert!(out.status.success());
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["status"], "approved");
    assert_eq!(answer["atc"], "0003");
    shop.running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn pay_prints_the_decline_reason_and_exits_1() {
    let shop = Shop::open().await;
    let out = shop.pay("12.51", &["--lang", "en"]).await;
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("error: card_declined"), "{stderr}");
    assert!(
        stderr.contains("The card has insufficient funds"),
        "{stderr}"
    );
    assert!(
        stderr.contains("decline code: insufficient_funds"),
        "{stderr}"
    );
    assert!(stderr.contains("payment: pay_"), "{stderr}");
    assert!(text(&out.stdout).is_empty());

    // Keys go to the card's own device only.
    let out = shop.pay_from("phone-2", "5.00", &["--lang", "en"]).await;
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("error: domain_mismatch"), "{stderr}");

    // A card its holder suspended says so, and by whom.
    let response = shop
        .http
        .post(format!(
            "{}/v1/tokens/{}/suspend",
            shop.base, shop.token_ref
        ))
        .bearer_auth(&shop.user_token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let out = shop.pay("5.00", &[]).await;
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("error: token_suspended"), "{stderr}");
    assert!(stderr.contains("此卡已被你本人暂停使用"), "{stderr}");
    assert!(stderr.contains("cardholder"), "{stderr}");

    shop.running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn pay_refuses_bad_usage_before_asking_anything() {
    let shop = Shop::open().await;
    let not_valid = |amount: &str| {
        format!(
            "error: amount \"{amount}\" is not valid: write a positive number such as 12.34, with at most 2 decimals"
        )
    };
    for (args, needle) in [
        (vec!["12.345"], not_valid("12.345")),
        (vec!["-1"], not_valid("-1")),
        (vec!["0"], not_valid("0")),
        (
            vec!["10", "--currency", "XXX"],
            "error: unknown currency: use an ISO 4217 code such as CNY".to_owned(),
        ),
    ] {
        let (amount, extra) = args.split_first().unwrap();
        let mut extra = extra.to_vec();
        extra.extend(["--lang", "en"]);
        let out = shop.pay(amount, &extra).await;
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(text(&out.stderr).contains(&needle), "{}", text(&out.stderr));
    }
    assert!(shop.payments().await.is_empty());
    shop.running.stop().await.unwrap();
}
