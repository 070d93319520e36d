//! The `tessera` binary as people run it: real processes, real output.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn tessera(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(args)
        .env_remove("TESSERA_BINS_FILE")
        .output()
        .unwrap()
}

/// `tessera` with `input` on standard input (and no terminal).
fn tessera_stdin(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(args)
        .env_remove("TESSERA_BINS_FILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(output)))
}

/// A Luhn-valid number of `len` digits starting with `prefix`.
fn card(prefix: &str, len: usize) -> String {
    let mut payload = prefix.to_owned();
    while payload.len() < len - 1 {
        payload.push('0');
    }
    let digit = tessera_core::card::luhn::check_digit(&payload).unwrap();
    format!("{payload}{digit}")
}

#[test]
fn bins_lookup_names_the_bank_and_masks_the_number() {
    let number = card("436742", 19);
    let output = tessera(&["bins", "lookup", &number]);
    assert!(output.status.success());
    let text = stdout(&output);
    assert!(!text.contains(&number), "{text}");
    assert!(text.contains("436742*********"), "{text}");
    assert!(text.contains("中国建设银行"), "{text}");
    assert!(text.contains("CCB"), "{text}");
    assert!(text.contains("debit"), "{text}");
    assert!(text.contains("china_table"), "{text}");
}

#[test]
fn bins_lookup_json_has_every_field() {
    // Grouped digits as people paste them.
    let number = card("622302", 18);
    let (head, tail) = number.split_at(6);
    let output = tessera(&["bins", "lookup", head, tail, "--json"]);
    assert!(output.status.success());
    let value = json(&output);
    assert!(!stdout(&output).contains(&number));
    assert_eq!(value["found"], true);
    assert_eq!(value["luhn_valid"], true);
    let bin = &value["bin"];
    assert_eq!(bin["brand"], "unionpay");
    assert_eq!(bin["issuer_code"], "ICBC");
    assert_eq!(bin["issuer_name_zh"], "中国工商银行");
    assert_eq!(
        bin["issuer_name_en"],
        "Industrial and Commercial Bank of China"
    );
    assert_eq!(bin["card_type"], "debit");
    assert_eq!(bin["country"], "CN");
    assert_eq!(bin["pan_lengths"], serde_json::json!([18]));
    assert_eq!(bin["source"], "china_table");
    assert_eq!(bin["prefix"], "622302");
    assert_eq!(value["alternatives"][0]["issuer_code"], "GDRCC");
}

#[test]
fn bins_lookup_with_a_custom_file_and_an_unknown_number() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bins.csv");
    std::fs::write(
        &path,
        "prefix,pan_length,brand,issuer_code,issuer_name_zh,card_type,country\n\
         999999,16,UNIONPAY,TEST,测试银行,DEBIT,CN\n",
    )
    .unwrap();
    let path = path.to_str().unwrap();
    let output = tessera(&["bins", "lookup", "999999", "--bins-file", path, "--json"]);
    assert!(output.status.success());
    let value = json(&output);
    assert_eq!(value["bin"]["source"], "custom");
    assert_eq!(value["bin"]["issuer_name_zh"], "测试银行");
    // The shipped tables are replaced: 436742 is only a Visa range now.
    let output = tessera(&["bins", "lookup", "436742", "--bins-file", path, "--json"]);
    assert_eq!(json(&output)["bin"]["source"], "scheme_ranges");
    // Nothing knows 1...: exit status 1 and says so.
    let output = tessera(&["bins", "lookup", "1234567", "--bins-file", path]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("no BIN data"));
    // A broken file names the line.
    std::fs::write(dir.path().join("bad.csv"), "prefix,brand\nabc,VISA\n").unwrap();
    let bad = dir.path().join("bad.csv");
    let output = tessera(&[
        "bins",
        "lookup",
        "436742",
        "--bins-file",
        bad.to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("line 2"), "{stderr}");
}

#[test]
fn bins_lookup_refuses_letters() {
    let output = tessera(&["bins", "lookup", "4367a2"]);
    assert!(!output.status.success());
    assert!(
        String::from_utf8(output.stderr)
            .unwrap()
            .contains("digits only")
    );
}

#[test]
fn check_card_ok_prints_bin_data_and_hides_secrets() {
    let number = card("622202", 19);
    let output = tessera(&[
        "check-card",
        "--number",
        &number,
        "--cvc",
        "987",
        "--holder-name",
        "张三",
    ]);
    assert!(output.status.success());
    let text = stdout(&output);
    assert!(text.starts_with("ok\n"), "{text}");
    assert!(text.contains("中国工商银行"), "{text}");
    assert!(!text.contains(&number) && !text.contains("987") && !text.contains("张三"));
}

#[test]
fn check_card_errors_have_code_message_and_remedy_in_the_chosen_language() {
    // A 中信银行 credit card without an expiry.
    let number = card("356390", 16);
    let output = tessera(&["check-card", "--number", &number, "--json", "--lang", "en"]);
    assert_eq!(output.status.code(), Some(1));
    let error = &json(&output)["error"];
    assert_eq!(error["code"], "invalid_expiry_month");
    assert_eq!(error["param"], "expiry_month");
    // Left out, not wrong: said as missing.
    assert_eq!(error["message"], "The expiry month is missing");
    assert_eq!(error["cause"], "input");
    assert!(error["remedy"].as_str().unwrap().contains("01 to 12"));

    let output = tessera(&[
        "check-card",
        "--number",
        &number,
        "--expiry",
        "05/26",
        "--cvc",
        "123",
        "--today",
        "2026-06-15",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains("expired_card"), "{text}");
    assert!(text.contains("这张卡已过有效期"), "{text}");

    let output = tessera(&[
        "check-card",
        "--number",
        &number,
        "--expiry",
        "12/30",
        "--cvc",
        "123",
    ]);
    assert!(output.status.success(), "{}", stdout(&output));
}

/// The number and the CVC can stay out of the arguments (which the process
/// list and the shell history see): `-` reads them from standard input.
#[test]
fn check_card_reads_the_number_and_cvc_from_standard_input() {
    // A 中信银行 credit card: it needs its CVC, so the second line counts.
    let number = card("356390", 16);
    let args = [
        "check-card",
        "--number",
        "-",
        "--cvc",
        "-",
        "--expiry",
        "12/30",
        "--json",
    ];
    let output = tessera_stdin(&args, &format!("{number}\n987\n"));
    assert!(output.status.success(), "{}", stdout(&output));
    let ok = json(&output);
    assert_eq!(ok["card"]["cvc_given"], true);
    assert_eq!(ok["card"]["bin"]["issuer_code"], "CITIC", "{ok}");
    assert!(!stdout(&output).contains(&number) && !stdout(&output).contains("987"));

    // The number alone from standard input: the credit card lacks its CVC.
    let output = tessera_stdin(
        &["check-card", "--number", "-", "--expiry", "12/30", "--json"],
        &format!(" {number} \n"),
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(json(&output)["error"]["code"], "invalid_cvc");

    // A CVC asked for and not given is an error, not an absent CVC.
    let output = tessera_stdin(&args, &format!("{number}\n"));
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("standard input ended before the CVC"),
        "{said}"
    );
}

/// Without `--number` the number is asked for on the terminal; with no
/// terminal, the error says how to give it instead.
#[test]
fn check_card_without_a_number_or_a_terminal_says_how_to_give_it() {
    let output = tessera_stdin(&["check-card", "--json"], &card("622202", 19));
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("no terminal to ask for the card number"),
        "{said}"
    );
    assert!(said.contains("--number -"), "{said}");
}

#[test]
fn check_card_refuses_prepaid_cards_by_default() {
    // 620010: a 平安银行 prepaid card.
    let output = tessera(&["check-card", "--number", &card("620010", 16)]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains("card_not_supported"), "{text}");
    assert!(text.contains("card_type"), "{text}");
    assert!(text.contains("预付费卡暂不支持绑定"), "{text}");
}

#[test]
fn licences_and_version_carry_the_attribution() {
    let output = tessera(&["licenses"]);
    assert!(output.status.success());
    let text = stdout(&output);
    for needle in [
        "data/bins_cn.csv",
        "data/bins_global_ccby.csv.gz",
        "data/card_schemes.csv",
        "\"BIN List Data\" by Venelin Kochev / BinLookup.io",
        "CC BY 4.0",
        "Copyright (c) 2018 - 2020 Runrioter",
        "ISC License",
        "Copyright (c) 2023 Adyen",
    ] {
        assert!(text.contains(needle), "licenses lacks {needle:?}");
    }
    let output = tessera(&["--version"]);
    let text = stdout(&output);
    assert!(text.contains(env!("CARGO_PKG_VERSION")), "{text}");
    assert!(
        text.contains("BIN List Data") && text.contains("CC BY 4.0"),
        "{text}"
    );
}

#[test]
fn bins_stats_counts_the_shipped_rows() {
    let output = tessera(&["bins", "stats"]);
    assert!(output.status.success());
    let text = stdout(&output);
    assert!(text.contains("china_table        2354 rows"), "{text}");
    assert!(text.contains("global_table     327012 rows"), "{text}");
    assert!(
        text.contains("build time") && text.contains("MiB"),
        "{text}"
    );
}
