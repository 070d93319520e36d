//! EMV Book 2 cryptograms on the common path: ICC master keys (Option A and
//! B), common session keys from the ATC, the ARQC (retail MAC over the CDOL1
//! data) and the ARPC (method 1 and 2). TDES today, behind a cipher trait.

pub mod arpc;
pub mod arqc;
pub mod cipher;
pub mod keys;
pub mod mac;
pub mod profile;

#[cfg(test)]
mod vectors;

pub use arpc::{Arpc, ArpcResponseCode, CardStatusUpdate};
pub use arqc::{Arqc, Cdol1};
pub use keys::{Atc, DerivationOption, IccMasterKey, IssuerMasterKey, Psn, SessionKey};
pub use mac::Padding;
pub use profile::{DeviceCvm, TokenProfile, Transaction};

use crate::error::{DomainError, ErrorCode};

/// Why an EMV computation could not run, or why a cryptogram did not verify.
/// It never holds key bytes, a PAN or an expected cryptogram: only field
/// names and lengths, so it can travel into logs and API answers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmvError {
    /// A key that is not a double-length (16-byte) TDES key.
    #[error("{key} must be 16 bytes (a double-length TDES key), got {got}")]
    KeyLength { key: &'static str, got: usize },
    /// A fixed-size field of the wrong length.
    #[error("{field} must be {expected} bytes, got {got}")]
    Length {
        field: &'static str,
        expected: &'static str,
        got: usize,
    },
    #[error("the PAN must be 12 to 19 digits")]
    Pan,
    #[error("the PSN must be one or two digits, 00 to 99")]
    Psn,
    /// A number too large for its BCD field in the CDOL1 data.
    #[error("{field} must be at most {max}")]
    OutOfRange { field: &'static str, max: u64 },
    /// The cryptogram given is not the one the keys and data produce.
    #[error("the cryptogram does not verify")]
    CryptogramMismatch,
}

impl EmvError {
    /// The name of the input at fault, when one is.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            EmvError::KeyLength { key, .. } => Some(key),
            EmvError::Length { field, .. } | EmvError::OutOfRange { field, .. } => Some(field),
            EmvError::Pan => Some("pan"),
            EmvError::Psn => Some("psn"),
            EmvError::CryptogramMismatch => None,
        }
    }
}

/// A bad cryptogram is `cryptogram_invalid`; anything else is a malformed
/// request naming its field.
impl From<EmvError> for DomainError {
    fn from(error: EmvError) -> Self {
        match error.field() {
            None => DomainError::new(ErrorCode::CryptogramInvalid),
            Some(field) => DomainError::new(ErrorCode::InvalidRequest).with_param(field),
        }
    }
}
