//! `tessera serve` as a process: durability under `kill -9`, and what its
//! real log output holds.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use reqwest::Method;
use serde_json::{Value, json};
use tessera_server::issuer::sandbox::{self, Outcome};
use tessera_server::test_support::{request, sign_in, sign_up};

use crate::ServeProcess;

/// A binding the server answered 201, and the trace id it answered with.
struct Acknowledged {
    token: String,
    card_id: String,
    trace: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_bindings_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("serve.log");
    let server = ServeProcess::start(&data, &log, &["--load-test", "--card-limit", "10000"]);
    let base = server.base.clone();
    let client = reqwest::Client::new();
    let mut tokens = Vec::new();
    let operator = crate::operator_key(&data);
    for _ in 0..8 {
        tokens.push(sign_up(&client, &base, "张三", &operator).await.token);
    }
    // Sixteen clients bind as fast as they can; every 201 is recorded with
    // its trace id. Until the kill, any other answer or a failed request is
    // a failure; after it, requests fail and were never acknowledged.
    let stop = Arc::new(AtomicBool::new(false));
    let killed = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for worker in 0..16 {
        let (client, base) = (client.clone(), base.clone());
        let (stop, killed) = (stop.clone(), killed.clone());
        let token = tokens[worker % tokens.len()].clone();
        tasks.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            let mut failures = Vec::new();
            let mut sent = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let number = sandbox::card_number("622848", 19, Outcome::Approve).unwrap();
                sent.push(number.clone());
                let response = client
                    .post(format!("{base}/v1/cards"))
                    .bearer_auth(&token)
                    .json(&json!({"number": number, "holder_name": "张三"}))
                    .send()
                    .await;
                let response = match response {
                    Ok(response) => response,
                    Err(_) if killed.load(Ordering::SeqCst) => break,
                    Err(error) => {
                        failures.push(format!("before the kill: {error}"));
                        break;
                    }
                };
                let status = response.status();
                let trace = response
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let body = match response.json::<Value>().await {
                    Ok(body) => body,
                    // Cut off mid-answer by the kill.
                    Err(_) if killed.load(Ordering::SeqCst) => break,
                    Err(error) => {
                        failures.push(format!("an unreadable {status} answer: {error}"));
                        break;
                    }
                };
                if status != 201 {
                    // The server answered: whenever that was, it was alive.
                    failures.push(format!("{status} {body}"));
                    continue;
                }
                acknowledged.push(Acknowledged {
                    token: token.clone(),
                    card_id: body["id"].as_str().unwrap().to_owned(),
                    trace,
                });
            }
            (acknowledged, failures, sent)
        }));
    }
    // Let the load run, bounded, then kill the server mid-flight.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    killed.store(true, Ordering::SeqCst);
    server.kill_9();
    stop.store(true, Ordering::SeqCst);
    let mut acknowledged = Vec::new();
    let mut failures = Vec::new();
    let mut sent = Vec::new();
    for task in tasks {
        let (acks, failed, numbers) = task.await.unwrap();
        acknowledged.extend(acks);
        failures.extend(failed);
        sent.extend(numbers);
    }
    assert!(failures.is_empty(), "{failures:?}");
    assert!(acknowledged.len() > 10, "the load should have bound cards");

    let restarted = ServeProcess::start(&data, &log, &["--load-test", "--card-limit", "10000"]);
    for Acknowledged { token, card_id, .. } in &acknowledged {
        let response = client
            .get(format!("{}/v1/cards/{card_id}", restarted.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            200,
            "acknowledged card {card_id} was lost"
        );
        let card: Value = response.json().await.unwrap();
        assert_eq!(card["status"], "active");
        assert_eq!(
            card["token"]["status"], "active",
            "a card without its token"
        );
    }
    // No half-made card: every card that exists has its token.
    for token in &tokens {
        let url = format!("{}/v1/cards?status=all", restarted.base);
        let (_, _, cards) = request(&client, Method::GET, &url, Some(token), None, &[]).await;
        for card in cards["data"].as_array().unwrap() {
            assert!(card["token"].is_object(), "card without token: {card}");
        }
    }
    drop(restarted);

    // The real log output: a JSON line for each acknowledged binding, with
    // the trace id its answer carried, and no card number.
    let logs = std::fs::read_to_string(&log).unwrap();
    let bound: std::collections::HashSet<String> = logs
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["message"] == "card binding" && line["outcome"] == "success")
        .filter_map(|line| line["trace_id"].as_str().map(str::to_owned))
        .collect();
    for Acknowledged { trace, card_id, .. } in &acknowledged {
        assert!(trace.starts_with("req_"), "{card_id}: trace id {trace:?}");
        assert!(
            bound.contains(trace),
            "no log line for the binding of {card_id} with trace id {trace}"
        );
    }
    for number in &sent {
        assert!(!logs.contains(number.as_str()), "a PAN reached the log");
    }
    for entry in std::fs::read_dir(&data).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        for number in sent.iter().take(200) {
            assert!(
                !bytes.windows(number.len()).any(|w| w == number.as_bytes()),
                "a PAN is in clear in the data directory"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_prints_its_login_test_cards_and_the_sandbox_phone() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(crate::TESSERA)
        .args(["demo", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (lines_tx, lines_rx) = std::sync::mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let next = |rx: &std::sync::mpsc::Receiver<String>| {
        rx.recv_timeout(std::time::Duration::from_secs(30)).unwrap()
    };
    // The demo user's own sign-up code is shown first, as the sandbox
    // phone shows every text.
    let mut first = next(&lines_rx);
    let mut before = Vec::new();
    while !first.starts_with("tessera demo listening on ") {
        before.push(std::mem::replace(&mut first, next(&lines_rx)));
    }
    assert!(
        before
            .iter()
            .any(|line| line.starts_with("sandbox SMS to 138****8000: ")),
        "{before:?}"
    );
    let mut banner = vec![first];
    loop {
        let line = next(&lines_rx);
        let done = line.contains("are shown here");
        banner.push(line);
        if done {
            break;
        }
    }
    let text = banner.join("\n");
    let base = banner[0]
        .strip_prefix("tessera demo listening on ")
        .unwrap()
        .to_owned();
    assert!(
        text.contains("phone 13800138000, password demo-1234"),
        "{text}"
    );
    assert!(text.contains("operator key   tsk_operator_"), "{text}");
    let otp_card = banner
        .iter()
        .find(|l| l.trim_start().starts_with("otp "))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap()
        .to_owned();
    assert!(tessera_core::card::luhn::is_valid(&otp_card));

    let client = reqwest::Client::new();
    let token = sign_in(&client, &base, "13800138000", "demo-1234").await;
    let response = client
        .post(format!("{base}/v1/cards"))
        .bearer_auth(&token)
        .json(&json!({"number": otp_card, "holder_name": "张三"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let sms = next(&lines_rx);
    assert!(sms.starts_with("sandbox SMS to 138****8000: "), "{sms}");
    let _ = child.kill();
    let _ = child.wait();
}

/// `--load-test` takes the binding limits out of a benchmark's way, says so
/// at start, and only on loopback.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_test_raises_the_limits_on_loopback_only() {
    let dir = tempfile::tempdir().unwrap();
    let help = std::process::Command::new(crate::TESSERA)
        .args(["serve", "--help"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("--load-test"));
    // Any other address is refused before anything starts.
    for listen in ["0.0.0.0:0", "192.0.2.1:8080"] {
        let refused = std::process::Command::new(crate::TESSERA)
            .args(["serve", "--load-test", "--listen", listen, "--data-dir"])
            .arg(dir.path().join("refused"))
            .output()
            .unwrap();
        assert!(!refused.status.success());
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains("loopback"), "{stderr}");
        assert!(!dir.path().join("refused").exists());
    }
    let log = dir.path().join("serve.log");
    let server = ServeProcess::start(&dir.path().join("data"), &log, &["--load-test"]);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("WARNING: --load-test"), "{logged}");
    // One person binds more cards than the day's limit (10) and the card
    // limit (5) allow.
    let client = reqwest::Client::new();
    let operator = crate::operator_key(&dir.path().join("data"));
    let user = sign_up(&client, &server.base, "张三", &operator).await;
    for _ in 0..12 {
        let number = sandbox::card_number("622848", 19, Outcome::Approve).unwrap();
        let (status, _, body) = request(
            &client,
            Method::POST,
            &format!("{}/v1/cards", server.base),
            Some(&user.token),
            Some(&json!({"number": number, "holder_name": "张三"})),
            &[],
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
}

/// HTTPS files that are missing stop `tessera serve` before anything is
/// created, with the setting and the file named; one without the other is
/// refused by the flags themselves.
#[test]
fn serve_refuses_missing_tls_files_before_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let cert = dir.path().join("missing.crt");
    let refused = std::process::Command::new(crate::TESSERA)
        .args(["serve", "--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(&cert)
        .arg("--tls-key")
        .arg(dir.path().join("missing.key"))
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("listener.tls_cert") && stderr.contains("missing.crt"),
        "{stderr}"
    );
    assert!(!data.exists());
    let alone = std::process::Command::new(crate::TESSERA)
        .args(["serve", "--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(&cert)
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert!(!alone.status.success());
    assert!(String::from_utf8_lossy(&alone.stderr).contains("--tls-key"));
}

/// What an operator's log collector reads: a maintenance answer is planned
/// and not an error; a binding whose phone dropped logs every line under
/// its request's trace id, including the one that says the client left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_lines_keep_their_trace_id_and_planned_answers_are_no_errors() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("serve.log");
    let server = ServeProcess::start(&data, &log, &[]);
    let client = reqwest::Client::new();
    let operator = crate::operator_key(&data);
    let user = sign_up(&client, &server.base, "张三", &operator).await;

    // A phone gives up on a slow binding after half a second.
    let slow = sandbox::card_number("622848", 19, Outcome::Slow).unwrap();
    let impatient = reqwest::Client::builder()
        .timeout(std::time::Duration::from_millis(500))
        .build()
        .unwrap();
    let dropped = impatient
        .post(format!("{}/v1/cards", server.base))
        .bearer_auth(&user.token)
        .json(&json!({"number": slow, "holder_name": "张三"}))
        .send()
        .await;
    assert!(dropped.unwrap_err().is_timeout());

    // Then maintenance, planned by an operator.
    let until = (chrono::Utc::now() + chrono::Duration::minutes(30)).to_rfc3339();
    let (status, _, body) = request(
        &client,
        Method::PUT,
        &format!("{}/v1/admin/maintenance", server.base),
        Some(&operator),
        Some(&json!({"until": until, "message_zh": "维护中", "message_en": "Upgrading"})),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let number = sandbox::card_number("622848", 19, Outcome::Approve).unwrap();
    let (status, _, refused) = request(
        &client,
        Method::POST,
        &format!("{}/v1/cards", server.base),
        Some(&user.token),
        Some(&json!({"number": number, "holder_name": "张三"})),
        &[],
    )
    .await;
    assert_eq!(status, 503, "{refused}");
    let maintenance_trace = refused["error"]["trace_id"].as_str().unwrap().to_owned();

    // The slow binding ends 2 s after it began, client or not.
    let lines = wait_for_log_line(&log, "the client left before the answer").await;
    let trace_of = |line: &Value| line["span"]["trace_id"].as_str().map(str::to_owned);
    let left = lines
        .iter()
        .find(|line| line["message"] == "the client left before the answer")
        .expect("the server noted that the client left");
    let left_trace = trace_of(left).expect("that line has its request's trace id");
    let binding = lines
        .iter()
        .find(|line| line["message"] == "card binding" && line["outcome"] == "success")
        .expect("the dropped binding ran to its end");
    assert_eq!(trace_of(binding), Some(left_trace));

    let answered = lines
        .iter()
        .find(|line| {
            trace_of(line).as_deref() == Some(maintenance_trace.as_str())
                && line["message"] == "answered during maintenance"
        })
        .expect("the maintenance answer is logged with its trace id");
    assert_eq!(answered["level"], "INFO", "{answered}");
    let errors: Vec<&Value> = lines
        .iter()
        .filter(|line| line["level"] == "ERROR")
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}

/// The human log format, written to a file: no terminal colour codes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn human_logs_into_a_file_carry_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("serve.log");
    let mut child = std::process::Command::new(crate::TESSERA)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .env("RUST_LOG", "debug,sqlx=warn,hyper=info")
        .env_remove("TESSERA_MASTER_KEY")
        .env_remove("TESSERA_DATABASE_URL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let base = crate::listening_base(child.stdout.take().unwrap()).unwrap();
    let (status, _, _) = request(
        &reqwest::Client::new(),
        Method::GET,
        &format!("{base}/v1/nothing"),
        None,
        None,
        &[],
    )
    .await;
    assert_eq!(status, 404);
    child.kill().unwrap();
    child.wait().unwrap();
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("answered"), "{logged}");
    assert!(!logged.contains('\u{1b}'), "{logged}");
}

/// The log's JSON lines once one has this message, waiting up to 10 s.
async fn wait_for_log_line(log: &std::path::Path, message: &str) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let lines: Vec<Value> = std::fs::read_to_string(log)
            .unwrap()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect();
        if lines.iter().any(|line| line["message"] == message)
            || std::time::Instant::now() > deadline
        {
            return lines;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
