//! The vault: card numbers and other secrets sealed with AES-256-GCM under a
//! versioned key ring, and keyed lookups (fingerprints, hashes) derived from a
//! separate root. The key ring is read from a key file (`key_file`), the
//! environment, or an encrypted backup (`backup`).
//!
//! Every ciphertext is bound by its associated data to what it is (a PAN or a
//! named kind of secret), the record it belongs to and the key version that
//! sealed it: moved to another record or relabelled, it fails to open.

pub mod backup;
mod data_keys;
mod emv_roots;
pub mod hsm;
mod hsm_ring;
pub mod key_file;
pub mod softhsm;
mod wrapping;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::card::pan::Pan;
use crate::crypto::{self, CryptoError, SecretKey};
use crate::token::TokenPan;

pub use backup::{BackupError, backup, backup_with_params, restore};
pub use emv_roots::{EmvDerivation, EmvGenerationInfo};
pub use hsm::{ENV_HSM_PIN, HsmLocation, HsmToken};
pub use hsm_ring::{MoveReport, MoveStep};
pub use key_file::{ENV_MASTER_KEY, KEY_FILE_NAME, KeyFile, KeyFileError, KeyFileStatus};
pub use wrapping::{DataKeyState, RingChange, WrappedDataKey};

use data_keys::{DataKeySet, DataKeys};
use wrapping::RootKeys;

/// What can go wrong sealing or opening. No variant carries a key, a PAN or
/// any plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    #[error(
        "key version {0} is not in the key ring (retired, or from another key ring): the record cannot be decrypted"
    )]
    UnknownKeyVersion(u32),
    #[error(
        "decryption failed: the ciphertext was altered, belongs to another record, or carries a wrong key version"
    )]
    Decrypt,
    #[error("the decrypted value is not a card number")]
    NotAPan,
    #[error("a record id is needed to seal or open a value")]
    EmptyRecordId,
    #[error("the active key version {0} cannot be retired: rotate first")]
    RetireActive(u32),
    #[error("a key ring needs at least one data key, and its active version among them")]
    InvalidKeyRing,
    #[error("no more key versions: the version number would overflow")]
    VersionOverflow,
    #[error(
        "EMV key generation {0} is not in this node's key ring: copy the key file (tessera.keys, or TESSERA_MASTER_KEY) from the node where `tessera keys emv-generation add` made it to every node, then restart them"
    )]
    UnknownEmvGeneration(u8),
    #[error("no more EMV key generations: 255 is the last")]
    EmvGenerationOverflow,
    #[error(
        "EMV key generation {0} is the only one in the key ring: add another (`tessera keys emv-generation add`) before retiring it"
    )]
    RetireLastEmvGeneration(u8),
    #[error(
        "the key file holds no root key (key-encryption key) version {0}: the data keys wrapped under it cannot be unwrapped. Give every node the same key file (or TESSERA_MASTER_KEY)."
    )]
    UnknownRootVersion(u32),
    #[error(
        "data key version {0} does not unwrap under this key file's root key: the database was written with another key file, or with a copy made after this one gained its root. Give every node the same key file (or TESSERA_MASTER_KEY); after a restore, restore a backup taken since the key file gained its root key (`tessera keys status` shows a root version)."
    )]
    Unwrap(u32),
    #[error(
        "the key file has no root key (key-encryption key) yet: start `tessera serve` once with the key file to add one"
    )]
    NoRootKey,
    #[error("{0}")]
    Hsm(String),
    #[error(
        "the token holds no key labelled {0:?}: run `tessera keys move-to-hsm` against this token (it imports the key file's keys), or point vault.pkcs11_token at the token that holds them"
    )]
    HsmKeyMissing(String),
    #[error(
        "data key version {0} was made inside an HSM (`[vault] backend = \"pkcs11\"`): this node reads a key file and cannot use it. Configure this node with the same PKCS#11 token as the others."
    )]
    DataKeyInHsm(u32),
    #[error("{0} does not apply to keys held in an HSM (`[vault] backend = \"pkcs11\"`): {1}")]
    NotWithHsm(&'static str, &'static str),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// What a keyed lookup is for. Each purpose has its own key, derived with HKDF
/// from the ring's lookup root under a fixed label: the labels are part of the
/// storage format and must never change, or every stored fingerprint and hash
/// stops matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LookupPurpose {
    /// Finds a card already bound without decrypting any PAN.
    PanFingerprint,
    /// Stores a national ID number as a keyed hash (plus its last 4 in clear).
    IdNumber,
    /// Fingerprints an idempotent request's body to detect a changed retry.
    IdempotencyBody,
    /// Derives the Payment Account Reference shared by all tokens of one PAN.
    Par,
    /// Stores session tokens as keyed hashes, so a database leak yields none.
    SessionToken,
    /// Stores API keys as keyed hashes.
    ApiKey,
    /// Stores one-time passwords as keyed hashes while they are pending.
    OtpCode,
    /// The secret pepper of payment passwords. Sign-in passwords hashed
    /// before they had their own pepper (`SignInPepper`) still verify with
    /// it, until their owner's next sign-in rehashes them.
    PaymentPasswordPepper,
    /// Finds a token by the token PAN a merchant sends, without decrypting
    /// any, and keeps two tokens from ever sharing a PAN (a unique index).
    TokenPanFingerprint,
    /// The secret pepper added to sign-in password Argon2id hashes.
    SignInPepper,
    /// The check value every node of one database compares its key ring by.
    KeyRingCheck,
    /// Keeps a person's birthday as six-digit PINs (YYMMDD and the like),
    /// to refuse it as a payment password without keeping the date.
    BirthdayPin,
    /// Chains audit entries: each entry's hash covers the one before.
    AuditChain,
    /// Signs the checkpoints of audit chains' heads, under a key of their
    /// own so a checkpoint can never pass for an entry.
    AuditCheckpoint,
}

impl LookupPurpose {
    pub const ALL: [LookupPurpose; 14] = [
        LookupPurpose::PanFingerprint,
        LookupPurpose::IdNumber,
        LookupPurpose::IdempotencyBody,
        LookupPurpose::Par,
        LookupPurpose::SessionToken,
        LookupPurpose::ApiKey,
        LookupPurpose::OtpCode,
        LookupPurpose::PaymentPasswordPepper,
        LookupPurpose::TokenPanFingerprint,
        LookupPurpose::SignInPepper,
        LookupPurpose::KeyRingCheck,
        LookupPurpose::BirthdayPin,
        LookupPurpose::AuditChain,
        LookupPurpose::AuditCheckpoint,
    ];

    /// The HKDF `info` label. Permanent: see the type's documentation.
    pub fn label(self) -> &'static str {
        match self {
            LookupPurpose::PanFingerprint => "tessera/lookup/v1/pan-fingerprint",
            LookupPurpose::IdNumber => "tessera/lookup/v1/id-number",
            LookupPurpose::IdempotencyBody => "tessera/lookup/v1/idempotency-body",
            LookupPurpose::Par => "tessera/lookup/v1/par",
            LookupPurpose::SessionToken => "tessera/lookup/v1/session-token",
            LookupPurpose::ApiKey => "tessera/lookup/v1/api-key",
            LookupPurpose::OtpCode => "tessera/lookup/v1/otp-code",
            LookupPurpose::PaymentPasswordPepper => "tessera/lookup/v1/payment-password-pepper",
            LookupPurpose::TokenPanFingerprint => "tessera/lookup/v1/token-pan-fingerprint",
            LookupPurpose::SignInPepper => "tessera/lookup/v1/sign-in-pepper",
            LookupPurpose::KeyRingCheck => "tessera/lookup/v1/key-check",
            LookupPurpose::BirthdayPin => "tessera/lookup/v1/birthday-pin",
            LookupPurpose::AuditChain => "tessera/lookup/v1/audit-chain",
            LookupPurpose::AuditCheckpoint => "tessera/lookup/v1/audit-checkpoint",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A key for one lookup purpose. `Debug` names the purpose only.
#[derive(Clone)]
pub struct LookupKey {
    purpose: LookupPurpose,
    key: KeyMaterial,
}

/// Where a key is: its bytes in memory (the key file), or an object in an
/// HSM token that computes with it.
#[derive(Clone)]
enum KeyMaterial {
    Bytes(SecretKey),
    Hsm(Arc<HsmToken>, hsm::ObjectHandle),
}

#[cfg(test)]
impl KeyMaterial {
    /// The key file's bytes, for tests that look underneath.
    #[allow(clippy::panic)]
    fn secret(&self) -> &SecretKey {
        match self {
            KeyMaterial::Bytes(key) => key,
            KeyMaterial::Hsm(..) => panic!("a key in an HSM has no bytes to show"),
        }
    }
}

impl LookupKey {
    pub fn purpose(&self) -> LookupPurpose {
        self.purpose
    }

    /// HMAC-SHA256 of `bytes` under this purpose's key.
    pub fn hash(&self, bytes: &[u8]) -> [u8; 32] {
        self.hash_parts(&[bytes])
    }

    /// HMAC-SHA256 of the concatenation of `parts` under this purpose's key.
    pub fn hash_parts(&self, parts: &[&[u8]]) -> [u8; 32] {
        match &self.key {
            KeyMaterial::Bytes(key) => crypto::hmac_sha256(key, parts),
            KeyMaterial::Hsm(token, handle) => hsm_hmac(token, *handle, parts),
        }
    }

    /// The key itself, for uses that need raw bytes (the password peppers):
    /// None for a key that lives in an HSM.
    pub fn expose_secret(&self) -> Option<&SecretKey> {
        match &self.key {
            KeyMaterial::Bytes(key) => Some(key),
            KeyMaterial::Hsm(..) => None,
        }
    }
}

/// A keyed hash has no error to return to its many callers, and no value is
/// safe to return instead: a wrong fingerprint would let a duplicate card
/// in, a wrong audit hash would break the chain. So a token that cannot
/// compute one (it was unplugged, its PIN changed) fails the request, which
/// the server's panic layer answers with a 500 and a log line.
#[allow(clippy::panic)]
fn hsm_hmac(token: &HsmToken, handle: hsm::ObjectHandle, parts: &[&[u8]]) -> [u8; 32] {
    match token.hmac(handle, parts) {
        Ok(mac) => mac,
        Err(error) => panic!("keyed hash in the HSM failed: {error}"),
    }
}

impl fmt::Debug for LookupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LookupKey({:?}, <redacted>)", self.purpose)
    }
}

/// One data-encryption key and when it was made.
#[derive(Clone)]
struct DataKey {
    key: KeyMaterial,
    created_at: DateTime<Utc>,
}

/// What `tessera keys status` may show about one key version: never the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyVersionInfo {
    pub version: u32,
    pub created_at: DateTime<Utc>,
    pub active: bool,
}

/// The keys of the vault: versioned 256-bit data-encryption keys (the active
/// one seals, every live one opens) and a separate 256-bit root from which the
/// lookup keys are derived. The lookup root does not rotate: rotating it would
/// change every stored fingerprint and hash.
///
/// All key material is zeroized on drop; `Debug` shows versions only.
#[derive(Clone)]
pub struct KeyRing {
    /// Swapped whole when a node learns a version from the database, so a
    /// seal reads the set without a lock (`data_keys.rs`).
    data: DataKeys,
    /// The root keys the data keys are wrapped under in the database
    /// (`wrapping.rs`); none in a key file written before they existed.
    roots: RootKeys,
    /// None when the keys live in an HSM (`hsm_ring.rs`).
    lookup_root: Option<SecretKey>,
    /// The token, with the HSM backend.
    hsm: Option<Arc<HsmToken>>,
    /// Derived once, indexed by `LookupPurpose::index`.
    lookup_keys: [LookupKey; LookupPurpose::ALL.len()],
    /// The EMV key generations (`emv_roots.rs`).
    emv_roots: emv_roots::EmvRoots,
}

impl KeyRing {
    /// A new ring with data key version 1 and a fresh lookup root.
    pub fn generate() -> Result<KeyRing, VaultError> {
        let data_key = DataKey {
            key: KeyMaterial::Bytes(SecretKey::generate()?),
            created_at: now(),
        };
        let mut ring =
            KeyRing::from_parts(BTreeMap::from([(1, data_key)]), 1, SecretKey::generate()?)?;
        ring.add_root()?;
        Ok(ring)
    }

    fn from_parts(
        data_keys: BTreeMap<u32, DataKey>,
        active: u32,
        lookup_root: SecretKey,
    ) -> Result<KeyRing, VaultError> {
        if !data_keys.contains_key(&active) {
            return Err(VaultError::InvalidKeyRing);
        }
        let lookup_keys = LookupPurpose::ALL
            .iter()
            .map(|&purpose| {
                Ok(LookupKey {
                    purpose,
                    key: KeyMaterial::Bytes(crypto::derive_subkey(&lookup_root, purpose.label())?),
                })
            })
            .collect::<Result<Vec<_>, CryptoError>>()?
            .try_into()
            .map_err(|_| VaultError::InvalidKeyRing)?;
        Ok(KeyRing {
            data: DataKeys::new(DataKeySet {
                keys: data_keys,
                active,
            }),
            roots: RootKeys::default(),
            lookup_root: Some(lookup_root),
            hsm: None,
            lookup_keys,
            emv_roots: emv_roots::EmvRoots::default(),
        })
    }

    /// The version new ciphertexts are sealed under.
    pub fn active_version(&self) -> u32 {
        self.data.load().active
    }

    /// Every live version, oldest first.
    pub fn versions(&self) -> Vec<u32> {
        self.data.load().keys.keys().copied().collect()
    }

    pub fn has_version(&self, version: u32) -> bool {
        self.data.load().keys.contains_key(&version)
    }

    /// Versions with their creation times, for status displays.
    pub fn version_info(&self) -> Vec<KeyVersionInfo> {
        let set = self.data.load();
        set.keys
            .iter()
            .map(|(&version, data_key)| KeyVersionInfo {
                version,
                created_at: data_key.created_at,
                active: version == set.active,
            })
            .collect()
    }

    /// Adds a fresh data key and makes it active; returns its version. Older
    /// versions stay readable until retired. Save the ring (and take a new
    /// backup) before sealing anything under the new version.
    pub fn rotate(&mut self) -> Result<u32, VaultError> {
        if self.hsm.is_some() {
            return Err(VaultError::NotWithHsm(
                "rotating the key file",
                "run `tessera keys rotate`, which makes the new data key inside the token",
            ));
        }
        let mut set = DataKeySet::clone(&self.data.load());
        let newest = set.keys.keys().next_back().copied().unwrap_or(0);
        let version = newest.checked_add(1).ok_or(VaultError::VersionOverflow)?;
        let data_key = DataKey {
            key: KeyMaterial::Bytes(SecretKey::generate()?),
            created_at: now(),
        };
        set.keys.insert(version, data_key);
        set.active = version;
        self.data.store(set);
        Ok(version)
    }

    /// Removes an old version: whatever it sealed becomes unreadable, which is
    /// how stale copies (old WAL frames, old backups) are made worthless. Reseal
    /// live records first.
    pub fn retire(&mut self, version: u32) -> Result<(), VaultError> {
        let mut set = DataKeySet::clone(&self.data.load());
        if version == set.active {
            return Err(VaultError::RetireActive(version));
        }
        set.keys
            .remove(&version)
            .ok_or(VaultError::UnknownKeyVersion(version))?;
        self.data.store(set);
        Ok(())
    }

    /// The key for one lookup purpose.
    pub fn lookup_key(&self, purpose: LookupPurpose) -> &LookupKey {
        // One entry per purpose, built from `LookupPurpose::ALL` in order.
        &self.lookup_keys[purpose.index()]
    }

    /// Seals a card number for the record `record_id` (the card's id) under
    /// the active key version.
    pub fn seal(&self, record_id: &str, pan: &Pan) -> Result<SealedPan, VaultError> {
        self.seal_bytes(PAN_CONTEXT, record_id, pan.expose_digits().as_bytes())
    }

    /// Opens what [`KeyRing::seal`] sealed for the same record.
    pub fn open(&self, record_id: &str, sealed: &SealedPan) -> Result<Pan, VaultError> {
        let plaintext = self.open_bytes(PAN_CONTEXT, record_id, sealed)?;
        let digits = std::str::from_utf8(&plaintext).map_err(|_| VaultError::NotAPan)?;
        Pan::parse(digits).map_err(|_| VaultError::NotAPan)
    }

    /// Seals any secret. `context` names its kind ("otp", "issuer-token"), so
    /// a value sealed as one kind never opens as another, even for the same
    /// record; `record_id` is the row it belongs to.
    pub fn seal_bytes(
        &self,
        context: &str,
        record_id: &str,
        plaintext: &[u8],
    ) -> Result<Sealed, VaultError> {
        if record_id.is_empty() {
            return Err(VaultError::EmptyRecordId);
        }
        let set = self.data.load();
        let data_key = set
            .keys
            .get(&set.active)
            .ok_or(VaultError::UnknownKeyVersion(set.active))?;
        let aad = associated_data(context, set.active, record_id);
        let blob = match &data_key.key {
            KeyMaterial::Bytes(key) => crypto::aes256gcm_seal(key, plaintext, &aad)?,
            KeyMaterial::Hsm(token, handle) => token.encrypt_gcm(*handle, plaintext, &aad)?,
        };
        Ok(Sealed {
            key_version: set.active,
            blob,
        })
    }

    /// Opens what [`KeyRing::seal_bytes`] sealed with the same context and
    /// record id. The plaintext is wiped when dropped.
    pub fn open_bytes(
        &self,
        context: &str,
        record_id: &str,
        sealed: &Sealed,
    ) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        if record_id.is_empty() {
            return Err(VaultError::EmptyRecordId);
        }
        let set = self.data.load();
        let Some(data_key) = set.keys.get(&sealed.key_version) else {
            self.data.missed();
            return Err(VaultError::UnknownKeyVersion(sealed.key_version));
        };
        let aad = associated_data(context, sealed.key_version, record_id);
        match &data_key.key {
            KeyMaterial::Bytes(key) => {
                crypto::aes256gcm_open(key, &sealed.blob, &aad).map_err(|error| match error {
                    CryptoError::Open | CryptoError::Truncated => VaultError::Decrypt,
                    other => VaultError::Crypto(other),
                })
            }
            KeyMaterial::Hsm(token, handle) => token.decrypt_gcm(*handle, &sealed.blob, &aad),
        }
    }

    /// True when `sealed` is not under the active version, i.e. rotation has
    /// yet to reach it.
    pub fn needs_reseal(&self, sealed: &Sealed) -> bool {
        sealed.key_version != self.active_version()
    }

    /// Re-encrypts a sealed PAN under the active version (key rotation).
    pub fn reseal(&self, record_id: &str, sealed: &SealedPan) -> Result<SealedPan, VaultError> {
        self.reseal_bytes(PAN_CONTEXT, record_id, sealed)
    }

    /// Re-encrypts any sealed secret under the active version.
    pub fn reseal_bytes(
        &self,
        context: &str,
        record_id: &str,
        sealed: &Sealed,
    ) -> Result<Sealed, VaultError> {
        let plaintext = self.open_bytes(context, record_id, sealed)?;
        self.seal_bytes(context, record_id, &plaintext)
    }

    /// The card's fingerprint: equal for equal PANs under one key ring, so a
    /// duplicate card is found by index without decrypting anything.
    pub fn fingerprint(&self, pan: &Pan) -> PanFingerprint {
        let mac = self
            .lookup_key(LookupPurpose::PanFingerprint)
            .hash(pan.expose_digits().as_bytes());
        PanFingerprint(hex::encode(mac))
    }

    /// Seals a token PAN for the token `token_ref` under the active version.
    pub fn seal_token_pan(
        &self,
        token_ref: &str,
        token_pan: &TokenPan,
    ) -> Result<Sealed, VaultError> {
        self.seal_bytes(
            TOKEN_PAN_CONTEXT,
            token_ref,
            token_pan.expose_digits().as_bytes(),
        )
    }

    /// Opens what [`KeyRing::seal_token_pan`] sealed for the same token.
    pub fn open_token_pan(&self, token_ref: &str, sealed: &Sealed) -> Result<TokenPan, VaultError> {
        let plaintext = self.open_bytes(TOKEN_PAN_CONTEXT, token_ref, sealed)?;
        let digits = std::str::from_utf8(&plaintext).map_err(|_| VaultError::NotAPan)?;
        TokenPan::parse(digits).map_err(|_| VaultError::NotAPan)
    }

    /// A token PAN's keyed fingerprint (64 hex digits): the index a merchant's
    /// token PAN is found by.
    pub fn token_fingerprint(&self, token_pan: &TokenPan) -> String {
        hex::encode(
            self.lookup_key(LookupPurpose::TokenPanFingerprint)
                .hash(token_pan.expose_digits().as_bytes()),
        )
    }

    /// A national ID number's keyed hash. Surrounding spaces are ignored and
    /// the check character is compared upper-case (`x` and `X` are the same).
    pub fn id_number_hash(&self, id_number: &str) -> IdNumberHash {
        let normalised = Zeroizing::new(id_number.trim().to_ascii_uppercase());
        let mac = self
            .lookup_key(LookupPurpose::IdNumber)
            .hash(normalised.as_bytes());
        IdNumberHash(hex::encode(mac))
    }

    /// HMAC-SHA256 of `bytes` under the key for `purpose`.
    pub fn keyed_hash(&self, purpose: LookupPurpose, bytes: &[u8]) -> [u8; 32] {
        self.lookup_key(purpose).hash(bytes)
    }

    /// The value the nodes of one database compare their key rings by: 16
    /// hex digits, equal for equal lookup roots, telling nothing of the keys.
    pub fn key_ring_check(&self) -> String {
        hex::encode(&self.keyed_hash(LookupPurpose::KeyRingCheck, KEY_RING_CHECK_INPUT)[..8])
    }

    /// The check value databases written before it had its own key hold:
    /// made under the API-key lookup key. Only read, to accept and replace it.
    pub fn legacy_key_ring_check(&self) -> String {
        hex::encode(&self.keyed_hash(LookupPurpose::ApiKey, KEY_RING_CHECK_INPUT)[..8])
    }
}

/// What the key ring check value is a keyed hash of.
const KEY_RING_CHECK_INPUT: &[u8] = b"tessera key ring check v1";

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("versions", &self.versions())
            .field("active", &self.active_version())
            .field("root_version", &self.roots.current())
            .finish_non_exhaustive()
    }
}

/// Key files store times to the second.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

/// The context card numbers are sealed under (cards, transfers).
pub const PAN_CONTEXT: &str = "pan";
/// Token PANs were sealed under this context before they had their own
/// methods (`binding.rs`): it is part of the storage format.
pub const TOKEN_PAN_CONTEXT: &str = "token_pan";

/// `"tessera.vault.v1" 0x00 || len(context) u32 || context || version u32 ||
/// len(record_id) u32 || record_id`, all big-endian: length prefixes keep two
/// different (context, record) pairs from ever producing the same bytes.
fn associated_data(context: &str, key_version: u32, record_id: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(32 + context.len() + record_id.len());
    aad.extend_from_slice(b"tessera.vault.v1\0");
    aad.extend_from_slice(&length_prefix(context));
    aad.extend_from_slice(context.as_bytes());
    aad.extend_from_slice(&key_version.to_be_bytes());
    aad.extend_from_slice(&length_prefix(record_id));
    aad.extend_from_slice(record_id.as_bytes());
    aad
}

fn length_prefix(field: &str) -> [u8; 4] {
    // Contexts and record ids are short; saturating only matters past 4 GiB.
    u32::try_from(field.len()).unwrap_or(u32::MAX).to_be_bytes()
}

/// A sealed secret as stored: the key version that sealed it and `nonce ||
/// ciphertext || tag`. In JSON the blob is base64.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    pub key_version: u32,
    #[serde(with = "base64_bytes")]
    pub blob: Vec<u8>,
}

/// A sealed card number. The same shape as any sealed secret; the associated
/// data keeps it from opening as anything but a PAN.
pub type SealedPan = Sealed;

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Sealed(key_version: {}, {} bytes)",
            self.key_version,
            self.blob.len()
        )
    }
}

/// A PAN's keyed fingerprint: 64 lowercase hex characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PanFingerprint(String);

/// A national ID number's keyed hash: 64 lowercase hex characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IdNumberHash(String);

macro_rules! hex_digest_accessors {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Reads a stored value back; `None` unless 64 lowercase hex digits.
            pub fn from_stored(value: &str) -> Option<$name> {
                let valid = value.len() == 64
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
                valid.then(|| $name(value.to_owned()))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

hex_digest_accessors!(PanFingerprint);
hex_digest_accessors!(IdNumberHash);

mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
