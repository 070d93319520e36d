//! Money: integer minor units with an ISO 4217 currency, never floats. The
//! currencies a wallet in China meets, with their numeric codes (what EMV's
//! CDOL1 carries) and their minor-unit exponents.

use std::fmt;

/// An ISO 4217 currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    alpha: &'static str,
    numeric: u16,
    /// Digits after the decimal point: 2 for CNY, 0 for JPY.
    exponent: u8,
}

const fn c(alpha: &'static str, numeric: u16, exponent: u8) -> Currency {
    Currency {
        alpha,
        numeric,
        exponent,
    }
}

/// Known currencies, by ISO 4217. Others are refused rather than guessed.
const CURRENCIES: [Currency; 14] = [
    c("CNY", 156, 2),
    c("HKD", 344, 2),
    c("MOP", 446, 2),
    c("TWD", 901, 2),
    c("USD", 840, 2),
    c("EUR", 978, 2),
    c("GBP", 826, 2),
    c("JPY", 392, 0),
    c("KRW", 410, 0),
    c("SGD", 702, 2),
    c("AUD", 36, 2),
    c("CAD", 124, 2),
    c("THB", 764, 2),
    c("MYR", 458, 2),
];

impl Currency {
    pub const CNY: Currency = CURRENCIES[0];

    /// Parses an alphabetic code (`CNY`, `cny`).
    pub fn parse(code: &str) -> Option<Currency> {
        CURRENCIES
            .into_iter()
            .find(|c| c.alpha.eq_ignore_ascii_case(code.trim()))
    }

    pub fn from_numeric(numeric: u16) -> Option<Currency> {
        CURRENCIES.into_iter().find(|c| c.numeric == numeric)
    }

    pub fn alpha(self) -> &'static str {
        self.alpha
    }

    pub fn numeric(self) -> u16 {
        self.numeric
    }

    pub fn exponent(self) -> u8 {
        self.exponent
    }

    /// Reads a decimal amount as people type it (`12.34`, `12`, `0.5`) into
    /// minor units; more decimals than the currency has, signs, exponents
    /// and anything but digits and one point are refused.
    pub fn parse_amount(self, text: &str) -> Option<u64> {
        let text = text.trim();
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || !digits(whole)
            || !digits(fraction)
            || fraction.len() > usize::from(self.exponent)
            || (text.contains('.') && fraction.is_empty())
        {
            return None;
        }
        let scale = 10u64.checked_pow(u32::from(self.exponent))?;
        let mut minor = whole.parse::<u64>().ok()?.checked_mul(scale)?;
        if !fraction.is_empty() {
            let padded = format!("{fraction:0<width$}", width = usize::from(self.exponent));
            minor = minor.checked_add(padded.parse::<u64>().ok()?)?;
        }
        Some(minor)
    }

    /// Minor units as a decimal text: 1234 CNY is `12.34`.
    pub fn format_amount(self, minor: u64) -> String {
        if self.exponent == 0 {
            return minor.to_string();
        }
        let scale = 10u64.pow(u32::from(self.exponent));
        format!(
            "{}.{:0width$}",
            minor / scale,
            minor % scale,
            width = usize::from(self.exponent)
        )
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.alpha)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_amounts() {
        let cny = Currency::parse("cny").unwrap();
        assert_eq!(
            (cny.alpha(), cny.numeric(), cny.exponent()),
            ("CNY", 156, 2)
        );
        assert_eq!(Currency::from_numeric(392).unwrap().alpha(), "JPY");
        assert_eq!(Currency::parse("XXX"), None);
        assert_eq!(cny.parse_amount("12.34"), Some(1234));
        assert_eq!(cny.parse_amount("12.3"), Some(1230));
        assert_eq!(cny.parse_amount("12"), Some(1200));
        assert_eq!(cny.parse_amount("0.05"), Some(5));
        for bad in ["12.345", "-1", "1e3", "", ".5", "12.", "1,00", " 1 2"] {
            assert_eq!(cny.parse_amount(bad), None, "{bad}");
        }
        assert_eq!(cny.parse_amount("99999999999999999999"), None);
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(jpy.parse_amount("500"), Some(500));
        assert_eq!(jpy.parse_amount("500.5"), None);
        assert_eq!(cny.format_amount(1234), "12.34");
        assert_eq!(cny.format_amount(5), "0.05");
        assert_eq!(jpy.format_amount(500), "500");
    }
}
