//! `tessera audit verify` and `export`: the chains written by operator
//! commands verify, an entry changed with raw SQL is named and fails the
//! command, and the export is JSON lines of ids without the holder's name.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn tessera(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(crate::TESSERA)
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

#[test]
fn the_audit_verifies_names_a_changed_entry_and_exports_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for role in ["operator", "support"] {
        let made = tessera(
            &data,
            &[
                "admin",
                "create-key",
                "--role",
                role,
                "--holder",
                "值班 李雷",
                "--json",
            ],
        );
        assert!(made.status.success(), "{}", text(&made.stderr));
    }
    // The key file replaced from its backup: a security event too.
    let backup = dir.path().join("keys.backup");
    for args in [
        &["keys", "backup", "--out", backup.to_str().unwrap()][..],
        &[
            "keys",
            "restore",
            "--force",
            "--from",
            backup.to_str().unwrap(),
        ][..],
    ] {
        let done = Command::new(crate::TESSERA)
            .args(args)
            .arg("--data-dir")
            .arg(&data)
            .env("TESSERA_BACKUP_PASSPHRASE", "a long enough passphrase 1")
            .env_remove("TESSERA_MASTER_KEY")
            .env_remove("TESSERA_DATABASE_URL")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(done.status.success(), "{}", text(&done.stderr));
        assert!(
            !text(&done.stderr).contains("not in the audit"),
            "{}",
            text(&done.stderr)
        );
    }
    let verified = tessera(&data, &["audit", "verify"]);
    let out = text(&verified.stdout);
    assert!(verified.status.success(), "{out}{}", text(&verified.stderr));
    assert!(out.contains("chain node:main: 3 entries"), "{out}");
    assert!(out.contains("ok: every chain is whole"), "{out}");

    let exported = tessera(
        &data,
        &["audit", "export", "--since", "2000-01-01T00:00:00Z"],
    );
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    let lines: Vec<Value> = text(&exported.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[2]["action"], "key_ring.restored");
    assert_eq!(lines[2]["seq"], 3);
    for (seq, line) in lines[..2].iter().enumerate() {
        assert_eq!(line["action"], "api_key.created");
        assert_eq!(line["role"], "service");
        assert_eq!(line["chain_id"], "node:main");
        assert_eq!(line["seq"], seq + 1);
        assert!(
            line["subject"]
                .as_str()
                .unwrap()
                .starts_with("api_key:key_")
        );
    }
    assert!(!text(&exported.stdout).contains("李雷"));
    // Nothing since a time after them.
    let later = tessera(
        &data,
        &["audit", "export", "--since", "2999-01-01T00:00:00Z"],
    );
    assert!(later.status.success() && later.stdout.is_empty());
    let bad = tessera(&data, &["audit", "export", "--since", "yesterday"]);
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("RFC 3339"),
        "{}",
        text(&bad.stderr)
    );

    let conn = rusqlite::Connection::open(data.join("tessera.db")).unwrap();
    let changed = conn
        .execute(
            "UPDATE audit_events SET role = 'operator' WHERE chain_id = 'node:main' AND seq = 2",
            [],
        )
        .unwrap();
    assert_eq!(changed, 1);
    let verified = tessera(&data, &["audit", "verify"]);
    let out = text(&verified.stdout);
    assert!(!verified.status.success(), "{out}");
    assert!(
        out.contains("TAMPERED: chain node:main, seq 2 (aud_") && out.contains("): changed"),
        "{out}"
    );
}
