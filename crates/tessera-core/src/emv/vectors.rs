//! Checks every vector pyemv 1.5.0 computed (tests/fixtures/emv/vectors.json,
//! made by make_vectors.py there). A unit test rather than tests/*.rs so it
//! adds no test binary to link.

use chrono::NaiveDate;
use serde_json::Value;

use super::*;
use crate::emv::mac::retail_mac;

const VECTORS: &str = include_str!("../../tests/fixtures/emv/vectors.json");

fn vectors() -> Value {
    serde_json::from_str(VECTORS).expect("vectors.json parses")
}

fn rows<'a>(all: &'a Value, section: &str) -> &'a [Value] {
    let rows = all[section].as_array().expect(section);
    assert!(!rows.is_empty(), "{section} is empty");
    rows
}

fn text<'a>(row: &'a Value, field: &str) -> &'a str {
    row[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} in {row}"))
}

fn bytes(row: &Value, field: &str) -> Vec<u8> {
    hex::decode(text(row, field)).unwrap_or_else(|e| panic!("{field} in {row}: {e}"))
}

fn option(row: &Value) -> DerivationOption {
    match text(row, "option") {
        "a" => DerivationOption::A,
        "b" => DerivationOption::B,
        other => panic!("option {other}"),
    }
}

fn session_key(row: &Value, field: &str) -> SessionKey {
    SessionKey::from_bytes(&bytes(row, field)).unwrap()
}

fn upper(bytes: &[u8]) -> String {
    hex::encode_upper(bytes)
}

#[test]
fn master_keys() {
    let all = vectors();
    let rows = rows(&all, "master_keys");
    let mut lengths = std::collections::BTreeSet::new();
    for row in rows {
        let imk = IssuerMasterKey::from_bytes(&bytes(row, "imk")).unwrap();
        let pan = text(row, "pan");
        let psn = Psn::parse(text(row, "psn")).unwrap();
        let mk = IccMasterKey::derive(&imk, pan, psn, option(row)).unwrap();
        assert_eq!(upper(mk.expose_bytes()), text(row, "icc_mk"), "{row}");
        // Option B vectors are what the default option gives at every length
        // (pyemv's Option B is Option A up to 16 digits).
        if option(row) == DerivationOption::B {
            let default = DerivationOption::for_pan_len(pan.len());
            let mk = IccMasterKey::derive(&imk, pan, psn, default).unwrap();
            assert_eq!(upper(mk.expose_bytes()), text(row, "icc_mk"), "{row}");
        }
        lengths.insert(pan.len());
    }
    for length in [16, 17, 18, 19] {
        assert!(lengths.contains(&length), "no {length}-digit PAN");
    }
    let published = &rows[0];
    assert_eq!(text(published, "pan"), "99012345678901234");
    assert_eq!(
        text(published, "icc_mk"),
        "67F8292358083E5EA7AB7FDA58D53B6B"
    );
    assert!(
        rows.iter().any(|row| row["note"]
            .as_str()
            .is_some_and(|n| n.contains("letter pass"))),
        "no vector exercises Option B's letter pass"
    );
}

#[test]
fn session_keys() {
    let all = vectors();
    for row in rows(&all, "session_keys") {
        let mk = IccMasterKey::from_bytes(&bytes(row, "icc_mk")).unwrap();
        let atc = Atc::from_bytes(&bytes(row, "atc")).unwrap();
        let sk = mk.session_key(atc);
        assert_eq!(upper(sk.expose_bytes()), text(row, "session_key"), "{row}");
    }
}

#[test]
fn arqc_over_raw_data() {
    let all = vectors();
    for row in rows(&all, "arqc") {
        let sk = session_key(row, "session_key");
        let data = bytes(row, "data");
        let arqc = Arqc::generate(&sk, &data);
        assert_eq!(arqc.to_string(), text(row, "arqc"), "{row}");
        let given = Arqc::from_bytes(&bytes(row, "arqc")).unwrap();
        assert_eq!(given.verify(&sk, &data), Ok(()));
    }
}

#[test]
fn cdol1_and_the_whole_chain() {
    let all = vectors();
    for row in rows(&all, "cdol1_chain") {
        let f = &row["fields"];
        let number = |name: &str| f[name].as_u64().unwrap_or_else(|| panic!("{name}"));
        let fixed = |name: &str| hex::decode(text(f, name)).unwrap();
        let cdol = Cdol1 {
            amount: number("amount"),
            other_amount: number("other_amount"),
            terminal_country: u16::try_from(number("terminal_country")).unwrap(),
            tvr: fixed("tvr").try_into().unwrap(),
            currency: u16::try_from(number("currency")).unwrap(),
            date: NaiveDate::parse_from_str(text(f, "date"), "%Y-%m-%d").unwrap(),
            transaction_type: u8::try_from(number("transaction_type")).unwrap(),
            unpredictable_number: fixed("unpredictable_number").try_into().unwrap(),
            aip: fixed("aip").try_into().unwrap(),
            atc: Atc::new(u16::try_from(number("atc")).unwrap()),
            iad: f["iad"].as_str().map(|h| hex::decode(h).unwrap()),
        };
        let data = cdol.to_bytes().unwrap();
        assert_eq!(upper(&data), text(row, "data"), "{row}");

        let imk = IssuerMasterKey::from_bytes(&bytes(row, "imk")).unwrap();
        let psn = Psn::parse(text(row, "psn")).unwrap();
        let mk = IccMasterKey::derive(&imk, text(row, "pan"), psn, option(row)).unwrap();
        assert_eq!(upper(mk.expose_bytes()), text(row, "icc_mk"));
        let sk = mk.session_key(cdol.atc);
        assert_eq!(upper(sk.expose_bytes()), text(row, "session_key"));
        let given = Arqc::from_bytes(&bytes(row, "arqc")).unwrap();
        assert_eq!(given.verify(&sk, &data), Ok(()), "{row}");
    }
}

#[test]
fn arpc_method1() {
    let all = vectors();
    for row in rows(&all, "arpc_method1") {
        let sk = session_key(row, "session_key");
        let arqc = Arqc::from_bytes(&bytes(row, "arqc")).unwrap();
        let arc = ArpcResponseCode::from_bytes(&bytes(row, "arc")).unwrap();
        let arpc = Arpc::method1(&sk, &arqc, arc);
        assert_eq!(arpc.to_string(), text(row, "arpc"), "{row}");
    }
}

#[test]
fn arpc_method2() {
    let all = vectors();
    for row in rows(&all, "arpc_method2") {
        let sk = session_key(row, "session_key");
        let arqc = Arqc::from_bytes(&bytes(row, "arqc")).unwrap();
        let csu = CardStatusUpdate::from_bytes(&bytes(row, "csu")).unwrap();
        let arpc = Arpc::method2(&sk, &arqc, csu, &bytes(row, "proprietary")).unwrap();
        assert_eq!(arpc.to_string(), text(row, "arpc"), "{row}");
    }
}

#[test]
fn retail_mac_both_paddings() {
    let all = vectors();
    let mut seen = [false; 2];
    for row in rows(&all, "retail_mac") {
        let key = session_key(row, "key");
        let padding = match row["padding"].as_u64() {
            Some(1) => Padding::Method1,
            Some(2) => Padding::Method2,
            other => panic!("padding {other:?}"),
        };
        seen[usize::from(padding == Padding::Method2)] = true;
        let mac = retail_mac(&key, &bytes(row, "data"), padding);
        assert_eq!(upper(&mac), text(row, "mac"), "{row}");
    }
    assert_eq!(seen, [true, true]);
}
