//! The error catalogue: every error Tessera answers with, defined once.
//! Each code carries its cause (input, card not supported, network or system,
//! or one of the wallet's own rules), its HTTP status, whether a retry can
//! help, and a message and a remedy in zh-CN and en. The server maps a
//! `DomainError` to HTTP in one place (docs/architecture.md, error catalogue).

mod catalogue;
mod decline;
mod domain;
pub(crate) mod lang;
mod limit;

use std::fmt;

pub use catalogue::CATALOGUE;
pub use decline::{DeclineCode, NotSupported, NotSupportedReason};
pub use domain::{DomainError, ErrorRecord, LimitHit, Lockout, NextAction, Notice, SafetyDetail};
pub use lang::{Lang, Text};
pub use limit::{AttemptLimit, LIMIT_WINDOW_SECS, wait_en, wait_zh};

/// Why a request failed: the four causes a binding fails for (input, card
/// not supported, network, system) plus the wallet's own rules (account,
/// security). Diagnosis groups failures by this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cause {
    Input,
    CardNotSupported,
    Network,
    System,
    Account,
    Security,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Input => "input",
            Cause::CardNotSupported => "card_not_supported",
            Cause::Network => "network",
            Cause::System => "system",
            Cause::Account => "account",
            Cause::Security => "security",
        }
    }
}

/// The broad family of an error, as API clients branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorType {
    CardError,
    InvalidRequestError,
    AuthenticationError,
    RateLimitError,
    IdempotencyError,
    ApiError,
}

impl ErrorType {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::CardError => "card_error",
            ErrorType::InvalidRequestError => "invalid_request_error",
            ErrorType::AuthenticationError => "authentication_error",
            ErrorType::RateLimitError => "rate_limit_error",
            ErrorType::IdempotencyError => "idempotency_error",
            ErrorType::ApiError => "api_error",
        }
    }
}

/// One row of the catalogue.
#[derive(Debug, Clone, Copy)]
pub struct CatalogEntry {
    pub code: ErrorCode,
    /// The code's name in the API, in snake_case (`invalid_number`): what
    /// [`ErrorCode::as_str`] returns and [`ErrorCode::parse`] reads.
    pub code_str: &'static str,
    pub error_type: ErrorType,
    pub cause: Cause,
    pub http_status: u16,
    pub retryable: bool,
    /// What happened, in one sentence the person can read on a phone.
    pub message: Text,
    /// What the person can do about it.
    pub remedy: Text,
    /// Why it happens: the causes behind the code, for the help center's
    /// page on it (`/help/errors/{code}`).
    pub why: Text,
}

/// Every error code Tessera can answer with. The order matches `CATALOGUE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorCode {
    InvalidNumber,
    IncorrectNumber,
    InvalidExpiryMonth,
    InvalidExpiryYear,
    ExpiredCard,
    InvalidCvc,
    IncorrectCvc,
    InvalidHolderName,
    NameMismatch,
    PhoneMismatch,
    CardNotSupported,
    CardDeclined,
    CardAlreadyBound,
    CardLimitReached,
    OtpRequired,
    OtpIncorrect,
    OtpExpired,
    TooManyAttempts,
    IssuerUnavailable,
    Maintenance,
    IdempotencyConflict,
    RequestInProgress,
    PaymentPasswordIncorrect,
    PaymentPasswordLocked,
    TokenSuspended,
    CardUnbound,
    TokenExpired,
    CryptogramInvalid,
    AtcReplayed,
    DomainMismatch,
    RiskDeclined,
    InternalError,
    InvalidRequest,
    Unauthenticated,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    PayloadTooLarge,
    RateLimited,
    DatabaseUnavailable,
    InvalidPhone,
    InvalidIdNumber,
    PhoneTaken,
    WeakPassword,
    InvalidCredentials,
    SmsCodeIncorrect,
    SmsCodeExpired,
    FieldTooLong,
    InvalidCharacters,
    IdentityMismatch,
    IdentityNotFound,
    IdentityUnavailable,
    IdNumberTaken,
    SmsUnavailable,
    OtpResendTooSoon,
    Overloaded,
    RequestTimeout,
    PaymentPasswordTooSimple,
    PaymentPasswordNotSet,
    IdNumberIncorrect,
    VerificationRequired,
    VerificationInvalid,
    RefundExceedsPayment,
    PaymentNotRefundable,
    RefundDeclined,
    CardWalletLimitReached,
    TransferDeclined,
    AuthenticationRequired,
    AccountFrozen,
    AccountClosed,
    KeyVersionStale,
}

impl ErrorCode {
    /// Every code, in catalogue order.
    pub fn all() -> impl Iterator<Item = ErrorCode> {
        CATALOGUE.iter().map(|entry| entry.code)
    }

    pub fn entry(self) -> &'static CatalogEntry {
        // The catalogue is laid out in the enum's order; a unit test holds
        // that true, so indexing by discriminant is exact.
        &CATALOGUE[self as usize]
    }

    /// The code's name in the API (`invalid_number`), from its catalogue row.
    pub fn as_str(self) -> &'static str {
        self.entry().code_str
    }

    pub fn parse(code: &str) -> Option<ErrorCode> {
        ErrorCode::all().find(|c| c.as_str() == code)
    }

    pub fn cause(self) -> Cause {
        self.entry().cause
    }

    pub fn http_status(self) -> u16 {
        self.entry().http_status
    }

    pub fn retryable(self) -> bool {
        self.entry().retryable
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests;
