//! The card security code (CVC2/CVV2/CVN2/CID): 3 digits on the back, or 4 on
//! the front of an American Express card. It is passed to the issuer once and
//! never stored, so it lives only in this type, which wipes itself on drop.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::bins::Brand;
use crate::error::{DomainError, ErrorCode};

/// A security code of the length its brand prints. No `Display` and no
/// `PartialEq`: nothing should print a CVC or compare one; only the issuer
/// judges whether it is right.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Cvc {
    digits: String,
}

impl Cvc {
    /// Exactly 3 ASCII digits, or 4 for American Express; surrounding
    /// whitespace is ignored. Anything else is `invalid_cvc` with
    /// `param: "cvc"`.
    pub fn parse(input: &str, brand: &Brand) -> Result<Cvc, DomainError> {
        let input = input.trim();
        if input.len() != Cvc::length_for(brand) || !input.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DomainError::new(ErrorCode::InvalidCvc).with_param("cvc"));
        }
        Ok(Cvc {
            digits: input.to_owned(),
        })
    }

    /// How many digits a brand's security code has.
    pub fn length_for(brand: &Brand) -> usize {
        match brand {
            Brand::Amex => 4,
            _ => 3,
        }
    }

    /// The digits, for the issuer request only; never log or store them.
    pub fn expose_digits(&self) -> &str {
        &self.digits
    }
}

impl fmt::Debug for Cvc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cvc(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn code(input: &str, brand: &Brand) -> ErrorCode {
        Cvc::parse(input, brand).unwrap_err().code
    }

    #[test]
    fn three_digits_or_four_for_amex() {
        assert_eq!(
            Cvc::parse("123", &Brand::Visa).unwrap().expose_digits(),
            "123"
        );
        assert_eq!(
            Cvc::parse(" 007 ", &Brand::UnionPay)
                .unwrap()
                .expose_digits(),
            "007"
        );
        assert_eq!(
            Cvc::parse("1234", &Brand::Amex).unwrap().expose_digits(),
            "1234"
        );
        assert_eq!(code("1234", &Brand::Visa), ErrorCode::InvalidCvc);
        assert_eq!(code("123", &Brand::Amex), ErrorCode::InvalidCvc);
        assert_eq!(
            code("1234", &Brand::Other("ELO".into())),
            ErrorCode::InvalidCvc
        );
    }

    #[test]
    fn only_ascii_digits() {
        for input in ["", "12", "12a", "1 3", "-12", "１２３", "12.", "\u{0663}23"] {
            let error = Cvc::parse(input, &Brand::Mastercard).unwrap_err();
            assert_eq!(error.code, ErrorCode::InvalidCvc, "{input:?}");
            assert_eq!(error.param.as_deref(), Some("cvc"));
        }
    }

    #[test]
    fn debug_hides_the_digits() {
        let cvc = Cvc::parse("4321", &Brand::Amex).unwrap();
        assert_eq!(format!("{cvc:?}"), "Cvc(***)");
    }

    fn brand() -> impl Strategy<Value = Brand> {
        prop_oneof![
            Just(Brand::UnionPay),
            Just(Brand::Visa),
            Just(Brand::Mastercard),
            Just(Brand::Amex),
            Just(Brand::Jcb),
            Just(Brand::CnDomestic),
        ]
    }

    proptest! {
        #[test]
        fn accepts_exactly_the_brand_length(brand in brand(), digits in "[0-9]{1,6}") {
            let accepted = Cvc::parse(&digits, &brand).is_ok();
            prop_assert_eq!(accepted, digits.len() == Cvc::length_for(&brand));
        }

        #[test]
        fn any_non_digit_is_refused(brand in brand(), text in r"[0-9]{0,3}[^0-9\s][0-9]{0,3}") {
            prop_assert!(Cvc::parse(&text, &brand).is_err());
        }
    }
}
