//! The rows the store reads and writes. Times are Unix milliseconds (UTC).
//! None of these holds a clear PAN, CVC, OTP, password or key: ciphertexts,
//! keyed hashes and masked forms only.

/// A new wallet user.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: String,
    pub phone: String,
    pub real_name: String,
    pub real_name_normalized: String,
    pub id_number_hash: String,
    pub id_number_last4: String,
    pub password_hash: String,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: String,
    pub phone: String,
    pub real_name: String,
    pub real_name_normalized: String,
    pub id_number_hash: String,
    pub id_number_last4: String,
    pub password_hash: String,
    pub status: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Copy)]
pub struct LoginFailures {
    pub failures: u32,
    pub window_started_at: i64,
}

#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub token_hash: String,
    pub user_id: String,
    pub expires_at: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct ApiKeyRecord {
    pub id: String,
    pub key_hash: String,
    pub role: String,
    pub label: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// The card row reserved at the start of a binding: everything known before
/// the issuer answers.
#[derive(Debug, Clone)]
pub struct NewCard {
    pub id: String,
    pub user_id: String,
    pub pan_fingerprint: String,
    pub first6: String,
    pub last4: String,
    pub pan_length: u8,
    pub brand: String,
    pub issuer_code: Option<String>,
    pub issuer_name_zh: Option<String>,
    pub issuer_name_en: Option<String>,
    pub card_type: Option<String>,
    pub country: Option<String>,
    pub expiry_month: Option<u8>,
    pub expiry_year: Option<u16>,
    pub holder_name: String,
    pub par: String,
    pub bank_phone_masked: Option<String>,
    pub reserved_until: i64,
    pub created_at: i64,
}

/// Why a reservation was refused, or the reservation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reserve {
    Reserved,
    /// The user already has this card bound (or waiting for its OTP).
    AlreadyBound {
        card_id: String,
        status: String,
    },
    /// The same card is being bound by another request right now.
    InProgress,
    LimitReached {
        live_cards: u32,
    },
}

/// The token issued for a card.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub token_ref: String,
    pub key_version: u32,
    pub token_pan_ciphertext: Vec<u8>,
    pub token_first6: String,
    pub token_last4: String,
    pub expiry_month: u8,
    pub expiry_year: u16,
    pub status: String,
    pub requestor_id: String,
    pub device_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewOtpChallenge {
    pub code_hash: String,
    pub sent_to_masked: String,
    pub expires_at: i64,
}

#[derive(Debug, Clone)]
pub struct BindingCompletion {
    pub card_id: String,
    pub user_id: String,
    pub pan_key_version: u32,
    pub pan_ciphertext: Vec<u8>,
    pub token: NewToken,
    /// `active` or `pending_verification`.
    pub status: String,
    pub otp: Option<NewOtpChallenge>,
    pub now: i64,
}

#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub token_ref: String,
    pub card_id: String,
    pub token_first6: String,
    pub token_last4: String,
    pub expiry_month: u8,
    pub expiry_year: u16,
    pub status: String,
    pub suspenders: Vec<String>,
    pub requestor_id: String,
    pub device_id: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct CardRecord {
    pub id: String,
    pub user_id: String,
    pub status: String,
    pub pan_fingerprint: String,
    pub first6: String,
    pub last4: String,
    pub pan_length: u8,
    pub brand: String,
    pub issuer_code: Option<String>,
    pub issuer_name_zh: Option<String>,
    pub issuer_name_en: Option<String>,
    pub card_type: Option<String>,
    pub country: Option<String>,
    pub expiry_month: Option<u8>,
    pub expiry_year: Option<u16>,
    pub holder_name: String,
    pub par: String,
    pub is_default: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub has_pan_ciphertext: bool,
    pub token: Option<TokenRecord>,
    /// The open OTP challenge's masked phone and expiry, for a pending card.
    pub otp_sent_to: Option<String>,
    pub otp_expires_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct OtpChallenge {
    pub card_id: String,
    pub code_hash: String,
    pub sent_to_masked: String,
    pub expires_at: i64,
    pub failures: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtpOutcome {
    Verified,
    Failed,
    Expired,
}

#[derive(Debug, Clone)]
pub struct SandboxSms {
    pub phone: String,
    pub body: String,
    pub created_at: i64,
}

/// One binding attempt, success or failure, as support reads it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttemptRecord {
    pub trace_id: String,
    pub user_id: String,
    pub card_id: Option<String>,
    pub masked_pan: Option<String>,
    pub first6: Option<String>,
    pub last4: Option<String>,
    pub brand: Option<String>,
    pub issuer_code: Option<String>,
    pub issuer_name: Option<String>,
    pub card_type: Option<String>,
    pub country: Option<String>,
    /// The device details the app sent, as JSON.
    pub device: Option<String>,
    /// `success`, `pending_verification` or `error`.
    pub outcome: String,
    pub error_code: Option<String>,
    pub cause: Option<String>,
    pub error_param: Option<String>,
    pub error_reason: Option<String>,
    pub issuer_response: Option<String>,
    pub latency_ms: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, Default)]
pub struct AttemptFilter {
    pub user_id: Option<String>,
    pub trace_id: Option<String>,
    pub since: Option<i64>,
    /// Only attempts after this one in the listing order (newest first):
    /// its (created_at, trace_id), the cursor of the previous page.
    pub before: Option<(i64, String)>,
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyBegin {
    /// This request owns the key now: run it, then finish or abandon.
    Started,
    /// A finished request with the same body: answer with its response.
    Replay { status: u16, body: String },
    /// The same key with another body.
    Conflict,
    /// The first request with this key is still running.
    InProgress,
}

/// Which attempts `attempt_stats` adds up, and the latency buckets it counts.
#[derive(Debug, Clone, Default)]
pub struct AttemptStatsQuery {
    /// Inclusive.
    pub since: i64,
    /// Exclusive.
    pub until: i64,
    /// One issuer only, when given.
    pub issuer_code: Option<String>,
    /// Upper bounds (ms) of cumulative latency buckets, ascending.
    pub latency_buckets_ms: Vec<i64>,
}

/// Attempts sharing an issuer, brand, card type, outcome, code and issuer
/// answer in a window, added up.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttemptStatsRow {
    pub issuer_code: Option<String>,
    pub issuer_name: Option<String>,
    pub brand: Option<String>,
    pub card_type: Option<String>,
    pub outcome: String,
    pub error_code: Option<String>,
    pub cause: Option<String>,
    pub issuer_response: Option<String>,
    pub count: i64,
    pub latency_sum_ms: i64,
    pub latency_max_ms: i64,
    /// How many took at most each bound of the query's buckets.
    pub latency_buckets: Vec<i64>,
}

/// An issuer flagged by the anomaly rule, with its circuit breaker.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IncidentRecord {
    pub id: String,
    pub issuer_code: String,
    pub issuer_name_zh: String,
    pub issuer_name_en: String,
    /// `failure_rate` or `latency`.
    pub kind: String,
    pub opened_at: i64,
    pub updated_at: i64,
    pub resolved_at: Option<i64>,
    pub samples: i64,
    pub failure_rate: f64,
    pub baseline_failure_rate: Option<f64>,
    pub mean_latency_ms: i64,
    pub baseline_latency_ms: Option<i64>,
    pub top_code: Option<String>,
    pub message_zh: String,
    pub message_en: String,
    /// Bindings for this issuer are answered at once while open.
    pub breaker_open: bool,
    /// When the next probe may ask the issuer.
    pub retry_at: Option<i64>,
    /// A probe in flight holds the breaker until then.
    pub probe_until: Option<i64>,
}

/// What `raise_incident` did.
#[derive(Debug, Clone, PartialEq)]
pub struct Raised {
    /// The open incident, new or refreshed.
    pub incident: IncidentRecord,
    /// True when this call opened it.
    pub opened: bool,
}

#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    pub open_only: bool,
    pub issuer_code: Option<String>,
    /// Incidents opened at or after this, or still open.
    pub since: Option<i64>,
    pub limit: u32,
}

/// A support ticket opened by a person from one of their attempts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketRecord {
    pub id: String,
    pub user_id: String,
    pub trace_id: String,
    /// The person's words, with anything that looks like a card number masked.
    pub message: String,
    /// `open` or `closed`.
    pub status: String,
    /// The attempt and its diagnosis at opening, as JSON (masked data only).
    pub details: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    pub user_id: Option<String>,
    pub status: Option<String>,
    /// Only tickets after this one in the listing order (newest first): its
    /// (created_at, id), the cursor of the previous page.
    pub before: Option<(i64, String)>,
    pub limit: u32,
}

/// Users and bound cards written in bulk by `tessera seed`, so that scale
/// can be measured: the rows a real binding would leave (an active card, its
/// token and a success attempt), made by the same domain code.
#[derive(Debug, Clone, Default)]
pub struct SeedBatch {
    pub users: Vec<NewUser>,
    pub cards: Vec<SeededCard>,
}

#[derive(Debug, Clone)]
pub struct SeededCard {
    pub card: NewCard,
    /// Status `active`, no OTP.
    pub completion: BindingCompletion,
    pub attempt: AttemptRecord,
    pub is_default: bool,
}
