//! Encrypted backups of the key ring. A backup is JSON: a header naming the
//! KDF (Argon2id, its parameters and a random salt) and the cipher, and the
//! key file's content sealed with AES-256-GCM under the passphrase-derived key.
//! The header is the associated data, so changing a parameter or the salt makes
//! the backup fail to open instead of deriving something else.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::KeyRing;
use super::key_file::{self, KeyFileError};
use crate::crypto::{self, Argon2Params, CryptoError};

const FORMAT: &str = "tessera-keys-backup";
const FORMAT_VERSION: u32 = 1;
const KDF: &str = "argon2id-v19";
const CIPHER: &str = "aes-256-gcm";
const SALT_LEN: usize = 16;

/// The shortest passphrase a backup accepts, in characters. A backup can be
/// copied and attacked offline; Argon2id slows guessing, length stops it.
pub const MIN_PASSPHRASE_CHARS: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("the passphrase is too short: use at least {MIN_PASSPHRASE_CHARS} characters")]
    WeakPassphrase,
    #[error("this is not a Tessera key backup ({0})")]
    NotABackup(String),
    #[error(
        "this backup uses format {0}, which this Tessera does not know (it reads format {FORMAT_VERSION}). Upgrade Tessera."
    )]
    UnsupportedFormat(u32),
    #[error(
        "the backup's key-derivation parameters are out of range (the file may have been altered)"
    )]
    ParamsOutOfRange,
    #[error("wrong passphrase, or the backup file was altered")]
    WrongPassphrase,
    #[error("the backup opened, but its key file is unusable: {0}")]
    Contents(#[from] KeyFileError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// Everything but the ciphertext; serialised compactly, it is the AAD.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BackupHeader {
    format: String,
    format_version: u32,
    kdf: String,
    kdf_params: Argon2Params,
    /// Base64.
    salt: String,
    cipher: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BackupDocument {
    header: BackupHeader,
    /// Base64 of `nonce || ciphertext || tag`.
    sealed: String,
}

/// Encrypts the key ring under `passphrase` with the default offline-grade
/// Argon2id parameters ([`Argon2Params::OFFLINE`]).
pub fn backup(ring: &KeyRing, passphrase: &str) -> Result<Vec<u8>, BackupError> {
    backup_with_params(ring, passphrase, Argon2Params::OFFLINE)
}

/// [`backup`] with explicit Argon2id parameters (tests, slow machines). The
/// parameters are stored in the backup, so [`restore`] needs none.
pub fn backup_with_params(
    ring: &KeyRing,
    passphrase: &str,
    params: Argon2Params,
) -> Result<Vec<u8>, BackupError> {
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(BackupError::WeakPassphrase);
    }
    if !params.within_limits() {
        return Err(BackupError::ParamsOutOfRange);
    }
    let salt: [u8; SALT_LEN] = crypto::random_array()?;
    let header = BackupHeader {
        format: FORMAT.to_owned(),
        format_version: FORMAT_VERSION,
        kdf: KDF.to_owned(),
        kdf_params: params,
        salt: STANDARD.encode(salt),
        cipher: CIPHER.to_owned(),
    };
    let aad = header_bytes(&header)?;
    let key = crypto::argon2id_derive_key(passphrase.as_bytes(), &salt, &params)?;
    let content = key_file::encode(ring)?;
    let sealed = crypto::aes256gcm_seal(&key, &content, &aad)?;
    let document = BackupDocument {
        header,
        sealed: STANDARD.encode(sealed),
    };
    let mut bytes = serde_json::to_vec_pretty(&document)
        .map_err(|error| BackupError::NotABackup(error.to_string()))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Opens a backup. A wrong passphrase and an altered file look the same to
/// AES-GCM and give [`BackupError::WrongPassphrase`].
pub fn restore(bytes: &[u8], passphrase: &str) -> Result<KeyRing, BackupError> {
    let document: BackupDocument = serde_json::from_slice(bytes)
        .map_err(|error| BackupError::NotABackup(error.to_string()))?;
    let header = &document.header;
    if header.format != FORMAT {
        return Err(BackupError::NotABackup(format!(
            "format is {:?}",
            header.format
        )));
    }
    if header.format_version != FORMAT_VERSION {
        return Err(BackupError::UnsupportedFormat(header.format_version));
    }
    if header.kdf != KDF || header.cipher != CIPHER {
        return Err(BackupError::NotABackup(format!(
            "unknown KDF {:?} or cipher {:?}",
            header.kdf, header.cipher
        )));
    }
    if !header.kdf_params.within_limits() {
        return Err(BackupError::ParamsOutOfRange);
    }
    let salt = STANDARD
        .decode(&header.salt)
        .map_err(|_| BackupError::NotABackup("the salt is not base64".to_owned()))?;
    if salt.len() < SALT_LEN {
        return Err(BackupError::NotABackup("the salt is too short".to_owned()));
    }
    let sealed = STANDARD
        .decode(&document.sealed)
        .map_err(|_| BackupError::NotABackup("the sealed keys are not base64".to_owned()))?;
    let aad = header_bytes(header)?;
    let key = crypto::argon2id_derive_key(passphrase.as_bytes(), &salt, &header.kdf_params)?;
    let content: Zeroizing<Vec<u8>> =
        crypto::aes256gcm_open(&key, &sealed, &aad).map_err(|error| match error {
            CryptoError::Open | CryptoError::Truncated => BackupError::WrongPassphrase,
            other => BackupError::Crypto(other),
        })?;
    Ok(key_file::decode(&content, "the backup")?)
}

fn header_bytes(header: &BackupHeader) -> Result<Vec<u8>, BackupError> {
    serde_json::to_vec(header).map_err(|error| BackupError::NotABackup(error.to_string()))
}
