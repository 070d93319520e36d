//! `[vault]`: where the keys live (the key file, or a PKCS#11 token) and
//! how a node keeps up with key rotation (`flows/key_rotation.rs`).

use std::path::PathBuf;
use std::time::Duration;

use tessera_core::vault::HsmLocation;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct VaultConfig {
    /// `file` (the key file `tessera.keys`, or TESSERA_MASTER_KEY) or
    /// `pkcs11` (a token filled by `tessera keys move-to-hsm`; its user PIN
    /// comes from TESSERA_HSM_PIN, never from a file).
    pub backend: VaultBackend,
    /// The PKCS#11 module, with `backend = "pkcs11"`.
    pub pkcs11_module: Option<PathBuf>,
    /// The label of the token holding the keys, with `backend = "pkcs11"`.
    pub pkcs11_token: Option<String>,
    /// Seconds between two reads of the database's data key versions. A
    /// node also reads them at once when a sealing write of its own is
    /// refused for a stale version.
    pub refresh_secs: u64,
    /// Sealed values re-encrypted per transaction after a rotation.
    pub reencrypt_batch: u32,
}

impl Default for VaultConfig {
    fn default() -> Self {
        VaultConfig {
            backend: VaultBackend::File,
            pkcs11_module: None,
            pkcs11_token: None,
            refresh_secs: 5,
            reencrypt_batch: 500,
        }
    }
}

/// Where the vault's keys live.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum VaultBackend {
    #[default]
    File,
    Pkcs11,
}

impl VaultConfig {
    /// The token, with `backend = "pkcs11"`; an error says which setting
    /// is missing.
    pub fn hsm_location(&self) -> Result<Option<HsmLocation>, String> {
        if self.backend == VaultBackend::File {
            return Ok(None);
        }
        let missing = |key: &str, example: &str| {
            format!("vault.backend = \"pkcs11\" needs vault.{key} (for example {example})")
        };
        let module = self
            .pkcs11_module
            .clone()
            .ok_or_else(|| missing("pkcs11_module", "\"/usr/lib/softhsm/libsofthsm2.so\""))?;
        let token = self
            .pkcs11_token
            .clone()
            .ok_or_else(|| missing("pkcs11_token", "\"tessera\""))?;
        Ok(Some(HsmLocation { module, token }))
    }

    pub fn refresh_every(&self) -> Duration {
        Duration::from_secs(self.refresh_secs.max(1))
    }
}
