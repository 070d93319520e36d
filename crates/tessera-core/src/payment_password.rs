//! The payment password: six digits a person chooses to confirm payments
//! and changes to their wallet. The choices anyone would guess first are
//! refused, each with its reason: one digit six times, a run up or down,
//! a short group repeated, the person's birthday, the phone number's last
//! six digits.

use crate::error::Text;

const fn t(zh: &'static str, en: &'static str) -> Text {
    Text { zh, en }
}

/// The length of a payment password.
pub const LENGTH: usize = 6;

/// Why a choice of payment password was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TooSimple {
    /// Not exactly six digits.
    NotSixDigits,
    /// One digit six times (111111).
    SameDigit,
    /// Digits counting up or down (123456, 654321).
    Run,
    /// A group of two or three repeated (121212, 123123).
    Repeated,
    /// The birth date on the person's ID (YYMMDD, MMDDYY or DDMMYY).
    Birthday,
    /// The last six digits of the person's phone number.
    PhoneNumber,
}

impl TooSimple {
    /// The reason's name in the API (`reason`).
    pub fn as_str(self) -> &'static str {
        match self {
            TooSimple::NotSixDigits => "not_six_digits",
            TooSimple::SameDigit => "same_digit",
            TooSimple::Run => "run",
            TooSimple::Repeated => "repeated",
            TooSimple::Birthday => "birthday",
            TooSimple::PhoneNumber => "phone_number",
        }
    }

    pub fn message(self) -> Text {
        match self {
            TooSimple::NotSixDigits => t(
                "支付密码须为6位数字",
                "The payment password must be 6 digits",
            ),
            TooSimple::SameDigit => t(
                "支付密码不能是同一个数字",
                "The payment password cannot be one digit repeated",
            ),
            TooSimple::Run => t(
                "支付密码不能是连续的数字",
                "The payment password cannot be digits in a row",
            ),
            TooSimple::Repeated => t(
                "支付密码不能是重复的数字组合",
                "The payment password cannot be a repeated group of digits",
            ),
            TooSimple::Birthday => t(
                "支付密码不能是你的生日",
                "The payment password cannot be your birthday",
            ),
            TooSimple::PhoneNumber => t(
                "支付密码不能是手机号的后六位",
                "The payment password cannot be the last six digits of your phone number",
            ),
        }
    }

    pub fn remedy(self) -> Text {
        match self {
            TooSimple::NotSixDigits => t(
                "请输入6位数字，不要包含字母或符号。",
                "Enter 6 digits, with no letters or symbols.",
            ),
            _ => t(
                "这样的密码容易被别人猜到，请换一组只有你自己知道的6位数字。",
                "Others could guess it easily: choose 6 digits that only you know.",
            ),
        }
    }
}

/// Judges a new payment password. `phone` is the person's phone number;
/// `is_birthday` says whether six digits are one of the person's birthday
/// forms (compared as keyed hashes, since the date itself is not kept).
pub fn judge(pin: &str, phone: &str, is_birthday: impl Fn(&str) -> bool) -> Result<(), TooSimple> {
    let digits = pin.as_bytes();
    if digits.len() != LENGTH || !digits.iter().all(u8::is_ascii_digit) {
        return Err(TooSimple::NotSixDigits);
    }
    if digits.iter().all(|d| *d == digits[0]) {
        return Err(TooSimple::SameDigit);
    }
    let steps: Vec<i16> = digits
        .windows(2)
        .map(|pair| i16::from(pair[1]) - i16::from(pair[0]))
        .collect();
    // 123456, 654321, and the ones that wrap (890123, 321098).
    let run = |up: bool| {
        steps.iter().all(|step| {
            if up {
                *step == 1 || *step == -9
            } else {
                *step == -1 || *step == 9
            }
        })
    };
    if run(true) || run(false) {
        return Err(TooSimple::Run);
    }
    if digits[..2].repeat(3) == digits || digits[..3].repeat(2) == digits {
        return Err(TooSimple::Repeated);
    }
    let phone_digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    if phone_digits.len() >= LENGTH && phone_digits.ends_with(pin) {
        return Err(TooSimple::PhoneNumber);
    }
    if is_birthday(pin) {
        return Err(TooSimple::Birthday);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(pin: &str) -> Result<(), TooSimple> {
        judge(pin, "+86 138 0013 8000", |pin| pin == "491231")
    }

    #[test]
    fn the_guessable_choices_are_refused_with_their_reason() {
        for (pin, reason) in [
            ("12345", TooSimple::NotSixDigits),
            ("1234567", TooSimple::NotSixDigits),
            ("12a456", TooSimple::NotSixDigits),
            ("１２３４５６", TooSimple::NotSixDigits),
            ("111111", TooSimple::SameDigit),
            ("000000", TooSimple::SameDigit),
            ("123456", TooSimple::Run),
            ("654321", TooSimple::Run),
            ("890123", TooSimple::Run),
            ("210987", TooSimple::Run),
            ("123123", TooSimple::Repeated),
            ("121212", TooSimple::Repeated),
            ("520520", TooSimple::Repeated),
            ("138000", TooSimple::PhoneNumber),
            ("491231", TooSimple::Birthday),
        ] {
            assert_eq!(judged(pin), Err(reason), "{pin}");
        }
    }

    #[test]
    fn other_choices_are_taken() {
        for pin in ["135790", "204816", "123457", "112233", "491230", "830271"] {
            assert_eq!(judged(pin), Ok(()), "{pin}");
        }
    }

    #[test]
    fn every_reason_has_words_in_both_languages() {
        for reason in [
            TooSimple::NotSixDigits,
            TooSimple::SameDigit,
            TooSimple::Run,
            TooSimple::Repeated,
            TooSimple::Birthday,
            TooSimple::PhoneNumber,
        ] {
            for text in [reason.message(), reason.remedy()] {
                assert!(!text.zh.is_empty() && !text.en.is_empty());
                assert!(
                    !text.zh.contains(',') && !text.zh.contains('.'),
                    "{}",
                    text.zh
                );
            }
        }
    }
}
