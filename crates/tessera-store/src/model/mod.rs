//! The rows the store reads and writes. Times are UTC, kept to the
//! millisecond (stored as Unix milliseconds).
//! None of these holds a clear PAN, CVC, OTP, password or key: ciphertexts,
//! keyed hashes and masked forms only. Statuses and outcomes are the core's
//! enums, stored as their names.

use chrono::{DateTime, TimeDelta, Utc};
pub use tessera_core::bins::{Brand, CardType};
use tessera_core::card::HolderName;
use tessera_core::card::check::CheckedCard;
pub use tessera_core::card::{AttemptOutcome, CardStatus};
use tessera_core::identity::PhoneNumber;
pub use tessera_core::ids::{CardId, PaymentId, RefundId, TransferId, UserId};
pub use tessera_core::payment::{Channel, PaymentStatus, RefundStatus, TransferStatus};
use tessera_core::token::Par;
pub use tessera_core::token::lifecycle::TokenStatus;
use tessera_core::vault::PanFingerprint;

/// The card row reserved at the start of a binding: everything known before
/// the issuer answers.
#[derive(Debug, Clone)]
pub struct NewCard {
    pub id: CardId,
    pub user_id: UserId,
    pub pan_fingerprint: String,
    pub first6: String,
    pub last4: String,
    pub pan_length: u8,
    pub brand: Brand,
    pub issuer_code: Option<String>,
    pub issuer_name_zh: Option<String>,
    pub issuer_name_en: Option<String>,
    pub card_type: Option<CardType>,
    pub country: Option<String>,
    pub expiry_month: Option<u8>,
    pub expiry_year: Option<u16>,
    pub holder_name: String,
    pub par: String,
    pub bank_phone_masked: Option<String>,
    pub reserved_until: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// What a card's reservation is made of, beyond its ids and times: the
/// checked card, the holder name it is bound under, what the key ring
/// derived from its PAN, and the bank phone the issuer sends codes to.
#[derive(Debug)]
pub struct CardToReserve<'a> {
    pub card: &'a CheckedCard,
    pub holder_name: &'a HolderName,
    pub fingerprint: &'a PanFingerprint,
    pub par: &'a Par,
    pub bank_phone: &'a PhoneNumber,
}

impl NewCard {
    /// The one way a card to bind is made, by the binding flow and by
    /// `tessera seed` alike: the PAN itself is not kept here, only its
    /// keyed fingerprint, first six and last four digits.
    pub fn new(
        id: CardId,
        user_id: UserId,
        from: CardToReserve<'_>,
        reserved_until: DateTime<Utc>,
        created_at: DateTime<Utc>,
    ) -> NewCard {
        let CardToReserve {
            card,
            holder_name,
            fingerprint,
            par,
            bank_phone,
        } = from;
        let bin = &card.bin;
        NewCard {
            id,
            user_id,
            pan_fingerprint: fingerprint.as_str().to_owned(),
            first6: card.pan.first6().to_owned(),
            last4: card.pan.last4().to_owned(),
            pan_length: u8::try_from(card.pan.len()).unwrap_or(u8::MAX),
            brand: bin.brand.clone(),
            issuer_code: bin.issuer_code.clone(),
            issuer_name_zh: bin.issuer_display_zh().map(str::to_owned),
            issuer_name_en: bin.issuer_display_en().map(str::to_owned),
            card_type: bin.card_type,
            country: bin.country.clone(),
            expiry_month: card.expiry.map(|e| e.month()),
            expiry_year: card.expiry.map(|e| e.year()),
            holder_name: holder_name.as_str().to_owned(),
            par: par.as_str().to_owned(),
            bank_phone_masked: Some(bank_phone.masked()),
            reserved_until,
            created_at,
        }
    }
}

/// Why a reservation was refused, or the reservation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reserve {
    Reserved,
    /// The user already has this card bound (or waiting for its OTP).
    AlreadyBound {
        card_id: CardId,
        status: CardStatus,
    },
    /// The same card is being bound by another request right now.
    InProgress,
    LimitReached {
        live_cards: u32,
    },
    /// The card is already in `wallets` other wallets, the most it may be.
    WalletsFull {
        wallets: u32,
    },
    /// An attempt limit of [`ReserveLimits::attempts`] is full: nothing
    /// was reserved or counted (as [`LimitClaim::Refused`] says).
    AttemptsRefused {
        index: usize,
        free_at: DateTime<Utc>,
    },
}

/// What a reservation holds a binding to besides the duplicate check: the
/// user's live-card limit, and the attempt limits a binding that will
/// reach the issuer counts one hit against. The hits are claimed in the
/// reservation's own write, only when it reserves, and never without it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReserveLimits {
    pub live_cards: u32,
    /// The most wallets one card (by PAN fingerprint) may be in at once.
    pub wallets_per_card: u32,
    pub attempts: Vec<LimitBucket>,
    pub window: TimeDelta,
}

impl ReserveLimits {
    /// The live-card limit alone, no attempt counted.
    pub fn cards(live_cards: u32) -> ReserveLimits {
        ReserveLimits {
            live_cards,
            wallets_per_card: u32::MAX,
            attempts: Vec::new(),
            window: TimeDelta::zero(),
        }
    }
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
    pub status: TokenStatus,
    pub requestor_id: String,
    pub device_id: Option<String>,
    /// Keyed HMAC of the token PAN (unique: no two tokens share a PAN).
    pub token_pan_fingerprint: String,
    /// PAN Sequence Number (00-99) the token's keys are derived with.
    pub psn: u8,
    /// The token BIN range whose IMK-AC the token's keys come from.
    pub imk_range: String,
    pub imk_generation: u8,
}

#[derive(Debug, Clone)]
pub struct NewOtpChallenge {
    pub code_hash: String,
    pub sent_to_masked: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct BindingCompletion {
    pub card_id: CardId,
    pub user_id: UserId,
    pub pan_key_version: u32,
    pub pan_ciphertext: Vec<u8>,
    pub token: NewToken,
    /// `Active`, or `PendingVerification` with its OTP challenge.
    pub status: CardStatus,
    pub otp: Option<NewOtpChallenge>,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub token_ref: String,
    pub card_id: CardId,
    pub token_first6: String,
    pub token_last4: String,
    pub expiry_month: u8,
    pub expiry_year: u16,
    pub status: TokenStatus,
    pub suspenders: Vec<String>,
    pub requestor_id: String,
    pub device_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub psn: u8,
    /// The highest ATC a payment was accepted with.
    pub atc_high: u16,
    /// The highest ATC handed out (limited-use keys, server cryptograms).
    pub atc_issued: u16,
    pub imk_range: String,
    pub imk_generation: u8,
}

#[derive(Debug, Clone)]
pub struct CardRecord {
    pub id: CardId,
    pub user_id: UserId,
    pub status: CardStatus,
    pub pan_fingerprint: String,
    pub first6: String,
    pub last4: String,
    pub pan_length: u8,
    pub brand: Brand,
    pub issuer_code: Option<String>,
    pub issuer_name_zh: Option<String>,
    pub issuer_name_en: Option<String>,
    pub card_type: Option<CardType>,
    pub country: Option<String>,
    pub expiry_month: Option<u8>,
    pub expiry_year: Option<u16>,
    pub holder_name: String,
    pub par: String,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub has_pan_ciphertext: bool,
    pub token: Option<TokenRecord>,
    /// The open OTP challenge's masked phone and expiry, for a pending card.
    pub otp_sent_to: Option<String>,
    pub otp_expires_at: Option<DateTime<Utc>>,
    /// When the bank said the card was replaced: it no longer pays.
    pub reissued_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtpChallenge {
    pub card_id: CardId,
    pub code_hash: String,
    pub sent_to_masked: String,
    pub expires_at: DateTime<Utc>,
    pub failures: u32,
    /// When the current code was sent (the first, or the latest resend).
    pub sent_at: DateTime<Utc>,
}

/// The answer to a claim to compare one SMS code (`Cards::claim_otp_comparison`).
#[derive(Debug, Clone)]
pub enum OtpClaim {
    /// This request may compare: the challenge, and which comparison this
    /// is (1 for the first).
    Claimed {
        challenge: OtpChallenge,
        comparison: u32,
    },
    /// Every comparison the limit allows was claimed already: compare nothing.
    Exhausted,
    /// The card has no open challenge.
    Missing,
}

/// One subject a limit counts (`card:...`, `user:...`, `phone:...`) and
/// the hits it allows in the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitBucket {
    pub bucket: String,
    pub limit: u32,
}

impl LimitBucket {
    /// The largest limit a store counts exactly: a bucket keeps at most
    /// this many of its newest hits, so that a claim's cost stays small.
    /// A larger limit (only `serve --load-test` sets one) never refuses,
    /// and its hits are still written as any others.
    pub const MOST_HITS: u32 = 32;
}

/// The answer to `Cards::claim_limits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitClaim {
    /// One hit was counted in every bucket.
    Counted,
    /// Nothing was counted: `buckets[index]` is full, and of the full ones
    /// it frees a slot last, at `free_at`.
    Refused {
        index: usize,
        free_at: DateTime<Utc>,
    },
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
    pub created_at: DateTime<Utc>,
}

/// One binding attempt, success or failure, as support reads it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttemptRecord {
    /// The server's trace id of the request.
    pub trace_id: String,
    /// The client's own id for the request, when it sent a valid one.
    pub client_request_id: Option<String>,
    pub user_id: UserId,
    pub card_id: Option<CardId>,
    pub masked_pan: Option<String>,
    pub first6: Option<String>,
    pub last4: Option<String>,
    pub brand: Option<Brand>,
    pub issuer_code: Option<String>,
    pub issuer_name: Option<String>,
    pub card_type: Option<CardType>,
    pub country: Option<String>,
    /// The device details the app sent, as JSON.
    pub device: Option<String>,
    pub outcome: AttemptOutcome,
    pub error_code: Option<String>,
    pub cause: Option<String>,
    pub error_param: Option<String>,
    pub error_reason: Option<String>,
    pub issuer_response: Option<String>,
    pub latency_ms: i64,
    pub created_at: DateTime<Utc>,
    /// The client disconnected before the answer, which the server
    /// finished all the same. Set after the record, by
    /// `Support::mark_client_gone`.
    pub client_gone: bool,
}

#[derive(Debug, Clone, Default)]
pub struct AttemptFilter {
    pub user_id: Option<UserId>,
    pub trace_id: Option<String>,
    pub client_request_id: Option<String>,
    pub since: Option<DateTime<Utc>>,
    /// Only attempts after this one in the listing order (newest first):
    /// its (created_at, trace_id), the cursor of the previous page.
    pub before: Option<(DateTime<Utc>, String)>,
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
    /// The first request with this key is still running, since `since`.
    InProgress { since: DateTime<Utc> },
}

/// Which attempts `attempt_stats` adds up, and the latency buckets it counts.
#[derive(Debug, Clone, Default)]
pub struct AttemptStatsQuery {
    /// Inclusive.
    pub since: DateTime<Utc>,
    /// Exclusive.
    pub until: DateTime<Utc>,
    /// One issuer only, when given.
    pub issuer_code: Option<String>,
    /// Upper bounds (ms) of cumulative latency buckets, ascending.
    pub latency_buckets_ms: Vec<i64>,
    /// Only the newest this many attempts of the window count (and only
    /// they are read): what bounds the cost of judging a busy issuer.
    pub newest: Option<u32>,
}

/// Attempts sharing an issuer, brand, card type, outcome, code and issuer
/// answer in a window, added up.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttemptStatsRow {
    pub issuer_code: Option<String>,
    pub issuer_name: Option<String>,
    pub brand: Option<Brand>,
    pub card_type: Option<CardType>,
    pub outcome: AttemptOutcome,
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
    pub opened_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
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
    pub retry_at: Option<DateTime<Utc>>,
    /// A probe in flight holds the breaker until then.
    pub probe_until: Option<DateTime<Utc>>,
}

/// What `raise_incident` did.
#[derive(Debug, Clone, PartialEq)]
pub struct Raised {
    /// The open incident, new or refreshed.
    pub incident: IncidentRecord,
    /// True when this call opened it.
    pub opened: bool,
}

/// What a binding reads before it reserves a card: the settings it asked
/// for (in that order, None where unset) and the open breaker of its
/// issuer, if any.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BindingContext {
    pub settings: Vec<Option<String>>,
    pub open_breaker: Option<IncidentRecord>,
}

#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    pub open_only: bool,
    pub issuer_code: Option<String>,
    /// Incidents opened at or after this, or still open.
    pub since: Option<DateTime<Utc>>,
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

/// How a payment finds its token.
#[derive(Debug, Clone, Copy)]
pub enum TokenLookup<'a> {
    Ref(&'a str),
    /// The keyed fingerprint of the token PAN a merchant sent.
    PanFingerprint(&'a str),
}

impl TokenLookup<'_> {
    /// The column of `tokens t` this lookup reads by, and its value.
    pub(crate) fn column(&self) -> (&'static str, &str) {
        match self {
            TokenLookup::Ref(token_ref) => ("t.token_ref", token_ref),
            TokenLookup::PanFingerprint(fingerprint) => ("t.token_pan_fingerprint", fingerprint),
        }
    }
}

/// A token with what paying with it needs: its owner, its card's status and
/// the sealed token PAN and PAN (ciphertexts only).
#[derive(Debug, Clone)]
pub struct PaymentToken {
    pub token: TokenRecord,
    pub user_id: UserId,
    pub card_status: CardStatus,
    pub issuer_code: Option<String>,
    pub token_pan_key_version: Option<u32>,
    pub token_pan_ciphertext: Option<Vec<u8>>,
    pub pan_key_version: Option<u32>,
    pub pan_ciphertext: Option<Vec<u8>>,
    /// When the bank said the card was replaced: it no longer pays.
    pub card_reissued_at: Option<DateTime<Utc>>,
}

/// A single-use cryptogram the server made for an in-app or web payment,
/// and what it is bound to. The cryptogram itself is not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CryptogramRecord {
    pub token_ref: String,
    pub atc: u16,
    pub amount: i64,
    pub currency: String,
    pub merchant_id: String,
    /// YYYY-MM-DD.
    pub transaction_date: String,
    /// 8 hex digits.
    pub unpredictable_number: String,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// The confirmation it was made with (`payment_password`, `sms_code`),
    /// when the person confirmed the payment in the app.
    pub consent: Option<String>,
}

/// Claims an ATC for a payment: once ever per token, not behind the window
/// below the highest ATC accepted, and only if it was handed out.
#[derive(Debug, Clone)]
pub struct AtcClaim {
    pub token_ref: String,
    pub atc: u16,
    /// The token's PSN the cryptogram was verified under: a token renewed
    /// since has other keys and other ATCs.
    pub psn: u8,
    pub window: u16,
    /// Recorded with status `pending` when the claim succeeds.
    pub payment: PaymentRecord,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtcClaimOutcome {
    Claimed,
    /// Another payment used this ATC.
    Used,
    /// Further below the highest ATC accepted than the window allows.
    BehindWindow,
    /// No key or cryptogram for this ATC was ever handed out.
    NotIssued,
    /// The token stopped being active (suspended or deleted meanwhile).
    TokenNotActive,
    /// The token was renewed after the cryptogram was verified: its keys
    /// and its ATCs are new.
    Renewed,
}

mod lifecycle;
pub use lifecycle::*;
mod payment_password;
pub use payment_password::*;
mod database;
pub use database::*;
mod refunds;
pub use refunds::*;
mod safety;
pub use safety::*;
mod accounts;
pub use accounts::*;
mod payments;
pub use payments::*;
mod transfers;
pub use transfers::*;
mod tickets;
pub use tickets::*;
mod timeline;
pub use timeline::*;
mod retention;
pub use retention::*;
