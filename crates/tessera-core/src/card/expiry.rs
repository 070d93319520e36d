//! A card's expiry month and year, as printed "MM/YY". A card is good through
//! the last day of its month, and "today" is the wallet's date in its own time
//! zone (Asia/Shanghai by default), not the server's UTC date.

use std::cmp::Ordering;
use std::fmt;

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::error::{DomainError, ErrorCode};

/// The wallet's time zone unless configured otherwise.
pub const DEFAULT_WALLET_TZ: Tz = chrono_tz::Asia::Shanghai;

/// Cards are not issued for longer than this; a later year is a typo.
pub const MAX_YEARS_AHEAD: u16 = 20;

/// Expiry years are 2000..=2099: the range a two-digit year printed on a card
/// can name, which also keeps the "MM/YY" display lossless.
const MIN_YEAR: u16 = 2000;
const MAX_YEAR: u16 = 2099;

/// A month (1..=12) and a four-digit year (2000..=2099).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Expiry {
    month: u8,
    year: u16,
}

impl Expiry {
    /// An expiry from numbers already known to be sound (a stored card, a
    /// token's own expiry). It does not ask whether the card is expired.
    pub fn new(month: u8, year: u16) -> Result<Expiry, DomainError> {
        if !(1..=12).contains(&month) {
            return Err(invalid_month());
        }
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err(invalid_year());
        }
        Ok(Expiry { month, year })
    }

    /// Parses the two fields of a binding request. The month is "1".."12" or
    /// "01".."12"; the year is two digits (20YY) or four. The card must still
    /// be valid on `today` and expire at most `MAX_YEARS_AHEAD` years after
    /// today's year. Month errors are reported first, as people fill it first.
    pub fn parse_parts(month: &str, year: &str, today: NaiveDate) -> Result<Expiry, DomainError> {
        let month = parse_month(month.trim())?;
        let year = parse_year(year.trim())?;
        let expiry = Expiry::new(month, year)?;
        if expiry.is_expired_on(today) {
            // Point at the field the person most likely got wrong: in the
            // current year only the month can be behind, otherwise the year.
            let param = if i32::from(year) == today.year() {
                "expiry_month"
            } else {
                "expiry_year"
            };
            return Err(DomainError::new(ErrorCode::ExpiredCard).with_param(param));
        }
        if i32::from(year) > today.year() + i32::from(MAX_YEARS_AHEAD) {
            return Err(invalid_year());
        }
        Ok(expiry)
    }

    /// Parses one text as printed on the card: "MM/YY" or "MM/YYYY" (a single
    /// digit month and spaces around the slash are fine), or "MMYY" as four
    /// bare digits, the only slash-less form that cannot be misread. Text that
    /// cannot be split into a month and a year is blamed on the month.
    pub fn parse(text: &str, today: NaiveDate) -> Result<Expiry, DomainError> {
        let text = text.trim();
        if let Some((month, year)) = text.split_once('/') {
            return Expiry::parse_parts(month, year, today);
        }
        if text.len() == 4 && text.bytes().all(|b| b.is_ascii_digit()) {
            // Four ASCII digits: the split point is a byte and a char boundary.
            let (month, year) = text.split_at(2);
            return Expiry::parse_parts(month, year, today);
        }
        Err(invalid_month())
    }

    pub fn month(&self) -> u8 {
        self.month
    }

    /// The four-digit year.
    pub fn year(&self) -> u16 {
        self.year
    }

    /// The last day the card is valid.
    pub fn last_day(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(i32::from(self.year), u32::from(self.month), 1)
            .and_then(|first| first.checked_add_months(Months::new(1)))
            .and_then(|next_first| next_first.pred_opt())
            // Unreachable for a month in 1..=12 and a year in 2000..=2099; if
            // it ever were reached, failing closed (expired) is the safe side.
            .unwrap_or(NaiveDate::MIN)
    }

    /// True when `today` (the wallet's date) is after the card's last day.
    pub fn is_expired_on(&self, today: NaiveDate) -> bool {
        self.last_day() < today
    }

    /// `is_expired_on` for an instant, judged in the wallet's time zone.
    pub fn is_expired_at(&self, now: DateTime<Utc>, tz: Tz) -> bool {
        self.is_expired_on(wallet_today(now, tz))
    }
}

/// Later expiries sort after earlier ones.
impl Ord for Expiry {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.year, self.month).cmp(&(other.year, other.month))
    }
}

impl PartialOrd for Expiry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The wallet's calendar date at `now`. Expiry is judged in the wallet's time
/// zone: at 2026-12-31 23:30 UTC it is already 2027 in Shanghai.
pub fn wallet_today(now: DateTime<Utc>, tz: Tz) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

fn parse_month(text: &str) -> Result<u8, DomainError> {
    if !(1..=2).contains(&text.len()) || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid_month());
    }
    match text.parse::<u8>() {
        Ok(month) if (1..=12).contains(&month) => Ok(month),
        _ => Err(invalid_month()),
    }
}

fn parse_year(text: &str) -> Result<u16, DomainError> {
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid_year());
    }
    let value = text.parse::<u16>().map_err(|_| invalid_year())?;
    match text.len() {
        2 => Ok(MIN_YEAR + value),
        4 => Ok(value),
        _ => Err(invalid_year()),
    }
}

fn invalid_month() -> DomainError {
    DomainError::new(ErrorCode::InvalidExpiryMonth).with_param("expiry_month")
}

fn invalid_year() -> DomainError {
    DomainError::new(ErrorCode::InvalidExpiryYear).with_param("expiry_year")
}

/// "MM/YY", as printed on the card.
impl fmt::Display for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}/{:02}", self.month, self.year % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn err(month: &str, year: &str, today: NaiveDate) -> (ErrorCode, String) {
        let e = Expiry::parse_parts(month, year, today).unwrap_err();
        (e.code, e.param.unwrap().into_owned())
    }

    const TODAY: (i32, u32, u32) = (2026, 5, 15);

    fn today() -> NaiveDate {
        date(TODAY.0, TODAY.1, TODAY.2)
    }

    #[test]
    fn month_and_year_in_every_accepted_spelling() {
        for (m, y) in [("5", "28"), ("05", "28"), ("5", "2028"), (" 05 ", " 2028 ")] {
            let e = Expiry::parse_parts(m, y, today()).unwrap();
            assert_eq!((e.month(), e.year()), (5, 2028), "{m:?} {y:?}");
        }
        let e = Expiry::parse_parts("12", "00", date(1999, 1, 1)).unwrap();
        assert_eq!(e.year(), 2000);
    }

    #[test]
    fn bad_months_name_the_month() {
        for m in [
            "0", "00", "13", "99", "012", "1a", "", " ", "+5", "-1", "５", "1.0",
        ] {
            assert_eq!(
                err(m, "28", today()),
                (ErrorCode::InvalidExpiryMonth, "expiry_month".into()),
                "{m:?}"
            );
        }
        // Both wrong: the month is reported, it comes first on the form.
        assert_eq!(err("13", "x", today()).0, ErrorCode::InvalidExpiryMonth);
    }

    #[test]
    fn bad_years_name_the_year() {
        for y in [
            "2", "202", "20288", "2o28", "", "+28", "２８", "1999", "0028",
        ] {
            assert_eq!(
                err("05", y, today()),
                (ErrorCode::InvalidExpiryYear, "expiry_year".into()),
                "{y:?}"
            );
        }
    }

    #[test]
    fn expired_points_at_the_likely_field() {
        // Same year, earlier month: the month is what is behind.
        assert_eq!(
            err("04", "26", today()),
            (ErrorCode::ExpiredCard, "expiry_month".into())
        );
        // An earlier year: the year.
        assert_eq!(
            err("12", "25", today()),
            (ErrorCode::ExpiredCard, "expiry_year".into())
        );
        assert_eq!(
            err("06", "2020", today()),
            (ErrorCode::ExpiredCard, "expiry_year".into())
        );
    }

    #[test]
    fn valid_through_the_last_day_of_the_month() {
        let e = Expiry::new(5, 2026).unwrap();
        assert_eq!(e.last_day(), date(2026, 5, 31));
        assert!(!e.is_expired_on(date(2026, 5, 31)));
        assert!(e.is_expired_on(date(2026, 6, 1)));
        assert!(Expiry::parse_parts("05", "26", date(2026, 5, 31)).is_ok());
        assert_eq!(
            err("05", "26", date(2026, 6, 1)),
            (ErrorCode::ExpiredCard, "expiry_month".into())
        );
        assert_eq!(Expiry::new(4, 2026).unwrap().last_day(), date(2026, 4, 30));
        assert_eq!(
            Expiry::new(12, 2026).unwrap().last_day(),
            date(2026, 12, 31)
        );
    }

    #[test]
    fn february_knows_leap_years() {
        assert_eq!(Expiry::new(2, 2028).unwrap().last_day(), date(2028, 2, 29));
        assert_eq!(Expiry::new(2, 2027).unwrap().last_day(), date(2027, 2, 28));
        // 2000 is a leap year (divisible by 400).
        assert_eq!(Expiry::new(2, 2000).unwrap().last_day(), date(2000, 2, 29));
        assert!(Expiry::parse_parts("02", "28", date(2028, 2, 29)).is_ok());
        assert!(Expiry::parse_parts("02", "28", date(2028, 3, 1)).is_err());
    }

    #[test]
    fn the_year_turns_earlier_in_shanghai() {
        let card = Expiry::new(12, 2026).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 12, 31, 23, 30, 0).unwrap();
        assert_eq!(wallet_today(now, DEFAULT_WALLET_TZ), date(2027, 1, 1));
        assert!(card.is_expired_at(now, DEFAULT_WALLET_TZ));
        assert!(!card.is_expired_at(now, chrono_tz::UTC));
        // A new year in Shanghai: the card's year is now the past one.
        assert_eq!(
            err("12", "26", wallet_today(now, DEFAULT_WALLET_TZ)),
            (ErrorCode::ExpiredCard, "expiry_year".into())
        );
        // The exact edge: Shanghai is UTC+8, midnight there is 16:00 UTC.
        let last_second = Utc.with_ymd_and_hms(2026, 12, 31, 15, 59, 59).unwrap();
        let midnight = Utc.with_ymd_and_hms(2026, 12, 31, 16, 0, 0).unwrap();
        assert!(!card.is_expired_at(last_second, DEFAULT_WALLET_TZ));
        assert!(card.is_expired_at(midnight, DEFAULT_WALLET_TZ));
    }

    #[test]
    fn twenty_years_ahead_and_no_more() {
        assert!(Expiry::parse_parts("12", "2046", today()).is_ok());
        assert!(Expiry::parse_parts("12", "46", today()).is_ok());
        assert_eq!(
            err("01", "2047", today()),
            (ErrorCode::InvalidExpiryYear, "expiry_year".into())
        );
        assert_eq!(err("01", "47", today()).0, ErrorCode::InvalidExpiryYear);
        assert_eq!(err("01", "99", today()).0, ErrorCode::InvalidExpiryYear);
    }

    #[test]
    fn one_text_with_or_without_a_slash() {
        for text in ["05/28", "5/28", "05/2028", " 05 / 28 ", "0528"] {
            let e = Expiry::parse(text, today()).unwrap();
            assert_eq!((e.month(), e.year()), (5, 2028), "{text:?}");
        }
        for text in ["", "05-28", "052028", "528", "May 28", "0528/"] {
            assert_eq!(
                Expiry::parse(text, today()).unwrap_err().code,
                ErrorCode::InvalidExpiryMonth,
                "{text:?}"
            );
        }
        assert_eq!(
            Expiry::parse("05/", today()).unwrap_err().code,
            ErrorCode::InvalidExpiryYear
        );
        assert_eq!(
            Expiry::parse("05/28/1", today()).unwrap_err().code,
            ErrorCode::InvalidExpiryYear
        );
        assert_eq!(
            Expiry::parse("1326", today()).unwrap_err().code,
            ErrorCode::InvalidExpiryMonth
        );
    }

    #[test]
    fn new_checks_shape_only() {
        assert!(Expiry::new(1, 2001).is_ok());
        assert_eq!(
            Expiry::new(0, 2030).unwrap_err().code,
            ErrorCode::InvalidExpiryMonth
        );
        assert_eq!(
            Expiry::new(13, 2030).unwrap_err().code,
            ErrorCode::InvalidExpiryMonth
        );
        assert_eq!(
            Expiry::new(1, 1999).unwrap_err().code,
            ErrorCode::InvalidExpiryYear
        );
        assert_eq!(
            Expiry::new(1, 2100).unwrap_err().code,
            ErrorCode::InvalidExpiryYear
        );
    }

    #[test]
    fn prints_as_on_the_card_and_orders_by_time() {
        assert_eq!(Expiry::new(5, 2028).unwrap().to_string(), "05/28");
        assert_eq!(Expiry::new(12, 2000).unwrap().to_string(), "12/00");
        assert!(Expiry::new(1, 2028).unwrap() > Expiry::new(12, 2027).unwrap());
        assert!(Expiry::new(2, 2028).unwrap() > Expiry::new(1, 2028).unwrap());
    }

    fn any_date() -> impl Strategy<Value = NaiveDate> {
        (2000i32..2080, 1u32..=12, 1u32..=31)
            .prop_filter_map("real date", |(y, m, d)| NaiveDate::from_ymd_opt(y, m, d))
    }

    proptest! {
        #[test]
        fn the_current_month_is_valid_through_its_last_day(today in any_date()) {
            let e = Expiry::parse_parts(&today.month().to_string(), &today.year().to_string(), today).unwrap();
            prop_assert!(e.last_day() >= today);
            prop_assert_eq!(e.last_day().month(), today.month());
            prop_assert!(e.last_day().succ_opt().unwrap().month() != today.month());
            prop_assert!(e.is_expired_on(e.last_day().succ_opt().unwrap()));
        }

        #[test]
        fn accepted_means_unexpired_and_within_limit(today in any_date(), month in 1u8..=12, year in 2000u16..=2099) {
            let result = Expiry::parse_parts(&format!("{month:02}"), &year.to_string(), today);
            let in_window = !Expiry::new(month, year).unwrap().is_expired_on(today)
                && i32::from(year) <= today.year() + 20;
            prop_assert_eq!(result.is_ok(), in_window);
        }

        #[test]
        fn display_parses_back(today in any_date(), month in 1u8..=12, ahead in 0u16..=20) {
            let year = u16::try_from(today.year()).unwrap() + ahead;
            prop_assume!(year <= 2099);
            let Ok(e) = Expiry::parse_parts(&month.to_string(), &year.to_string(), today) else {
                return Ok(());
            };
            prop_assert_eq!(Expiry::parse(&e.to_string(), today).unwrap(), e);
        }
    }
}
