//! What `tessera serve` leaves in its data directory: database files only
//! the owner can read, and an empty database refused rather than taken for
//! a new wallet.

use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use crate::TESSERA;

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// `tessera serve` on `data` under umask 022, as most shells have it, so
/// that files made without an explicit mode come out 0644.
fn serve(data: &Path) -> Command {
    let mut command = Command::new("sh");
    command
        .args(["-c", "umask 022; exec \"$0\" \"$@\""])
        .arg(TESSERA)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .env("RUST_LOG", "warn")
        .env_remove("TESSERA_MASTER_KEY")
        .env_remove("TESSERA_DATABASE_URL");
    command
}

/// Starts it and waits until it listens.
fn start(data: &Path) -> Child {
    let mut child = serve(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("tessera listening on "), "{line:?}");
    child
}

fn stop(mut child: Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn database_wal_and_shm_files_are_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start(&data);
    // While it runs, SQLite keeps the WAL and the shared-memory file open.
    for name in ["tessera.db", "tessera.db-wal", "tessera.db-shm"] {
        assert_eq!(mode(&data.join(name)), 0o600, "{name}");
    }
    stop(server);
    // A database an older version left readable is tightened at start.
    fs::set_permissions(data.join("tessera.db"), fs::Permissions::from_mode(0o644)).unwrap();
    let server = start(&data);
    for name in ["tessera.db", "tessera.db-wal", "tessera.db-shm"] {
        assert_eq!(mode(&data.join(name)), 0o600, "{name}");
    }
    stop(server);
}

#[test]
fn an_empty_database_beside_its_key_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    stop(start(&data));
    let key_file = data.join("tessera.keys");
    let keys = fs::read(&key_file).unwrap();
    for name in ["tessera.db-wal", "tessera.db-shm"] {
        let _ = fs::remove_file(data.join(name));
    }
    fs::write(data.join("tessera.db"), b"").unwrap();

    // Its first line, or nothing when it exits: a server that starts is
    // stopped and fails the test, rather than hanging it.
    let mut child = serve(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    if !line.is_empty() {
        stop(child);
        panic!("it started on an empty database: {line:?}");
    }
    let output: Output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("is empty (0 bytes), so it holds no wallet"),
        "{said}"
    );
    assert!(said.contains("restore it from a backup"), "{said}");
    // Nothing changed: still empty, the same keys, no WAL made.
    assert_eq!(fs::metadata(data.join("tessera.db")).unwrap().len(), 0);
    assert_eq!(fs::read(&key_file).unwrap(), keys);
    assert!(!data.join("tessera.db-wal").exists());
}
