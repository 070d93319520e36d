//! The `tessera` client commands, run as the real binary against an HTTP
//! server on a loopback port: what they send, what they print, how they exit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::process::{Output, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

const FULL_NUMBER: &str = "6225880137654321";
const CVC: &str = "739";

/// One request as the server saw it.
#[derive(Debug)]
struct Seen {
    method: String,
    path: String,
    /// Lower-cased names.
    headers: HashMap<String, String>,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

// Replace with the real server once tessera-server lands: this throwaway
// HTTP/1.1 server exists only because the real one is not on main yet. It
// answers the given (status, body) pairs in order, one connection each, and
// hands back the requests it saw.
async fn canned_server(answers: Vec<(u16, String)>) -> (String, JoinHandle<Vec<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let mut seen = Vec::new();
        for (status, body) in answers {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut raw = Vec::new();
            let mut chunk = [0u8; 4096];
            let head_end = loop {
                let n = socket.read(&mut chunk).await.unwrap();
                assert!(n > 0, "client closed before the end of the headers");
                raw.extend_from_slice(&chunk[..n]);
                if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                    break at;
                }
            };
            let head = String::from_utf8(raw[..head_end].to_vec()).unwrap();
            let mut lines = head.split("\r\n");
            let mut request_line = lines.next().unwrap().split(' ');
            let method = request_line.next().unwrap().to_owned();
            let path = request_line.next().unwrap().to_owned();
            let headers: HashMap<String, String> = lines
                .filter_map(|line| line.split_once(':'))
                .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
                .collect();
            let length: usize = headers
                .get("content-length")
                .map_or(0, |value| value.parse().unwrap());
            while raw.len() < head_end + 4 + length {
                let n = socket.read(&mut chunk).await.unwrap();
                assert!(n > 0, "client closed before the end of the body");
                raw.extend_from_slice(&chunk[..n]);
            }
            let request_body = String::from_utf8(raw[head_end + 4..].to_vec()).unwrap();
            let response = format!(
                "HTTP/1.1 {status} Canned\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(response.as_bytes()).await.unwrap();
            socket.shutdown().await.unwrap();
            seen.push(Seen {
                method,
                path,
                headers,
                body: request_body,
            });
        }
        seen
    });
    (base, task)
}

async fn requests(task: JoinHandle<Vec<Seen>>) -> Vec<Seen> {
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("the CLI sent fewer requests than expected")
        .unwrap()
}

async fn tessera(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_tessera"));
    command
        .args(args)
        .stdin(Stdio::null())
        .env_remove("TESSERA_SERVER")
        .env_remove("TESSERA_TOKEN")
        .env_remove("TESSERA_PASSWORD");
    for proxy in ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"] {
        command.env_remove(proxy);
    }
    command.envs(envs.iter().copied());
    tokio::time::timeout(Duration::from_secs(30), command.output())
        .await
        .expect("tessera did not finish")
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn card(status: &str) -> Value {
    json!({
        "id": "card_1", "status": status, "brand": "unionpay",
        "issuer": {"code": "CMB", "name_zh": "招商银行", "name_en": "China Merchants Bank"},
        "card_type": "debit", "country": "CN", "first6": "622588", "last4": "4321",
        "expiry_month": 8, "expiry_year": 2029, "holder_name": "张三", "par": "P1",
        "token": null, "is_default": false, "created_at": "2026-11-02T08:00:00Z"
    })
}

#[tokio::test]
async fn bind_sends_the_fields_and_prints_only_the_masked_card() {
    let mut pending = card("pending_verification");
    pending["next_action"] =
        json!({"type": "otp", "sent_to": "138****8000", "expires_at": "2026-11-02T08:05:00Z"});
    let (base, server) = canned_server(vec![(202, pending.to_string())]).await;

    let out = tessera(
        &[
            "cards",
            "bind",
            "--number",
            FULL_NUMBER,
            "--holder-name",
            "张三",
            "--expiry",
            "08/29",
            "--cvc",
            CVC,
            "--bank-phone",
            "13800138000",
            "--idempotency-key",
            "bind-1",
            "--device-model",
            "Pixel 8",
            "--server",
            &base,
            "--lang",
            "en",
        ],
        &[("TESSERA_TOKEN", "tok_abc")],
    )
    .await;

    let seen = requests(server).await;
    let request = &seen[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/v1/cards")
    );
    assert_eq!(request.header("authorization"), Some("Bearer tok_abc"));
    assert_eq!(request.header("idempotency-key"), Some("bind-1"));
    assert_eq!(request.header("accept-language"), Some("en"));
    let body = request.json();
    assert_eq!(body["number"], FULL_NUMBER);
    assert_eq!(body["holder_name"], "张三");
    assert_eq!(
        (&body["expiry_month"], &body["expiry_year"]),
        (&json!("08"), &json!("29"))
    );
    assert_eq!(body["cvc"], CVC);
    assert_eq!(body["bank_phone"], "13800138000");
    assert_eq!(body["device"], json!({"model": "Pixel 8", "locale": "en"}));

    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains("622588 ******** 4321"), "{stdout}");
    assert!(stdout.contains("China Merchants Bank"), "{stdout}");
    assert!(stdout.contains("138****8000"), "{stdout}");
    assert!(
        stdout.contains("tessera cards verify card_1 --otp CODE"),
        "{stdout}"
    );
    for output in [&stdout, &stderr] {
        assert!(
            !output.contains(FULL_NUMBER),
            "full number printed: {output}"
        );
        assert!(!output.contains(CVC), "CVC printed: {output}");
    }
}

#[tokio::test]
async fn an_api_error_prints_code_message_remedy_trace_id_and_exits_1() {
    let error = json!({"error": {
        "type": "card_error", "code": "otp_incorrect", "param": "otp",
        "message": "The code is not right", "remedy": "Check the SMS and type the code again",
        "cause": "input", "retryable": true, "trace_id": "tr_42",
        "doc_url": "/help/errors/otp_incorrect", "attempts_left": 2
    }});
    let (base, server) = canned_server(vec![(422, error.to_string())]).await;

    let out = tessera(
        &[
            "cards", "verify", "card_1", "--otp", "123456", "--server", &base, "--token",
            "tok_abc", "--lang", "en",
        ],
        &[],
    )
    .await;

    let seen = requests(server).await;
    assert_eq!(seen[0].path, "/v1/cards/card_1/verify");
    assert_eq!(seen[0].json(), json!({"otp": "123456"}));
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    for expected in [
        "error: otp_incorrect",
        "The code is not right",
        "Check the SMS and type the code again",
        "attempts left: 2",
        "trace id: tr_42",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
    assert!(out.stdout.is_empty());
}

#[tokio::test]
async fn json_prints_the_body_as_is_and_still_exits_non_zero_on_errors() {
    let list = json!({"data": [card("active")], "next_cursor": null}).to_string();
    let error = json!({"error": {"type": "invalid_request_error", "code": "not_found",
        "message": "没有找到这张卡", "remedy": "请检查卡片 ID", "trace_id": "tr_7"}})
    .to_string();
    let (base, server) = canned_server(vec![(200, list.clone()), (404, error.clone())]).await;

    let listed = tessera(
        &["cards", "list", "--json", "--server", &base, "--token", "t"],
        &[],
    )
    .await;
    let missing = tessera(
        &[
            "cards", "--json", "show", "card_9", "--server", &base, "--token", "t",
        ],
        &[],
    )
    .await;

    let seen = requests(server).await;
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("GET", "/v1/cards")
    );
    assert_eq!(seen[1].path, "/v1/cards/card_9");
    assert_eq!(seen[1].header("accept-language"), Some("zh-CN"));
    assert!(listed.status.success());
    assert_eq!(text(&listed.stdout).trim_end(), list);
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(text(&missing.stdout).trim_end(), error);
}

#[tokio::test]
async fn login_prints_the_token_alone() {
    let session =
        json!({"token": "tok_xyz", "expires_at": "2026-11-03T08:00:00Z", "user_id": "usr_1"});
    let (base, server) = canned_server(vec![(201, session.to_string())]).await;

    let out = tessera(
        &["login", "--phone", "13800138000", "--server", &base],
        &[("TESSERA_PASSWORD", "s3cret-pass")],
    )
    .await;

    let seen = requests(server).await;
    assert_eq!(seen[0].path, "/v1/sessions");
    assert_eq!(
        seen[0].json(),
        json!({"phone": "13800138000", "password": "s3cret-pass"})
    );
    assert_eq!(seen[0].header("authorization"), None);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), "tok_xyz\n");
    assert!(!text(&out.stderr).contains("s3cret-pass"));
}

#[tokio::test]
async fn connection_refused_names_the_server_and_exits_2() {
    // A port that was just free: nothing listens on it now.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let base = format!("http://{addr}");

    let out = tessera(
        &[
            "cards", "list", "--server", &base, "--token", "t", "--lang", "en",
        ],
        &[],
    )
    .await;

    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains(&base), "{stderr}");
    assert!(stderr.contains("tessera serve"), "{stderr}");
    assert!(out.stdout.is_empty());
}
