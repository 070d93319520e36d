//! Identifiers and bearer secrets: random from the OS CSPRNG, with a prefix
//! that says what they are (`usr_`, `card_`, `req_`), as support reads them.

use tessera_core::crypto::random_bytes;
use tessera_core::ids::{CardId, PaymentId, RefundId, UserId};

/// Crockford's base32 alphabet: no I, L, O or U to misread over the phone.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// `prefix` + `len` random base32 characters (5 bits each).
pub fn random_id(prefix: &str, len: usize) -> String {
    let mut bytes = vec![0u8; len];
    // The OS CSPRNG does not fail on a working Linux system; if it ever did,
    // a zero id would collide on insert rather than pass silently.
    if random_bytes(&mut bytes).is_err() {
        tracing::error!("the OS random source failed");
    }
    let mut id = String::with_capacity(prefix.len() + len);
    id.push_str(prefix);
    id.extend(
        bytes
            .iter()
            .map(|b| char::from(ALPHABET[usize::from(b & 31)])),
    );
    id
}

/// `prefix` + `len` base32 characters that start with the time: for the
/// records written most (cards, their binding attempts, payments), so that
/// each commit appends to their indexes instead of scattering across them
/// (`tessera_core::ids`).
pub fn time_ordered_id(prefix: &str, len: usize) -> String {
    let body = tessera_core::ids::time_ordered(ALPHABET, len).unwrap_or_else(|_| {
        tracing::error!("the OS random source failed");
        "0".repeat(len)
    });
    format!("{prefix}{body}")
}

pub fn user_id() -> UserId {
    random_id(UserId::PREFIX, 20).into()
}

/// A session's public id, by which its person lists it.
pub fn session_id() -> String {
    random_id("ses_", 20)
}

pub fn card_id() -> CardId {
    time_ordered_id(CardId::PREFIX, 20).into()
}

/// A request's id, which is its trace id: the key of its binding attempt.
pub fn request_id() -> String {
    time_ordered_id("req_", 20)
}

pub fn payment_id() -> PaymentId {
    time_ordered_id(PaymentId::PREFIX, 20).into()
}

pub fn refund_id() -> RefundId {
    time_ordered_id(RefundId::PREFIX, 20).into()
}

/// A bearer secret: 32 random bytes (160 bits of base32 are plenty, 256 are
/// cheap), shown once and stored only as a keyed hash.
pub fn bearer_secret(prefix: &str) -> String {
    random_id(prefix, 52)
}
