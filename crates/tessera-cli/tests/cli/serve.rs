//! `tessera serve` as a process: durability under `kill -9`, and what its
//! real log output holds.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};
use tessera_server::issuer::sandbox::{self, Outcome};

use crate::ServeProcess;

async fn sign_up(client: &reqwest::Client, base: &str, phone: &str) -> String {
    let password = "durable-pass-9";
    let response = client
        .post(format!("{base}/v1/users"))
        .json(&json!({"phone": phone, "real_name": "张三",
            "id_number": "11010519491231002X", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let session: Value = client
        .post(format!("{base}/v1/sessions"))
        .json(&json!({"phone": phone, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    session["token"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_bindings_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("serve.log");
    let server = ServeProcess::start(&data, &log, &["--card-limit", "10000"]);
    let base = server.base.clone();
    let client = reqwest::Client::new();
    let mut tokens = Vec::new();
    for i in 0..8 {
        tokens.push(sign_up(&client, &base, &format!("1370000{i:04}")).await);
    }
    // Sixteen clients bind as fast as they can; every 201 is recorded.
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for worker in 0..16 {
        let (client, base, stop) = (client.clone(), base.clone(), stop.clone());
        let token = tokens[worker % tokens.len()].clone();
        tasks.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            let mut sent = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let number = sandbox::card_number("622848", 19, Outcome::Approve).unwrap();
                sent.push(number.clone());
                let response = client
                    .post(format!("{base}/v1/cards"))
                    .bearer_auth(&token)
                    .json(&json!({"number": number, "holder_name": "张三"}))
                    .send()
                    .await;
                // After the kill, requests fail: those were never acknowledged.
                let Ok(response) = response else { break };
                if response.status() == 201
                    && let Ok(card) = response.json::<Value>().await
                {
                    acknowledged.push((token.clone(), card["id"].as_str().unwrap().to_owned()));
                }
            }
            (acknowledged, sent)
        }));
    }
    // Let the load run, bounded, then kill the server mid-flight.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    server.kill_9();
    stop.store(true, Ordering::Relaxed);
    let mut acknowledged = Vec::new();
    let mut sent = Vec::new();
    for task in tasks {
        let (acks, numbers) = task.await.unwrap();
        acknowledged.extend(acks);
        sent.extend(numbers);
    }
    assert!(acknowledged.len() > 10, "the load should have bound cards");

    let restarted = ServeProcess::start(&data, &log, &["--card-limit", "10000"]);
    for (token, card_id) in &acknowledged {
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
        let cards: Value = client
            .get(format!("{}/v1/cards?status=all", restarted.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for card in cards["data"].as_array().unwrap() {
            assert!(card["token"].is_object(), "card without token: {card}");
        }
    }
    drop(restarted);

    // The real log output: JSON lines with trace ids, and no card number.
    let logs = std::fs::read_to_string(&log).unwrap();
    assert!(logs.contains("\"trace_id\""));
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
