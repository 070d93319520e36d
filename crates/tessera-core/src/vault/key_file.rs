//! The key file: the embedded default key source. `tessera.keys` in the data
//! directory, created on first run with mode 0600, versioned JSON with a
//! SHA-256 checksum so a damaged file is refused rather than half-read.
//!
//! The key file *is* the vault: lose it and every stored card is unreadable.
//! So a missing file beside existing data is an error, never a new key.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::emv_roots::EmvGenerationEntry;
use super::wrapping::RootKey;
use super::{DataKey, KeyMaterial, KeyRing, VaultError};
use crate::crypto::{self, SecretKey};

/// The key file's name inside the data directory.
pub const KEY_FILE_NAME: &str = "tessera.keys";

/// The environment variable that may carry the key ring instead of a file:
/// the base64 (standard alphabet) of a key file's exact content. The caller
/// reads the variable and passes its value to [`KeyRing::from_env_value`].
pub const ENV_MASTER_KEY: &str = "TESSERA_MASTER_KEY";

const FORMAT: &str = "tessera-keys";
/// Format 2 adds the root keys the database's data keys are wrapped
/// under; a format 1 file (no root) still loads, and the server adds a root
/// on its first start (`KeyFile::ensure_root`).
const FORMAT_VERSION: u32 = 2;
const FORMAT_VERSION_WITHOUT_ROOT: u32 = 1;

/// What [`KeyFile::load_or_create`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFileStatus {
    /// A new key ring was generated and written: tell the operator that this
    /// file is the vault and offer `tessera keys backup`.
    Created,
    /// An existing key file was read.
    Loaded,
}

/// Why the key ring could not be read or written. Every message names the
/// file (or variable) and what to do; none carries key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error(
        "key file {} is missing, but the data directory already holds data. Without that key file every stored card is unreadable, so Tessera will not create a new one. Put the original file back, restore it from a backup (`tessera keys restore --from BACKUP --data-dir {}`), or set {ENV_MASTER_KEY}.",
        .path.display(),
        .path.parent().unwrap_or(Path::new(".")).display()
    )]
    Missing { path: PathBuf },
    #[error(
        "cannot read key file {}: {source}. Check that it exists and that the user running Tessera owns it.",
        .path.display()
    )]
    Unreadable { path: PathBuf, source: io::Error },
    #[error("key file {} is not a regular file.", .path.display())]
    NotAFile { path: PathBuf },
    #[error(
        "key file {} has mode {mode:04o}: group or others may read it. Run `chmod 600 {}` and start again.",
        .path.display(),
        .path.display()
    )]
    TooOpen { path: PathBuf, mode: u32 },
    #[error(
        "key material in {origin} is corrupt ({reason}). Restore the key file from a backup with `tessera keys restore`; do not delete it."
    )]
    Corrupt { origin: String, reason: String },
    #[error(
        "{origin} uses key file format {found}, which this Tessera does not know (it reads format {FORMAT_VERSION}). Upgrade Tessera."
    )]
    UnsupportedFormat { origin: String, found: u32 },
    #[error(
        "key file {} already exists; refusing to overwrite it.",
        .path.display()
    )]
    AlreadyExists { path: PathBuf },
    #[error("cannot write key file {}: {source}", .path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Vault(#[from] VaultError),
}

/// One data key as written in the file.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct DataKeyEntry {
    version: u32,
    /// RFC 3339.
    created_at: String,
    /// Base64 of the 32-byte key.
    key: String,
}

/// The file as written. Field order is the serialisation order, which the
/// checksum depends on.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct KeyFileDocument {
    format: String,
    format_version: u32,
    active_version: u32,
    data_keys: Vec<DataKeyEntry>,
    /// Base64 of the 32-byte lookup root.
    lookup_root: String,
    /// The EMV key generations (`emv_roots.rs`); absent from files written
    /// before generations had roots, which keeps their checksums valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    emv_generations: Option<Vec<EmvGenerationEntry>>,
    /// The root keys (key-encryption keys), format 2: absent from format 1,
    /// so a format 1 file's checksum reads as it was written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    root_keys: Vec<DataKeyEntry>,
    /// The root version that wraps, format 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    root_version: Option<u32>,
    /// Hex SHA-256 of the compact JSON of this document with `checksum` empty.
    checksum: String,
}

impl KeyFileDocument {
    fn compute_checksum(&mut self) -> Result<String, serde_json::Error> {
        let saved = std::mem::take(&mut self.checksum);
        let canonical = serde_json::to_vec(self).map(Zeroizing::new);
        self.checksum = saved;
        Ok(hex::encode(crypto::sha256(&canonical?)))
    }
}

/// Encodes a key ring as key file content (pretty JSON, newline-terminated).
pub fn encode(ring: &KeyRing) -> Result<Zeroizing<Vec<u8>>, KeyFileError> {
    let no_file = || {
        KeyFileError::Vault(VaultError::NotWithHsm(
            "a key file",
            "the keys stay in the token; keep the key file you moved from in a safe",
        ))
    };
    let lookup_root = ring.lookup_root.as_ref().ok_or_else(no_file)?;
    let data = ring.data.load();
    let root_version = ring.roots.current;
    let mut document = KeyFileDocument {
        format: FORMAT.to_owned(),
        format_version: if root_version.is_some() {
            FORMAT_VERSION
        } else {
            FORMAT_VERSION_WITHOUT_ROOT
        },
        active_version: data.active,
        data_keys: data
            .keys
            .iter()
            .map(|(&version, data_key)| match &data_key.key {
                KeyMaterial::Bytes(key) => Ok(DataKeyEntry {
                    version,
                    created_at: data_key.created_at.to_rfc3339(),
                    key: STANDARD.encode(key.expose_bytes()),
                }),
                KeyMaterial::Hsm(..) => Err(no_file()),
            })
            .collect::<Result<_, _>>()?,
        lookup_root: STANDARD.encode(lookup_root.expose_bytes()),
        emv_generations: ring.encode_emv_generations(),
        root_keys: ring
            .roots
            .keys
            .iter()
            .map(|(&version, root)| DataKeyEntry {
                version,
                created_at: root.created_at.to_rfc3339(),
                key: STANDARD.encode(root.key.expose_bytes()),
            })
            .collect(),
        root_version,
        checksum: String::new(),
    };
    let internal = |error: serde_json::Error| KeyFileError::Corrupt {
        origin: "the key ring being encoded".to_owned(),
        reason: error.to_string(),
    };
    document.checksum = document.compute_checksum().map_err(internal)?;
    let mut bytes = Zeroizing::new(serde_json::to_vec_pretty(&document).map_err(internal)?);
    bytes.push(b'\n');
    Ok(bytes)
}

/// Decodes key file content. `origin` names where it came from, for errors.
pub fn decode(content: &[u8], origin: &str) -> Result<KeyRing, KeyFileError> {
    let corrupt = |reason: String| KeyFileError::Corrupt {
        origin: origin.to_owned(),
        reason,
    };
    let mut document: KeyFileDocument = serde_json::from_slice(content)
        .map_err(|error| corrupt(format!("not a readable key file: {error}")))?;
    if document.format != FORMAT {
        return Err(corrupt(format!(
            "format is {:?}, expected {FORMAT:?}",
            document.format
        )));
    }
    if document.format_version != FORMAT_VERSION
        && document.format_version != FORMAT_VERSION_WITHOUT_ROOT
    {
        return Err(KeyFileError::UnsupportedFormat {
            origin: origin.to_owned(),
            found: document.format_version,
        });
    }
    let expected = document
        .compute_checksum()
        .map_err(|error| corrupt(error.to_string()))?;
    if !crypto::constant_time_eq(expected.as_bytes(), document.checksum.as_bytes()) {
        return Err(corrupt("checksum mismatch".to_owned()));
    }

    let decode_key = |text: &str, what: &str| -> Result<SecretKey, KeyFileError> {
        let bytes = Zeroizing::new(
            STANDARD
                .decode(text)
                .map_err(|_| corrupt(format!("{what} is not base64")))?,
        );
        SecretKey::from_slice(&bytes).map_err(|_| corrupt(format!("{what} is not 32 bytes")))
    };
    let decode_entry = |entry: &DataKeyEntry, what: &str| {
        let created_at = DateTime::parse_from_rfc3339(&entry.created_at)
            .map_err(|_| corrupt(format!("{what} has an unreadable creation time")))?
            .with_timezone(&Utc);
        Ok::<_, KeyFileError>((decode_key(&entry.key, what)?, created_at))
    };
    let mut data_keys = std::collections::BTreeMap::new();
    for entry in &document.data_keys {
        let what = format!("data key version {}", entry.version);
        let (key, created_at) = decode_entry(entry, &what)?;
        let key = KeyMaterial::Bytes(key);
        if data_keys
            .insert(entry.version, DataKey { key, created_at })
            .is_some()
        {
            return Err(corrupt(format!("{what} appears twice")));
        }
    }
    let mut roots = std::collections::BTreeMap::new();
    for entry in &document.root_keys {
        let what = format!("root key version {}", entry.version);
        let (key, created_at) = decode_entry(entry, &what)?;
        if roots
            .insert(entry.version, RootKey { key, created_at })
            .is_some()
        {
            return Err(corrupt(format!("{what} appears twice")));
        }
    }
    let has_root = match document.root_version {
        Some(version) => roots.contains_key(&version),
        None => roots.is_empty(),
    };
    let root_expected = document.format_version == FORMAT_VERSION;
    if !has_root || root_expected != document.root_version.is_some() {
        return Err(corrupt(format!(
            "format {} and its root keys do not agree",
            document.format_version
        )));
    }
    let lookup_root = decode_key(&document.lookup_root, "the lookup root")?;
    let mut ring =
        KeyRing::from_parts(data_keys, document.active_version, lookup_root).map_err(|error| {
            match error {
                VaultError::InvalidKeyRing => corrupt(format!(
                    "the active version {} has no data key",
                    document.active_version
                )),
                other => KeyFileError::Vault(other),
            }
        })?;
    ring.decode_emv_generations(document.emv_generations.as_deref())
        .map_err(corrupt)?;
    ring.roots.keys = roots;
    ring.roots.current = document.root_version;
    Ok(ring)
}

impl KeyRing {
    /// Reads a key ring from the value of [`ENV_MASTER_KEY`]: the base64 of a
    /// key file's content (`base64 -w0 tessera.keys`). Surrounding whitespace
    /// is ignored.
    pub fn from_env_value(value: &str) -> Result<KeyRing, KeyFileError> {
        let origin = format!("environment variable {ENV_MASTER_KEY}");
        let content =
            Zeroizing::new(
                STANDARD
                    .decode(value.trim())
                    .map_err(|_| KeyFileError::Corrupt {
                        origin: origin.clone(),
                        reason: "not base64 (expected the base64 of a tessera.keys file)"
                            .to_owned(),
                    })?,
            );
        decode(&content, &origin)
    }

    /// The value to put in [`ENV_MASTER_KEY`] for this ring.
    pub fn to_env_value(&self) -> Result<Zeroizing<String>, KeyFileError> {
        Ok(Zeroizing::new(STANDARD.encode(&*encode(self)?)))
    }
}

/// The key file of one data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFile {
    path: PathBuf,
}

impl KeyFile {
    /// The key file inside `data_dir`.
    pub fn in_dir(data_dir: &Path) -> KeyFile {
        KeyFile {
            path: data_dir.join(KEY_FILE_NAME),
        }
    }

    /// A key file at an explicit path.
    pub fn at(path: impl Into<PathBuf>) -> KeyFile {
        KeyFile { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn exists(&self) -> bool {
        self.path.exists()
    }

    /// What the server calls at start. Loads `data_dir/tessera.keys` if it
    /// exists; otherwise, when `expect_existing` is false (a fresh data
    /// directory), generates a key ring and writes it with mode 0600. When
    /// `expect_existing` is true (the directory already holds a database) a
    /// missing file is [`KeyFileError::Missing`]: a new key over old data
    /// would make every stored card unreadable.
    pub fn load_or_create(
        data_dir: &Path,
        expect_existing: bool,
    ) -> Result<(KeyRing, KeyFileStatus), KeyFileError> {
        let file = KeyFile::in_dir(data_dir);
        match fs::metadata(&file.path) {
            Ok(_) => return Ok((file.load()?, KeyFileStatus::Loaded)),
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(KeyFileError::Unreadable {
                    path: file.path,
                    source,
                });
            }
        }
        if expect_existing {
            return Err(KeyFileError::Missing { path: file.path });
        }
        create_private_dir(data_dir).map_err(|source| KeyFileError::Write {
            path: file.path.clone(),
            source,
        })?;
        let ring = KeyRing::generate()?;
        match file.create(&ring) {
            Ok(()) => Ok((ring, KeyFileStatus::Created)),
            // Another process started at the same moment and won: use its keys.
            Err(KeyFileError::AlreadyExists { .. }) => Ok((file.load()?, KeyFileStatus::Loaded)),
            Err(error) => Err(error),
        }
    }

    /// Gives a format 1 key file (no root key) a root, written atomically
    /// over the file; returns whether it did. The file's data keys stay as
    /// they were, so everything they sealed still opens.
    pub fn ensure_root(&self, ring: &mut KeyRing) -> Result<bool, KeyFileError> {
        if ring.root_version().is_some() {
            return Ok(false);
        }
        ring.add_root()?;
        self.replace(ring)?;
        Ok(true)
    }

    /// Reads the key file, refusing one that group or others can access.
    pub fn load(&self) -> Result<KeyRing, KeyFileError> {
        let unreadable = |source| KeyFileError::Unreadable {
            path: self.path.clone(),
            source,
        };
        let metadata = fs::metadata(&self.path).map_err(unreadable)?;
        if !metadata.is_file() {
            return Err(KeyFileError::NotAFile {
                path: self.path.clone(),
            });
        }
        if let Some(mode) = unix_mode(&metadata)
            && mode & 0o077 != 0
        {
            return Err(KeyFileError::TooOpen {
                path: self.path.clone(),
                mode,
            });
        }
        let content = Zeroizing::new(fs::read(&self.path).map_err(unreadable)?);
        decode(&content, &self.path.display().to_string())
    }

    /// Writes a new key file (mode 0600); refuses if one exists. The file and
    /// its directory are synced before this returns.
    pub fn create(&self, ring: &KeyRing) -> Result<(), KeyFileError> {
        let content = encode(ring)?;
        write_new_private_file(&self.path, &content).map_err(|source| {
            if source.kind() == io::ErrorKind::AlreadyExists {
                KeyFileError::AlreadyExists {
                    path: self.path.clone(),
                }
            } else {
                KeyFileError::Write {
                    path: self.path.clone(),
                    source,
                }
            }
        })?;
        sync_parent_dir(&self.path).map_err(|source| KeyFileError::Write {
            path: self.path.clone(),
            source,
        })
    }

    /// Replaces the key file atomically (after a rotation, or a forced
    /// restore): a temporary file in the same directory, synced, then renamed
    /// over the old one. A crash leaves either the old file or the new one.
    pub fn replace(&self, ring: &KeyRing) -> Result<(), KeyFileError> {
        let write_error = |source| KeyFileError::Write {
            path: self.path.clone(),
            source,
        };
        let content = encode(ring)?;
        let suffix = hex::encode(crypto::random_array::<6>().map_err(VaultError::from)?);
        let temporary = self
            .path
            .with_file_name(format!(".{KEY_FILE_NAME}.{suffix}.tmp"));
        write_new_private_file(&temporary, &content).map_err(write_error)?;
        if let Err(source) = fs::rename(&temporary, &self.path) {
            let _ = fs::remove_file(&temporary);
            return Err(write_error(source));
        }
        sync_parent_dir(&self.path).map_err(write_error)
    }
}

/// Creates `path` (which must not exist) with mode 0600, writes and syncs it.
/// A partly written file is removed, so a failed write never leaves a file
/// that the next start would call corrupt.
pub fn write_new_private_file(path: &Path, content: &[u8]) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    let written = file.write_all(content).and_then(|()| file.sync_all());
    if let Err(error) = written {
        drop(file);
        let _ = fs::remove_file(path);
        return Err(error);
    }
    Ok(())
}

/// Makes a rename or a new file in `path`'s directory durable.
pub fn sync_parent_dir(path: &Path) -> io::Result<()> {
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    #[cfg(unix)]
    {
        File::open(parent)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = parent;
    Ok(())
}

/// Creates the data directory (mode 0700 on Unix) if it does not exist.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// The permission bits of a file, on Unix.
pub fn unix_mode(metadata: &fs::Metadata) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Some(metadata.permissions().mode() & 0o7777)
    }
    #[cfg(not(unix))]
    {
        let _ = metadata;
        None
    }
}
