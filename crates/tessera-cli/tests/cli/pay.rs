//! `tessera pay`, the device simulator, run as the real binary against the
//! real server: an approval whose ARPC the "device" verifies, a decline with
//! its reason, a suspended card, the JSON answer, and bad usage.

use std::process::{Output, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tessera_server::issuer::sandbox::Outcome;
use tessera_server::test_support::{TestServer, User, card};

struct Shop {
    server: TestServer,
    user: User,
    merchant_key: String,
    card_id: String,
    token_ref: String,
}

impl Shop {
    /// A server, a user with one card bound from `phone-1`, a merchant key.
    async fn open() -> Shop {
        let server = TestServer::start().await;
        let user = server.user().await;
        let card = server
            .bind_on(&user, &card(Outcome::Approve), "phone-1")
            .await;
        let merchant_key = server.merchant_key(&["SHOP-1"]).await;
        Shop {
            card_id: card["id"].as_str().unwrap().to_owned(),
            token_ref: card["token"]["ref"].as_str().unwrap().to_owned(),
            server,
            user,
            merchant_key,
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
            .env("TESSERA_SERVER", &self.server.base)
            .env("TESSERA_TOKEN", &self.user.token)
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
        self.server.payments(&self.user).await
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
    shop.server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn pay_prints_the_decline_reason_and_exits_1() {
    let shop = Shop::open().await;
    let out = shop.pay("12.51", &["--lang", "en"]).await;
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("error: card_declined"), "{stderr}");
    assert!(
        stderr.contains("There is not enough money on the card"),
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
    let suspend = format!("/v1/tokens/{}/suspend", shop.token_ref);
    let (status, body) = shop
        .server
        .post(&suspend, &shop.user.token, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let out = shop.pay("5.00", &[]).await;
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("error: token_suspended"), "{stderr}");
    assert!(stderr.contains("此卡已被你本人暂停使用"), "{stderr}");
    // Who suspended it, in words rather than the API's list.
    assert!(stderr.contains("暂停方：你本人"), "{stderr}");
    assert!(!stderr.contains("[\"cardholder\"]"), "{stderr}");

    shop.server.stop().await;
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
    shop.server.stop().await;
}
