//! The fields a person types to bind a card: number, expiry, CVC, holder name.

pub mod check;
pub mod cvc;
pub mod expiry;
pub mod holder_name;
pub mod luhn;
pub mod pan;
pub mod status;

pub use cvc::Cvc;
pub use expiry::{DEFAULT_WALLET_TZ, Expiry, wallet_today};
pub use holder_name::{HolderName, NameScript, names_match};
pub use status::{AttemptOutcome, CardStatus};
