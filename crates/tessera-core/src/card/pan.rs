//! The primary account number. A `Pan` is always 12 to 19 ASCII digits with a
//! correct Luhn check digit; it prints only its masked form (first 6 + last 4)
//! and wipes its digits from memory when dropped.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::card::luhn;
use crate::error::{DomainError, ErrorCode};

/// The shortest and longest card numbers any scheme issues (ISO/IEC 7812).
pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 19;

#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Pan {
    digits: String,
}

impl Pan {
    /// Parses what a person typed: digits, optionally grouped with spaces or
    /// dashes. Anything else, or a length no card has, is `invalid_number`; a
    /// wrong check digit is `incorrect_number`. Both name `param: "number"`.
    pub fn parse(input: &str) -> Result<Pan, DomainError> {
        let mut digits = String::with_capacity(MAX_LEN);
        for c in input.trim().chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' => {}
                _ => {
                    digits.zeroize();
                    return Err(invalid(ErrorCode::InvalidNumber));
                }
            }
        }
        if digits.is_empty() {
            return Err(DomainError::missing(ErrorCode::InvalidNumber, "number"));
        }
        if !(MIN_LEN..=MAX_LEN).contains(&digits.len()) {
            digits.zeroize();
            return Err(invalid(ErrorCode::InvalidNumber));
        }
        if !luhn::is_valid(&digits) {
            digits.zeroize();
            return Err(invalid(ErrorCode::IncorrectNumber));
        }
        Ok(Pan { digits })
    }

    /// The full number. Call only where the clear PAN is truly needed (the
    /// vault, the issuer connector, key derivation); never log the result.
    pub fn expose_digits(&self) -> &str {
        &self.digits
    }

    pub fn len(&self) -> usize {
        self.digits.len()
    }

    pub fn is_empty(&self) -> bool {
        self.digits.is_empty()
    }

    /// The first six digits: the BIN (IIN) as people and tables use it.
    pub fn first6(&self) -> &str {
        &self.digits[..6]
    }

    pub fn last4(&self) -> &str {
        &self.digits[self.digits.len() - 4..]
    }

    /// The first `n` digits (at most the whole number), for BIN lookups by
    /// longer prefixes.
    pub fn prefix(&self, n: usize) -> &str {
        &self.digits[..n.min(self.digits.len())]
    }

    /// First 6 and last 4 with the middle starred: the most any log, error or
    /// response may show.
    pub fn masked(&self) -> String {
        mask(&self.digits)
    }
}

/// Masks any digit string the way a `Pan` prints itself: first 6 + last 4,
/// the rest as `*`. Shorter strings are starred entirely but for the last 4.
pub fn mask(digits: &str) -> String {
    let len = digits.chars().count();
    if len < MIN_LEN {
        // Too short to be a card number: show at most the last 4, never more
        // than half of it.
        let shown = if len >= 8 { 4 } else { 0 };
        let hidden = len - shown;
        return "*".repeat(hidden) + &digits.chars().skip(hidden).collect::<String>();
    }
    let mut out = String::with_capacity(len);
    for (i, c) in digits.chars().enumerate() {
        out.push(if i < 6 || i >= len - 4 { c } else { '*' });
    }
    out
}

/// The first 6 and last 4 digits of a number that failed to parse, masked
/// (`622848*****1234`), for support to compare with the card: only when it
/// is digits (spaces and dashes allowed) and at least 10 of them, and never
/// more than those 10 digits. Returns (masked, first 6, last 4).
pub fn typed_ends(input: &str) -> Option<(String, String, String)> {
    let mut digits: Zeroizing<String> = Zeroizing::new(String::with_capacity(MAX_LEN));
    for c in input.trim().chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' => {}
            _ => return None,
        }
    }
    let len = digits.len();
    if len < 10 {
        return None;
    }
    let first6 = digits[..6].to_owned();
    let last4 = digits[len - 4..].to_owned();
    Some((
        format!("{first6}{}{last4}", "*".repeat(len - 10)),
        first6,
        last4,
    ))
}

fn invalid(code: ErrorCode) -> DomainError {
    DomainError::new(code).with_param("number")
}

impl fmt::Debug for Pan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pan({})", self.masked())
    }
}

impl fmt::Display for Pan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod typed_ends_tests {
    use super::typed_ends;

    #[test]
    fn a_malformed_number_keeps_its_ends_only() {
        let (masked, first6, last4) = typed_ends("6228 4800 0000 0000 12").unwrap();
        assert_eq!(masked, "622848********0012");
        assert_eq!((first6.as_str(), last4.as_str()), ("622848", "0012"));
        // Ten digits: the six and the four, nothing more to hide.
        assert_eq!(typed_ends("1234567890").unwrap().0, "1234567890");
        assert_eq!(typed_ends("123456789"), None);
        assert_eq!(typed_ends("62284800000000001a"), None);
        assert_eq!(typed_ends(""), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_grouped_digits() {
        let pan = Pan::parse(" 4242 4242-4242 4242 ").unwrap();
        assert_eq!(pan.expose_digits(), "4242424242424242");
        assert_eq!(pan.first6(), "424242");
        assert_eq!(pan.last4(), "4242");
    }

    #[test]
    fn each_failure_has_its_own_code() {
        let code = |s: &str| Pan::parse(s).unwrap_err().code;
        assert_eq!(code("4242424242424241"), ErrorCode::IncorrectNumber);
        assert_eq!(code("4242x42424242424"), ErrorCode::InvalidNumber);
        assert_eq!(code("42424242424"), ErrorCode::InvalidNumber);
        assert_eq!(code("42424242424242424242"), ErrorCode::InvalidNumber);
        assert_eq!(code(""), ErrorCode::InvalidNumber);
        assert_eq!(
            code("４２４２４２４２４２４２４２４２"),
            ErrorCode::InvalidNumber
        );
        assert_eq!(
            Pan::parse("4242").unwrap_err().param.as_deref(),
            Some("number")
        );
    }

    #[test]
    fn prints_only_the_masked_form() {
        let pan = Pan::parse("6222021234567890128").unwrap_or_else(|_| {
            let payload = "622202123456789012";
            let digit = luhn::check_digit(payload).unwrap();
            Pan::parse(&format!("{payload}{digit}")).unwrap()
        });
        let shown = format!("{pan} {pan:?}");
        assert!(!shown.contains(pan.expose_digits()));
        assert!(shown.contains("622202*********"));
        assert_eq!(pan.masked().len(), pan.len());
    }

    proptest! {
        #[test]
        fn luhn_round_trip(payload in "[0-9]{11,18}") {
            let digit = luhn::check_digit(&payload).unwrap();
            let number = format!("{payload}{digit}");
            let pan = Pan::parse(&number).unwrap();
            prop_assert_eq!(pan.expose_digits(), number.as_str());
            let shown = format!("{pan:?}");
            prop_assert!(!shown.contains(&number));
        }
    }
}
