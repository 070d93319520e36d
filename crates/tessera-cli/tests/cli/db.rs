//! `tessera db backup` and `restore` as an operator runs them: a copy taken
//! while several clients bind through the real server holds every binding
//! acknowledged before it began, and serves again from a fresh data
//! directory; restore refuses a server's live database, an existing one
//! without `--force`, and a file that is no Tessera database. PostgreSQL
//! goes through pg_dump and pg_restore, as the README says.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use reqwest::Method;
use serde_json::{Value, json};
use tessera_core::vault::key_file::KEY_FILE_NAME;
use tessera_server::issuer::sandbox::{self, Outcome};
use tessera_server::test_support::{request, sign_in, sign_up};
use tessera_store::test_support::{TestDatabase, postgres_required};

use crate::{ServeProcess, TESSERA};

fn tessera(args: &[&str], data_dir: &Path) -> Output {
    Command::new(TESSERA)
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("TESSERA_MASTER_KEY")
        .env_remove("TESSERA_DATABASE_URL")
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Binds as fast as it can with `token` until `stop`; every card the
/// server answered 201, in order.
async fn bind_until(
    client: reqwest::Client,
    base: String,
    token: String,
    stop: Arc<AtomicBool>,
    acknowledged: Arc<std::sync::Mutex<Vec<(String, String)>>>,
) {
    while !stop.load(Ordering::SeqCst) {
        let number = sandbox::card_number("622848", 19, Outcome::Approve).unwrap();
        let response = client
            .post(format!("{base}/v1/cards"))
            .bearer_auth(&token)
            .json(&json!({"number": number, "holder_name": "张三"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let card: Value = response.json().await.unwrap();
        let id = card["id"].as_str().unwrap().to_owned();
        acknowledged.lock().unwrap().push((token.clone(), id));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_bind_load_restores_every_acknowledged_binding() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("serve.log");
    let operator = crate::operator_key(&data);
    let server = ServeProcess::start(&data, &log, &["--load-test", "--card-limit", "10000"]);
    let client = reqwest::Client::new();
    let mut users = Vec::new();
    for _ in 0..4 {
        users.push(sign_up(&client, &server.base, "张三", &operator).await);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut binders = Vec::new();
    for worker in 0..8 {
        binders.push(tokio::spawn(bind_until(
            client.clone(),
            server.base.clone(),
            users[worker % users.len()].token.clone(),
            stop.clone(),
            acknowledged.clone(),
        )));
    }
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    // Everything acknowledged by now must be in the copy; the binders go
    // on while it is taken.
    let before: Vec<(String, String)> = acknowledged.lock().unwrap().clone();
    assert!(before.len() > 5, "the load should have bound cards");
    let copy = dir.path().join("tessera.db.backup");
    let (copy_arg, data_arg) = (copy.clone(), data.clone());
    let backup = tokio::task::spawn_blocking(move || {
        tessera(
            &["db", "backup", "--out", copy_arg.to_str().unwrap()],
            &data_arg,
        )
    })
    .await
    .unwrap();
    let during = acknowledged.lock().unwrap().len() - before.len();
    stop.store(true, Ordering::SeqCst);
    for binder in binders {
        binder.await.unwrap();
    }
    assert!(backup.status.success(), "{}", stderr(&backup));
    assert!(
        stderr(&backup).contains("pages (100%)"),
        "{}",
        stderr(&backup)
    );
    assert!(
        stderr(&backup).contains("tessera keys backup"),
        "the key file is named"
    );
    eprintln!(
        "{} bindings before the copy, {during} while it ran",
        before.len()
    );

    // Restoring over the live database is refused, with or without --force.
    let refused = tessera(&["db", "restore", "--from", copy.to_str().unwrap()], &data);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("--force"), "{}", stderr(&refused));
    let refused = tessera(
        &["db", "restore", "--force", "--from", copy.to_str().unwrap()],
        &data,
    );
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("in use"), "{}", stderr(&refused));
    drop(server);

    // A file that is no database is refused, and nothing is written.
    let fresh = dir.path().join("fresh");
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all, only words").unwrap();
    let refused = tessera(&["db", "restore", "--from", junk.to_str().unwrap()], &fresh);
    assert!(!refused.status.success());
    assert!(
        !fresh.join("tessera.db").exists(),
        "a refused restore writes nothing"
    );

    let restored = tessera(&["db", "restore", "--from", copy.to_str().unwrap()], &fresh);
    assert!(restored.status.success(), "{}", stderr(&restored));
    std::fs::copy(data.join(KEY_FILE_NAME), fresh.join(KEY_FILE_NAME)).unwrap();
    let log = dir.path().join("restored.log");
    let restarted = ServeProcess::start(&fresh, &log, &["--load-test", "--card-limit", "10000"]);
    // Sessions came with the copy; signing in again proves the accounts did.
    let mut tokens = std::collections::HashMap::new();
    for user in &users {
        let token = sign_in(&client, &restarted.base, &user.phone, &user.password).await;
        tokens.insert(user.token.clone(), token);
    }
    for (old_token, card_id) in &before {
        let url = format!("{}/v1/cards/{card_id}", restarted.base);
        let (status, _, card) = request(
            &client,
            Method::GET,
            &url,
            Some(&tokens[old_token]),
            None,
            &[],
        )
        .await;
        assert_eq!(
            status, 200,
            "acknowledged card {card_id} is missing: {card}"
        );
        assert_eq!(card["status"], "active");
        assert_eq!(card["token"]["status"], "active");
    }
}

/// The README's PostgreSQL backup: pg_dump -Fc of one database, pg_restore
/// into an empty one, and the key file beside it; the restored database
/// serves the same account and card.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_round_trips_through_pg_dump_and_pg_restore() {
    let have_tools = ["pg_dump", "pg_restore"]
        .iter()
        .all(|tool| Command::new(tool).arg("--version").output().is_ok());
    if !have_tools {
        assert!(
            !postgres_required(),
            "pg_dump and pg_restore are needed when PostgreSQL is required"
        );
        eprintln!("skipped: pg_dump or pg_restore is not installed");
        return;
    }
    let (Some(source), Some(target)) = (TestDatabase::create().await, TestDatabase::create().await)
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("serve.log");
    let url_flag = ["--database-url", source.url()];
    let operator = {
        let output = Command::new(TESSERA)
            .args(["admin", "create-key", "--role", "operator", "--data-dir"])
            .arg(&data)
            .args(url_flag)
            .env_remove("TESSERA_MASTER_KEY")
            .env_remove("TESSERA_DATABASE_URL")
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    };
    let server = ServeProcess::start(&data, &log, &url_flag);
    let client = reqwest::Client::new();
    let user = sign_up(&client, &server.base, "张三", &operator).await;
    let number = sandbox::card_number("622848", 19, Outcome::Approve).unwrap();
    let (status, _, card) = request(
        &client,
        Method::POST,
        &format!("{}/v1/cards", server.base),
        Some(&user.token),
        Some(&json!({"number": number, "holder_name": "张三"})),
        &[],
    )
    .await;
    assert_eq!(status, 201, "{card}");
    drop(server);

    let dump = dir.path().join("tessera.dump");
    let dumped = Command::new("pg_dump")
        .args(["-Fc", "-f"])
        .arg(&dump)
        .arg(source.url())
        .output()
        .unwrap();
    assert!(dumped.status.success(), "{}", stderr(&dumped));
    let restored = Command::new("pg_restore")
        .args(["--no-owner", "-d", target.url()])
        .arg(&dump)
        .output()
        .unwrap();
    assert!(restored.status.success(), "{}", stderr(&restored));

    let restarted = ServeProcess::start(&data, &log, &["--database-url", target.url()]);
    let token = sign_in(&client, &restarted.base, &user.phone, &user.password).await;
    let url = format!(
        "{}/v1/cards/{}",
        restarted.base,
        card["id"].as_str().unwrap()
    );
    let (status, _, again) = request(&client, Method::GET, &url, Some(&token), None, &[]).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["status"], "active");
    assert_eq!(again["last4"], card["last4"]);
    drop(restarted);
    source.drop_now().await;
    target.drop_now().await;
}
