//! The `tessera` binary, run as a person or an operator would run it. One
//! test binary for the whole CLI: each extra one costs link time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin;
mod audit;
mod bench;
mod bins;
mod client;
mod db;
mod diagnose;
mod emv;
mod emv_generations;
mod files;
mod hsm;
mod issuer;
mod key_rotation;
mod keys;
mod nodes;
mod pay;
mod serve;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub const TESSERA: &str = env!("CARGO_BIN_EXE_tessera");

/// An operator API key made with `tessera admin create-key` on `data_dir`
/// (SQLite), to read sign-up codes from the sandbox phone.
pub fn operator_key(data_dir: &Path) -> String {
    let output = Command::new(TESSERA)
        .args(["admin", "create-key", "--role", "operator", "--data-dir"])
        .arg(data_dir)
        .env_remove("TESSERA_MASTER_KEY")
        .env_remove("TESSERA_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// A `tessera serve` process on a loopback port 0.
#[allow(missing_debug_implementations)]
pub struct ServeProcess {
    pub child: Child,
    pub base: String,
    pub log: std::path::PathBuf,
}

impl ServeProcess {
    /// Starts `tessera serve` on `data_dir`, logging JSON to `log`, and waits
    /// for the address it prints.
    pub fn start(data_dir: &Path, log: &Path, extra: &[&str]) -> ServeProcess {
        ServeProcess::start_env(data_dir, log, extra, &[])
    }

    /// `start` with these environment variables. The caller's own
    /// TESSERA_MASTER_KEY and TESSERA_DATABASE_URL never leak in.
    pub fn start_env(
        data_dir: &Path,
        log: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> ServeProcess {
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let mut child = Command::new(TESSERA)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--log-format",
                "json",
                "--data-dir",
            ])
            .arg(data_dir)
            .args(extra)
            .env("RUST_LOG", "debug,sqlx=warn,hyper=info")
            .env_remove("TESSERA_MASTER_KEY")
            .env_remove("TESSERA_DATABASE_URL")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .unwrap();
        let base = listening_base(child.stdout.take().unwrap()).unwrap_or_else(|line| {
            let logged = std::fs::read_to_string(log).unwrap_or_default();
            let tail: Vec<&str> = logged.lines().rev().take(5).collect();
            panic!("unexpected first line: {line:?}; the log ends with {tail:?}")
        });
        ServeProcess {
            child,
            base,
            log: log.to_path_buf(),
        }
    }

    /// SIGKILL: no shutdown, no flush, nothing the process can do.
    pub fn kill_9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

/// The address `tessera serve` prints on its first line, or that line.
pub fn listening_base(stdout: std::process::ChildStdout) -> Result<String, String> {
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    line.trim()
        .strip_prefix("tessera listening on ")
        .map(str::to_owned)
        .ok_or(line)
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A run without PostgreSQL fails here unless TESSERA_SKIP_POSTGRES=1.
#[tokio::test]
async fn postgres_is_reachable_or_skipped_on_purpose() {
    tessera_store::test_support::assert_postgres_or_skipped().await;
}
