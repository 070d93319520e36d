//! `tessera keys` end to end: the real binary, real files in a temp dir.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use tessera_core::card::pan::Pan;
use tessera_core::vault::{KEY_FILE_NAME, KeyFile, KeyRing};

const PASSPHRASE: &str = "a long enough test passphrase";

fn tessera(args: &[&str], passphrase: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tessera"));
    command
        .args(args)
        .env_remove("TESSERA_DATA_DIR")
        .env_remove("TESSERA_BACKUP_PASSPHRASE")
        .stdin(Stdio::null());
    if let Some(passphrase) = passphrase {
        command.env("TESSERA_BACKUP_PASSPHRASE", passphrase);
    }
    command.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// True when `b` opens what `a` sealed and both agree on lookups.
fn same_keys(a: &KeyRing, b: &KeyRing) -> bool {
    let card = Pan::parse("4242424242424242").unwrap();
    let sealed = a.seal("card_1", &card).unwrap();
    a.versions() == b.versions()
        && b.open("card_1", &sealed).ok().as_ref() == Some(&card)
        && a.fingerprint(&card) == b.fingerprint(&card)
}

/// Every key string in a key file, to check that no output shows one.
fn key_strings(key_file: &Path) -> Vec<String> {
    let json: serde_json::Value = serde_json::from_slice(&fs::read(key_file).unwrap()).unwrap();
    let mut keys: Vec<String> = json["data_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["key"].as_str().unwrap().to_owned())
        .collect();
    keys.push(json["lookup_root"].as_str().unwrap().to_owned());
    keys
}

#[test]
fn backup_then_restore_into_a_new_data_dir() {
    let temp = tempfile::tempdir().unwrap();
    let source = temp.path().join("source");
    let (mut ring, _) = KeyFile::load_or_create(&source, false).unwrap();
    ring.rotate().unwrap();
    KeyFile::in_dir(&source).replace(&ring).unwrap();
    let backup = temp.path().join("keys.backup");

    let out = tessera(
        &[
            "keys",
            "backup",
            "--out",
            p(&backup),
            "--data-dir",
            p(&source),
        ],
        Some(PASSPHRASE),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("key versions 1, 2, active 2"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(mode(&backup), 0o600);
    let written = fs::read(&backup).unwrap();
    for key in key_strings(&source.join(KEY_FILE_NAME)) {
        assert!(
            !text(&written).contains(&key),
            "the backup holds a key in clear"
        );
        assert!(!text(&out.stdout).contains(&key));
    }

    // A second backup to the same file is refused and leaves it untouched.
    let again = tessera(
        &[
            "keys",
            "backup",
            "--out",
            p(&backup),
            "--data-dir",
            p(&source),
        ],
        Some(PASSPHRASE),
    );
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("refusing to overwrite"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(fs::read(&backup).unwrap(), written);

    let target = temp.path().join("target");
    let out = tessera(
        &[
            "keys",
            "restore",
            "--from",
            p(&backup),
            "--data-dir",
            p(&target),
        ],
        Some(PASSPHRASE),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let restored = target.join(KEY_FILE_NAME);
    assert_eq!(mode(&restored), 0o600);
    assert!(same_keys(&ring, &KeyFile::in_dir(&target).load().unwrap()));
}

#[test]
fn a_wrong_passphrase_fails_and_writes_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let source = temp.path().join("source");
    KeyFile::load_or_create(&source, false).unwrap();
    let backup = temp.path().join("keys.backup");
    let out = tessera(
        &[
            "keys",
            "backup",
            "--out",
            p(&backup),
            "--data-dir",
            p(&source),
        ],
        Some(PASSPHRASE),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    let target = temp.path().join("target");
    let out = tessera(
        &[
            "keys",
            "restore",
            "--from",
            p(&backup),
            "--data-dir",
            p(&target),
        ],
        Some("not the right passphrase"),
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("wrong passphrase"),
        "{}",
        text(&out.stderr)
    );
    assert!(!target.join(KEY_FILE_NAME).exists());
}

#[test]
fn restore_replaces_an_existing_key_file_only_with_force() {
    let temp = tempfile::tempdir().unwrap();
    let source = temp.path().join("source");
    let (ring, _) = KeyFile::load_or_create(&source, false).unwrap();
    let backup = temp.path().join("keys.backup");
    let out = tessera(
        &[
            "keys",
            "backup",
            "--out",
            p(&backup),
            "--data-dir",
            p(&source),
        ],
        Some(PASSPHRASE),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    let target = temp.path().join("target");
    let (other, _) = KeyFile::load_or_create(&target, false).unwrap();
    let args = [
        "keys",
        "restore",
        "--from",
        p(&backup),
        "--data-dir",
        p(&target),
    ];
    let out = tessera(&args, Some(PASSPHRASE));
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--force"),
        "{}",
        text(&out.stderr)
    );
    assert!(same_keys(&other, &KeyFile::in_dir(&target).load().unwrap()));

    let out = tessera(&[&args[..], &["--force"]].concat(), Some(PASSPHRASE));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(mode(&target.join(KEY_FILE_NAME)), 0o600);
    assert!(same_keys(&ring, &KeyFile::in_dir(&target).load().unwrap()));
}

#[test]
fn without_a_terminal_the_passphrase_must_come_from_the_environment() {
    let temp = tempfile::tempdir().unwrap();
    KeyFile::load_or_create(temp.path(), false).unwrap();
    let backup = temp.path().join("keys.backup");
    let out = tessera(
        &[
            "keys",
            "backup",
            "--out",
            p(&backup),
            "--data-dir",
            p(temp.path()),
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("TESSERA_BACKUP_PASSPHRASE"),
        "{}",
        text(&out.stderr)
    );
    assert!(!backup.exists());

    let out = tessera(
        &[
            "keys",
            "backup",
            "--out",
            p(&backup),
            "--data-dir",
            p(temp.path()),
        ],
        Some("short"),
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("too short"),
        "{}",
        text(&out.stderr)
    );
    assert!(!backup.exists());
}

#[test]
fn status_shows_versions_and_mode_but_no_key() {
    let temp = tempfile::tempdir().unwrap();
    let (mut ring, _) = KeyFile::load_or_create(temp.path(), false).unwrap();
    ring.rotate().unwrap();
    ring.rotate().unwrap();
    ring.retire(1).unwrap();
    KeyFile::in_dir(temp.path()).replace(&ring).unwrap();

    let out = tessera(&["keys", "status", "--data-dir", p(temp.path())], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains(KEY_FILE_NAME), "{stdout}");
    assert!(stdout.contains("0600 (ok)"), "{stdout}");
    assert!(stdout.contains("active version: 3"), "{stdout}");
    assert!(stdout.contains("(active)"), "{stdout}");
    for key in key_strings(&temp.path().join(KEY_FILE_NAME)) {
        assert!(!stdout.contains(&key), "{stdout}");
    }

    fs::set_permissions(
        temp.path().join(KEY_FILE_NAME),
        fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let out = tessera(&["keys", "status", "--data-dir", p(temp.path())], None);
    assert!(!out.status.success());
    assert!(
        text(&out.stdout).contains("0644 (too open"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stderr).contains("chmod 600"),
        "{}",
        text(&out.stderr)
    );

    let missing = tessera(
        &["keys", "status", "--data-dir", p(&temp.path().join("none"))],
        None,
    );
    assert!(!missing.status.success());
    assert!(
        text(&missing.stderr).contains("no key file"),
        "{}",
        text(&missing.stderr)
    );
}
