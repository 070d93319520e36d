//! A mainland China mobile number: 11 digits, "1" then 3 to 9. Banks send
//! binding codes to it and users sign up with it, so only mainland mobiles are
//! accepted; the country prefix and separators people type are dropped.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::{DomainError, ErrorCode};

pub const LEN: usize = 11;

/// The 11 digits, without a country prefix. `Debug` and `Display` print the
/// masked form "138****8000"; the digits are wiped on drop.
#[derive(Clone, PartialEq, Eq, Hash, Zeroize, ZeroizeOnDrop)]
pub struct PhoneNumber {
    digits: String,
}

impl PhoneNumber {
    /// Accepts the 11 digits with an optional "+86", "86" or "0086" prefix,
    /// grouped with spaces or dashes. Other countries' numbers, landlines and
    /// anything else are `invalid_phone` with `param: "phone"`.
    pub fn parse(input: &str) -> Result<PhoneNumber, DomainError> {
        let input = input.trim();
        let (plus, rest) = match input.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, input),
        };
        let mut digits = String::with_capacity(rest.len());
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' => {}
                _ => {
                    digits.zeroize();
                    return Err(invalid());
                }
            }
        }
        // The prefixes cannot be confused with the number itself: a mobile
        // number starts with 1, never with 8 or 0.
        let prefix = if plus {
            "86"
        } else {
            match digits.len() {
                13 => "86",
                15 => "0086",
                _ => "",
            }
        };
        if !digits.starts_with(prefix) {
            digits.zeroize();
            return Err(invalid());
        }
        digits.drain(..prefix.len());
        if !is_mainland_mobile(&digits) {
            digits.zeroize();
            return Err(invalid());
        }
        Ok(PhoneNumber { digits })
    }

    /// The 11 digits, for sending a code or comparing with the bank's record.
    pub fn expose(&self) -> &str {
        &self.digits
    }

    /// "+86" and the 11 digits, as SMS gateways want them.
    pub fn e164(&self) -> String {
        format!("+86{}", self.digits)
    }

    /// The first 3 and last 4 digits: "138****8000", as Chinese apps show it.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.digits[..3], &self.digits[LEN - 4..])
    }
}

fn is_mainland_mobile(digits: &str) -> bool {
    let bytes = digits.as_bytes();
    bytes.len() == LEN
        && bytes.iter().all(u8::is_ascii_digit)
        && bytes[0] == b'1'
        && (b'3'..=b'9').contains(&bytes[1])
}

fn invalid() -> DomainError {
    DomainError::new(ErrorCode::InvalidPhone).with_param("phone")
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn refused(input: &str) {
        let error = PhoneNumber::parse(input).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidPhone, "{input:?}");
        assert_eq!(error.param.as_deref(), Some("phone"));
    }

    #[test]
    fn every_accepted_spelling_keeps_the_11_digits() {
        for input in [
            "13800138000",
            " 138 0013 8000 ",
            "138-0013-8000",
            "+8613800138000",
            "+86 138 0013 8000",
            "86 13800138000",
            "008613800138000",
            "0086-138-0013-8000",
        ] {
            let phone = PhoneNumber::parse(input).unwrap();
            assert_eq!(phone.expose(), "13800138000", "{input:?}");
        }
        assert_eq!(
            PhoneNumber::parse("19912345678").unwrap().e164(),
            "+8619912345678"
        );
    }

    #[test]
    fn only_mainland_mobiles() {
        for input in [
            "",
            "1380013800",
            "138001380001",
            "12800138000",
            "10800138000",
            "23800138000",
            "+1 415 555 0100",
            "+85291234567",
            "+0086 13800138000",
            "86138001380",
            "0013800138000",
            "010-12345678",
            "138 0013 800O",
            "(138) 0013 8000",
            "１３８００１３８０００",
            "+",
            "++8613800138000",
        ] {
            refused(input);
        }
    }

    #[test]
    fn prints_only_the_masked_number() {
        let phone = PhoneNumber::parse("13800138000").unwrap();
        assert_eq!(phone.masked(), "138****8000");
        assert_eq!(phone.to_string(), "138****8000");
        assert_eq!(format!("{phone:?}"), "PhoneNumber(138****8000)");
    }

    fn separated(digits: &str, separators: &[char]) -> String {
        digits
            .chars()
            .zip(separators.iter().chain(std::iter::repeat(&'\0')))
            .flat_map(|(d, &s)| [Some(d), (s != '\0').then_some(s)])
            .flatten()
            .collect()
    }

    proptest! {
        #[test]
        fn any_prefix_and_grouping_parses_to_the_same_digits(
            number in "1[3-9][0-9]{9}",
            prefix in prop::sample::select(vec!["", "+86", "86", "0086", "+86 ", "0086-"]),
            separators in prop::collection::vec(prop::sample::select(vec!['\0', ' ', '-']), 0..11),
        ) {
            let input = format!("{prefix}{}", separated(&number, &separators));
            let phone = PhoneNumber::parse(&input).unwrap();
            prop_assert_eq!(phone.expose(), number.as_str());
            let shown = format!("{phone} {phone:?}");
            prop_assert!(!shown.contains(&number));
        }

        #[test]
        fn second_digit_0_to_2_or_wrong_length_is_refused(
            bad_second in "1[0-2][0-9]{9}",
            wrong_length in "1[3-9]([0-9]{0,8}|[0-9]{10,14})",
        ) {
            prop_assert!(PhoneNumber::parse(&bad_second).is_err());
            prop_assert!(PhoneNumber::parse(&wrong_length).is_err());
        }
    }
}
