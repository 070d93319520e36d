//! Key rotation with the real binary: `tessera serve` killed with SIGKILL
//! in the middle of re-encryption, started again, and going on from where
//! it was until every record is under the new version; then `tessera keys
//! status` and `tessera keys retire`, which never print key material.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;

use crate::{ServeProcess, TESSERA, operator_key};

fn tessera(args: &[&str], data: &Path) -> Output {
    Command::new(TESSERA)
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env_remove("TESSERA_MASTER_KEY")
        .env_remove("TESSERA_DATABASE_URL")
        .env_remove("TESSERA_DATA_DIR")
        .output()
        .unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

async fn rotation(client: &reqwest::Client, server: &ServeProcess, key: &str) -> Value {
    client
        .get(format!("{}/v1/admin/keys/rotation", server.base))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Small batches and a quick refresh, so the walk is long enough to be
/// interrupted and a restarted node takes it up at once.
const ENV: [(&str, &str); 2] = [
    ("TESSERA_VAULT__REENCRYPT_BATCH", "10"),
    ("TESSERA_VAULT__REFRESH_SECS", "1"),
];

#[tokio::test]
async fn reencryption_goes_on_after_a_sigkill_until_every_record_is_resealed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let output = tessera(&["seed", "--cards", "600", "--batch", "200"], &data);
    assert!(output.status.success(), "{}", text(&output));
    let key = operator_key(&data);
    let client = reqwest::Client::new();
    let log = dir.path().join("serve.log");

    let server = ServeProcess::start_env(&data, &log, &[], &ENV);
    let before = rotation(&client, &server, &key).await;
    assert_eq!(before["active_version"], 1, "{before}");
    let total = before["versions"][0]["records"].as_u64().unwrap();
    assert!(total >= 1200, "{before}");
    let rotated: Value = client
        .post(format!("{}/v1/admin/keys/rotate", server.base))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rotated["version"], 2, "{rotated}");

    // Killed once some, not all, values are resealed.
    let mut killed_at = None;
    for _ in 0..2000 {
        let now = rotation(&client, &server, &key).await;
        if now["resealed"].as_u64().unwrap() > 0 {
            killed_at = Some(now);
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill_9();
    let killed_at = killed_at.expect("re-encryption never started");
    assert_eq!(killed_at["finished"], false, "{killed_at}");

    // Started again: the walk goes on from its recorded place.
    let server = ServeProcess::start_env(&data, &log, &[], &ENV);
    let resumed = rotation(&client, &server, &key).await;
    assert_eq!(resumed["active_version"], 2, "{resumed}");
    assert!(
        resumed["resealed"].as_u64().unwrap() >= killed_at["resealed"].as_u64().unwrap(),
        "progress lost: {killed_at} then {resumed}"
    );
    let mut finished = None;
    for _ in 0..1200 {
        let now = rotation(&client, &server, &key).await;
        if now["finished"] == true {
            finished = Some(now);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let finished = finished.expect("re-encryption did not finish after the restart");
    assert_eq!(finished["records_left"], 0, "{finished}");
    assert_eq!(finished["versions"][0]["records"], 0, "{finished}");
    assert_eq!(finished["versions"][1]["records"], total, "{finished}");
    drop(server);

    let status = tessera(&["keys", "status"], &data);
    assert!(status.status.success(), "{}", text(&status));
    let shown = text(&status);
    assert!(shown.contains("re-encryption: finished"), "{shown}");
    assert!(shown.contains("tessera keys retire --version 1"), "{shown}");

    let retired = tessera(&["keys", "retire", "--version", "1"], &data);
    assert!(retired.status.success(), "{}", text(&retired));
    let again = tessera(&["keys", "retire", "--version", "2"], &data);
    assert!(!again.status.success());
    assert!(
        text(&again).contains("is the active one"),
        "{}",
        text(&again)
    );

    // No key of the key file, nor a wrapped one, in anything printed.
    let key_file: Value =
        serde_json::from_slice(&std::fs::read(data.join("tessera.keys")).unwrap()).unwrap();
    let mut secrets: Vec<String> = key_file["data_keys"]
        .as_array()
        .unwrap()
        .iter()
        .chain(key_file["root_keys"].as_array().unwrap())
        .map(|entry| entry["key"].as_str().unwrap().to_owned())
        .collect();
    secrets.push(key_file["lookup_root"].as_str().unwrap().to_owned());
    let printed = format!(
        "{}{}{}{}",
        shown,
        text(&retired),
        std::fs::read_to_string(&log).unwrap(),
        finished
    );
    for secret in &secrets {
        assert!(!printed.contains(secret.as_str()), "key material printed");
    }
}

#[test]
fn rotate_from_the_command_line_waits_with_progress_then_rotates_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let output = tessera(&["seed", "--cards", "50", "--batch", "50"], &data);
    assert!(output.status.success(), "{}", text(&output));
    let rotated = tessera(&["keys", "rotate", "--wait"], &data);
    assert!(rotated.status.success(), "{}", text(&rotated));
    let shown = text(&rotated);
    assert!(shown.contains("Data key version 2 is active"), "{shown}");
    assert!(
        shown.contains("Re-encryption finished: 100 values resealed"),
        "{shown}"
    );
    let root = tessera(&["keys", "rotate-root"], &data);
    assert!(root.status.success(), "{}", text(&root));
    assert!(
        text(&root).contains("Root key version 2 wraps all 2"),
        "{}",
        text(&root)
    );
    // The new root alone in the file, and the server starts with it.
    let status = tessera(&["keys", "status"], &data);
    let shown = text(&status);
    assert!(status.status.success(), "{shown}");
    assert!(shown.contains("root version:   2"), "{shown}");
    assert!(shown.contains("root 2"), "{shown}");
    let server = ServeProcess::start(&data, &dir.path().join("serve.log"), &[]);
    drop(server);
}

/// A key file of format 1 (no root key), as every data directory held
/// before root keys: the fixed ring of the vault's pinned tests.
const FORMAT_1_KEY_FILE: &str = r#"{
  "format": "tessera-keys",
  "format_version": 1,
  "active_version": 1,
  "data_keys": [
    {
      "version": 1,
      "created_at": "2025-01-01T00:00:00+00:00",
      "key": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    }
  ],
  "lookup_root": "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=",
  "checksum": "0287bf35c9a7aab215b577af5073057e748b0f021bd5cb707571b3246bd55caa"
}
"#;

#[test]
fn a_format_1_key_file_gains_a_root_and_keeps_its_data_key() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let key_file = data.join("tessera.keys");
    std::fs::write(&key_file, FORMAT_1_KEY_FILE).unwrap();
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();

    let output = tessera(&["seed", "--cards", "10", "--batch", "10"], &data);
    assert!(output.status.success(), "{}", text(&output));
    let upgraded: Value = serde_json::from_slice(&std::fs::read(&key_file).unwrap()).unwrap();
    assert_eq!(upgraded["format_version"], 2, "{upgraded}");
    assert_eq!(upgraded["root_version"], 1, "{upgraded}");
    assert_eq!(
        upgraded["data_keys"][0]["key"],
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    );
    assert_eq!(
        std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // The cards sealed under the file's data key move to a new version.
    let rotated = tessera(&["keys", "rotate", "--wait"], &data);
    assert!(rotated.status.success(), "{}", text(&rotated));
    assert!(
        text(&rotated).contains("Re-encryption finished: 20 values resealed"),
        "{}",
        text(&rotated)
    );
}
