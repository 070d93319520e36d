//! The audit chain: every audit entry carries its place in its writer's
//! chain (a sequence number) and a keyed hash over the previous entry's
//! hash and its own fields, so an entry changed, removed, inserted or moved
//! is found by walking the chain (`verify`). Checkpoints sign a chain's head
//! from time to time, so entries cut from the end are found too.
//!
//! The fields hashed are ids and what happened, never a name, a phone or a
//! card number: purging personal data never has to touch a chain.

mod verify;

use chrono::{DateTime, Utc};

use crate::crypto;
use crate::vault::{KeyRing, LookupPurpose};

pub use verify::{Finding, StoredCheckpoint, StoredEntry, verify};

/// The hash a chain's first entry follows.
pub const GENESIS: [u8; 32] = [0; 32];

/// What an entry's hash covers, besides the previous entry's hash. Times
/// are kept to the millisecond, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFields<'a> {
    pub chain_id: &'a str,
    pub seq: i64,
    /// `aud_...`.
    pub id: &'a str,
    pub created_at: DateTime<Utc>,
    /// The acting API key's id; empty for a person or the service itself.
    pub key_id: &'a str,
    /// `operator`, `support`, `issuer`, `merchant`, `user` or `service`.
    pub role: &'a str,
    pub action: &'a str,
    /// The person concerned, if any.
    pub user_id: Option<&'a str>,
    /// The other ids concerned (`card:crd_...`, `token:tok_...`, ...).
    pub subject: Option<&'a str>,
    pub trace_id: &'a str,
}

impl AuditFields<'_> {
    /// `HMAC(chain key, "tessera.audit.v1" || prev || each field with a
    /// length prefix)`: prefixes keep two different entries from ever
    /// producing the same bytes.
    pub fn hash(&self, keys: &KeyRing, prev: &[u8; 32]) -> [u8; 32] {
        let seq = self.seq.to_be_bytes();
        let at = self.created_at.timestamp_millis().to_be_bytes();
        let mut framed = Vec::with_capacity(256);
        for field in [
            self.chain_id,
            self.id,
            self.key_id,
            self.role,
            self.action,
            self.user_id.unwrap_or(""),
            self.subject.unwrap_or(""),
            self.trace_id,
        ] {
            framed.extend_from_slice(&length_prefix(field));
            framed.extend_from_slice(field.as_bytes());
        }
        // A missing person and an empty one must differ.
        framed.push(u8::from(self.user_id.is_some()));
        framed.push(u8::from(self.subject.is_some()));
        keys.lookup_key(LookupPurpose::AuditChain).hash_parts(&[
            b"tessera.audit.v1\0",
            prev,
            &seq,
            &at,
            &framed,
        ])
    }
}

/// A chain's head as a checkpoint keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub chain_id: String,
    pub seq: i64,
    pub entry_hash: [u8; 32],
    pub created_at: DateTime<Utc>,
}

impl Checkpoint {
    /// The checkpoint's signature: HMAC under its own key-ring purpose.
    pub fn sign(&self, keys: &KeyRing) -> [u8; 32] {
        keys.lookup_key(LookupPurpose::AuditCheckpoint)
            .hash_parts(&[
                b"tessera.audit-checkpoint.v1\0",
                &length_prefix(&self.chain_id),
                self.chain_id.as_bytes(),
                &self.seq.to_be_bytes(),
                &self.entry_hash,
                &self.created_at.timestamp_millis().to_be_bytes(),
            ])
    }

    /// Whether `signature` is this checkpoint's.
    pub fn is_signed_by(&self, keys: &KeyRing, signature: &[u8]) -> bool {
        crypto::constant_time_eq(&self.sign(keys), signature)
    }
}

/// A hash as stored: lower-case hex.
pub fn to_hex(hash: &[u8; 32]) -> String {
    hex::encode(hash)
}

/// A stored hash, or `None` when it is not 32 bytes of hex.
pub fn from_hex(stored: &str) -> Option<[u8; 32]> {
    hex::decode(stored).ok()?.try_into().ok()
}

fn length_prefix(field: &str) -> [u8; 4] {
    // Ids and actions are short; saturating only matters past 4 GiB.
    u32::try_from(field.len()).unwrap_or(u32::MAX).to_be_bytes()
}

#[cfg(test)]
mod tests;
