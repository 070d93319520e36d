//! The checks a payment runs on the fields a merchant (or a terminal) sent,
//! before the token is looked up, in the request's order: token PAN, token
//! expiry, currency, transaction type, terminal country, transaction date,
//! channel, ATC, merchant name, then the amounts, TVR, unpredictable number,
//! merchant id and cryptogram. The first failure answers, as
//! `invalid_request` naming its field (the token PAN with its own code).
//! The checks for a cryptogram made for an in-app or web payment (amount,
//! currency, merchant) are the same functions.

use std::fmt;

use chrono::NaiveDate;

use crate::card::expiry::Expiry;
use crate::card::pan::mask;
use crate::emv::{Arqc, Atc, Transaction};
use crate::error::{DomainError, ErrorCode};
use crate::money::Currency;
use crate::token::TokenPan;

/// The largest amount an n12 field holds.
pub const MAX_AMOUNT: u64 = 999_999_999_999;

fn invalid(param: &'static str) -> DomainError {
    DomainError::new(ErrorCode::InvalidRequest).with_param(param)
}

/// How a payment reaches the wallet. Device keys pay by tap or in an app; a
/// cryptogram made by the wallet pays in an app or on the web.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Nfc,
    InApp,
    Ecommerce,
}

impl Channel {
    pub fn parse(name: &str) -> Option<Channel> {
        match name {
            "nfc" => Some(Channel::Nfc),
            "in_app" => Some(Channel::InApp),
            "ecommerce" => Some(Channel::Ecommerce),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Nfc => "nfc",
            Channel::InApp => "in_app",
            Channel::Ecommerce => "ecommerce",
        }
    }
}

/// A payment's fields as sent (optional ones with their defaults applied).
#[derive(Clone, Copy)]
pub struct PaymentFields<'a> {
    pub token_pan: &'a str,
    pub token_expiry: &'a str,
    pub amount: u64,
    pub other_amount: u64,
    pub currency: &'a str,
    pub terminal_country: u16,
    pub tvr: &'a str,
    pub transaction_date: &'a str,
    /// Absent means 00 (purchase).
    pub transaction_type: Option<&'a str>,
    pub merchant_id: &'a str,
    pub merchant_name: Option<&'a str>,
    pub channel: &'a str,
    pub atc: &'a str,
    pub unpredictable_number: &'a str,
    pub cryptogram: &'a str,
    /// The issuer application data the device signed (9F10, hex), when it
    /// reports how it verified its holder; None: the profile's own.
    pub iad: Option<&'a str>,
}

impl fmt::Debug for PaymentFields<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PaymentFields")
            .field("token_pan", &mask(self.token_pan))
            .field("amount", &self.amount)
            .field("currency", &self.currency)
            .field("merchant_id", &self.merchant_id)
            .field("channel", &self.channel)
            .field("atc", &self.atc)
            .field("cryptogram", &"***")
            .field("iad", &self.iad)
            .finish_non_exhaustive()
    }
}

/// A payment whose fields all parse.
#[derive(Debug)]
pub struct CheckedPayment {
    pub token_pan: TokenPan,
    pub token_expiry: Expiry,
    pub currency: Currency,
    pub transaction: Transaction,
    pub merchant_id: String,
    pub merchant_name: Option<String>,
    pub channel: Channel,
    pub atc: Atc,
    pub arqc: Arqc,
    /// The IAD the device signed, if it sent one: the token's profile
    /// decides whether it is a valid one.
    pub iad: Option<[u8; 7]>,
}

/// Runs every check; the first failure answers.
pub fn check_payment(fields: &PaymentFields<'_>) -> Result<CheckedPayment, DomainError> {
    let token_pan = TokenPan::parse(fields.token_pan).map_err(|e| e.with_param("token_pan"))?;
    let token_expiry = check_token_expiry(fields.token_expiry)?;
    let currency = check_currency(fields.currency)?;
    let transaction_type = match fields.transaction_type {
        None => 0,
        Some(value) => value
            .trim()
            .parse::<u8>()
            .ok()
            .filter(|t| *t <= 99)
            .ok_or_else(|| invalid("transaction_type"))?,
    };
    if fields.terminal_country == 0 || fields.terminal_country > 999 {
        return Err(invalid("terminal_country"));
    }
    let date = NaiveDate::parse_from_str(fields.transaction_date.trim(), "%Y-%m-%d")
        .map_err(|_| invalid("transaction_date"))?;
    let channel = Channel::parse(fields.channel.trim()).ok_or_else(|| invalid("channel"))?;
    let atc_text = fields.atc.trim();
    let atc = if (1..=4).contains(&atc_text.len()) {
        u16::from_str_radix(atc_text, 16).map_err(|_| invalid("atc"))?
    } else {
        return Err(invalid("atc"));
    };
    // Free text: its size and characters are the server's limits
    // (`limits.merchant_name_chars`); card numbers in it are masked.
    let merchant_name = fields
        .merchant_name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| crate::text::mask_card_numbers(n).into_owned());
    Ok(CheckedPayment {
        token_pan,
        token_expiry,
        currency,
        transaction: Transaction {
            amount: check_amount(fields.amount, "amount", false)?,
            other_amount: check_amount(fields.other_amount, "other_amount", true)?,
            terminal_country: fields.terminal_country,
            tvr: hex_array(fields.tvr, "tvr")?,
            currency: currency.numeric(),
            date,
            transaction_type,
            unpredictable_number: hex_array(fields.unpredictable_number, "unpredictable_number")?,
        },
        merchant_id: check_merchant_id(fields.merchant_id)?,
        merchant_name,
        channel,
        atc: Atc::new(atc),
        arqc: Arqc::from_bytes(&hex_array::<8>(fields.cryptogram, "cryptogram")?)
            .map_err(|_| invalid("cryptogram"))?,
        iad: fields.iad.map(|iad| hex_array(iad, "iad")).transpose()?,
    })
}

/// An amount in minor units: at most `MAX_AMOUNT`, and above 0 unless
/// `allow_zero` (cashback may be 0).
pub fn check_amount(value: u64, param: &'static str, allow_zero: bool) -> Result<u64, DomainError> {
    if value > MAX_AMOUNT || (value == 0 && !allow_zero) {
        return Err(invalid(param));
    }
    Ok(value)
}

/// An ISO 4217 alphabetic code.
pub fn check_currency(code: &str) -> Result<Currency, DomainError> {
    Currency::parse(code).ok_or_else(|| invalid("currency"))
}

/// A merchant id: 1 to 64 letters, digits and `-_.:`, trimmed.
pub fn check_merchant_id(text: &str) -> Result<String, DomainError> {
    let id = text.trim();
    let fine = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    if fine {
        Ok(id.to_owned())
    } else {
        Err(invalid("merchant_id"))
    }
}

/// A token's expiry as merchants send it: MM/YY, MM/YYYY or MMYY.
pub fn check_token_expiry(text: &str) -> Result<Expiry, DomainError> {
    let text = text.trim();
    let (month, year) = match text.split_once('/') {
        Some(parts) => parts,
        None if text.len() == 4 && text.is_ascii() => text.split_at(2),
        None => return Err(invalid("token_expiry")),
    };
    let month: u8 = month.trim().parse().map_err(|_| invalid("token_expiry"))?;
    let year: u16 = match year.trim() {
        y if y.len() == 2 => 2000 + y.parse::<u16>().map_err(|_| invalid("token_expiry"))?,
        y if y.len() == 4 => y.parse().map_err(|_| invalid("token_expiry"))?,
        _ => return Err(invalid("token_expiry")),
    };
    Expiry::new(month, year).map_err(|_| invalid("token_expiry"))
}

fn hex_array<const N: usize>(text: &str, param: &'static str) -> Result<[u8; N], DomainError> {
    let bytes = hex::decode(text.trim()).map_err(|_| invalid(param))?;
    bytes.try_into().map_err(|_| invalid(param))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> PaymentFields<'static> {
        PaymentFields {
            token_pan: "6299901234567890121",
            token_expiry: "12/29",
            amount: 1234,
            other_amount: 0,
            currency: "CNY",
            terminal_country: 156,
            tvr: "0000000000",
            transaction_date: "2026-05-01",
            transaction_type: None,
            merchant_id: "SHOP-1",
            merchant_name: Some(" 楼下便利店 "),
            channel: "nfc",
            atc: "1F",
            unpredictable_number: "0A0B0C0D",
            cryptogram: "0123456789ABCDEF",
            iad: None,
        }
    }

    fn param_of(fields: &PaymentFields<'_>) -> String {
        let error = check_payment(fields).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidRequest, "{error:?}");
        error.param.map(|p| p.to_string()).unwrap_or_default()
    }

    #[test]
    fn a_good_payment_parses_with_its_defaults() {
        let checked = check_payment(&fields()).unwrap();
        assert_eq!(
            (checked.token_expiry.month(), checked.token_expiry.year()),
            (12, 2029)
        );
        assert_eq!(checked.transaction.amount, 1234);
        assert_eq!(checked.transaction.transaction_type, 0);
        assert_eq!(checked.transaction.currency, 156);
        assert_eq!(checked.transaction.unpredictable_number, [10, 11, 12, 13]);
        assert_eq!(checked.channel, Channel::Nfc);
        assert_eq!(checked.atc, Atc::new(0x1F));
        assert_eq!(checked.merchant_name.as_deref(), Some("楼下便利店"));
        assert_eq!(checked.arqc.to_string(), "0123456789ABCDEF");
    }

    /// Spoils one field of a good payment.
    type Spoil = fn(&mut PaymentFields<'static>);

    #[test]
    fn each_bad_field_is_named() {
        let cases: [(&str, Spoil); 15] = [
            ("token_expiry", |f| f.token_expiry = "13/29"),
            ("token_expiry", |f| f.token_expiry = "1229x"),
            ("currency", |f| f.currency = "XXX"),
            ("transaction_type", |f| f.transaction_type = Some("100")),
            ("terminal_country", |f| f.terminal_country = 1000),
            ("transaction_date", |f| f.transaction_date = "01/05/2026"),
            ("channel", |f| f.channel = "fax"),
            ("atc", |f| f.atc = "12345"),
            ("atc", |f| f.atc = "zz"),
            ("amount", |f| f.amount = 0),
            ("amount", |f| f.amount = MAX_AMOUNT + 1),
            ("tvr", |f| f.tvr = "00"),
            ("unpredictable_number", |f| {
                f.unpredictable_number = "0A0B0C0D0E"
            }),
            ("merchant_id", |f| f.merchant_id = "bad id"),
            ("cryptogram", |f| f.cryptogram = "0123"),
        ];
        for (param, spoil) in cases {
            let mut bad = fields();
            spoil(&mut bad);
            assert_eq!(param_of(&bad), param);
        }
        let mut typed = fields();
        typed.merchant_name = Some(" 店 ４１１１ １１１１ １１１１ １１１１ ");
        let checked = check_payment(&typed).unwrap();
        assert_eq!(checked.merchant_name.as_deref(), Some("店 ****1111"));
        // The token PAN keeps its own code.
        let mut bad = fields();
        bad.token_pan = "12";
        let error = check_payment(&bad).unwrap_err();
        assert_ne!(error.code, ErrorCode::InvalidRequest);
        assert_eq!(
            error.param.map(|p| p.to_string()).as_deref(),
            Some("token_pan")
        );
    }

    #[test]
    fn token_expiries_come_in_three_shapes() {
        for text in ["12/29", "12/2029", "1229", " 12 / 29 "] {
            let expiry = check_token_expiry(text).unwrap();
            assert_eq!((expiry.month(), expiry.year()), (12, 2029), "{text}");
        }
        assert!(check_token_expiry("12/029").is_err());
        assert_eq!(check_amount(0, "other_amount", true).unwrap(), 0);
        assert_eq!(check_merchant_id(" M:1_a.b-c ").unwrap(), "M:1_a.b-c");
        let shown = format!("{:?}", fields());
        assert!(!shown.contains("6299901234567890121") && !shown.contains("0123456789ABCDEF"));
    }
}
