//! `tessera emv` end to end: the real binary on pyemv's published example and
//! on vectors from tessera-core's fixtures, and the exit codes of a failing
//! verify.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};

use serde_json::Value;

const VECTORS: &str = include_str!("../../tessera-core/tests/fixtures/emv/vectors.json");
const PUBLISHED_IMK: &str = "0123456789ABCDEFFEDCBA9876543210";

fn tessera(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("emv")
        .args(args)
        .env_remove("TESSERA_EMV_IMK")
        .env_remove("TESSERA_EMV_MK")
        .env_remove("TESSERA_EMV_SK")
        .output()
        .expect("tessera runs")
}

/// Runs with --json and returns the exit code and the object printed.
fn tessera_json(args: &[&str]) -> (i32, Value) {
    let mut all = args.to_vec();
    all.push("--json");
    let output = tessera(&all);
    let stdout = String::from_utf8(output.stdout).unwrap();
    let value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap(), value)
}

fn chain_vector() -> Value {
    let all: Value = serde_json::from_str(VECTORS).unwrap();
    // A 19-digit PAN, so the default option is B.
    all["cdol1_chain"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["pan"].as_str().unwrap().len() == 19)
        .expect("a 19-digit chain vector")
        .clone()
}

fn s<'a>(row: &'a Value, field: &str) -> &'a str {
    row[field].as_str().unwrap()
}

#[test]
fn published_example_derives_by_forced_option_a() {
    let args = [
        "derive-mk",
        "--imk",
        PUBLISHED_IMK,
        "--pan",
        "99012345678901234",
        "--psn",
        "45",
        "--option",
        "a",
    ];
    let (code, out) = tessera_json(&args);
    assert_eq!(code, 0);
    assert_eq!(out["icc_mk"], "67F8292358083E5EA7AB7FDA58D53B6B");
    assert_eq!(out["option"], "A");
    // The PAN is shown masked, never in full.
    assert_eq!(out["pan"], "990123*******1234");

    let text = tessera(&args);
    assert!(text.status.success());
    let stdout = String::from_utf8(text.stdout).unwrap();
    assert!(
        stdout.contains("67F8292358083E5EA7AB7FDA58D53B6B"),
        "{stdout}"
    );
    assert!(!stdout.contains("99012345678901234"), "{stdout}");
}

#[test]
fn session_key_and_arpc_match_pyemv_examples() {
    let (code, out) = tessera_json(&["session-key", "--mk", PUBLISHED_IMK, "--atc", "1C"]);
    assert_eq!(code, 0);
    assert_eq!(out["session_key"], "E9FB384AF807B940FEDCEA613461B0C4");
    assert_eq!(out["atc"], "001C");

    let sk = "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB";
    let (code, out) = tessera_json(&[
        "arpc",
        "--method",
        "1",
        "--sk",
        sk,
        "--arqc",
        "1234567890ABCDEF",
        "--arc",
        "0000",
    ]);
    assert_eq!(code, 0);
    assert_eq!(out["arpc"], "F5E6F44147E2F1B0");
    let (code, out) = tessera_json(&[
        "arpc",
        "--method",
        "2",
        "--sk",
        sk,
        "--arqc",
        "1234567890ABCDEF",
        "--csu",
        "00000000",
    ]);
    assert_eq!(code, 0);
    assert_eq!(out["arpc"], "9308BEBC");
}

#[test]
fn arqc_and_verify_agree_with_a_vector() {
    let row = chain_vector();
    let card = [
        "--imk",
        s(&row, "imk"),
        "--pan",
        s(&row, "pan"),
        "--psn",
        s(&row, "psn"),
    ];
    let atc = format!("{:04X}", row["fields"]["atc"].as_u64().unwrap());
    let mut args = vec!["arqc"];
    args.extend(card);
    args.extend(["--atc", &atc, "--data", s(&row, "data")]);
    let (code, out) = tessera_json(&args);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out["option"], "B");
    assert_eq!(out["icc_mk"], row["icc_mk"]);
    assert_eq!(out["session_key"], row["session_key"]);
    assert_eq!(out["arqc"], row["arqc"]);

    let mut args = vec!["verify"];
    args.extend(card);
    args.extend([
        "--atc",
        &atc,
        "--data",
        s(&row, "data"),
        "--arqc",
        s(&row, "arqc"),
    ]);
    let (code, out) = tessera_json(&args);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out["verified"], true);
    // verify shows key check values, never the keys.
    assert!(out.get("icc_mk").is_none() && out.get("session_key").is_none());
}

#[test]
fn failing_verify_exits_non_zero_and_names_the_step() {
    let row = chain_vector();
    let atc = format!("{:04X}", row["fields"]["atc"].as_u64().unwrap());
    let mut wrong = s(&row, "arqc").to_owned();
    wrong.replace_range(0..2, if wrong.starts_with("00") { "01" } else { "00" });
    let verify = |imk: &str, arqc: &str, json: bool| {
        let mut args = vec![
            "verify",
            "--imk",
            imk,
            "--pan",
            s(&row, "pan"),
            "--psn",
            s(&row, "psn"),
            "--atc",
            &atc,
            "--data",
            s(&row, "data"),
            "--arqc",
            arqc,
        ];
        if json {
            args.push("--json");
        }
        tessera(&args)
    };

    // A cryptogram that does not match: exit 1, both cryptograms shown.
    let output = verify(s(&row, "imk"), &wrong, true);
    assert_eq!(output.status.code(), Some(1));
    let out: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(out["ok"], false);
    assert_eq!(out["step"], "mismatch");
    assert_eq!(out["expected_arqc"], row["arqc"]);
    assert_eq!(out["given_arqc"], wrong.as_str());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("does not verify"), "{stderr}");

    // The text form says the same to a person.
    let output = verify(s(&row, "imk"), &wrong, false);
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains(&format!("expected_arqc    {}", s(&row, "arqc"))),
        "{stdout}"
    );

    // Bad input exits 2 and names the argument and the step.
    let cases = [
        ("ZZ".repeat(16), s(&row, "arqc").to_owned(), "hex", "--imk"),
        (
            "00".repeat(8),
            s(&row, "arqc").to_owned(),
            "key_length",
            "--imk",
        ),
        (
            s(&row, "imk").to_owned(),
            "0011".to_owned(),
            "length",
            "--arqc",
        ),
    ];
    for (imk, arqc, step, argument) in cases {
        let output = verify(&imk, &arqc, true);
        assert_eq!(output.status.code(), Some(2), "{step}");
        let out: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(out["step"], step);
        assert_eq!(out["argument"], argument);
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(
            stderr.starts_with(&format!("error: {argument}:")),
            "{stderr}"
        );
    }
}
