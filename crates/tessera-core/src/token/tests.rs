use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::sync::OnceLock;

use proptest::prelude::*;

use super::*;

fn pan(payload: &str) -> Pan {
    let digit = luhn::check_digit(payload).unwrap();
    Pan::parse(&format!("{payload}{digit}")).unwrap()
}

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data");

/// The rows of the shipped BIN tables, read from the raw files (not through
/// the BIN index, which is built elsewhere), and every prefix of every row.
fn real_bins() -> &'static (HashSet<String>, HashSet<String>) {
    static ROWS: OnceLock<(HashSet<String>, HashSet<String>)> = OnceLock::new();
    ROWS.get_or_init(|| {
        let mut rows = HashSet::new();
        let cn = std::fs::File::open(format!("{DATA}/bins_cn.csv")).unwrap();
        for line in BufReader::new(cn).lines().skip(1) {
            let line = line.unwrap();
            rows.insert(line.split(',').next().unwrap().to_owned());
        }
        let global = std::fs::File::open(format!("{DATA}/bins_global_ccby.csv.gz")).unwrap();
        let global = BufReader::new(flate2::read::GzDecoder::new(global));
        for line in global.lines().skip(1) {
            let line = line.unwrap();
            rows.insert(line.split(',').next().unwrap().to_owned());
        }
        assert!(rows.len() > 320_000, "{} rows", rows.len());
        assert!(rows.iter().all(|r| r.bytes().all(|b| b.is_ascii_digit())));
        let starts = rows
            .iter()
            .flat_map(|row| (1..=row.len()).map(|n| row[..n].to_owned()))
            .collect();
        (rows, starts)
    })
}

/// True when some real row and `prefix` overlap: the row equals or starts
/// `prefix`, or `prefix` starts the row (a card could then carry both).
fn overlaps_real_bin(prefix: &str) -> bool {
    let (rows, starts) = real_bins();
    (1..=prefix.len()).any(|n| rows.contains(&prefix[..n])) || starts.contains(prefix)
}

/// The predicate `BinIndex::is_issued_prefix` offers, built from the raw rows.
fn is_real_bin(prefix: &str) -> bool {
    overlaps_real_bin(prefix)
}

/// `(brand, prefix_start, prefix_end)` from card_schemes.csv.
fn scheme_ranges() -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(format!("{DATA}/card_schemes.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|line| {
            let mut fields = line.split(',');
            let mut next = || fields.next().unwrap().to_owned();
            (next(), next(), next())
        })
        .collect()
}

fn schemes_containing(prefix: &str) -> Vec<String> {
    scheme_ranges()
        .into_iter()
        .filter(|(_, start, end)| {
            let head: u64 = prefix[..start.len()].parse().unwrap();
            (start.parse().unwrap()..=end.parse().unwrap()).contains(&head)
        })
        .map(|(brand, _, _)| brand)
        .collect()
}

#[test]
fn default_ranges_overlap_no_row_of_the_shipped_bin_tables() {
    let ranges = TokenBinRanges::default();
    for (brand, range) in ranges.all() {
        assert!(
            !overlaps_real_bin(range.prefix()),
            "{brand} token range {range} overlaps a real BIN row"
        );
    }
    ranges.check(is_real_bin).unwrap();
}

#[test]
fn default_ranges_pass_the_shipped_bin_index() {
    let index = crate::bins::BinIndex::builtin().unwrap();
    TokenBinRanges::default()
        .check(|prefix| index.is_issued_prefix(prefix))
        .unwrap();
    let real: TokenBinRanges = serde_json::from_str(r#"{"unionpay": "62220200"}"#).unwrap();
    assert!(real.check(|prefix| index.is_issued_prefix(prefix)).is_err());
}

#[test]
fn default_ranges_sit_in_their_own_scheme_or_in_none() {
    let ranges = TokenBinRanges::default();
    let expect = [
        ("unionpay", vec!["UNIONPAY"]),
        ("visa", vec!["VISA"]),
        ("mastercard", vec!["MASTERCARD"]),
        // 34, 37 and 3528-3589 are fully allocated in the global table.
        ("amex", vec![]),
        ("jcb", vec![]),
        ("fallback", vec![]),
    ];
    for (brand, schemes) in expect {
        let range = ranges
            .all()
            .into_iter()
            .find(|(b, _)| *b == brand)
            .unwrap()
            .1;
        assert_eq!(
            schemes_containing(range.prefix()),
            schemes,
            "{brand} {range}"
        );
    }
    // Why Amex and JCB sit outside their schemes: no free 6-digit BIN is left.
    for first in (340_000..350_000)
        .chain(370_000..380_000)
        .chain(352_800..359_000)
    {
        assert!(
            overlaps_real_bin(&first.to_string()),
            "{first} is free after all"
        );
    }
}

#[test]
fn ranges_read_from_config_keep_defaults_and_refuse_bad_values() {
    let ranges: TokenBinRanges = serde_json::from_str(r#"{"visa": "47109912"}"#).unwrap();
    assert_eq!(ranges.visa.prefix(), "47109912");
    assert_eq!(ranges.unionpay, TokenBinRanges::default().unionpay);
    assert!(serde_json::from_str::<TokenBinRanges>(r#"{"visa": "4710"}"#).is_err());
    assert!(serde_json::from_str::<TokenBinRanges>(r#"{"visa": "47109x"}"#).is_err());
    assert!(serde_json::from_str::<TokenBinRanges>(r#"{"diners": "471099"}"#).is_err());

    // A range on a real BIN is refused at start-up and at issuance.
    let real: TokenBinRanges = serde_json::from_str(r#"{"visa": "424242"}"#).unwrap();
    assert!(is_real_bin("424242"));
    let error = real.check(is_real_bin).unwrap_err();
    assert!(matches!(error, TokenError::RangeIsRealBin { ref brand, .. } if brand == "visa"));
    assert!(matches!(
        issue_token_pan(&pan("411111111111111"), &Brand::Visa, &real, is_real_bin),
        Err(TokenError::RangeIsRealBin { .. })
    ));
}

#[test]
fn brands_map_to_their_ranges() {
    let ranges = TokenBinRanges::default();
    assert_eq!(ranges.for_brand(&Brand::UnionPay).prefix(), "629990");
    assert_eq!(ranges.for_brand(&Brand::CnDomestic).prefix(), "629990");
    assert_eq!(ranges.for_brand(&Brand::Amex).prefix(), "329990");
    assert_eq!(ranges.for_brand(&Brand::Discover).prefix(), "990000");
    assert_eq!(
        ranges.for_brand(&Brand::Other("elo".into())).prefix(),
        "990000"
    );
}

fn brands() -> impl Strategy<Value = Brand> {
    prop_oneof![
        Just(Brand::UnionPay),
        Just(Brand::Visa),
        Just(Brand::Mastercard),
        Just(Brand::Amex),
        Just(Brand::Jcb),
        Just(Brand::Discover),
        Just(Brand::CnDomestic),
        Just(Brand::Other("troy".into())),
    ]
}

proptest! {
    #[test]
    fn every_token_pan_is_valid_and_in_its_range(
        payload in "[0-9]{11,18}",
        brand in brands(),
        long_prefix in any::<bool>(),
    ) {
        let card = pan(&payload);
        let mut ranges = TokenBinRanges::default();
        if long_prefix {
            ranges.mastercard = TokenBinRange::new("27059912").unwrap();
            ranges.fallback = TokenBinRange::new("9900001").unwrap();
        }
        let range = ranges.for_brand(&brand).clone();
        let token = issue_token_pan(&card, &brand, &ranges, is_real_bin).unwrap();
        let digits = token.expose_digits();
        prop_assert_eq!(token.len(), card.len());
        prop_assert!(luhn::is_valid(digits));
        prop_assert!(range.contains(digits));
        prop_assert!(!is_real_bin(&digits[..6]));
        prop_assert_ne!(digits, card.expose_digits());
        // It parses like any card number a merchant sends.
        prop_assert_eq!(TokenPan::parse(digits).unwrap(), token.clone());
    }

    #[test]
    fn par_is_29_characters_deterministic_and_keyed(a in "[0-9]{11,18}", b in "[0-9]{11,18}") {
        let ring = KeyRing::generate().unwrap();
        let controller = BinControllerId::default();
        let (card_a, card_b) = (pan(&a), pan(&b));
        let par = Par::derive(&ring, &controller, &card_a);
        prop_assert_eq!(par.as_str().len(), Par::LEN);
        prop_assert!(par.as_str().bytes().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
        prop_assert_eq!(par.bin_controller_id(), "T001");
        prop_assert_eq!(&par, &Par::derive(&ring, &controller, &card_a.clone()));
        prop_assert_ne!(&par, &Par::derive(&KeyRing::generate().unwrap(), &controller, &card_a));
        if card_a != card_b {
            prop_assert_ne!(&par, &Par::derive(&ring, &controller, &card_b));
        }
        prop_assert_eq!(Par::parse(par.as_str()), Some(par.clone()));
    }
}

/// Fixed key, fixed card, exact PAR. The PAR is stored on the card and
/// carried by its tokens: a change to its derivation (the key's HKDF label,
/// what the HMAC covers, the base32 alphabet, the length) would give a card
/// a PAR its stored tokens do not share. See `vault/tests/pinned.rs`.
#[test]
fn the_par_derivation_is_pinned() {
    let ring = KeyRing::fixed_for_tests();
    let card = Pan::parse("6222021234567890128").unwrap();
    let par = Par::derive(&ring, &BinControllerId::default(), &card);
    assert_eq!(par.as_str(), "T001FWMXHFACPUIASCVH5C4GHO75S");
    let other = BinControllerId::new("C0A1").unwrap();
    assert_eq!(
        Par::derive(&ring, &other, &card).as_str(),
        "C0A1FWMXHFACPUIASCVH5C4GHO75S"
    );
}

#[test]
fn every_token_of_a_card_shares_its_par_but_not_its_number() {
    let ring = KeyRing::generate().unwrap();
    let card = pan("622202123456789012");
    let ranges = TokenBinRanges::default();
    let controller = BinControllerId::new("C0A1").unwrap();
    let tokens: HashSet<String> = (0..50)
        .map(|_| {
            issue_token_pan(&card, &Brand::UnionPay, &ranges, is_real_bin)
                .unwrap()
                .expose_digits()
                .to_owned()
        })
        .collect();
    assert_eq!(tokens.len(), 50);
    let par = Par::derive(&ring, &controller, &card);
    assert!(par.as_str().starts_with("C0A1"));
    // Rotating the data keys leaves the PAR alone.
    let mut rotated = ring.clone();
    rotated.rotate().unwrap();
    assert_eq!(Par::derive(&rotated, &controller, &card), par);
    assert!(BinControllerId::new("t001").is_err());
    assert!(BinControllerId::new("T0011").is_err());
}

#[test]
fn a_card_inside_the_token_range_never_gets_itself_back() {
    // Only a card number outside every BIN table could start with a token
    // range. A 12-digit card under an 8-digit range leaves 3 random digits:
    // the card itself is drawn about once in 1,000 tries, 5 times in 5,000.
    let ranges = TokenBinRanges {
        fallback: TokenBinRange::new("99000012").unwrap(),
        ..TokenBinRanges::default()
    };
    let card = pan("99000012123");
    let mut seen = HashSet::new();
    for _ in 0..5_000 {
        let token = issue_token_pan(&card, &Brand::Discover, &ranges, |_| false).unwrap();
        assert_ne!(token.expose_digits(), card.expose_digits());
        seen.insert(token.expose_digits().to_owned());
    }
    // Every other number of the range comes up: the draw is not stuck.
    assert!(seen.len() > 950, "{}", seen.len());
}

#[test]
fn token_pans_print_masked() {
    let token = issue_token_pan(
        &pan("411111111111111"),
        &Brand::Visa,
        &TokenBinRanges::default(),
        is_real_bin,
    )
    .unwrap();
    let shown = format!("{token} {token:?}");
    assert!(!shown.contains(token.expose_digits()), "{shown}");
    assert!(shown.contains("471099******"), "{shown}");
    assert_eq!(token.first6(), "471099");
    assert_eq!(token.last4(), &token.expose_digits()[12..]);
}

#[test]
fn token_refs_look_alike_and_never_repeat() {
    let refs: HashSet<TokenRef> = (0..1000).map(|_| TokenRef::generate().unwrap()).collect();
    assert_eq!(refs.len(), 1000);
    for token_ref in &refs {
        assert_eq!(token_ref.as_str().len(), 28);
        assert_eq!(
            TokenRef::parse(token_ref.as_str()).as_ref(),
            Some(token_ref)
        );
        let json = serde_json::to_string(token_ref).unwrap();
        assert_eq!(serde_json::from_str::<TokenRef>(&json).unwrap(), *token_ref);
    }
    assert_eq!(TokenRef::parse("tok_ABCDEFGHIJKLMNOPQRSTUVWX"), None);
    assert_eq!(TokenRef::parse("tok_abc"), None);
    assert_eq!(TokenRef::parse("card_abcdefghijklmnopqrstuvwx"), None);
}

#[test]
fn base32_matches_rfc_4648() {
    assert_eq!(base32(b"foobar", BASE32_UPPER), "MZXW6YTBOI");
    assert_eq!(base32(b"fooba", BASE32_UPPER), "MZXW6YTB");
    assert_eq!(base32(b"f", BASE32_LOWER), "my");
}

#[test]
fn token_expiry_is_the_card_expiry_capped_at_three_years() {
    let today = NaiveDate::from_ymd_opt(2026, 11, 15).unwrap();
    assert_eq!(token_expiry(3, 2027, today), (3, 2027));
    assert_eq!(token_expiry(11, 2029, today), (11, 2029));
    assert_eq!(token_expiry(12, 2029, today), (11, 2029));
    assert_eq!(token_expiry(5, 2031, today), (11, 2029));
    let january = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
    assert_eq!(token_expiry(12, 2035, january), (1, 2030));
    let december = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap();
    assert_eq!(token_expiry(12, 2035, december), (12, 2029));
}
