//! Data keys wrapped under a root key (key-encryption key). The key file
//! holds the root; the database holds every data key version wrapped under
//! it (`vault_data_keys`), so a version one node makes reaches every node
//! that holds the same key file, without the file changing.
//!
//! A wrapped key is AES-256-GCM under the root, its associated data naming
//! the purpose, the data key's version and the root's version: a wrapped
//! key moved to another version or root fails to unwrap.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use zeroize::Zeroizing;

use super::data_keys::DataKeySet;
use super::{DataKey, KeyMaterial, KeyRing, VaultError, hsm, now};
use crate::crypto::{self, CryptoError, SecretKey};

/// One root key and when it was made.
#[derive(Clone)]
pub(super) struct RootKey {
    pub(super) key: SecretKey,
    pub(super) created_at: DateTime<Utc>,
}

/// The root keys of a key file: the current one wraps, every one kept
/// unwraps (an old root stays until every data key is re-wrapped).
#[derive(Clone, Default)]
pub(super) struct RootKeys {
    pub(super) keys: BTreeMap<u32, RootKey>,
    pub(super) current: Option<u32>,
}

impl RootKeys {
    pub(super) fn current(&self) -> Option<u32> {
        self.current
    }
}

/// Where a data key version stands, as the database records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataKeyState {
    /// Seals everything new; exactly one version at a time.
    Active,
    /// Still opens what it sealed, until re-encryption moves it on.
    Retiring,
    /// Gone: its key material is deleted and nothing it sealed opens.
    Retired,
}

impl DataKeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            DataKeyState::Active => "active",
            DataKeyState::Retiring => "retiring",
            DataKeyState::Retired => "retired",
        }
    }

    pub fn parse(text: &str) -> Option<DataKeyState> {
        match text {
            "active" => Some(DataKeyState::Active),
            "retiring" => Some(DataKeyState::Retiring),
            "retired" => Some(DataKeyState::Retired),
            _ => None,
        }
    }
}

/// A data key version as the database keeps it: wrapped under a root key
/// (empty once retired). `Debug` shows no bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedDataKey {
    pub version: u32,
    pub wrapped: Vec<u8>,
    pub root_version: u32,
    pub created_at: DateTime<Utc>,
    pub state: DataKeyState,
}

impl fmt::Debug for WrappedDataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WrappedDataKey")
            .field("version", &self.version)
            .field("root_version", &self.root_version)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// What [`KeyRing::install`] changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RingChange {
    pub active_before: u32,
    pub active_after: u32,
    pub added: Vec<u32>,
    pub removed: Vec<u32>,
}

impl RingChange {
    pub fn changed(&self) -> bool {
        self.active_before != self.active_after
            || !self.added.is_empty()
            || !self.removed.is_empty()
    }
}

impl KeyRing {
    /// The root key version that wraps, if the key file has one.
    pub fn root_version(&self) -> Option<u32> {
        self.roots.current()
    }

    /// How many opens met a version this ring does not hold. A server
    /// watches it and reads the database's versions when it grows: the
    /// value may be sealed under a version another node has just made.
    pub fn unknown_version_opens(&self) -> u64 {
        self.data.misses()
    }

    /// Every root version the key file holds, oldest first.
    pub fn root_versions(&self) -> Vec<u32> {
        self.roots.keys.keys().copied().collect()
    }

    /// Adds a fresh root key and makes it the one that wraps; the older
    /// roots stay, to unwrap what is still wrapped under them.
    pub fn add_root(&mut self) -> Result<u32, VaultError> {
        if self.hsm.is_some() {
            return Err(NOT_WITH_HSM_ROOT);
        }
        let newest = self.roots.keys.keys().next_back().copied().unwrap_or(0);
        let version = newest.checked_add(1).ok_or(VaultError::VersionOverflow)?;
        let root = RootKey {
            key: SecretKey::generate()?,
            created_at: now(),
        };
        self.roots.keys.insert(version, root);
        self.roots.current = Some(version);
        Ok(version)
    }

    /// Removes an old root once nothing is wrapped under it any more.
    pub fn retire_root(&mut self, version: u32) -> Result<(), VaultError> {
        if self.roots.current == Some(version) {
            return Err(VaultError::RetireActive(version));
        }
        self.roots
            .keys
            .remove(&version)
            .map(|_| ())
            .ok_or(VaultError::UnknownRootVersion(version))
    }

    /// Every data key this ring holds, wrapped under the current root: what
    /// a node offers the database at start. The ring's active version is
    /// offered as active, the others as retiring.
    pub fn wrapped_keys(&self) -> Result<Vec<WrappedDataKey>, VaultError> {
        if self.hsm.is_some() {
            // The database names the token's data keys, not the other way
            // round: `tessera keys move-to-hsm` left its rows as they were.
            return Ok(Vec::new());
        }
        let set = self.data.load();
        set.keys
            .iter()
            .map(|(&version, data_key)| {
                let state = if version == set.active {
                    DataKeyState::Active
                } else {
                    DataKeyState::Retiring
                };
                self.wrap(version, data_key, state)
            })
            .collect()
    }

    /// A fresh data key for `version`, wrapped and marked active, but not
    /// installed: it seals nothing until the database holds it and
    /// [`KeyRing::install`] takes it in, so no node seals under a version
    /// that others cannot learn.
    pub fn new_data_key(&self, version: u32) -> Result<WrappedDataKey, VaultError> {
        if let Some(token) = &self.hsm {
            // Made inside the token under a label no other rotation can
            // take (its random part is what the row keeps, in place of a
            // wrapped key): a rotation that loses the race for `version`
            // leaves an unused object, never a second key of one label.
            let id = crypto::random_array::<16>()?;
            token.generate(&hsm_data_key_label(version, &id), hsm::KeyUse::DataKey)?;
            return Ok(WrappedDataKey {
                version,
                wrapped: id.to_vec(),
                root_version: HSM_ROOT_VERSION,
                created_at: now(),
                state: DataKeyState::Active,
            });
        }
        let data_key = DataKey {
            key: KeyMaterial::Bytes(SecretKey::generate()?),
            created_at: now(),
        };
        self.wrap(version, &data_key, DataKeyState::Active)
    }

    /// The same data key, wrapped under the current root (root rotation).
    pub fn rewrap(&self, stored: &WrappedDataKey) -> Result<WrappedDataKey, VaultError> {
        if self.hsm.is_some() {
            return Err(NOT_WITH_HSM_ROOT);
        }
        let key = self.unwrap_key(stored)?;
        let data_key = DataKey {
            key: KeyMaterial::Bytes(key),
            created_at: stored.created_at,
        };
        self.wrap(stored.version, &data_key, stored.state)
    }

    /// Takes in what the database holds: versions this ring lacks are
    /// unwrapped and added, retired ones removed, and the active version
    /// becomes the database's. A version held already must unwrap to the
    /// same key, or the database was written with another key ring.
    pub fn install(&self, stored: &[WrappedDataKey]) -> Result<RingChange, VaultError> {
        let current = self.data.load();
        let mut set = DataKeySet::clone(&current);
        let mut added = Vec::new();
        let mut removed = Vec::new();
        for row in stored {
            match row.state {
                DataKeyState::Retired => {
                    if set.keys.remove(&row.version).is_some() {
                        removed.push(row.version);
                    }
                }
                DataKeyState::Active | DataKeyState::Retiring => {
                    let key = self.stored_key(row)?;
                    match set.keys.get(&row.version) {
                        Some(held) => {
                            let same = match (&held.key, &key) {
                                (KeyMaterial::Bytes(held), KeyMaterial::Bytes(key)) => {
                                    crypto::constant_time_eq(
                                        held.expose_bytes(),
                                        key.expose_bytes(),
                                    )
                                }
                                (KeyMaterial::Hsm(_, held), KeyMaterial::Hsm(_, key)) => {
                                    held == key
                                }
                                _ => false,
                            };
                            if !same {
                                return Err(VaultError::Unwrap(row.version));
                            }
                        }
                        None => {
                            let data_key = DataKey {
                                key,
                                created_at: row.created_at,
                            };
                            set.keys.insert(row.version, data_key);
                            added.push(row.version);
                        }
                    }
                    if row.state == DataKeyState::Active {
                        set.active = row.version;
                    }
                }
            }
        }
        if !set.keys.contains_key(&set.active) {
            return Err(match &self.hsm {
                Some(_) => VaultError::Hsm(
                    "the database records no active data key version: run `tessera keys \
                     move-to-hsm` (it needs the key file the database was written with)"
                        .to_owned(),
                ),
                None => VaultError::InvalidKeyRing,
            });
        }
        let change = RingChange {
            active_before: current.active,
            active_after: set.active,
            added,
            removed,
        };
        if change.changed() {
            self.data.store(set);
        }
        Ok(change)
    }

    fn wrap(
        &self,
        version: u32,
        data_key: &DataKey,
        state: DataKeyState,
    ) -> Result<WrappedDataKey, VaultError> {
        let root_version = self.roots.current.ok_or(VaultError::NoRootKey)?;
        let root = self
            .roots
            .keys
            .get(&root_version)
            .ok_or(VaultError::UnknownRootVersion(root_version))?;
        let aad = wrap_associated_data(version, root_version);
        let KeyMaterial::Bytes(key) = &data_key.key else {
            return Err(NOT_WITH_HSM_ROOT);
        };
        let wrapped = crypto::aes256gcm_seal(&root.key, key.expose_bytes(), &aad)?;
        Ok(WrappedDataKey {
            version,
            wrapped,
            root_version,
            created_at: data_key.created_at,
            state,
        })
    }

    /// The key a stored row names: in the token with the HSM backend (found
    /// by label), else unwrapped under the key file's root.
    fn stored_key(&self, stored: &WrappedDataKey) -> Result<KeyMaterial, VaultError> {
        match (&self.hsm, stored.root_version) {
            (None, HSM_ROOT_VERSION) => Err(VaultError::DataKeyInHsm(stored.version)),
            (None, _) => Ok(KeyMaterial::Bytes(self.unwrap_key(stored)?)),
            (Some(token), root_version) => {
                let label = if root_version == HSM_ROOT_VERSION {
                    hsm_data_key_label(stored.version, &stored.wrapped)
                } else {
                    hsm::data_key_label(stored.version)
                };
                let handle = token
                    .find(&label)?
                    .ok_or(VaultError::HsmKeyMissing(label))?;
                Ok(KeyMaterial::Hsm(token.clone(), handle))
            }
        }
    }

    pub(super) fn unwrap_key(&self, stored: &WrappedDataKey) -> Result<SecretKey, VaultError> {
        let root = self
            .roots
            .keys
            .get(&stored.root_version)
            .ok_or(VaultError::UnknownRootVersion(stored.root_version))?;
        let aad = wrap_associated_data(stored.version, stored.root_version);
        let bytes: Zeroizing<Vec<u8>> = crypto::aes256gcm_open(&root.key, &stored.wrapped, &aad)
            .map_err(|error| match error {
                CryptoError::Open | CryptoError::Truncated => VaultError::Unwrap(stored.version),
                other => VaultError::Crypto(other),
            })?;
        SecretKey::from_slice(&bytes).map_err(|_| VaultError::Unwrap(stored.version))
    }
}

/// The root version a `vault_data_keys` row made inside an HSM records: no
/// root wraps it, and its `wrapped` column holds its label's random part.
pub const HSM_ROOT_VERSION: u32 = 0;

const NOT_WITH_HSM_ROOT: VaultError = VaultError::NotWithHsm(
    "a root key (key-encryption key)",
    "the token keeps the data keys themselves, so there is no root to rotate or wrap under",
);

/// The label of a data key made inside the token by `tessera keys rotate`.
fn hsm_data_key_label(version: u32, id: &[u8]) -> String {
    format!("{}/{}", hsm::data_key_label(version), hex::encode(id))
}

/// `"tessera.vault.wrap.v1" 0x00 || "data-key" 0x00 || version u32 ||
/// root_version u32`, big-endian.
fn wrap_associated_data(version: u32, root_version: u32) -> Vec<u8> {
    let mut aad = Vec::with_capacity(40);
    aad.extend_from_slice(b"tessera.vault.wrap.v1\0data-key\0");
    aad.extend_from_slice(&version.to_be_bytes());
    aad.extend_from_slice(&root_version.to_be_bytes());
    aad
}
