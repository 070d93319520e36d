#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

use super::*;

/// (what a person typed, what is kept). The first thirteen are the
/// formats people really type a card number in.
const CORPUS: &[(&str, &str)] = &[
    ("4111111111111111", "****1111"),
    ("4111 1111 1111 1111", "****1111"),
    ("4111-1111-1111-1111", "****1111"),
    ("４１１１１１１１１１１１１１１１", "****1111"),
    ("4111.1111.1111.1111", "****1111"),
    ("4111/1111/1111/1111", "****1111"),
    ("4111,1111,1111,1111", "****1111"),
    ("4111_1111_1111_1111", "****1111"),
    ("4111\n1111\n1111\n1111", "****1111"),
    ("4111  1111  1111  1111", "****1111"),
    ("4111–1111–1111–1111", "****1111"),
    ("4111\u{3000}1111\u{3000}1111\u{3000}1111", "****1111"),
    (
        "4\u{200D}1\u{200D}1\u{200D}1\u{200D}1\u{200D}1\u{200D}1\u{200D}1\u{200D}1\u{200D}1\u{200D}1\u{200D}1\u{200D}1\u{200D}1\u{200D}1\u{200D}1",
        "****1111",
    ),
    ("٤١١١١١١١١١١١١١١١", "****1111"),
    // More scripts and mixtures.
    ("۴۱۱۱۱۱۱۱۱۱۱۱۱۱۱۱", "****1111"),
    ("४१११ १११११११११११२", "****1112"),
    ("𝟒𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏", "****1111"),
    ("４１１１ 1111 １１１１ 1111", "****1111"),
    ("4111\t1111\t1111\t1111", "****1111"),
    ("4111\r\n1111\r\n1111\r\n1111", "****1111"),
    ("4111 - 1111 - 1111 - 1111", "****1111"),
    ("4111x1111y1111z1111", "****1111"),
    ("(4111) [1111] {1111} 1111", "(****1111"),
    // Lengths: 13 and 19 digits, Luhn-invalid, longer than any card.
    ("4222222222222", "****2222"),
    ("6228 4800 0000 0000 001", "****0001"),
    ("4111111111111112", "****1112"),
    ("1234567890123456789012345", "****2345"),
    // In sentences; two cards in one message.
    (
        "我的卡号是４１１１ １１１１ １１１１ １１１１，谢谢",
        "我的卡号是****1111，谢谢",
    ),
    (
        "card 4111-1111-1111-1111 and 5500 0000 0000 0004.",
        "card ****1111 and ****0004.",
    ),
    ("卡号：6228480000000000001。", "卡号：****0001。"),
    // Four characters between two digits end a run: 4 + 12 digits stay.
    ("4111    1111 1111 1111", "4111    1111 1111 1111"),
    // Short numbers: a mobile number, amounts, dates, times, an id.
    ("13800138000", "13800138000"),
    ("请回电 138 0013 8000", "请回电 138 0013 8000"),
    ("¥12,345.67", "¥12,345.67"),
    ("扣了 1,234,567.89 元", "扣了 1,234,567.89 元"),
    ("2026-12-05", "2026-12-05"),
    ("2026年12月5日 10:30", "2026年12月5日 10:30"),
    ("订单 123456789012", "订单 123456789012"),
    ("", ""),
    ("no digits at all", "no digits at all"),
];

#[test]
fn the_corpus_is_masked_as_written() {
    for (typed, kept) in CORPUS {
        assert_eq!(mask_card_numbers(typed), *kept, "typed {typed:?}");
    }
}

#[test]
fn text_without_a_card_number_is_borrowed_unchanged() {
    for text in ["13800138000", "2026-12-05 10:30", "¥12,345.67", "你好"] {
        assert!(matches!(mask_card_numbers(text), Cow::Borrowed(t) if t == text));
    }
}

#[test]
fn digits_of_every_script_have_their_value() {
    for (digits, script) in [
        ("0123456789", "ASCII"),
        ("０１２３４５６７８９", "full-width"),
        ("٠١٢٣٤٥٦٧٨٩", "Arabic-Indic"),
        ("۰۱۲۳۴۵۶۷۸۹", "Persian"),
        ("०१२३४५६७८९", "Devanagari"),
        ("๐๑๒๓๔๕๖๗๘๙", "Thai"),
        ("𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗", "mathematical bold"),
        ("𝟶𝟷𝟸𝟹𝟺𝟻𝟼𝟽𝟾𝟿", "mathematical monospace"),
    ] {
        let values: Vec<u8> = digits.chars().map(|c| digit_value(c).unwrap()).collect();
        assert_eq!(values, (0..10).collect::<Vec<u8>>(), "{script}");
    }
    for c in ['a', '²', '½', 'Ⅻ', '一', ' ', '\u{200D}'] {
        assert_eq!(digit_value(c), None, "{c:?}");
    }
}

#[test]
fn free_text_in_json_is_masked_and_identifiers_are_not() {
    let mut value = serde_json::json!({
        "trace_id": "req_4111111111111111",
        "created_at": "2026-12-05T10:00:00Z",
        "message": "卡号 4111 1111 1111 1111",
        "attempt": {"device": {"id": "4111111111111111", "model": "４１１１１１１１１１１１１１１１"}},
        "diagnosis": {"device": {"zh": "4111.1111.1111.1111", "en": "4111/1111/1111/1111"}},
        "list": [{"reason": "4111_1111_1111_1111"}],
    });
    assert!(mask_card_numbers_in_json(&mut value));
    assert_eq!(value["trace_id"], "req_4111111111111111");
    assert_eq!(value["created_at"], "2026-12-05T10:00:00Z");
    assert_eq!(value["message"], "卡号 ****1111");
    assert_eq!(value["attempt"]["device"]["id"], "4111111111111111");
    assert_eq!(value["attempt"]["device"]["model"], "****1111");
    assert_eq!(value["diagnosis"]["device"]["zh"], "****1111");
    assert_eq!(value["diagnosis"]["device"]["en"], "****1111");
    assert_eq!(value["list"][0]["reason"], "****1111");
    assert!(!mask_card_numbers_in_json(&mut value));
}

#[test]
fn fields_are_checked_for_length_then_characters() {
    let too_long = check_field("张三丰", "real_name", 2, Shape::Name).unwrap_err();
    assert_eq!(too_long.code, ErrorCode::FieldTooLong);
    assert_eq!(too_long.param.as_deref(), Some("real_name"));
    assert_eq!(too_long.max_length, Some(2));
    // Counted in characters: 64 Han characters are 192 bytes, and fit.
    check_field(&"张".repeat(64), "real_name", 64, Shape::Name).unwrap();
    assert!(check_field(&"m".repeat(60_000), "device.model", 64, Shape::Line).is_err());

    let refused = |value: &str, shape| {
        check_field(value, "f", 100, shape).map_err(|e| (e.code, e.param.unwrap().into_owned()))
    };
    let invalid = Err((ErrorCode::InvalidCharacters, "f".to_owned()));
    for name in [
        "张\u{200D}三",
        "张\u{200B}三",
        "张\u{200E}三",
        "张\u{202E}三",
        "张\u{2066}三",
        "张\u{FEFF}三",
        "张\u{00AD}三",
        "张\n三",
        "张\t三",
        "张\u{0}三",
        "张\u{7F}三",
        "张\u{2028}三",
        "张\u{E000}三",
    ] {
        assert_eq!(refused(name, Shape::Name), invalid, "{name:?}");
    }
    for name in ["张三", "阿卜杜·热合曼", "Zhang San", "O'Brien-Smith"] {
        assert_eq!(refused(name, Shape::Name), Ok(()), "{name:?}");
    }
    for line in [
        "a\nb",
        "a\u{0}b",
        "a\u{202E}b",
        "a\u{2029}b",
        "a\u{1B}[31mb",
    ] {
        assert_eq!(refused(line, Shape::Line), invalid, "{line:?}");
    }
    // Emoji sequences keep their joiners; Persian its non-joiner.
    for line in ["iPhone 15 Pro", "👨\u{200D}👩\u{200D}👧", "می\u{200C}خواهم"] {
        assert_eq!(refused(line, Shape::Line), Ok(()), "{line:?}");
    }
    assert_eq!(refused("第一行\r\n第二行\t完", Shape::Lines), Ok(()));
    assert_eq!(refused("a\u{7}b", Shape::Lines), invalid);
    assert_eq!(refused("a\u{202D}b", Shape::Lines), invalid);
    assert_eq!(refused("device-01:A", Shape::Identifier), Ok(()));
    assert_eq!(refused("dev\u{200B}ice", Shape::Identifier), invalid);
    assert_eq!(refused("dev\nice", Shape::Identifier), invalid);
}

/// Digits of several scripts, by the value they stand for.
fn digit_in_any_script(value: u8) -> impl Strategy<Value = char> {
    let zeros = ['0', '０', '٠', '۰', '०', '๐', '𝟎', '𝟘'];
    proptest::sample::select(zeros.to_vec())
        .prop_map(move |zero| char::from_u32(u32::from(zero) + u32::from(value)).unwrap())
}

/// Any character that is not a decimal digit.
fn separator() -> impl Strategy<Value = char> {
    any::<char>().prop_filter("not a digit", |c| !is_decimal_digit(*c))
}

fn text_without_digits() -> impl Strategy<Value = String> {
    proptest::collection::vec(separator(), 0..12).prop_map(|chars| chars.into_iter().collect())
}

/// The digit runs of `text` by the rule, counted independently of the
/// masking code: the number of digits of each run.
fn runs(text: &str) -> Vec<usize> {
    let mut runs = Vec::new();
    let mut current = 0;
    let mut gap = usize::MAX;
    for c in text.chars() {
        if is_decimal_digit(c) {
            if gap > MAX_GAP && current > 0 {
                runs.push(current);
                current = 0;
            }
            current += 1;
            gap = 0;
        } else {
            gap = gap.saturating_add(1);
        }
    }
    if current > 0 {
        runs.push(current);
    }
    runs
}

proptest! {
    /// Any PAN of 13 to 19 digits, in any script, with up to 3 arbitrary
    /// characters between any two digits, is masked to its last four.
    #[test]
    fn every_interleaved_pan_is_masked(
        pan in proptest::collection::vec(0u8..10, 13..=19),
        scripts in proptest::collection::vec(0usize..8, 19),
        gaps in proptest::collection::vec(proptest::collection::vec(separator(), 0..=MAX_GAP), 18),
        before in text_without_digits(),
        after in text_without_digits(),
    ) {
        let zeros = ['0', '０', '٠', '۰', '०', '๐', '𝟎', '𝟘'];
        let mut typed = before.clone();
        for (i, value) in pan.iter().enumerate() {
            if i > 0 {
                typed.extend(&gaps[i - 1]);
            }
            typed.push(char::from_u32(u32::from(zeros[scripts[i]]) + u32::from(*value)).unwrap());
        }
        typed.push_str(&after);
        let last4: String = pan[pan.len() - 4..].iter().map(|d| char::from(b'0' + d)).collect();
        let expected = format!("{before}{MASK}{last4}{after}");
        prop_assert_eq!(mask_card_numbers(&typed), expected);
    }

    /// Text whose runs all have fewer than 13 digits comes back as it was.
    #[test]
    fn text_without_a_long_run_is_unchanged(
        groups in proptest::collection::vec(
            (proptest::collection::vec(0u8..10, 1..=12), 0usize..8, text_without_digits()),
            0..6,
        ),
    ) {
        let zeros = ['0', '０', '٠', '۰', '०', '๐', '𝟎', '𝟘'];
        let mut text = String::new();
        for (digits, script, words) in &groups {
            // At least four characters apart: each group is its own run.
            text.push_str("    ");
            text.push_str(words);
            for d in digits {
                text.push(char::from_u32(u32::from(zeros[*script]) + u32::from(*d)).unwrap());
            }
        }
        prop_assert!(runs(&text).iter().all(|n| *n < MIN_RUN_DIGITS));
        prop_assert_eq!(mask_card_numbers(&text), text.as_str());
    }

    /// Whatever the text, the result holds no run of 13 digits, and
    /// masking it again changes nothing.
    #[test]
    fn masked_text_holds_no_long_run(
        parts in proptest::collection::vec(
            prop_oneof![
                digit_in_any_script(1).prop_map(String::from),
                (0u8..10).prop_flat_map(digit_in_any_script).prop_map(String::from),
                separator().prop_map(String::from),
            ],
            0..80,
        ),
    ) {
        let text: String = parts.concat();
        let masked = mask_card_numbers(&text);
        prop_assert!(runs(&masked).iter().all(|n| *n < MIN_RUN_DIGITS), "{:?}", masked);
        prop_assert_eq!(mask_card_numbers(&masked), masked.as_ref());
    }
}
