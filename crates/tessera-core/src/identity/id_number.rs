//! The 18-character China resident ID number (GB 11643-1999): a 6-digit region
//! code, the birth date as YYYYMMDD, a 3-digit sequence and an ISO 7064
//! MOD 11-2 check character (a digit or X). It prints only its last 4.

use std::fmt;

use chrono::{NaiveDate, Utc};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::card::expiry::{DEFAULT_WALLET_TZ, wallet_today};
use crate::error::{DomainError, ErrorCode};

pub const LEN: usize = 18;

/// The weights 2^(17-i) mod 11 of ISO 7064 MOD 11-2 for the first 17 digits.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// The check character for each remainder of the weighted sum mod 11.
const CHECK_CHARS: [u8; 11] = *b"10X98765432";

/// An ID number with a valid region, birth date and check character, stored
/// with an upper-case X. Wiped on drop; `Debug` and `Display` show the last 4.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct IdNumber {
    chars: String,
}

impl IdNumber {
    /// Parses an ID number, judging "born in the future" against today's date
    /// in the default wallet time zone. This reads the clock; use `parse_on`
    /// where the date is known (tests, a configured wallet time zone).
    pub fn parse(input: &str) -> Result<IdNumber, DomainError> {
        IdNumber::parse_on(input, wallet_today(Utc::now(), DEFAULT_WALLET_TZ))
    }

    /// 17 digits and a check character (digit, X or x), spaces allowed between
    /// groups. The old 15-digit numbers are refused like any other malformed
    /// number: the catalogue's remedy tells people to update theirs at the bank.
    /// Every failure is `invalid_id_number` with `param: "id_number"`.
    pub fn parse_on(input: &str, today: NaiveDate) -> Result<IdNumber, DomainError> {
        let mut chars = String::with_capacity(LEN);
        for c in input.trim().chars() {
            match c {
                '0'..='9' => chars.push(c),
                'X' | 'x' => chars.push('X'),
                ' ' => {}
                _ => {
                    chars.zeroize();
                    return Err(invalid());
                }
            }
        }
        if !is_well_formed(&chars, today) {
            chars.zeroize();
            return Err(invalid());
        }
        Ok(IdNumber { chars })
    }

    /// The full number. Only for the identity check with the issuer and for
    /// the keyed hash kept on the user; never log it.
    pub fn expose(&self) -> &str {
        &self.chars
    }

    pub fn last4(&self) -> &str {
        &self.chars[LEN - 4..]
    }

    /// The sequence digits, the 15th to 17th characters (odd for a man,
    /// even for a woman): the sandbox identity provider reads its outcome
    /// from them.
    pub fn sequence(&self) -> &str {
        &self.chars[LEN - 4..LEN - 1]
    }

    /// The birth date as the six digits people choose as a PIN: YYMMDD,
    /// MMDDYY and DDMMYY. Only their keyed hashes are ever kept
    /// (`payment_password.rs` refuses them as a payment password).
    pub fn birthday_pins(&self) -> [String; 3] {
        let date = &self.chars[6..14];
        let (yy, mm, dd) = (&date[2..4], &date[4..6], &date[6..8]);
        [
            format!("{yy}{mm}{dd}"),
            format!("{mm}{dd}{yy}"),
            format!("{dd}{mm}{yy}"),
        ]
    }

    /// Fourteen stars and the last 4: "**************002X".
    pub fn masked(&self) -> String {
        format!("{}{}", "*".repeat(LEN - 4), self.last4())
    }
}

/// The check character for 17 leading ASCII digits; `None` for anything else.
pub fn check_char(first17: &str) -> Option<char> {
    if first17.len() != 17 || !first17.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(digit, weight)| u32::from(digit - b'0') * weight)
        .sum();
    CHECK_CHARS.get((sum % 11) as usize).map(|&c| char::from(c))
}

/// 18 characters in upper case: region, birth date and check character.
fn is_well_formed(chars: &str, today: NaiveDate) -> bool {
    if chars.len() != LEN {
        return false;
    }
    let (first17, check) = chars.split_at(17);
    // Region codes start with 1 to 8 (north China to Hong Kong, Macao and
    // Taiwan); 0 and 9 are not used.
    if !matches!(first17.as_bytes().first(), Some(b'1'..=b'8')) {
        return false;
    }
    match birth_date(&first17[6..14]) {
        Some(born) if born <= today => {}
        _ => return false,
    }
    check_char(first17).is_some_and(|expected| check.starts_with(expected))
}

/// YYYYMMDD as a real date in 1900 or later.
fn birth_date(yyyymmdd: &str) -> Option<NaiveDate> {
    let year = yyyymmdd.get(0..4)?.parse::<i32>().ok()?;
    let month = yyyymmdd.get(4..6)?.parse::<u32>().ok()?;
    let day = yyyymmdd.get(6..8)?.parse::<u32>().ok()?;
    if year < 1900 {
        return None;
    }
    NaiveDate::from_ymd_opt(year, month, day)
}

fn invalid() -> DomainError {
    DomainError::new(ErrorCode::InvalidIdNumber).with_param("id_number")
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

impl fmt::Display for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, Days};
    use proptest::prelude::*;

    const SAMPLE: &str = "11010519491231002X";

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 5, 15).unwrap()
    }

    fn refused(input: &str) {
        let error = IdNumber::parse_on(input, today()).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidIdNumber, "{input:?}");
        assert_eq!(error.param.as_deref(), Some("id_number"));
    }

    /// A valid number from region, birth date and sequence.
    fn with_check(first17: &str) -> String {
        format!("{first17}{}", check_char(first17).unwrap())
    }

    #[test]
    fn the_published_sample_is_valid() {
        let id = IdNumber::parse_on(SAMPLE, today()).unwrap();
        assert_eq!(id.expose(), SAMPLE);
        assert_eq!(id.last4(), "002X");
        assert_eq!(check_char("11010519491231002"), Some('X'));
        // The clock-reading form agrees: 1949 is in the past on any clock.
        assert_eq!(IdNumber::parse(SAMPLE).unwrap(), id);
    }

    #[test]
    fn lower_case_x_and_spaces_are_accepted() {
        let id = IdNumber::parse_on(" 110105 19491231 002x ", today()).unwrap();
        assert_eq!(id.expose(), SAMPLE);
    }

    #[test]
    fn wrong_check_characters_are_refused() {
        for check in "0123456789".chars() {
            refused(&format!("11010519491231002{check}"));
        }
        // X is only ever a check character.
        refused("X1010519491231002X");
    }

    #[test]
    fn old_and_odd_lengths_are_refused() {
        refused("110105491231002");
        refused("1101051949123100");
        refused("11010519491231002");
        refused("11010519491231002X0");
        refused("");
        refused("11010519491231002-");
        refused("１１０１０５１９４９１２３１００２Ｘ");
    }

    #[test]
    fn region_must_start_with_1_to_8() {
        for first in ["0", "9"] {
            refused(&with_check(&format!("{first}1010519491231002")));
        }
        assert!(IdNumber::parse_on(&with_check("81000019800101001"), today()).is_ok());
    }

    #[test]
    fn birth_date_must_be_real_and_past() {
        refused(&with_check("11010519490230002"));
        refused(&with_check("11010519491301002"));
        refused(&with_check("11010518991231002"));
        // 1900 was not a leap year, 2000 was.
        refused(&with_check("11010519000229002"));
        assert!(IdNumber::parse_on(&with_check("11010520000229002"), today()).is_ok());
        assert!(IdNumber::parse_on(&with_check("11010519000101002"), today()).is_ok());
        // Born today is fine, tomorrow is not.
        assert!(IdNumber::parse_on(&with_check("11010520260515002"), today()).is_ok());
        refused(&with_check("11010520260516002"));
    }

    #[test]
    fn prints_only_the_last_four() {
        let id = IdNumber::parse_on(SAMPLE, today()).unwrap();
        assert_eq!(id.to_string(), "**************002X");
        assert_eq!(format!("{id:?}"), "IdNumber(**************002X)");
        assert_eq!(id.masked().len(), LEN);
    }

    #[test]
    fn check_char_needs_17_digits() {
        assert_eq!(check_char("1101051949123100"), None);
        assert_eq!(check_char("1101051949123100X"), None);
        assert_eq!(check_char("110105194912310021"), None);
    }

    /// Region (first digit 1..=8), a birth date from 1900 to today, a sequence.
    fn first17() -> impl Strategy<Value = String> {
        let days = u64::try_from(
            today()
                .signed_duration_since(NaiveDate::from_ymd_opt(1900, 1, 1).unwrap())
                .num_days(),
        )
        .unwrap();
        ("[1-8][0-9]{5}", 0..=days, "[0-9]{3}").prop_map(|(region, offset, sequence)| {
            let born = NaiveDate::from_ymd_opt(1900, 1, 1)
                .unwrap()
                .checked_add_days(Days::new(offset))
                .unwrap();
            format!(
                "{region}{:04}{:02}{:02}{sequence}",
                born.year(),
                born.month(),
                born.day()
            )
        })
    }

    proptest! {
        #[test]
        fn a_computed_check_char_always_validates(first17 in first17(), lower in any::<bool>()) {
            let mut number = with_check(&first17);
            if lower {
                number = number.to_lowercase();
            }
            let id = IdNumber::parse_on(&number, today()).unwrap();
            prop_assert_eq!(id.expose(), number.to_uppercase());
            let shown = format!("{id} {id:?}");
            prop_assert!(!shown.contains(&number.to_uppercase()));
        }

        #[test]
        fn changing_any_one_character_fails(first17 in first17(), position in 0usize..LEN, delta in 0usize..10) {
            let mut number = with_check(&first17).into_bytes();
            // Step through "0123456789X" so every change stays a plausible
            // character; only the last place may hold an X.
            let alphabet = b"0123456789X";
            let size = if position == LEN - 1 { 11 } else { 10 };
            let current = alphabet.iter().position(|&c| c == number[position]).unwrap();
            let step = 1 + delta % (size - 1);
            number[position] = alphabet[(current + step) % size];
            let number = String::from_utf8(number).unwrap();
            prop_assert!(IdNumber::parse_on(&number, today()).is_err(), "{} accepted", number);
        }
    }
}
