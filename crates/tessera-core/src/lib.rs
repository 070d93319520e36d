//! Tessera's domain, pure and synchronous: card numbers and the other binding
//! fields, BIN lookup and the support policy, the vault, payment tokens, EMV
//! cryptograms, fees and the error catalogue. No web, database or async runtime here.

pub mod audit;
pub mod bins;
pub mod card;
pub mod crypto;
pub mod diagnosis;
pub mod emv;
pub mod error;
pub mod fees;
pub mod identity;
pub mod ids;
pub mod issuer_health;
pub mod money;
pub mod payment;
pub mod payment_password;
pub mod risk;
pub mod text;
pub mod token;
pub mod vault;

pub use error::{Cause, DomainError, ErrorCode, Lang};
