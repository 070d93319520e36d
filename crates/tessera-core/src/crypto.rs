//! The one small place for cryptographic primitives: OS randomness, HMAC-SHA256,
//! HKDF-SHA256, constant-time comparison, AES-256-GCM with associated data and
//! Argon2id. Everything else in Tessera calls these, so there is one file to audit.

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Every symmetric key here is 256 bits.
pub const KEY_LEN: usize = 32;
/// AES-GCM's standard 96-bit nonce.
pub const NONCE_LEN: usize = 12;
/// AES-GCM's 128-bit authentication tag.
pub const TAG_LEN: usize = 16;

/// What can go wrong in a primitive. No variant carries key material or
/// plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("the operating system's random number generator failed")]
    Random,
    #[error("a key must be exactly {KEY_LEN} bytes")]
    KeyLength,
    #[error("encryption failed")]
    Seal,
    /// Wrong key, wrong associated data, or altered ciphertext: AES-GCM cannot
    /// tell these apart, and that is the point.
    #[error("decryption failed: wrong key or associated data, or the ciphertext was altered")]
    Open,
    #[error("the sealed value is too short to hold a nonce and a tag")]
    Truncated,
    #[error("key derivation failed: {0}")]
    Kdf(&'static str),
}

/// A 256-bit secret key. Zeroized on drop; `Debug` prints no key material.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey([u8; KEY_LEN]);

impl SecretKey {
    /// A fresh key from the OS CSPRNG.
    pub fn generate() -> Result<SecretKey, CryptoError> {
        let mut key = SecretKey([0; KEY_LEN]);
        random_bytes(&mut key.0)?;
        Ok(key)
    }

    /// Copies exactly 32 bytes into a key; the caller wipes its own copy.
    pub fn from_slice(bytes: &[u8]) -> Result<SecretKey, CryptoError> {
        let array: [u8; KEY_LEN] = bytes.try_into().map_err(|_| CryptoError::KeyLength)?;
        Ok(SecretKey(array))
    }

    /// The raw key, for the key file and the primitives below only.
    pub fn expose_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// Fills `out` from the operating system's CSPRNG.
pub fn random_bytes(out: &mut [u8]) -> Result<(), CryptoError> {
    getrandom::fill(out).map_err(|_| CryptoError::Random)
}

/// `N` random bytes from the OS CSPRNG.
pub fn random_array<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut out = [0; N];
    random_bytes(&mut out)?;
    Ok(out)
}

/// Fills `out` with uniformly random ASCII digits. Bytes of 250 and above are
/// rejected rather than reduced, so every digit is equally likely (no modulo
/// bias).
pub fn random_digits(out: &mut [u8]) -> Result<(), CryptoError> {
    let mut pool = Zeroizing::new([0u8; 64]);
    let mut filled = 0;
    while filled < out.len() {
        random_bytes(pool.as_mut_slice())?;
        for &byte in pool.iter() {
            if byte < 250 {
                if let Some(slot) = out.get_mut(filled) {
                    *slot = b'0' + byte % 10;
                    filled += 1;
                } else {
                    break;
                }
            }
        }
    }
    Ok(())
}

/// HMAC-SHA256 over the concatenation of `parts`. Callers that hash several
/// fields must make the concatenation unambiguous (fixed widths or length
/// prefixes).
pub fn hmac_sha256(key: &SecretKey, parts: &[&[u8]]) -> [u8; 32] {
    // HMAC pads a key shorter than the hash's 64-byte block with zeros, so
    // padding here gives the standard result without a fallible constructor.
    let mut block = Zeroizing::new([0u8; 64]);
    block[..KEY_LEN].copy_from_slice(&key.0);
    let mut mac = <Hmac<Sha256> as KeyInit>::new((&*block).into());
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// HMAC-SHA256 under a key of any length (a shared secret such as an API
/// key that signs webhooks), over the concatenation of `parts`.
pub fn hmac_sha256_with(key: &[u8], parts: &[&[u8]]) -> Result<[u8; 32], CryptoError> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .map_err(|_| CryptoError::Kdf("HMAC key length"))?;
    for part in parts {
        mac.update(part);
    }
    Ok(mac.finalize().into_bytes().into())
}

/// SHA-256, unkeyed: for checksums only, never to hide a low-entropy value.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// HKDF-SHA256 (RFC 5869): derives a 256-bit key from `ikm` for one purpose,
/// named by `info`. Different labels give independent keys.
pub fn hkdf_sha256(ikm: &[u8], salt: Option<&[u8]>, info: &[u8]) -> Result<SecretKey, CryptoError> {
    let mut key = SecretKey([0; KEY_LEN]);
    Hkdf::<Sha256>::new(salt, ikm)
        .expand(info, &mut key.0)
        .map_err(|_| CryptoError::Kdf("HKDF output length"))?;
    Ok(key)
}

/// Derives the subkey for `label` from a uniformly random 256-bit root.
pub fn derive_subkey(root: &SecretKey, label: &str) -> Result<SecretKey, CryptoError> {
    hkdf_sha256(&root.0, None, label.as_bytes())
}

/// Equality whose running time depends only on the lengths, not on where the
/// inputs first differ: for comparing MACs, tokens and hashes.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// AES-256-GCM with a fresh random 96-bit nonce. Returns `nonce || ciphertext
/// || tag`. `associated_data` is authenticated but not stored: the opener must
/// supply the same bytes.
pub fn aes256gcm_seal(
    key: &SecretKey,
    plaintext: &[u8],
    associated_data: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let cipher = Aes256Gcm::new((&key.0).into());
    let nonce_bytes: [u8; NONCE_LEN] = random_array()?;
    let nonce = Nonce::from(nonce_bytes);
    let sealed = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: plaintext,
                aad: associated_data,
            },
        )
        .map_err(|_| CryptoError::Seal)?;
    let mut blob = Vec::with_capacity(NONCE_LEN + sealed.len());
    blob.extend_from_slice(&nonce_bytes);
    blob.extend_from_slice(&sealed);
    Ok(blob)
}

/// Opens what [`aes256gcm_seal`] produced. The plaintext is wiped when dropped.
pub fn aes256gcm_open(
    key: &SecretKey,
    blob: &[u8],
    associated_data: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if blob.len() < NONCE_LEN + TAG_LEN {
        return Err(CryptoError::Truncated);
    }
    let (nonce_bytes, sealed) = blob.split_at(NONCE_LEN);
    let nonce_array: [u8; NONCE_LEN] =
        nonce_bytes.try_into().map_err(|_| CryptoError::Truncated)?;
    let cipher = Aes256Gcm::new((&key.0).into());
    cipher
        .decrypt(
            &Nonce::from(nonce_array),
            Payload {
                msg: sealed,
                aad: associated_data,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::Open)
}

/// Argon2id cost parameters, stored beside what they protect so that a later
/// release can raise the defaults and still open old files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Argon2Params {
    /// Memory in KiB.
    pub m_cost_kib: u32,
    /// Passes over memory.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl Argon2Params {
    /// For files an attacker may copy and attack offline (key backups):
    /// 64 MiB, 3 passes, 1 lane; above OWASP's 2025 minimum (19 MiB, 2 passes).
    pub const OFFLINE: Argon2Params = Argon2Params {
        m_cost_kib: 64 * 1024,
        t_cost: 3,
        p_cost: 1,
    };

    /// The most memory, passes and lanes Tessera accepts from a file: a
    /// tampered header must not make a restore allocate gigabytes or run for
    /// hours.
    pub const MAX_M_COST_KIB: u32 = 1024 * 1024;
    pub const MAX_T_COST: u32 = 64;
    pub const MAX_P_COST: u32 = 16;

    /// True when every parameter is within what Tessera agrees to compute.
    pub fn within_limits(&self) -> bool {
        self.m_cost_kib <= Self::MAX_M_COST_KIB
            && (1..=Self::MAX_T_COST).contains(&self.t_cost)
            && (1..=Self::MAX_P_COST).contains(&self.p_cost)
    }
}

/// Derives a 256-bit key from a passphrase with Argon2id (v1.3).
pub fn argon2id_derive_key(
    passphrase: &[u8],
    salt: &[u8],
    params: &Argon2Params,
) -> Result<SecretKey, CryptoError> {
    if !params.within_limits() {
        return Err(CryptoError::Kdf("Argon2 parameters out of range"));
    }
    let argon_params = argon2::Params::new(
        params.m_cost_kib,
        params.t_cost,
        params.p_cost,
        Some(KEY_LEN),
    )
    .map_err(|_| CryptoError::Kdf("Argon2 parameters rejected"))?;
    let argon = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon_params,
    );
    let mut key = SecretKey([0; KEY_LEN]);
    argon
        .hash_password_into(passphrase, salt, &mut key.0)
        .map_err(|_| CryptoError::Kdf("Argon2 rejected the passphrase or salt"))?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_from(bytes: &[u8]) -> SecretKey {
        let mut padded = [0u8; KEY_LEN];
        padded[..bytes.len()].copy_from_slice(bytes);
        SecretKey(padded)
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        // A key shorter than the block is zero-padded by HMAC itself, so
        // "Jefe" padded to 32 bytes must give the published result.
        let mac = hmac_sha256(&key_from(b"Jefe"), &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn hkdf_matches_rfc_5869_case_1() {
        let ikm = [0x0b; 22];
        let salt = hex::decode("000102030405060708090a0b0c").unwrap();
        let info = hex::decode("f0f1f2f3f4f5f6f7f8f9").unwrap();
        let okm = hkdf_sha256(&ikm, Some(&salt), &info).unwrap();
        // The first 32 of the RFC's 42 output bytes.
        assert_eq!(
            hex::encode(okm.expose_bytes()),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
        );
    }

    #[test]
    fn subkeys_differ_by_label() {
        let root = SecretKey::generate().unwrap();
        let a = derive_subkey(&root, "a").unwrap();
        let b = derive_subkey(&root, "b").unwrap();
        assert_ne!(a.expose_bytes(), b.expose_bytes());
        assert_eq!(
            a.expose_bytes(),
            derive_subkey(&root, "a").unwrap().expose_bytes()
        );
    }

    #[test]
    fn gcm_round_trip_and_binding() {
        let key = SecretKey::generate().unwrap();
        let blob = aes256gcm_seal(&key, b"secret", b"aad").unwrap();
        assert_eq!(blob.len(), NONCE_LEN + 6 + TAG_LEN);
        assert_eq!(&*aes256gcm_open(&key, &blob, b"aad").unwrap(), b"secret");
        assert_eq!(
            aes256gcm_open(&key, &blob, b"other"),
            Err(CryptoError::Open)
        );
        let other = SecretKey::generate().unwrap();
        assert_eq!(
            aes256gcm_open(&other, &blob, b"aad"),
            Err(CryptoError::Open)
        );
        assert_eq!(
            aes256gcm_open(&key, &blob[..20], b"aad"),
            Err(CryptoError::Truncated)
        );
        // Two seals of one plaintext never share a nonce.
        let again = aes256gcm_seal(&key, b"secret", b"aad").unwrap();
        assert_ne!(blob[..NONCE_LEN], again[..NONCE_LEN]);
    }

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn hmac_with_any_key_matches_rfc_4231() {
        // RFC 4231 test case 2: key "Jefe".
        let mac = hmac_sha256_with(b"Jefe", &[b"what do ya want ", b"for nothing?"]).unwrap();
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn random_digits_are_digits_and_roughly_uniform() {
        let mut digits = vec![0u8; 100_000];
        random_digits(&mut digits).unwrap();
        let mut counts = [0u32; 10];
        for d in &digits {
            assert!(d.is_ascii_digit());
            counts[usize::from(d - b'0')] += 1;
        }
        // Expected 10,000 each; 6 standard deviations is about +-570.
        for count in counts {
            assert!((9_400..=10_600).contains(&count), "{counts:?}");
        }
    }

    #[test]
    fn argon2id_is_deterministic_and_salted() {
        let params = Argon2Params {
            m_cost_kib: 64,
            t_cost: 1,
            p_cost: 1,
        };
        let a = argon2id_derive_key(b"passphrase", b"salt-salt-salt-1", &params).unwrap();
        let b = argon2id_derive_key(b"passphrase", b"salt-salt-salt-1", &params).unwrap();
        let c = argon2id_derive_key(b"passphrase", b"salt-salt-salt-2", &params).unwrap();
        assert_eq!(a.expose_bytes(), b.expose_bytes());
        assert_ne!(a.expose_bytes(), c.expose_bytes());
        let greedy = Argon2Params {
            m_cost_kib: u32::MAX,
            ..params
        };
        assert!(argon2id_derive_key(b"p", b"salt-salt-salt-1", &greedy).is_err());
    }

    #[test]
    fn debug_shows_no_key() {
        let key = key_from(&[0xab; 32]);
        let shown = format!("{key:?}");
        assert!(!shown.contains("ab"), "{shown}");
        assert!(!shown.contains("171"), "{shown}");
    }
}
