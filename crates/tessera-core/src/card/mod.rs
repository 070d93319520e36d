//! The fields a person types to bind a card: number, expiry, CVC, holder name.

pub mod check;
pub mod cvc;
pub mod expiry;
pub mod holder_name;
pub mod luhn;
pub mod pan;
