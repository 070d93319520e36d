//! `tessera admin create-key` and `tessera admin keys`: keys bound to their
//! owners at creation, listed without secrets, revoked by id; and
//! `tessera admin close-account`.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn admin(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(crate::TESSERA)
        .arg("admin")
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("TESSERA_MASTER_KEY")
        .env_remove("TESSERA_DATABASE_URL")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn keys_json(data_dir: &Path) -> Value {
    let listed = admin(data_dir, &["keys", "list", "--json"]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    serde_json::from_slice(&listed.stdout).unwrap()
}

#[test]
fn keys_are_made_for_their_owners_listed_without_secrets_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Refused, each with what to do, and nothing made.
    for (args, says) in [
        (&["create-key", "--role", "issuer"][..], "--issuer CODE"),
        (&["create-key", "--role", "merchant"][..], "--merchant ID"),
        (
            &["create-key", "--role", "issuer", "--issuer", "NOPE"][..],
            "unknown issuer code \"NOPE\"",
        ),
        (
            &["create-key", "--role", "merchant", "--merchant", "bad id"][..],
            "merchant id",
        ),
        (
            &[
                "create-key",
                "--role",
                "issuer",
                "--issuer",
                "CCB",
                "--merchant",
                "SHOP-1",
            ][..],
            "--merchant is for merchant keys",
        ),
        (
            &["create-key", "--role", "operator", "--merchant", "SHOP-1"][..],
            "--merchant for merchant keys",
        ),
    ] {
        let output = admin(&data, args);
        assert!(!output.status.success(), "{args:?}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(!text(&output.stdout).contains("tsk_"), "{args:?}");
    }
    assert_eq!(keys_json(&data)["data"], serde_json::json!([]));

    // An issuer key for two issuers: the key and, on the next line, its
    // signing secret.
    let issuer = admin(
        &data,
        &[
            "create-key",
            "--role",
            "issuer",
            "--issuer",
            "ccb",
            "--issuer",
            "ICBC",
        ],
    );
    assert!(issuer.status.success(), "{}", text(&issuer.stderr));
    let lines: Vec<String> = text(&issuer.stdout).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].starts_with("tsk_issuer_"));
    assert!(lines[1].starts_with("tsg_"));
    let merchant = admin(
        &data,
        &[
            "create-key",
            "--role",
            "merchant",
            "--merchant",
            "SHOP-1",
            "--holder",
            "收银组 王芳",
            "--json",
        ],
    );
    assert!(merchant.status.success(), "{}", text(&merchant.stderr));
    let merchant: Value = serde_json::from_slice(&merchant.stdout).unwrap();
    assert_eq!(merchant["role"], "merchant");
    assert_eq!(merchant["scope"], serde_json::json!(["SHOP-1"]));
    assert_eq!(merchant["signing_secret"], Value::Null);
    assert_eq!(merchant["holder"], "收银组 王芳");
    let merchant_id = merchant["id"].as_str().unwrap();

    // Listed with their scopes, never a secret.
    let listed = admin(&data, &["keys", "list"]);
    let table = text(&listed.stdout);
    assert!(table.contains("CCB,ICBC"), "{table}");
    assert!(table.contains(merchant_id), "{table}");
    // The holder named, and "-" for the key made without one.
    assert!(table.contains("收银组 王芳"), "{table}");
    assert_eq!(keys_json(&data)["data"][1]["holder"], "收银组 王芳");
    assert_eq!(keys_json(&data)["data"][0]["holder"], "");
    for secret in [
        &lines[0],
        &lines[1],
        &merchant["key"].as_str().unwrap().to_owned(),
    ] {
        assert!(!table.contains(secret.as_str()));
        assert!(!keys_json(&data).to_string().contains(secret.as_str()));
    }

    // Revoked by id; an unknown id fails and changes nothing.
    let revoked = admin(&data, &["keys", "revoke", merchant_id]);
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));
    assert!(text(&revoked.stdout).contains(&format!("revoked {merchant_id}")));
    let unknown = admin(&data, &["keys", "revoke", "key_nosuchkey00000000"]);
    assert!(!unknown.status.success());
    assert!(text(&unknown.stderr).contains("no API key has the id"));
    let keys = keys_json(&data);
    let states: Vec<(String, bool)> = keys["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["role"].as_str().unwrap().to_owned(),
                k["revoked_at"].is_string(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [("issuer".to_owned(), false), ("merchant".to_owned(), true)]
    );
}

/// `tessera admin close-account`: an unknown id and a blank reason close
/// nothing; a closed account cannot sign in, and the closure is the
/// command line's, with its reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_closes_an_account_from_the_command_line() {
    use tessera_server::test_support::{request, sign_up};

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("serve.log");
    let operator = crate::operator_key(&data);
    let server = crate::ServeProcess::start(&data, &log, &[]);
    let client = reqwest::Client::new();
    let user = sign_up(&client, &server.base, "张三", &operator).await;
    drop(server);

    let unknown = admin(&data, &["close-account", "usr_nobody", "--reason", "x"]);
    assert!(!unknown.status.success());
    assert!(text(&unknown.stderr).contains("no user has the id"));
    let blank = admin(&data, &["close-account", &user.id, "--reason", " "]);
    assert!(!blank.status.success());
    let closed = admin(
        &data,
        &[
            "close-account",
            &user.id,
            "--reason",
            "asked at the counter",
        ],
    );
    assert!(closed.status.success(), "{}", text(&closed.stderr));
    assert!(text(&closed.stdout).starts_with(&format!("closed {}", user.id)));

    let server = crate::ServeProcess::start(&data, &log, &[]);
    let (status, _, body) = request(
        &client,
        reqwest::Method::POST,
        &format!("{}/v1/sessions", server.base),
        None,
        Some(&serde_json::json!({"phone": user.phone, "password": user.password})),
        &[],
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "account_closed");
    let (status, _, closure) = request(
        &client,
        reqwest::Method::POST,
        &format!("{}/v1/admin/users/{}/close", server.base, user.id),
        Some(&operator),
        Some(&serde_json::json!({"reason": "again"})),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{closure}");
    assert_eq!(closure["reason"], "asked at the counter");
    assert_eq!(closure["closed_by"], "operator");
}
