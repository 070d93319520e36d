use super::*;
use crate::bins::csv::{is_prepaid_category, split_csv_line};
use crate::bins::table::{Keys, Row};
use crate::card::luhn;

/// A Luhn-valid number of `len` digits starting with `prefix`.
pub(crate) fn card(prefix: &str, len: usize) -> String {
    let mut payload = prefix.to_owned();
    while payload.len() < len - 1 {
        payload.push('0');
    }
    let digit = luhn::check_digit(&payload).unwrap();
    format!("{payload}{digit}")
}

fn pan(prefix: &str, len: usize) -> Pan {
    Pan::parse(&card(prefix, len)).unwrap()
}

#[test]
fn ccb_436742_at_19_digits_is_a_ccb_debit_card() {
    let record = test_index().lookup_pan(&pan("436742", 19)).unwrap();
    assert_eq!(record.brand, Brand::Visa);
    assert_eq!(record.issuer_code.as_deref(), Some("CCB"));
    assert_eq!(record.issuer_name_zh.as_deref(), Some("中国建设银行"));
    assert_eq!(
        record.issuer_name_en.as_deref(),
        Some("China Construction Bank")
    );
    assert_eq!(record.card_type, Some(CardType::Debit));
    assert_eq!(record.country.as_deref(), Some("CN"));
    assert_eq!(record.pan_lengths, vec![19]);
    assert_eq!(record.source, BinSource::ChinaTable);
    assert_eq!(record.prefix, "436742");
    // The 9-digit row 436742193 is longer, so it answers for its numbers.
    let longer = test_index().lookup_pan(&pan("436742193", 19)).unwrap();
    assert_eq!(longer.prefix, "436742193");
    assert_eq!(longer.issuer_code.as_deref(), Some("CCB"));
}

#[test]
fn issuer_codes_are_known_from_the_issuer_tables_only() {
    let index = test_index();
    assert!(index.has_issuer_code("CCB"));
    assert!(index.has_issuer_code("ABC"));
    assert!(!index.has_issuer_code("NOPE"));
    assert!(
        !index.has_issuer_code("ccb"),
        "codes are compared as written"
    );
    assert!(!index.has_issuer_code(""));
}

#[test]
fn a_62_card_resolves_to_its_chinese_bank() {
    let record = test_index().lookup_pan(&pan("622202", 19)).unwrap();
    assert_eq!(record.brand, Brand::UnionPay);
    assert_eq!(record.issuer_code.as_deref(), Some("ICBC"));
    assert_eq!(record.issuer_name_zh.as_deref(), Some("中国工商银行"));
    assert_eq!(record.source, BinSource::ChinaTable);
    let cmb = test_index().lookup_pan(&pan("621483", 16)).unwrap();
    assert_eq!(cmb.issuer_name_zh.as_deref(), Some("招商银行"));
    assert_eq!(cmb.issuer_name_en.as_deref(), Some("China Merchants Bank"));
}

#[test]
fn a_prefix_at_two_lengths_is_decided_by_the_card_length() {
    // 622302: 16 digits at 广东省农村信用社联合社, 18 digits at ICBC.
    let short = test_index().lookup_pan(&pan("622302", 16)).unwrap();
    assert_eq!(short.issuer_code.as_deref(), Some("GDRCC"));
    assert_eq!(short.pan_lengths, vec![16]);
    let long = test_index().lookup_pan(&pan("622302", 18)).unwrap();
    assert_eq!(long.issuer_code.as_deref(), Some("ICBC"));
    assert_eq!(long.pan_lengths, vec![18]);
    // Same prefix, same bank at two lengths: the length rule has both.
    let hz = test_index().lookup_with_len("622286", None).unwrap();
    assert_eq!(hz.issuer_code.as_deref(), Some("HZCB"));
    assert_eq!(hz.pan_lengths, vec![16, 17]);
}

#[test]
fn no_length_match_takes_the_nearest_length() {
    // 622302 has rows at 16 and 18 only: a 19-digit card takes the
    // 18-digit row, a 17-digit card ties and takes the longer (18).
    let nineteen = test_index().lookup_pan(&pan("622302", 19)).unwrap();
    assert_eq!(nineteen.issuer_code.as_deref(), Some("ICBC"));
    assert!(nineteen.length_mismatch(19));
    let seventeen = test_index().lookup_pan(&pan("622302", 17)).unwrap();
    assert_eq!(seventeen.issuer_code.as_deref(), Some("ICBC"));
}

#[test]
fn a_shorter_prefix_at_the_right_length_beats_a_longer_one_at_another() {
    // 621260102 is a 19-digit 常熟农商银行 row; 621260 at 16 is 平安银行.
    let nineteen = test_index().lookup_pan(&pan("621260102", 19)).unwrap();
    assert_eq!(nineteen.issuer_code.as_deref(), Some("CSRCB"));
    assert_eq!(nineteen.prefix, "621260102");
    let sixteen = test_index().lookup_pan(&pan("621260102", 16)).unwrap();
    assert_eq!(sixteen.issuer_code.as_deref(), Some("SPABANK"));
    assert_eq!(sixteen.prefix, "621260");
}

#[test]
fn candidates_show_every_row_at_a_shared_prefix() {
    let all = test_index().candidates("622302", None);
    let mut issuers: Vec<_> = all
        .iter()
        .map(|r| (r.issuer_code.clone().unwrap(), r.pan_lengths.clone()))
        .collect();
    issuers.sort();
    assert_eq!(
        issuers,
        vec![
            ("GDRCC".to_owned(), vec![16]),
            ("ICBC".to_owned(), vec![18])
        ]
    );
    // Without a length, the first row of the file answers.
    let first = test_index().lookup("622302").unwrap();
    assert_eq!(first.issuer_code.as_deref(), Some("GDRCC"));
}

#[test]
fn scheme_ranges_answer_when_no_table_knows_the_bin() {
    // A Mastercard 2-series test card that neither table lists.
    let record = test_index().lookup("2222400070000005").unwrap();
    assert_eq!(record.brand, Brand::Mastercard);
    assert_eq!(record.source, BinSource::SchemeRanges);
    assert_eq!(record.prefix, "2222");
    assert_eq!(record.pan_lengths, vec![16]);
    assert_eq!(record.issuer_code, None);
    assert_eq!(record.country, None);
    // Mir: every 2200-2204 BIN is in the global table, so the built-in
    // index answers from it; with the schemes alone the range answers.
    let mir = card("2200", 16);
    let global = test_index().lookup(&mir).unwrap();
    assert_eq!(
        (global.brand, global.source),
        (Brand::Mir, BinSource::GlobalTable)
    );
    let schemes = BinIndex::schemes_only().unwrap();
    let fallback = schemes.lookup(&mir).unwrap();
    assert_eq!(fallback.brand, Brand::Mir);
    assert_eq!(fallback.source, BinSource::SchemeRanges);
    assert_eq!(fallback.prefix, "2200");
    assert_eq!(fallback.pan_lengths, vec![16, 17, 18, 19]);
}

#[test]
fn short_input_asks_the_scheme_ranges_only() {
    let record = test_index().lookup("62").unwrap();
    assert_eq!(record.brand, Brand::UnionPay);
    assert_eq!(record.source, BinSource::SchemeRanges);
    let record = test_index().lookup("43674").unwrap();
    assert_eq!(
        (record.brand, record.source),
        (Brand::Visa, BinSource::SchemeRanges)
    );
    // Overlapping ranges: the longest prefix wins.
    assert_eq!(test_index().lookup("6011").unwrap().brand, Brand::Discover);
    assert_eq!(test_index().lookup("5019").unwrap().brand, Brand::Dankort);
    assert_eq!(test_index().lookup("8171").unwrap().brand, Brand::UnionPay);
    assert_eq!(test_index().lookup("1"), None);
    assert_eq!(test_index().lookup(""), None);
    assert_eq!(test_index().lookup("4367 42"), None);
}

#[test]
fn the_global_table_answers_outside_china_and_maps_chinese_banks() {
    let visa = test_index().lookup("424242").unwrap();
    assert_eq!(visa.brand, Brand::Visa);
    assert_eq!(visa.source, BinSource::GlobalTable);
    assert_eq!(visa.pan_lengths, vec![13, 16, 19]);
    assert!(visa.country.is_some());
    // A quoted issuer name with a comma in it.
    let bdo = test_index().lookup("011300").unwrap();
    assert_eq!(bdo.issuer_name_en.as_deref(), Some("BDO UNIBANK, INC."));
    assert_eq!(bdo.country.as_deref(), Some("PH"));
    // Chinese issuers written in English get the China table's codes.
    let mapped: Vec<(&str, &str)> = vec![
        ("CN ICBC PEONY MONEY LINK CARD", "ICBC"),
        ("INSDUSTRIAL AND COMMERCIAL BANK OF CHINA", "ICBC"),
        ("AGRICULTURAL BANK OF CHINA, LTD.", "ABC"),
        ("BANK OF CHINA, LTD.", "BOC"),
        ("CHINA CONSTRUCTION BANK CORPORATION", "CCB"),
        ("BANK OF COMMUNICATIONS CO., LTD", "COMM"),
        ("CHINA MERCHANT BANK", "CMB"),
        ("POSTAL SAVING BANK OF CHINA", "PSBC"),
        ("CHINA CITIC BANK CORPORATION, LTD.", "CITIC"),
        ("CHINA EVERBRIGHT BANK COMPANY, LTD.", "CEB"),
        ("CHINA MINSHENG BANKING CORP.,LTD", "CMBC"),
        ("SHANGHAI PUDONG DEVELOPMENT BANK OF CHINA", "SPDB"),
        ("INDUSTRIAL BANK CO., LTD", "CIB"),
        ("HUAXIA BANK CO.LTD", "HXBANK"),
        ("CHINA GUANGFA BANK CO., LTD.", "GDB"),
        ("GUANG DONG DEVELOPMENT BANK", "GDB"),
        ("PINGAN BANK DEBIT", "SPABANK"),
    ];
    for (name, code) in mapped {
        assert_eq!(issuer_code_from_name(name), Some(code), "{name}");
    }
    for name in [
        "PEOPLES BANK OF CHINA",
        "CHONGQING BISHAN ICBC RURAL BANK",
        "SHIHEZI BANK OF COMMUNICATIONS VILLAGE BANK-GOBI PEARL CARD",
        "BANK OF GUIYANG CO., LTD.",
        "",
    ] {
        assert_eq!(issuer_code_from_name(name), None, "{name}");
    }
}

#[test]
fn a_global_only_chinese_bin_gets_the_issuer_code() {
    // Find a CN row of the global table for ABC that the China table
    // does not cover, and check it answers with ABC's code and names.
    let global = test_index()
        .tables
        .iter()
        .find(|t| t.source == BinSource::GlobalTable)
        .unwrap();
    let china = &test_index().tables[0];
    let group = &global.groups[0];
    let Keys::Narrow(keys) = &group.keys else {
        panic!("6-digit keys are narrow")
    };
    let (bin, _) = keys
        .iter()
        .zip(&global.rows[group.first_row..])
        .map(|(k, row)| (format!("{k:06}"), row))
        .find(|(bin, row)| {
            global.issuers[row.issuer as usize].code.as_deref() == Some("ABC")
                && !china.overlaps(bin)
        })
        .unwrap();
    let record = test_index().lookup(&bin).unwrap();
    assert_eq!(record.source, BinSource::GlobalTable);
    assert_eq!(record.issuer_code.as_deref(), Some("ABC"));
    assert_eq!(record.issuer_name_zh.as_deref(), Some("中国农业银行"));
    assert_eq!(record.country.as_deref(), Some("CN"));
}

#[test]
fn prepaid_categories_are_prepaid() {
    assert!(is_prepaid_category("PREPAID"));
    assert!(is_prepaid_category("PREPAID RELOADABLE"));
    assert!(is_prepaid_category("PERSONAL GREEN PREPAID"));
    assert!(is_prepaid_category("GIFT"));
    assert!(!is_prepaid_category("PLATINUM"));
    assert!(!is_prepaid_category(""));
    // DEBIT in the type column, PERSONAL GREEN PREPAID in the category.
    let prepaid = test_index().lookup("372002").unwrap();
    assert_eq!(prepaid.brand, Brand::Amex);
    assert_eq!(prepaid.card_type, Some(CardType::Prepaid), "{prepaid:?}");
}

#[test]
fn every_luhn_valid_test_card_gets_a_brand() {
    let text = include_str!("../../../../../data/test_cards.csv");
    let mut checked = 0;
    for line in text.lines().skip(1) {
        let mut fields = Vec::new();
        split_csv_line(line, &mut fields).unwrap();
        let number = &fields[0];
        if !luhn::is_valid(number) {
            assert_eq!(fields[2], "no", "{number} fails Luhn but is marked valid");
            continue;
        }
        let record = test_index()
            .lookup(number)
            .unwrap_or_else(|| panic!("{} has no brand", crate::card::pan::mask(number)));
        if !fields[4].contains("bad_length") {
            assert_eq!(
                record.brand,
                Brand::parse(&fields[4]),
                "{}",
                crate::card::pan::mask(number)
            );
        }
        checked += 1;
    }
    assert!(checked >= 120, "only {checked} Luhn-valid rows");
}

#[test]
fn issued_prefixes_cover_rows_in_both_directions() {
    let index = test_index();
    assert!(index.is_issued_prefix("436742"));
    assert!(index.is_issued_prefix("622202"));
    // 95555 is a 5-digit China row: every 6-digit prefix under it is issued.
    assert!(index.is_issued_prefix("955551"));
    // 6212600 has 9-digit rows under it.
    assert!(index.is_issued_prefix("6212601"));
    assert!(!index.is_issued_prefix("2222400"));
    assert!(!index.is_issued_prefix("620000"));
    assert!(index.is_issued_prefix("62x000"));
    assert!(!BinIndex::schemes_only().unwrap().is_issued_prefix("436742"));
}

const CUSTOM: &str = "\u{feff}prefix,pan_length,brand,issuer_code,issuer_name_zh,issuer_name_en,card_type,country\n\
    436742,19,VISA,BOCOM,测试银行,Test Bank,CREDIT,cn\n\
    \n\
    999999,,\"PRIVATE LABEL\",,,\"Acme, Inc.\",,US\n";

#[test]
fn a_custom_file_replaces_the_built_in_tables() {
    let index = BinIndex::from_csv_reader(CUSTOM.as_bytes(), "custom.csv").unwrap();
    let record = index.lookup_pan(&pan("436742", 19)).unwrap();
    assert_eq!(record.source, BinSource::Custom);
    assert_eq!(record.issuer_code.as_deref(), Some("COMM"));
    assert_eq!(record.issuer_name_zh.as_deref(), Some("测试银行"));
    assert_eq!(record.card_type, Some(CardType::Credit));
    assert_eq!(record.country.as_deref(), Some("CN"));
    let acme = index.lookup("9999991").unwrap();
    assert_eq!(acme.brand, Brand::Other("private_label".into()));
    assert_eq!(acme.issuer_name_en.as_deref(), Some("Acme, Inc."));
    assert!(acme.pan_lengths.is_empty());
    // The built-in tables are gone: 622202 is only a UnionPay range now.
    let unionpay = index.lookup_pan(&pan("622202", 19)).unwrap();
    assert_eq!(unionpay.source, BinSource::SchemeRanges);
    assert_eq!(
        index.stats().tables,
        vec![(BinSource::Custom, 2), (BinSource::SchemeRanges, 30)]
    );
    // The same through a file on disk.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bins.csv");
    std::fs::write(&path, CUSTOM).unwrap();
    assert_eq!(
        BinIndex::from_path(&path)
            .unwrap()
            .lookup_pan(&pan("436742", 19)),
        Some(record)
    );
}

#[test]
fn a_bad_custom_file_names_the_line_and_the_value() {
    let error = |text: &str| {
        BinIndex::from_csv_reader(text.as_bytes(), "bins.csv")
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        error("prefix,brand\n123456,VISA\n12a456,VISA\n"),
        "bins.csv line 3: prefix \"12a456\" is not 1 to 12 digits"
    );
    assert!(error("bin,brand\n").contains("no \"prefix\" column"));
    assert_eq!(
        error(""),
        "bins.csv: the file is empty: it needs a header row"
    );
    assert!(
        error("prefix,brand,card_type\n123456,VISA,GOLD\n").contains("line 2: card_type \"GOLD\"")
    );
    assert!(error("prefix,brand,country\n123456,VISA,CHN\n").contains("country \"CHN\""));
    assert!(error("prefix,brand,pan_length\n123456,VISA,21\n").contains("pan_length \"21\""));
    assert!(error("prefix,brand\n123456,\n").contains("line 2: brand is empty"));
    assert!(error("prefix,brand\n\"123456,VISA\n").contains("not closed"));
    assert_eq!(
        error("prefix,brand,pan_length\n123456,VISA,16\n123456,AMEX,16\n"),
        "bins.csv line 3: prefix 123456 at length 16 repeats line 2"
    );
    let missing = BinIndex::from_path(Path::new("/nonexistent/bins.csv")).unwrap_err();
    assert!(matches!(missing, BinTableError::Io { .. }));
}

#[test]
fn stats_count_the_rows_and_the_memory() {
    let stats = test_index().stats();
    assert_eq!(
        stats.tables,
        vec![
            (BinSource::ChinaTable, 2354),
            (BinSource::GlobalTable, 327_012),
            (BinSource::SchemeRanges, 30)
        ]
    );
    // 12-byte rows and 4-byte keys, plus the issuer names.
    assert!(stats.heap_bytes > 327_012 * 16, "{}", stats.heap_bytes);
    assert!(stats.heap_bytes < 12 * 1024 * 1024, "{}", stats.heap_bytes);
    assert_eq!(size_of::<Row>(), 12);
}

#[test]
fn issuer_aliases_become_table_codes() {
    assert_eq!(canonical_issuer_code("bocom"), "COMM");
    assert_eq!(canonical_issuer_code(" PAB "), "SPABANK");
    assert_eq!(canonical_issuer_code("CGB"), "GDB");
    assert_eq!(canonical_issuer_code("HXB"), "HXBANK");
    assert_eq!(canonical_issuer_code("icbc"), "ICBC");
}
