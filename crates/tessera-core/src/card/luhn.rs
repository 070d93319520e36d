//! The Luhn (mod 10) check digit that every card number and token PAN carries.

/// True when `digits` (ASCII digits only) ends in a correct Luhn check digit.
/// Anything that is not all ASCII digits, or is empty, is false.
pub fn is_valid(digits: &str) -> bool {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    sum(digits.as_bytes(), false).is_multiple_of(10)
}

/// The check digit to append to `payload` (ASCII digits only) so that the
/// whole number passes Luhn; `None` when `payload` is not all digits.
pub fn check_digit(payload: &str) -> Option<u8> {
    if !payload.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // The payload's last digit will sit second from the right, so it doubles.
    let total = sum(payload.as_bytes(), true);
    Some(((10 - total % 10) % 10) as u8)
}

/// Luhn sum of ASCII digits from the right; `double_first` says whether the
/// rightmost digit is doubled.
fn sum(digits: &[u8], double_first: bool) -> u32 {
    digits
        .iter()
        .rev()
        .enumerate()
        .map(|(position, byte)| {
            let digit = u32::from(byte - b'0');
            if (position % 2 == 1) != double_first {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn published_numbers() {
        assert!(is_valid("4242424242424242"));
        assert!(!is_valid("4242424242424241"));
        assert!(!is_valid("6221558812340000"));
        assert!(is_valid("79927398713"));
        assert!(!is_valid(""));
        assert!(!is_valid("4242 4242"));
    }

    proptest! {
        #[test]
        fn appended_check_digit_always_validates(payload in "[0-9]{11,18}") {
            let digit = check_digit(&payload).unwrap();
            let number = format!("{payload}{digit}");
            prop_assert!(is_valid(&number));
        }

        #[test]
        fn any_single_digit_change_is_caught(payload in "[0-9]{11,18}", position in 0usize..19, delta in 1u8..10) {
            let digit = check_digit(&payload).unwrap();
            let mut number = format!("{payload}{digit}").into_bytes();
            let position = position % number.len();
            number[position] = b'0' + (number[position] - b'0' + delta) % 10;
            prop_assert!(!is_valid(std::str::from_utf8(&number).unwrap()));
        }
    }
}
