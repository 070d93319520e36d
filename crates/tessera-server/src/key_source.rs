//! Where a node's key ring comes from at start: a PKCS#11 token (`[vault]
//! backend = "pkcs11"`), TESSERA_MASTER_KEY, or the data directory's key
//! file.

use std::path::Path;

use tessera_core::vault::{KeyFile, KeyFileStatus, KeyRing};

use crate::StartError;
use crate::config::VaultConfig;

pub(crate) fn open_keys(
    data_dir: &Path,
    vault: &VaultConfig,
    database_exists: bool,
) -> Result<(KeyRing, Option<std::path::PathBuf>), StartError> {
    if let Some(location) = vault.hsm_location().map_err(StartError::new)? {
        let pin = std::env::var(tessera_core::vault::ENV_HSM_PIN).map_err(|_| {
            StartError::new(format!(
                "vault.backend = \"pkcs11\": set {} to the user PIN of token {:?} (it is read \
                 from the environment only, never from a file)",
                tessera_core::vault::ENV_HSM_PIN,
                location.token
            ))
        })?;
        let keys = KeyRing::open_hsm(&location, &pin)
            .map_err(|e| StartError::new(format!("the vault's HSM: {e}")))?;
        return Ok((keys, None));
    }
    if let Ok(value) = std::env::var(tessera_core::vault::ENV_MASTER_KEY) {
        let keys = KeyRing::from_env_value(&value).map_err(|e| {
            StartError::new(format!("{}: {e}", tessera_core::vault::ENV_MASTER_KEY))
        })?;
        if keys.root_version().is_none() {
            return Err(StartError::new(format!(
                "{}: the key file it carries has no root key (format 1). Start `tessera serve` \
                 once with that key file in the data directory (it adds the root), then put \
                 the base64 of the new file in {}",
                tessera_core::vault::ENV_MASTER_KEY,
                tessera_core::vault::ENV_MASTER_KEY
            )));
        }
        return Ok((keys, None));
    }
    let (mut keys, status) = KeyFile::load_or_create(data_dir, database_exists)?;
    let file = KeyFile::in_dir(data_dir);
    if file.ensure_root(&mut keys)? {
        tracing::warn!(
            key_file = %file.path().display(),
            "the key file gained a root key (format 2): take a new backup \
             (`tessera keys backup`) and give every node this file"
        );
    }
    let created =
        (status == KeyFileStatus::Created).then(|| KeyFile::in_dir(data_dir).path().to_path_buf());
    Ok((keys, created))
}
