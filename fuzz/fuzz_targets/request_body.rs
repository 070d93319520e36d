//! Request bodies as the server reads them: the JSON extractor
//! (`http::extract::parse_json`) for each request type, then the checks the
//! flows run on the fields before anything is stored. The first byte picks
//! the type. Nothing may panic, and an error names a field or none.
#![no_main]

use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate};
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use tessera_core::Lang;
use tessera_core::bins::BinIndex;
use tessera_core::card::check::{CardFields, check_fields};
use tessera_core::identity::{IdNumber, PhoneNumber};
use tessera_core::payment::check::{
    PaymentFields, check_amount, check_currency, check_merchant_id, check_payment,
};
use tessera_server::flows::lifecycle::check_event;
use tessera_server::http::error::ApiError;
use tessera_server::http::extract::parse_json;
use tessera_server::http::views::*;
use tessera_server::passwords::check_password_strength;

fn index() -> &'static BinIndex {
    static INDEX: OnceLock<BinIndex> = OnceLock::new();
    INDEX.get_or_init(|| BinIndex::builtin().expect("the built-in BIN tables load"))
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 15).expect("a date")
}

/// Parses as the extractor does; a refusal must render in both languages.
fn parse<T: DeserializeOwned>(raw: &[u8]) -> Option<T> {
    match parse_json::<T>(raw) {
        Ok(value) => Some(value),
        Err(ApiError(error)) => {
            assert_eq!(error.code.as_str(), "invalid_request");
            error.message(Lang::ZhCn);
            error.message(Lang::En);
            None
        }
    }
}

fn text(value: &Option<StringOrNumber>) -> Option<String> {
    value.as_ref().map(StringOrNumber::as_text)
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, raw)) = data.split_first() else {
        return;
    };
    match which % 12 {
        0 => {
            if let Some(request) = parse::<BindCardRequest>(raw) {
                let fields = CardFields {
                    number: request.number.clone(),
                    expiry_month: text(&request.expiry_month),
                    expiry_year: text(&request.expiry_year),
                    cvc: request.cvc.clone(),
                    holder_name: Some(request.holder_name.clone()),
                };
                let _ = check_fields(&fields, index(), today());
                if let Some(phone) = &request.bank_phone {
                    let _ = PhoneNumber::parse(phone).map(|p| p.masked());
                }
            }
        }
        1 => {
            if let Some(request) = parse::<VerifyCardRequest>(raw) {
                let _ = request.otp.len();
            }
        }
        2 => {
            if let Some(request) = parse::<CreateUserRequest>(raw) {
                let _ = PhoneNumber::parse(&request.phone).map(|p| p.masked());
                let _ = IdNumber::parse_on(&request.id_number, today());
                let _ = check_password_strength(&request.password);
            }
        }
        3 => {
            if let Some(request) = parse::<CreateSessionRequest>(raw) {
                let _ = PhoneNumber::parse(&request.phone);
            }
        }
        4 => {
            if let Some(request) = parse::<PaymentRequest>(raw) {
                let transaction_type = text(&request.transaction_type);
                let _ = check_payment(&PaymentFields {
                    token_pan: &request.token_pan,
                    token_expiry: &request.token_expiry,
                    amount: request.amount,
                    other_amount: request.other_amount,
                    currency: &request.currency,
                    terminal_country: request.terminal_country,
                    tvr: &request.tvr,
                    transaction_date: &request.transaction_date,
                    transaction_type: transaction_type.as_deref(),
                    merchant_id: &request.merchant_id,
                    merchant_name: request.merchant_name.as_deref(),
                    channel: &request.channel,
                    atc: &request.atc,
                    unpredictable_number: &request.unpredictable_number,
                    cryptogram: &request.cryptogram,
                    iad: request.iad.as_deref(),
                })
                .map(|checked| checked.transaction.date);
            }
        }
        5 => {
            if let Some(request) = parse::<CryptogramRequest>(raw) {
                let _ = check_amount(request.amount, "amount", false);
                let _ = check_currency(&request.currency);
                let _ = check_merchant_id(&request.merchant_id);
            }
        }
        6 => {
            let _ = parse::<KeysRequest>(raw);
        }
        7 => {
            let _ = parse::<TokenChangeRequest>(raw);
        }
        8 => {
            if let Some(request) = parse::<IssuerEventRequest>(raw) {
                let noon = today().and_hms_opt(12, 0, 0).expect("a time").and_utc();
                let _ = check_event(&request, noon, 300, today());
            }
        }
        9 => {
            let _ = parse::<TicketRequest>(raw);
        }
        10 => {
            if let Some(window) = parse::<MaintenanceWindow>(raw) {
                let _ = DateTime::parse_from_rfc3339(window.until.trim());
            }
        }
        _ => {
            let _ = parse::<SandboxIssuerRequest>(raw);
        }
    }
});
