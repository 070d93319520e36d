//! Record identifiers that sort by the time they were made.
//!
//! An id drawn at random lands anywhere in every index keyed by it, so each
//! new row dirties a page of its own in each such index, and a commit
//! writes all of them. An id that starts with the time lands at the end,
//! beside the ids made just before it: a commit of many new rows writes a
//! page or two per index, and the index's busy end stays in cache however
//! large the table grows. The time part says only when the record was made,
//! which the record says anyway; the rest is from the OS CSPRNG.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::crypto::{CryptoError, random_bytes};

/// Characters of the time part: 50 bits of Unix milliseconds, enough until
/// the year 37,000.
pub const TIME_CHARS: usize = 10;

/// `len` characters of `alphabet`: the current Unix time in milliseconds
/// (the first `TIME_CHARS`), then random ones. `alphabet` must be in
/// ascending byte order, so that ids sort as their times do.
pub fn time_ordered(alphabet: &[u8; 32], len: usize) -> Result<String, CryptoError> {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis());
    time_ordered_at(alphabet, len, u64::try_from(millis).unwrap_or(u64::MAX))
}

fn time_ordered_at(alphabet: &[u8; 32], len: usize, millis: u64) -> Result<String, CryptoError> {
    debug_assert!(
        alphabet.is_sorted(),
        "the alphabet must sort as its values do"
    );
    let mut random = vec![0u8; len.saturating_sub(TIME_CHARS)];
    random_bytes(&mut random)?;
    let mut id = String::with_capacity(len);
    // 5 bits per character, most significant first.
    for place in (0..TIME_CHARS).rev().take(len) {
        let value = (millis >> (5 * place)) & 31;
        id.push(char::from(alphabet[usize::try_from(value).unwrap_or(0)]));
    }
    // 256 is a multiple of 32: the low 5 bits of a random byte are uniform.
    id.extend(
        random
            .iter()
            .map(|b| char::from(alphabet[usize::from(b & 31)])),
    );
    Ok(id)
}

/// A record id as the store keeps it: a string with a prefix that says what
/// it names (`usr_`, `card_`, `pay_`). The type keeps one kind of id from
/// being passed where another is meant; it does not check the text, which
/// is the store's own or was looked up there.
macro_rules! record_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> $name {
                $name(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> $name {
                $name(id.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

record_id!(
    /// A wallet user: `usr_` and 20 base32 characters.
    UserId,
    "usr_"
);
record_id!(
    /// A card bound (or being bound) to a wallet: `card_` and 20 base32
    /// characters that start with the time.
    CardId,
    "card_"
);
record_id!(
    /// A payment: `pay_` and 20 base32 characters that start with the time.
    PaymentId,
    "pay_"
);
record_id!(
    /// A refund of a payment: `rfd_` and 20 base32 characters that start
    /// with the time.
    RefundId,
    "rfd_"
);
record_id!(
    /// Money sent from a bound card to a bank card: `trf_` and 20 base32
    /// characters that start with the time.
    TransferId,
    "trf_"
);

#[cfg(test)]
mod tests {
    use super::*;

    const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    #[test]
    fn ids_sort_as_their_times_do() {
        let times = [
            0,
            1,
            31,
            32,
            1_000,
            1_764_151_200_000,
            1_764_151_200_001,
            (1 << 50) - 1,
        ];
        let ids: Vec<String> = times
            .iter()
            .map(|&t| time_ordered_at(CROCKFORD, 20, t).unwrap())
            .collect();
        for pair in ids.windows(2) {
            assert!(pair[0][..TIME_CHARS] < pair[1][..TIME_CHARS], "{pair:?}");
        }
        assert_eq!(&ids[0][..TIME_CHARS], "0000000000");
        assert_eq!(&ids[1][..TIME_CHARS], "0000000001");
        assert_eq!(&ids[3][..TIME_CHARS], "0000000010");
        assert_eq!(&ids[7][..TIME_CHARS], "ZZZZZZZZZZ");
    }

    #[test]
    fn the_rest_is_random_from_the_alphabet() {
        let a = time_ordered_at(CROCKFORD, 20, 42).unwrap();
        let b = time_ordered_at(CROCKFORD, 20, 42).unwrap();
        assert_eq!(a.len(), 20);
        assert_eq!(a[..TIME_CHARS], b[..TIME_CHARS]);
        assert_ne!(a[TIME_CHARS..], b[TIME_CHARS..], "50 random bits repeated");
        assert!(a.bytes().all(|c| CROCKFORD.contains(&c)));
    }

    #[test]
    fn now_is_after_the_time_this_was_written() {
        let id = time_ordered(CROCKFORD, 20).unwrap();
        let written = time_ordered_at(CROCKFORD, 20, 1_764_151_200_000).unwrap();
        assert!(id[..TIME_CHARS] > written[..TIME_CHARS]);
    }
}
