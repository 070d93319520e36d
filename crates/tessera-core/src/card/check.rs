//! The checks a binding runs on the typed fields before it asks the issuer,
//! in the design's order: number, expiry, CVC, holder name, then the BIN
//! lookup and the support policy, then what the card type requires (expiry
//! and CVC for credit cards). The first failure answers, with its `param`.

use std::fmt;

use chrono::NaiveDate;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::bins::policy::unknown_bin;
use crate::bins::{BinIndex, BinRecord, Brand, SupportPolicy};
use crate::card::cvc::Cvc;
use crate::card::expiry::Expiry;
use crate::card::holder_name::HolderName;
use crate::card::pan::{Pan, mask};
use crate::error::{DomainError, ErrorCode};

/// The fields as typed. Blank optional fields count as absent. Holds the
/// clear number and CVC, so it wipes itself on drop and `Debug` masks them.
#[derive(Clone, Default, Zeroize, ZeroizeOnDrop)]
pub struct CardFields {
    pub number: String,
    pub expiry_month: Option<String>,
    pub expiry_year: Option<String>,
    pub cvc: Option<String>,
    pub holder_name: Option<String>,
}

impl fmt::Debug for CardFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CardFields")
            .field("number", &mask(&self.number))
            .field("expiry_month", &self.expiry_month)
            .field("expiry_year", &self.expiry_year)
            .field("cvc", &self.cvc.as_ref().map(|_| "***"))
            .field("holder_name", &self.holder_name.as_ref().map(|_| "***"))
            .finish()
    }
}

impl CardFields {
    pub fn new(number: impl Into<String>) -> Self {
        CardFields {
            number: number.into(),
            expiry_month: None,
            expiry_year: None,
            cvc: None,
            holder_name: None,
        }
    }

    pub fn with_expiry(mut self, month: impl Into<String>, year: impl Into<String>) -> Self {
        self.expiry_month = Some(month.into());
        self.expiry_year = Some(year.into());
        self
    }

    pub fn with_cvc(mut self, cvc: impl Into<String>) -> Self {
        self.cvc = Some(cvc.into());
        self
    }

    pub fn with_holder_name(mut self, holder_name: impl Into<String>) -> Self {
        self.holder_name = Some(holder_name.into());
        self
    }
}

/// A card whose fields passed every check and that the policy accepts.
#[derive(Debug, Clone)]
pub struct CheckedCard {
    pub pan: Pan,
    pub bin: BinRecord,
    pub expiry: Option<Expiry>,
    pub cvc: Option<Cvc>,
    pub holder_name: Option<HolderName>,
}

/// Runs the field checks and the support policy. `today` is the wallet's
/// date (`card::wallet_today`), against which the expiry is judged.
///
/// Expiry and CVC are optional unless the BIN says the card is a credit or
/// semi-credit card (Chinese banks check them only there); a card whose type
/// is unknown is treated like a debit card and the issuer decides. A missing
/// expiry is `invalid_expiry_month` (`param: "expiry_month"`), a missing CVC
/// `invalid_cvc` (`param: "cvc"`); a month without a year (or the reverse) is
/// an error whatever the card type.
pub fn check_card(
    fields: &CardFields,
    index: &BinIndex,
    policy: &SupportPolicy,
    today: NaiveDate,
) -> Result<CheckedCard, DomainError> {
    check_fields(fields, index, today)?.check_support(policy)
}

/// A card whose own fields passed, before the support policy is asked. The
/// service checks maintenance between the two steps, so that typing mistakes
/// are reported first, then maintenance, then whether the card is supported
/// (docs/architecture.md, binding path).
#[derive(Debug, Clone)]
pub struct CheckedFields {
    pub pan: Pan,
    pub bin: Option<BinRecord>,
    pub expiry: Option<Expiry>,
    pub cvc: Option<Cvc>,
    pub holder_name: Option<HolderName>,
}

/// The first half of [`check_card`]: number, expiry, CVC and holder name.
pub fn check_fields(
    fields: &CardFields,
    index: &BinIndex,
    today: NaiveDate,
) -> Result<CheckedFields, DomainError> {
    let pan = Pan::parse(&fields.number)?;
    // Looked up now for the CVC's length; the policy is judged after the
    // other fields, so that typing mistakes are reported first.
    let bin = index.lookup_pan(&pan);

    let expiry = match (given(&fields.expiry_month), given(&fields.expiry_year)) {
        (Some(month), Some(year)) => Some(Expiry::parse_parts(month, year, today)?),
        (Some(month), None) => {
            // The month is judged first, as in a whole expiry.
            Expiry::parse_parts(month, "", today)?;
            return Err(missing(ErrorCode::InvalidExpiryYear, "expiry_year"));
        }
        (None, Some(_)) => return Err(missing(ErrorCode::InvalidExpiryMonth, "expiry_month")),
        (None, None) => None,
    };

    let cvc = match given(&fields.cvc) {
        Some(cvc) => {
            let unknown = Brand::Other("unknown".to_owned());
            let brand = bin.as_ref().map_or(&unknown, |b| &b.brand);
            Some(Cvc::parse(cvc, brand)?)
        }
        None => None,
    };

    let holder_name = given(&fields.holder_name)
        .map(HolderName::parse)
        .transpose()?;

    Ok(CheckedFields {
        pan,
        bin,
        expiry,
        cvc,
        holder_name,
    })
}

impl CheckedFields {
    /// The second half of [`check_card`]: the support policy, then expiry
    /// and CVC where the card type requires them.
    pub fn check_support(self, policy: &SupportPolicy) -> Result<CheckedCard, DomainError> {
        policy.check(self.bin.as_ref())?;
        let bin = self.bin.ok_or_else(unknown_bin)?;
        if bin.card_type.is_some_and(|t| t.requires_expiry_and_cvc()) {
            if self.expiry.is_none() {
                return Err(missing(ErrorCode::InvalidExpiryMonth, "expiry_month"));
            }
            if self.cvc.is_none() {
                return Err(missing(ErrorCode::InvalidCvc, "cvc"));
            }
        }
        Ok(CheckedCard {
            pan: self.pan,
            bin,
            expiry: self.expiry,
            cvc: self.cvc,
            holder_name: self.holder_name,
        })
    }
}

fn given(field: &Option<String>) -> Option<&str> {
    field.as_deref().filter(|s| !s.trim().is_empty())
}

fn missing(code: ErrorCode, param: &'static str) -> DomainError {
    DomainError::missing(code, param)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bins::CardType;
    use crate::bins::index::test_index;
    use crate::card::luhn;
    use crate::error::{Lang, NotSupportedReason};

    fn card(prefix: &str, len: usize) -> String {
        let mut payload = prefix.to_owned();
        while payload.len() < len - 1 {
            payload.push('0');
        }
        let digit = luhn::check_digit(&payload).unwrap();
        format!("{payload}{digit}")
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 15).unwrap()
    }

    fn fields(number: &str) -> CardFields {
        CardFields::new(number)
    }

    fn check(fields: &CardFields) -> Result<CheckedCard, DomainError> {
        check_card(fields, test_index(), &SupportPolicy::default(), today())
    }

    fn fails(fields: &CardFields) -> (ErrorCode, Option<String>) {
        let error = check(fields).unwrap_err();
        (error.code, error.param.map(|p| p.into_owned()))
    }

    fn err(code: ErrorCode, param: &str) -> (ErrorCode, Option<String>) {
        (code, Some(param.to_owned()))
    }

    #[test]
    fn a_debit_card_needs_only_its_number() {
        let checked = check(&fields(&card("622202", 19))).unwrap();
        assert_eq!(checked.bin.issuer_code.as_deref(), Some("ICBC"));
        assert_eq!(checked.bin.card_type, Some(CardType::Debit));
        assert!(checked.expiry.is_none() && checked.cvc.is_none());
        let blank = fields(&card("622202", 19))
            .with_expiry(" ", "")
            .with_cvc("")
            .with_holder_name("");
        assert!(check(&blank).is_ok());
    }

    #[test]
    fn a_credit_card_needs_expiry_then_cvc() {
        // 356390: a 中信银行 JCB credit card.
        let number = card("356390", 16);
        assert_eq!(
            fails(&fields(&number)),
            err(ErrorCode::InvalidExpiryMonth, "expiry_month")
        );
        let with_expiry = fields(&number).with_expiry("12", "2028");
        assert_eq!(fails(&with_expiry), err(ErrorCode::InvalidCvc, "cvc"));
        let full = with_expiry.clone().with_cvc("123").with_holder_name("张三");
        let checked = check(&full).unwrap();
        assert_eq!(checked.bin.card_type, Some(CardType::Credit));
        assert_eq!(
            checked.expiry.map(|e| (e.month(), e.year())),
            Some((12, 2028))
        );
        assert_eq!(checked.cvc.unwrap().expose_digits(), "123");
        assert!(checked.holder_name.is_some());
        // Semi-credit cards too: 436728 is a 中国建设银行 准贷记卡.
        let semi = card("436728", 16);
        assert_eq!(
            test_index().lookup(&semi).unwrap().card_type,
            Some(CardType::SemiCredit)
        );
        assert_eq!(
            fails(&fields(&semi)),
            err(ErrorCode::InvalidExpiryMonth, "expiry_month")
        );
    }

    #[test]
    fn field_errors_come_in_the_design_order() {
        // A prepaid card (refused by policy) with every field wrong: the
        // number first, then expiry, CVC, name, and only then the policy.
        let prepaid = card("620010", 16);
        let mut f = fields(&format!("{}1", &prepaid[..15]))
            .with_expiry("13", "28")
            .with_cvc("12")
            .with_holder_name("Z3");
        if luhn::is_valid(&f.number) {
            f.number = format!("{}2", &prepaid[..15]);
        }
        assert_eq!(fails(&f), err(ErrorCode::IncorrectNumber, "number"));
        f.number = prepaid.clone();
        assert_eq!(
            fails(&f),
            err(ErrorCode::InvalidExpiryMonth, "expiry_month")
        );
        f.expiry_month = Some("12".into());
        assert_eq!(fails(&f), err(ErrorCode::InvalidCvc, "cvc"));
        f.cvc = Some("123".into());
        assert_eq!(fails(&f), err(ErrorCode::InvalidHolderName, "holder_name"));
        f.holder_name = Some("ZHANG SAN".into());
        let error = check(&f).unwrap_err();
        assert_eq!(error.code, ErrorCode::CardNotSupported);
        assert_eq!(error.message(Lang::ZhCn), "预付费卡暂不支持绑定");
    }

    #[test]
    fn half_an_expiry_or_an_expired_card_is_an_error() {
        let number = card("622202", 19);
        let mut month_only = fields(&number);
        month_only.expiry_month = Some("13".into());
        assert_eq!(
            fails(&month_only),
            err(ErrorCode::InvalidExpiryMonth, "expiry_month")
        );
        month_only.expiry_month = Some("12".into());
        assert_eq!(
            fails(&month_only),
            err(ErrorCode::InvalidExpiryYear, "expiry_year")
        );
        let mut year_only = fields(&number);
        year_only.expiry_year = Some("28".into());
        assert_eq!(
            fails(&year_only),
            err(ErrorCode::InvalidExpiryMonth, "expiry_month")
        );
        let expired = fields(&number).with_expiry("05", "26");
        assert_eq!(fails(&expired).0, ErrorCode::ExpiredCard);
    }

    #[test]
    fn the_cvc_length_follows_the_brand_from_the_bin() {
        // 378282: American Express, a 4-digit code.
        let amex = card("378282", 15);
        let three = fields(&amex).with_cvc("123");
        assert_eq!(fails(&three), err(ErrorCode::InvalidCvc, "cvc"));
        let four = fields(&amex).with_cvc("1234").with_expiry("1", "2030");
        let checked = check(&four).unwrap();
        assert_eq!(checked.bin.brand, Brand::Amex);
    }

    #[test]
    fn an_unknown_bin_is_refused_after_the_fields() {
        let index = BinIndex::schemes_only().unwrap();
        let number = card("9999999", 16);
        let error =
            check_card(&fields(&number), &index, &SupportPolicy::default(), today()).unwrap_err();
        assert_eq!(error.code, ErrorCode::CardNotSupported);
        assert_eq!(
            error.not_supported.unwrap().reason,
            NotSupportedReason::UnknownBin
        );
    }

    #[test]
    fn debug_never_shows_the_number_or_cvc() {
        let number = card("622202", 19);
        let f = fields(&number).with_cvc("987");
        let shown = format!("{f:?}");
        assert!(
            !shown.contains(&number) && !shown.contains("987"),
            "{shown}"
        );
        let checked = check(&f).unwrap();
        let shown = format!("{checked:?}");
        assert!(
            !shown.contains(&number) && !shown.contains("987"),
            "{shown}"
        );
    }
}
