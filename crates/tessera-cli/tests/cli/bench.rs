//! `tessera bench` and `tessera seed` against a real `tessera serve`: the
//! loopback rule, the JSON figures, and seeded data that is real enough to
//! load (and holds no clear PAN).

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::{ServeProcess, TESSERA};

fn tessera(args: &[&str]) -> Output {
    Command::new(TESSERA).args(args).output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs a short bench with `--json` and returns its figures.
fn bench_json(base: &str, scenario: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "bench",
        "--server",
        base,
        "--scenario",
        scenario,
        "--connections",
        "4",
        "--warmup",
        "200ms",
        "--json",
    ];
    args.extend_from_slice(extra);
    let output = tessera(&args);
    assert!(
        output.status.success(),
        "{scenario}: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        stderr(&output)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn assert_figures(report: &Value, scenario: &str) {
    assert_eq!(report["scenario"], scenario);
    assert_eq!(report["connections"], 4);
    for field in ["duration_s", "rps"] {
        assert!(report[field].as_f64().unwrap() > 0.0, "{field}: {report}");
    }
    let requests = report["requests"].as_u64().unwrap();
    let ok = report["ok"].as_u64().unwrap();
    assert!(ok > 0 && ok <= requests, "{report}");
    assert!(report["errors"].is_object(), "{report}");
    let latency = &report["latency_ms"];
    let [p50, p90, p99, p999] = ["p50", "p90", "p99", "p999"].map(|p| latency[p].as_f64().unwrap());
    assert!(
        0.0 < p50 && p50 <= p90 && p90 <= p99 && p99 <= p999,
        "{latency}"
    );
}

#[test]
fn bench_refuses_targets_outside_loopback() {
    for server in [
        "http://10.1.2.3:8080",
        "http://example.com",
        "http://[::2]:80",
    ] {
        let output = tessera(&[
            "bench",
            "--server",
            server,
            "--scenario",
            "healthz",
            "--duration",
            "1s",
        ]);
        assert!(!output.status.success(), "{server}");
        assert!(
            stderr(&output).contains("--allow-remote"),
            "{}",
            stderr(&output)
        );
    }
}

#[test]
fn bench_reports_json_figures_from_a_real_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(
        &dir.path().join("data"),
        &dir.path().join("serve.log"),
        &["--card-limit", "1000000"],
    );
    let healthz = bench_json(&server.base, "healthz", &["--duration", "500ms"]);
    assert_figures(&healthz, "healthz");
    assert_eq!(healthz["errors"], serde_json::json!({}));
    // A request count instead of a duration: exactly that many are measured.
    let bind = bench_json(&server.base, "bind", &["--requests", "40", "--users", "4"]);
    assert_figures(&bind, "bind");
    assert_eq!(bind["requests"], 40);
    assert_eq!(bind["ok"], 40);

    // Payments are not in this build: pay says so before sending anything.
    let output = tessera(&["bench", "--server", &server.base, "--scenario", "pay"]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("payments are not in this build"));
}

#[test]
fn bench_fails_a_run_with_more_than_one_percent_errors() {
    let dir = tempfile::tempdir().unwrap();
    // The default card limit (5) refuses most bindings of a long run.
    let server = ServeProcess::start(&dir.path().join("data"), &dir.path().join("serve.log"), &[]);
    let output = tessera(&[
        "bench",
        "--server",
        &server.base,
        "--scenario",
        "bind",
        "--connections",
        "2",
        "--users",
        "1",
        "--requests",
        "20",
        "--warmup",
        "0s",
        "--json",
    ]);
    assert!(!output.status.success());
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(report["errors"]["card_limit_reached"].as_u64().unwrap() >= 15);
    assert!(
        stderr(&output).contains("--card-limit"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn seeded_cards_load_and_hold_no_clear_pan() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap();
    let output = tessera(&[
        "seed",
        "--cards",
        "200",
        "--batch",
        "64",
        "--data-dir",
        data_arg,
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("seeded 200 cards for 67 users"), "{stdout}");
    assert!(stdout.contains("seeded-user-1"), "{stdout}");

    // Nothing that looks like a card number is readable in the files.
    let pans = clear_pans(&data);
    let first6: Vec<&str> = pans.iter().map(|pan| &pan[..6]).collect();
    assert!(
        pans.is_empty(),
        "clear card numbers in the data directory: {first6:?}..."
    );

    let server = ServeProcess::start(&data, &dir.path().join("serve.log"), &[]);
    let report = bench_json(
        &server.base,
        "get-card",
        &["--seeded-users", "20", "--requests", "300"],
    );
    assert_figures(&report, "get-card");
    assert_eq!(report["ok"], 300);
    assert_eq!(report["errors"], serde_json::json!({}));

    // A second run appends users after the first run's.
    drop(server);
    let output = tessera(&[
        "seed",
        "--cards",
        "3",
        "--users",
        "1",
        "--data-dir",
        data_arg,
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("phones 19000000067 to 19000000067"),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

/// Luhn-valid runs of 16 to 19 ASCII digits in any file under `dir`.
fn clear_pans(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        found.extend(pan_like_runs(&bytes));
    }
    found
}

fn pan_like_runs(bytes: &[u8]) -> Vec<String> {
    bytes
        .split(|b| !b.is_ascii_digit())
        .filter(|run| (16..=19).contains(&run.len()))
        .map(|run| String::from_utf8_lossy(run).into_owned())
        .filter(|run| tessera_core::card::luhn::is_valid(run))
        .collect()
}

#[test]
fn the_pan_scan_finds_a_clear_pan() {
    let number = tessera_server::issuer::sandbox::card_number(
        "622848",
        19,
        tessera_server::issuer::sandbox::Outcome::Approve,
    )
    .unwrap();
    let page = format!("\x00\x01{number}\x02 13800138000 ");
    assert_eq!(pan_like_runs(page.as_bytes()), [number]);
}
