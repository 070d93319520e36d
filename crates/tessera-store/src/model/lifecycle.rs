//! The token lifecycle's records: who changed a token and why, and the
//! issuer events that change cards.

use super::*;

/// Who changed a token and why, kept for support and shown as a reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenEvent {
    pub token_ref: String,
    /// suspend, resume, delete, renewed, card_replaced, expiry_updated,
    /// card_closed
    pub kind: String,
    /// cardholder, wallet, issuer, risk
    pub actor: String,
    pub reason: Option<String>,
    pub status_after: String,
    pub created_at: DateTime<Utc>,
}

/// How many tokens one EMV key generation issued, and how many of them
/// are live (not deleted): a generation with live tokens must stay in the
/// key ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerationTokens {
    pub generation: u8,
    pub tokens: u64,
    pub live: u64,
}

/// A suspend or resume, applied only if the token is still in the state it
/// was read in (compare and set), with its event in the same transaction.
#[derive(Debug, Clone)]
pub struct TokenStateChange {
    pub token_ref: String,
    pub from_status: TokenStatus,
    pub from_suspenders: Vec<String>,
    pub to_status: TokenStatus,
    pub to_suspenders: Vec<String>,
    pub event: TokenEvent,
}

/// A token renewed in place: the same token PAN and PAR, a new PSN (so
/// new card keys, under `imk_generation`), the ATC counters from zero, and
/// a new expiry. Applied only if the token still has the PSN it was read
/// with (compare and set), with its event in the same transaction; the
/// ATCs used and the cryptograms made under the old keys are forgotten,
/// since nothing made with those keys verifies any more.
#[derive(Debug, Clone)]
pub struct TokenRenewal {
    pub token_ref: String,
    pub from_psn: u8,
    pub psn: u8,
    pub imk_generation: u8,
    pub expiry_month: u8,
    pub expiry_year: u16,
    /// kind `renewed`; `reason` says why (`atc`, `expiry`, `generation`).
    pub event: TokenEvent,
}

/// An issuer event as first received: idempotent by (key, event id).
#[derive(Debug, Clone)]
pub struct IssuerEventRecord {
    pub key_id: String,
    pub event_id: String,
    pub kind: String,
    pub occurred_at: DateTime<Utc>,
    /// Keyed HMAC of the body: the same id with another body is refused.
    pub body_hash: String,
    pub received_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssuerEventBegin {
    Started,
    /// Seen before with the same body; its outcome, or None while the first
    /// delivery is still being applied.
    Duplicate {
        outcome: Option<String>,
    },
    Conflict,
}

/// Which cards an issuer event is about.
#[derive(Debug, Clone, Copy)]
pub enum CardSelector<'a> {
    Par(&'a str),
    PanFingerprint(&'a str),
}

/// An issuer's change to one card, applied only if no newer issuer event
/// reached that card first.
#[derive(Debug, Clone)]
pub struct IssuerChange {
    pub card_id: CardId,
    pub occurred_at: DateTime<Utc>,
    pub kind: IssuerChangeKind,
    pub reason: Option<String>,
    pub now: DateTime<Utc>,
}

/// A card's new number, sealed, as an issuer's replacement sets it.
#[derive(Debug, Clone)]
pub struct CardReplacement {
    pub pan_fingerprint: String,
    pub pan_key_version: u32,
    pub pan_ciphertext: Vec<u8>,
    pub first6: String,
    pub last4: String,
    pub pan_length: u8,
    pub expiry: Option<(u8, u16)>,
    pub token_expiry: (u8, u16),
}

#[derive(Debug, Clone)]
pub enum IssuerChangeKind {
    /// A new card number for the same account: PAR and token unchanged, the
    /// old PAN ciphertext overwritten.
    Replace(CardReplacement),
    Expiry {
        expiry: (u8, u16),
        token_expiry: (u8, u16),
    },
    /// The account is closed: tokens deleted, PAN erased.
    Close,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssuerApply {
    Applied,
    /// A newer issuer event already reached the card.
    Stale,
    /// The card is no longer live.
    NotLive,
    /// The new card number is already bound as another card of that user.
    Conflict,
}
