//! The card fields a person types to bind a card, through the core's checks:
//! number, expiry, CVC and holder name, then the BIN lookup and the support
//! policy. Nothing may panic, and no error may carry the number or the CVC.
#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use chrono::{Days, NaiveDate};
use libfuzzer_sys::fuzz_target;
use tessera_core::Lang;
use tessera_core::bins::{BinIndex, SupportPolicy};
use tessera_core::card::check::{CardFields, check_card};

#[derive(Debug, Arbitrary)]
struct Input {
    number: String,
    expiry_month: Option<String>,
    expiry_year: Option<String>,
    cvc: Option<String>,
    holder_name: Option<String>,
    /// Days after 2000-01-01: the wallet's today.
    today: u16,
}

fn index() -> &'static BinIndex {
    static INDEX: OnceLock<BinIndex> = OnceLock::new();
    INDEX.get_or_init(|| BinIndex::builtin().expect("the built-in BIN tables load"))
}

fuzz_target!(|input: Input| {
    let today = NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.checked_add_days(Days::new(input.today.into())))
        .expect("a date within 180 years of 2000");
    let fields = CardFields {
        number: input.number.clone(),
        expiry_month: input.expiry_month,
        expiry_year: input.expiry_year,
        cvc: input.cvc.clone(),
        holder_name: input.holder_name,
    };
    let digits: String = input.number.chars().filter(char::is_ascii_digit).collect();
    // The number's own Debug: the other fields (an expiry year of many
    // zeros) may hold digits of their own in clear.
    let shown = format!("{:?}", CardFields::new(input.number.clone()));
    if digits.len() >= 12 {
        assert!(!shown.contains(&digits), "Debug shows the whole number");
    }
    match check_card(&fields, index(), &SupportPolicy::default(), today) {
        Ok(card) => {
            assert!(!format!("{card:?}").contains(&digits) || digits.len() < 12);
        }
        Err(error) => {
            let said = format!(
                "{error:?} {} {} {}",
                error.message(Lang::ZhCn),
                error.message(Lang::En),
                error.remedy(Lang::En)
            );
            if digits.len() >= 12 {
                assert!(!said.contains(&digits), "an error carries the number");
            }
            // The texts may hold figures of their own; the error's fields may not.
            if let Some(cvc) = input.cvc.as_deref().map(str::trim)
                && cvc.len() >= 3
                && cvc.bytes().all(|b| b.is_ascii_digit())
                && !digits.contains(cvc)
            {
                assert!(
                    !format!("{error:?}").contains(cvc),
                    "an error carries the CVC"
                );
            }
        }
    }
});
