//! `tessera keys emv-generation add | retire | renew` and the generations
//! `tessera keys status` lists, on a data directory (and database) a real
//! server wrote: retiring refuses while live tokens use the generation,
//! renewing moves them to another, and no output shows key material.

use std::fs;
use std::process::{Output, Stdio};
use std::time::Duration;

use tessera_core::vault::KeyFile;
use tessera_server::issuer::sandbox::Outcome;
use tessera_server::test_support::{Backend, TestServer, card, postgres_available};

async fn tessera(server: &TestServer, args: &[&str]) -> Output {
    let mut command = tokio::process::Command::new(crate::TESSERA);
    command
        .args(args)
        .arg("--data-dir")
        .arg(server.data_dir())
        .stdin(Stdio::null())
        .env_remove("TESSERA_MASTER_KEY")
        .env_remove("TESSERA_DATA_DIR")
        .env_remove("TESSERA_DATABASE_URL");
    if let Some(database) = &server.database {
        command.env("TESSERA_DATABASE_URL", database.url());
    }
    tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("tessera did not finish")
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every base64 string in the key file: the keys and roots no output may show.
fn key_strings(server: &TestServer) -> Vec<String> {
    let path = KeyFile::in_dir(&server.data_dir()).path().to_path_buf();
    let json: serde_json::Value = serde_json::from_slice(&fs::read(path).unwrap()).unwrap();
    let mut keys = vec![json["lookup_root"].as_str().unwrap().to_owned()];
    for entry in json["data_keys"].as_array().unwrap() {
        keys.push(entry["key"].as_str().unwrap().to_owned());
    }
    for entry in json["emv_generations"].as_array().into_iter().flatten() {
        if let Some(root) = entry["root"].as_str() {
            keys.push(root.to_owned());
        }
    }
    keys
}

fn assert_shows_no_key(server: &TestServer, output: &Output) {
    let shown = format!("{}{}", text(&output.stdout), text(&output.stderr));
    for key in key_strings(server) {
        assert!(!shown.contains(&key), "key material in: {shown}");
    }
}

async fn generations_are_added_listed_and_retired_when_unused(backend: Backend) {
    let mut server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let (status, body) = server.bind(&user, &card(Outcome::Approve)).await;
    assert!(status.is_success(), "{body}");
    // The commands work on the data while no node runs.
    server.server.take().unwrap().stop().await.unwrap();
    let key_file = KeyFile::in_dir(&server.data_dir()).path().to_path_buf();

    let status = tessera(&server, &["keys", "status"]).await;
    assert!(status.status.success(), "{}", text(&status.stderr));
    let shown = text(&status.stdout);
    assert!(shown.contains("EMV key generations:"), "{shown}");
    assert!(shown.contains("1  lookup root  1 live token(s)"), "{shown}");

    let added = tessera(&server, &["keys", "emv-generation", "add"]).await;
    assert!(added.status.success(), "{}", text(&added.stderr));
    assert_eq!(text(&added.stdout), "2\n");
    assert!(
        text(&added.stderr).contains("set payments.imk_generation = 2"),
        "{}",
        text(&added.stderr)
    );
    assert_shows_no_key(&server, &added);
    let ring = KeyFile::in_dir(&server.data_dir()).load().unwrap();
    assert!(ring.has_emv_generation(1) && ring.has_emv_generation(2));

    let status = tessera(&server, &["keys", "status"]).await;
    let shown = text(&status.stdout);
    assert!(shown.contains("1  lookup root  1 live token(s)"), "{shown}");
    assert!(shown.contains("2  own root  created "), "{shown}");
    assert!(shown.contains("0 live token(s)"), "{shown}");
    assert_shows_no_key(&server, &status);

    // Generation 1 still has a live token: refused, the file unchanged.
    let file_before = fs::read(&key_file).unwrap();
    let refused = tessera(
        &server,
        &["keys", "emv-generation", "retire", "--generation", "1"],
    )
    .await;
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("EMV key generation 1 still has 1 live token(s)"),
        "{}",
        text(&refused.stderr)
    );
    assert_eq!(fs::read(&key_file).unwrap(), file_before);
    let unknown = tessera(
        &server,
        &["keys", "emv-generation", "retire", "--generation", "9"],
    )
    .await;
    assert!(!unknown.status.success());
    assert!(
        text(&unknown.stderr).contains("has no EMV key generation 9"),
        "{}",
        text(&unknown.stderr)
    );
    assert_eq!(fs::read(&key_file).unwrap(), file_before);

    // Generation 2 issued nothing: it goes.
    let retired = tessera(
        &server,
        &["keys", "emv-generation", "retire", "--generation", "2"],
    )
    .await;
    assert!(retired.status.success(), "{}", text(&retired.stderr));
    assert_shows_no_key(&server, &retired);
    let ring = KeyFile::in_dir(&server.data_dir()).load().unwrap();
    assert!(ring.has_emv_generation(1) && !ring.has_emv_generation(2));

    // The changes are in the audit.
    server.restart(|_| {}).await.unwrap();
    let (status, body) = server
        .get("/v1/admin/audit-events", &server.operator_key)
        .await;
    assert!(status.is_success(), "{body}");
    let actions: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|event| event["action"].as_str())
        .collect();
    assert!(actions.contains(&"emv_generation.added"), "{actions:?}");
    assert!(actions.contains(&"emv_generation.retired"), "{actions:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_generations_are_added_listed_and_retired_when_unused() {
    generations_are_added_listed_and_retired_when_unused(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_generations_are_added_listed_and_retired_when_unused() {
    if postgres_available().await.is_some() {
        generations_are_added_listed_and_retired_when_unused(Backend::Postgres).await;
    }
}

async fn a_generation_s_tokens_are_renewed_then_it_is_retired(backend: Backend) {
    let mut server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    for _ in 0..2 {
        let (status, body) = server.bind(&user, &card(Outcome::Approve)).await;
        assert!(status.is_success(), "{body}");
    }
    server.server.take().unwrap().stop().await.unwrap();
    let added = tessera(&server, &["keys", "emv-generation", "add"]).await;
    assert!(added.status.success(), "{}", text(&added.stderr));

    // Under a generation the key ring lacks, or its own: refused.
    for (to, says) in [
        ("9", "payments.imk_generation = 9"),
        ("1", "already issued under EMV key generation 1"),
    ] {
        let refused = tessera(
            &server,
            &[
                "keys",
                "emv-generation",
                "renew",
                "--generation",
                "1",
                "--to",
                to,
            ],
        )
        .await;
        assert!(!refused.status.success());
        let said = text(&refused.stderr);
        assert!(said.contains(says), "{said}");
    }
    let renewed = tessera(
        &server,
        &[
            "keys",
            "emv-generation",
            "renew",
            "--generation",
            "1",
            "--to",
            "2",
        ],
    )
    .await;
    assert!(renewed.status.success(), "{}", text(&renewed.stderr));
    let said = text(&renewed.stdout);
    assert!(
        said.contains("Renewed 2 live token(s) of EMV key generation 1 under generation 2"),
        "{said}"
    );
    assert!(said.contains("retire --generation 1"), "{said}");
    assert_shows_no_key(&server, &renewed);

    let status = tessera(&server, &["keys", "status"]).await;
    let shown = text(&status.stdout);
    assert!(shown.contains("1  lookup root  0 live token(s)"), "{shown}");
    assert!(shown.contains("2 live token(s)"), "{shown}");
    let retired = tessera(
        &server,
        &["keys", "emv-generation", "retire", "--generation", "1"],
    )
    .await;
    assert!(retired.status.success(), "{}", text(&retired.stderr));

    server
        .restart(|config| config.payments.imk_generation = 2)
        .await
        .unwrap();
    let (status, body) = server
        .get("/v1/admin/audit-events", &server.operator_key)
        .await;
    assert!(status.is_success(), "{body}");
    let renewals = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["action"] == "emv_generation.renewed")
        .count();
    assert_eq!(renewals, 1, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_a_generation_s_tokens_are_renewed_then_it_is_retired() {
    a_generation_s_tokens_are_renewed_then_it_is_retired(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_a_generation_s_tokens_are_renewed_then_it_is_retired() {
    if postgres_available().await.is_some() {
        a_generation_s_tokens_are_renewed_then_it_is_retired(Backend::Postgres).await;
    }
}
