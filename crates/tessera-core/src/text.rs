//! Free text people send (ticket messages, reasons, device details, merchant
//! names, notices): the one function that masks card numbers in it, and the
//! checks of a field's length and characters.
//!
//! **What is masked.** A run of 13 or more decimal digits, in any Unicode
//! form (general category Nd: ASCII, full-width `４`, Arabic-Indic `٤`,
//! Devanagari `४`, ...), where at most 3 characters of any kind (spaces,
//! dots, slashes, dashes, newlines, ideographic spaces, zero-width joiners,
//! letters) stand between two digits of the run. Luhn-valid or not: a
//! mistyped card number is still a card number. A run longer than 19 digits
//! is masked whole, since a card number may hide inside it.
//!
//! **The masked form.** The run, from its first digit to its last, becomes
//! `****` followed by its last four digits as ASCII (`****1111`), whatever
//! its length, digits and separators: neither the length nor the BIN is
//! kept, and the last four match the `last4` support sees on the card.
//! The text around the run is unchanged.
//!
//! **What is not.** Runs of up to 12 digits: an 11-digit mobile number,
//! amounts, dates, times. The rule is mechanical, so some text that is not
//! a card number is masked too: a date with a time to the second
//! (`2026-12-05 10:00:00` is 14 digits) or a phone number written with its
//! country code (`+86 138 0013 8000`, 13 digits). Masking more than needed
//! is the safe side.

use std::borrow::Cow;

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use crate::error::{DomainError, ErrorCode};

/// The fewest digits a masked run has (the shortest card numbers in use).
pub const MIN_RUN_DIGITS: usize = 13;
/// The most characters that may stand between two digits of one run.
pub const MAX_GAP: usize = 3;
/// What replaces a run's digits but the last four.
pub const MASK: &str = "****";

/// True for a decimal digit of any script (Unicode general category Nd).
pub fn is_decimal_digit(c: char) -> bool {
    c.is_ascii_digit() || (!c.is_ascii() && c.general_category() == GeneralCategory::DecimalNumber)
}

/// The value (0-9) of a decimal digit of any script. Unicode encodes each
/// script's digits as ten consecutive code points from 0 to 9, and where
/// two sets touch (the mathematical digits) each is whole, so the value is
/// the distance from the start of the block of digits, modulo 10.
pub fn digit_value(c: char) -> Option<u8> {
    if c.is_ascii_digit() {
        return Some(c as u8 - b'0');
    }
    if !is_decimal_digit(c) {
        return None;
    }
    let code = u32::from(c);
    let mut start = code;
    while start > 0 && char::from_u32(start - 1).is_some_and(is_decimal_digit) {
        start -= 1;
    }
    u8::try_from((code - start) % 10).ok()
}

/// One run of digits being read: where it starts and ends (bytes), how many
/// digits it has, and its last four values.
struct Run {
    start: usize,
    end: usize,
    digits: usize,
    last4: [u8; 4],
}

impl Run {
    fn new(start: usize, end: usize, value: u8) -> Run {
        Run {
            start,
            end,
            digits: 1,
            last4: [0, 0, 0, value],
        }
    }

    fn push(&mut self, end: usize, value: u8) {
        self.end = end;
        self.digits += 1;
        self.last4 = [self.last4[1], self.last4[2], self.last4[3], value];
    }
}

/// Masks every card number in `text` (see the module's documentation for
/// the rule and the form). Text without one is returned as it is, borrowed.
pub fn mask_card_numbers(text: &str) -> Cow<'_, str> {
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut run: Option<Run> = None;
    let mut gap = 0;
    let finish = |run: Run, out: &mut Option<String>, copied: &mut usize| {
        if run.digits < MIN_RUN_DIGITS {
            return;
        }
        let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
        out.push_str(&text[*copied..run.start]);
        out.push_str(MASK);
        out.extend(run.last4.iter().map(|d| char::from(b'0' + d)));
        *copied = run.end;
    };
    for (i, c) in text.char_indices() {
        match digit_value(c) {
            Some(value) => {
                let end = i + c.len_utf8();
                match run.as_mut() {
                    Some(current) if gap <= MAX_GAP => current.push(end, value),
                    _ => {
                        if let Some(done) = run.take() {
                            finish(done, &mut out, &mut copied);
                        }
                        run = Some(Run::new(i, end, value));
                    }
                }
                gap = 0;
            }
            None => {
                gap += 1;
                if gap > MAX_GAP
                    && let Some(done) = run.take()
                {
                    finish(done, &mut out, &mut copied);
                }
            }
        }
    }
    if let Some(done) = run.take() {
        finish(done, &mut out, &mut copied);
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut out) => {
            out.push_str(&text[copied..]);
            Cow::Owned(out)
        }
    }
}

/// Keys whose string values are free text wherever they appear in stored
/// JSON (ticket details, a binding's device, the maintenance notice, stored
/// idempotent answers). Under a `device` object every string but its `id`
/// is free text too.
pub const FREE_TEXT_KEYS: &[&str] = &[
    "message",
    "message_zh",
    "message_en",
    "reason",
    "merchant_name",
    "model",
    "os",
    "app_version",
    "network_type",
    "locale",
];

/// Masks card numbers in the free-text values of a JSON document (see
/// [`FREE_TEXT_KEYS`]); identifiers, times and amounts are left alone,
/// since the masking rule would take a timestamp for a card number. True
/// when anything changed.
pub fn mask_card_numbers_in_json(value: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    let mut changed = false;
    match value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                match item {
                    Value::String(text) if FREE_TEXT_KEYS.contains(&key.as_str()) => {
                        changed |= mask_in_place(text);
                    }
                    Value::Object(device) if key == "device" => {
                        for (field, text) in device.iter_mut() {
                            if let (false, Value::String(text)) = (field == "id", text) {
                                changed |= mask_in_place(text);
                            }
                        }
                    }
                    _ => changed |= mask_card_numbers_in_json(item),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                changed |= mask_card_numbers_in_json(item);
            }
        }
        _ => {}
    }
    changed
}

fn mask_in_place(text: &mut String) -> bool {
    match mask_card_numbers(text) {
        Cow::Borrowed(_) => false,
        Cow::Owned(masked) => {
            *text = masked;
            true
        }
    }
}

/// What characters a field may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A person's name: no control character, and none of the invisible
    /// ones (zero-width characters, direction marks, byte-order marks, any
    /// other format character), nor unassigned or private-use code points:
    /// they make two names that look the same compare different.
    Name,
    /// One line of free text (a device's model, a reason, a merchant's
    /// name): no control character, no line or paragraph separator, and no
    /// direction override or isolate, which reorder what support reads.
    Line,
    /// Free text of several lines (a ticket's message, a notice): as
    /// `Line`, but newlines (`\n`, `\r`) and tabs are fine.
    Lines,
    /// An identifier the caller chose (a device id, an event id): no
    /// control, format or separator character other than a space.
    Identifier,
}

impl Shape {
    fn allows(self, c: char) -> bool {
        use GeneralCategory as G;
        let category = c.general_category();
        match self {
            Shape::Name => !matches!(
                category,
                G::Control
                    | G::Format
                    | G::Unassigned
                    | G::PrivateUse
                    | G::Surrogate
                    | G::LineSeparator
                    | G::ParagraphSeparator
            ),
            Shape::Line => {
                !matches!(
                    category,
                    G::Control | G::LineSeparator | G::ParagraphSeparator
                ) && !is_direction_override(c)
            }
            Shape::Lines => matches!(c, '\n' | '\r' | '\t') || Shape::Line.allows(c),
            Shape::Identifier => !matches!(
                category,
                G::Control | G::Format | G::LineSeparator | G::ParagraphSeparator
            ),
        }
    }
}

/// The embeddings, overrides and isolates (U+202A..U+202E, U+2066..U+2069):
/// they reorder the text around them for as long as they last.
fn is_direction_override(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Checks one field people send: at most `max_chars` characters (counted
/// in characters, not bytes), `field_too_long` naming `param` and the
/// limit; then its characters, `invalid_characters` naming `param`.
pub fn check_field(
    value: &str,
    param: &'static str,
    max_chars: usize,
    shape: Shape,
) -> Result<(), DomainError> {
    // Counting stops one past the limit: a 60 KB value costs no more than
    // a value just too long.
    if value.chars().take(max_chars.saturating_add(1)).count() > max_chars {
        return Err(DomainError::new(ErrorCode::FieldTooLong)
            .with_param(param)
            .with_max_length(max_chars));
    }
    if !value.chars().all(|c| shape.allows(c)) {
        return Err(DomainError::new(ErrorCode::InvalidCharacters).with_param(param));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
