//! Free text people send, through the masking of card numbers
//! (`text::mask_card_numbers`, `text::mask_card_numbers_in_json`).
//!
//! The raw bytes, as text: the output is the input with every run of 13 or
//! more digits (at most 3 characters between two of them) replaced by
//! `****` and its last four digits, and with nothing else changed; masking
//! it again changes nothing; text without such a run (in particular
//! without a digit) comes back borrowed. The raw bytes, as JSON when they
//! parse: a second pass changes nothing. Then, built from the same bytes,
//! a number of 13 to 19 digits of any script with up to 3 separators
//! between two digits, inside arbitrary text: it is masked in the text and
//! in a JSON document's free-text fields (not in its identifiers), and no
//! run of the output holds its digits but the last four.
#![no_main]

use std::borrow::Cow;

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use tessera_core::text::{
    MASK, MAX_GAP, MIN_RUN_DIGITS, digit_value, is_decimal_digit, mask_card_numbers,
    mask_card_numbers_in_json,
};

/// The zeros of some sets of decimal digits: ASCII, full-width,
/// Arabic-Indic, Extended Arabic-Indic, Devanagari, Bengali, Thai, Myanmar,
/// the five mathematical sets, Osmanya, Adlam.
const ZEROS: &[char] = &[
    '0',
    '\u{FF10}',
    '\u{0660}',
    '\u{06F0}',
    '\u{0966}',
    '\u{09E6}',
    '\u{0E50}',
    '\u{1040}',
    '\u{1D7CE}',
    '\u{1D7D8}',
    '\u{1D7E2}',
    '\u{1D7EC}',
    '\u{1D7F6}',
    '\u{104A0}',
    '\u{1E950}',
];

/// Characters people put between the digits of a card number.
const SEPARATORS: &[char] = &[
    ' ', '-', '.', '/', ',', '_', '*', '\n', '\r', '\t', '\u{3000}', '\u{200D}', '\u{200B}',
    '\u{00A0}', '\u{2009}', '\u{2013}', '\u{FF0D}', 'x',
];

/// One run of digits of `text` by the masking rule: its byte span, from
/// its first digit to its last, and its digits' values.
struct Run {
    start: usize,
    end: usize,
    values: Vec<u8>,
}

/// The runs of `text`, read independently of the masking code: digits
/// with at most `MAX_GAP` characters between two of them.
fn runs(text: &str) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    let mut gap = 0;
    for (i, c) in text.char_indices() {
        let Some(value) = digit_value(c) else {
            gap += 1;
            continue;
        };
        assert!(value < 10 && is_decimal_digit(c), "{c:?} has value {value}");
        let end = i + c.len_utf8();
        match runs.last_mut() {
            Some(run) if gap <= MAX_GAP => {
                run.end = end;
                run.values.push(value);
            }
            _ => runs.push(Run {
                start: i,
                end,
                values: vec![value],
            }),
        }
        gap = 0;
    }
    runs
}

/// `text` as the rule says it is masked: each run of `MIN_RUN_DIGITS` or
/// more digits becomes `****` and its last four digits in ASCII.
fn expected(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for run in runs(text) {
        if run.values.len() < MIN_RUN_DIGITS {
            continue;
        }
        out.push_str(&text[copied..run.start]);
        out.push_str(MASK);
        let last4 = &run.values[run.values.len() - 4..];
        out.extend(last4.iter().map(|d| char::from(b'0' + d)));
        copied = run.end;
    }
    out.push_str(&text[copied..]);
    out
}

/// True when a run of `text` holds `digits` one after the other.
fn holds(text: &str, digits: &[u8]) -> bool {
    runs(text)
        .iter()
        .any(|run| run.values.windows(digits.len()).any(|w| w == digits))
}

/// The masking of any text, checked against the rule.
fn check_text(text: &str) {
    let out = mask_card_numbers(text);
    let has_run = runs(text)
        .iter()
        .any(|run| run.values.len() >= MIN_RUN_DIGITS);
    assert_eq!(out, expected(text), "masking {text:?}");
    assert_eq!(
        matches!(out, Cow::Owned(_)),
        has_run,
        "borrowed exactly when there is nothing to mask: {text:?}"
    );
    if !text.chars().any(is_decimal_digit) {
        assert!(matches!(out, Cow::Borrowed(t) if t == text));
    }
    let again = mask_card_numbers(&out);
    assert!(
        matches!(again, Cow::Borrowed(_)),
        "masking is not idempotent: {text:?} -> {out:?} -> {again:?}"
    );
    let digits = |s: &str| s.chars().filter(|c| is_decimal_digit(*c)).count();
    assert!(
        digits(&out) <= digits(text),
        "masking added digits: {text:?}"
    );
}

/// A JSON document from outside: a second pass finds nothing to mask, and
/// a pass that reports no change made none.
fn check_json(mut value: Value) {
    let before = value.clone();
    let changed = mask_card_numbers_in_json(&mut value);
    if !changed {
        assert_eq!(value, before, "a pass that reports no change made one");
    }
    let masked = value.clone();
    assert!(
        !mask_card_numbers_in_json(&mut value),
        "a second pass masked more: {masked}"
    );
    assert_eq!(value, masked);
}

/// A number of 13 to 19 digits, with separators, inside arbitrary text.
struct Embedded {
    prefix: String,
    number: String,
    values: Vec<u8>,
    suffix: String,
}

impl Embedded {
    fn build(u: &mut Unstructured<'_>) -> arbitrary::Result<Embedded> {
        let prefix = String::arbitrary(u)?;
        let len = u.int_in_range(MIN_RUN_DIGITS..=19)?;
        let mut number = String::new();
        let mut values = Vec::with_capacity(len);
        for i in 0..len {
            if i > 0 {
                for _ in 0..u.int_in_range(0..=MAX_GAP)? {
                    let c = if u.ratio(3, 4)? {
                        *u.choose(SEPARATORS)?
                    } else {
                        char::arbitrary(u)?
                    };
                    // A digit here would lengthen the number, not separate it.
                    number.push(if is_decimal_digit(c) { '.' } else { c });
                }
            }
            let value = u.int_in_range(0..=9u8)?;
            let zero = u32::from(*u.choose(ZEROS)?);
            let digit = char::from_u32(zero + u32::from(value)).expect("a digit");
            assert_eq!(digit_value(digit), Some(value), "the value of {digit:?}");
            number.push(digit);
            values.push(value);
        }
        let suffix = String::arbitrary(u)?;
        Ok(Embedded {
            prefix,
            number,
            values,
            suffix,
        })
    }

    fn check(&self) {
        let text = format!("{}{}{}", self.prefix, self.number, self.suffix);
        let out = mask_card_numbers(&text);
        assert!(matches!(out, Cow::Owned(_)), "not masked: {text:?}");
        assert!(out.contains(MASK));
        // All but the last four digits must be gone, unless the text
        // around the number holds the same digits of its own.
        let hidden = &self.values[..self.values.len() - 4];
        if !holds(&self.prefix, hidden) && !holds(&self.suffix, hidden) {
            assert!(
                !holds(&out, hidden),
                "{:?} left in {out:?} (from {text:?})",
                self.number
            );
        }
        check_text(&text);

        // In a stored document: masked in free text, kept in identifiers.
        let mut doc = json!({
            "message": text,
            "device": { "id": text, "model": text },
            "amount": text,
            "items": [{ "reason": text }],
        });
        assert!(mask_card_numbers_in_json(&mut doc));
        assert_eq!(doc["message"], *out);
        assert_eq!(doc["device"]["model"], *out);
        assert_eq!(doc["items"][0]["reason"], *out);
        assert_eq!(doc["device"]["id"], *text);
        assert_eq!(doc["amount"], *text);
        check_json(doc);
    }
}

fuzz_target!(|data: &[u8]| {
    check_text(&String::from_utf8_lossy(data));
    if let Ok(value) = serde_json::from_slice::<Value>(data) {
        check_json(value);
    }
    if let Ok(embedded) = Embedded::build(&mut Unstructured::new(data)) {
        embedded.check();
    }
});
