//! `[vault]`: how a node keeps up with key rotation
//! (`flows/key_rotation.rs`).

use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct VaultConfig {
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
            refresh_secs: 5,
            reencrypt_batch: 500,
        }
    }
}

impl VaultConfig {
    pub fn refresh_every(&self) -> Duration {
        Duration::from_secs(self.refresh_secs.max(1))
    }
}
