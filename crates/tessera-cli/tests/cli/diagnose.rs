//! `tessera diagnose` against the real server: the verdict, story, device,
//! next steps and evidence by trace id or by user, in either language or as
//! JSON; masked card numbers only; clear failures without a key.

use std::process::{Output, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use tessera_server::issuer::sandbox::{self, Outcome};
use tessera_server::test_support::{TestServer, purchase};

/// Binds `number` from a Xiaomi on 4G; returns the trace id.
async fn bind(server: &TestServer, token: &str, number: &str) -> String {
    let response = server
        .client
        .post(format!("{}/v1/cards", server.base))
        .bearer_auth(token)
        .json(&json!({"number": number, "holder_name": "张三", "device": {
            "model": "Xiaomi 14", "os": "Android 14", "app_version": "3.2.1",
            "network_type": "4g", "locale": "zh-CN"}}))
        .send()
        .await
        .unwrap();
    response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

async fn tessera(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = tokio::process::Command::new(crate::TESSERA);
    command
        .args(args)
        .stdin(Stdio::null())
        .env_remove("TESSERA_SERVER")
        .env_remove("TESSERA_API_KEY");
    for proxy in ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"] {
        command.env_remove(proxy);
    }
    command.envs(envs.iter().copied());
    tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("tessera did not finish")
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn diagnose_tells_the_story_by_trace_and_by_user() {
    let server = TestServer::start().await;
    let user = server.user().await;
    let (user_id, token) = (user.id, user.token);
    let good = sandbox::card_number("622848", 19, Outcome::Approve).unwrap();
    let mut typo = good.clone();
    let last = typo.pop().unwrap();
    typo.push(char::from(
        b'0' + (last.to_digit(10).unwrap() as u8 + 1) % 10,
    ));
    bind(&server, &token, &typo).await;
    let phone = sandbox::card_number("622848", 19, Outcome::PhoneMismatch).unwrap();
    let trace = bind(&server, &token, &phone).await;

    let out = tessera(
        &[
            "diagnose",
            &trace,
            "--server",
            &server.base,
            "--key",
            &server.support_key,
            "--lang",
            "en",
        ],
        &[],
    )
    .await;
    let printed = text(&out.stdout);
    assert!(out.status.success(), "{printed}\n{}", text(&out.stderr));
    for expected in [
        "verdict: Phone number on file at the bank does not match (phone_on_file)",
        "cause: input  code: phone_mismatch",
        "This person typed a wrong card number, then Agricultural Bank of China said that the phone number did not match the one it has on file.",
        "All attempts came from Xiaomi 14 (Android 14, app 3.2.1), on 4g.",
        "next step for the person:",
        "call the bank or visit a branch",
        "next step for support:",
        "four-element check",
        "evidence, oldest first: (2)",
        "incorrect_number  param number",
        "device: Xiaomi 14 / Android 14 / app 3.2.1 / 4g",
        "issuer: refused:phone_mismatch",
        &format!("{}*********{}", &phone[..6], &phone[15..]),
        &format!("trace id: {trace}"),
    ] {
        assert!(
            printed.contains(expected),
            "missing {expected:?} in:\n{printed}"
        );
    }
    assert!(!printed.contains(&phone) && !printed.contains(&typo));

    // By user, in Chinese, from the environment.
    let out = tessera(
        &["diagnose", "--user", &user_id, "--since", "1h"],
        &[
            ("TESSERA_SERVER", &server.base),
            ("TESSERA_API_KEY", &server.support_key),
        ],
    )
    .await;
    let printed = text(&out.stdout);
    assert!(out.status.success(), "{printed}\n{}", text(&out.stderr));
    assert!(
        printed.contains("判定：与银行预留手机号不一致"),
        "{printed}"
    );
    assert!(printed.contains("此用户输错了卡号，随后中国农业银行提示手机号与银行预留的不一致。"));
    assert!(printed.contains("客服下一步："));

    // --json is the server's answer as is.
    let out = tessera(
        &[
            "diagnose",
            &trace,
            "--json",
            "--server",
            &server.base,
            "--key",
            &server.support_key,
        ],
        &[],
    )
    .await;
    assert!(out.status.success());
    let body: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["verdict"]["kind"], "phone_on_file");
    assert_eq!(body["attempts"].as_array().unwrap().len(), 2);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn diagnose_without_a_key_or_a_trace_says_what_to_give() {
    let server = TestServer::start().await;
    let token = server.user().await.token;
    let out = tessera(
        &[
            "diagnose",
            "req_x",
            "--server",
            &server.base,
            "--lang",
            "en",
        ],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no API key"),
        "{}",
        text(&out.stderr)
    );
    let out = tessera(
        &[
            "diagnose",
            "--server",
            &server.base,
            "--key",
            &server.support_key,
            "--lang",
            "en",
        ],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("give a trace id"));
    // A person's session is not a support key: the server says forbidden.
    let out = tessera(
        &[
            "diagnose",
            "req_x",
            "--server",
            &server.base,
            "--key",
            &token,
            "--lang",
            "en",
        ],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("error: forbidden"),
        "{}",
        text(&out.stderr)
    );
    // An unknown trace id is not found.
    let out = tessera(
        &[
            "diagnose",
            "req_nothing",
            "--server",
            &server.base,
            "--key",
            &server.support_key,
        ],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("error: not_found"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn diagnose_tells_a_payment_by_its_id_or_its_trace() {
    // The risk rules score but stop nothing: the bank's decline is the story.
    let server = TestServer::start_with(|config| {
        config.risk.step_up_at = u32::MAX;
        config.risk.decline_at = u32::MAX;
    })
    .await;
    let user = server.user().await;
    let number = tessera_server::test_support::card(Outcome::Approve);
    let card = server.bind_on(&user, &number, "phone-1").await;
    let mut device = server.device(&user, &card, "phone-1").await;
    let merchant = server.merchant_key(&["M1"]).await;
    let signed = device.sign(&purchase(1251, "M1")).unwrap();
    let (_, body) = server.pay(&merchant, &signed.body).await;
    let payment_id = body["error"]["payment_id"].as_str().unwrap().to_owned();
    let trace = body["error"]["trace_id"].as_str().unwrap().to_owned();

    let out = tessera(
        &[
            "diagnose",
            &payment_id,
            "--server",
            &server.base,
            "--key",
            &server.support_key,
            "--lang",
            "en",
        ],
        &[],
    )
    .await;
    let printed = text(&out.stdout);
    assert!(out.status.success(), "{printed}\n{}", text(&out.stderr));
    for expected in [
        "verdict: Declined by the bank (declined_by_issuer)",
        "code: card_declined",
        &format!("payment id: {payment_id}"),
        &format!("trace id: {trace}"),
        "decline_code insufficient_funds",
        "Put money into the account",
        "payments, oldest first: (1)",
        "12.51 CNY",
        &format!("{}*********{}", &number[..6], &number[15..]),
    ] {
        assert!(
            printed.contains(expected),
            "missing {expected:?} in:\n{printed}"
        );
    }
    assert!(!printed.contains(&number) && !printed.contains(&device.token_pan));

    // By its trace id, or with --payment, in Chinese: the same verdict.
    for args in [
        vec!["diagnose", trace.as_str()],
        vec!["diagnose", "--payment", payment_id.as_str()],
    ] {
        let mut args = args;
        args.extend(["--server", &server.base, "--key", &server.support_key]);
        let out = tessera(&args, &[]).await;
        let printed = text(&out.stdout);
        assert!(out.status.success(), "{printed}\n{}", text(&out.stderr));
        assert!(printed.contains("判定：发卡行拒绝"), "{printed}");
        assert!(
            printed.contains(&format!("支付编号：{payment_id}")),
            "{printed}"
        );
    }
    // An unknown payment is not found.
    let out = tessera(
        &[
            "diagnose",
            "--payment",
            "pay_nothing",
            "--server",
            &server.base,
            "--key",
            &server.support_key,
        ],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("error: not_found"));
    server.stop().await;
}
