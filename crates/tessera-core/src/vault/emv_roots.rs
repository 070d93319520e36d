//! EMV key generations: where each generation's issuer master keys come
//! from. Generation 1, and every generation tokens were issued under before
//! generations had roots of their own, derive their IMKs from the lookup
//! root (so their tokens keep paying); every generation added since has a
//! fresh random 256-bit root, so a new generation is safe from whatever
//! exposed an older one.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::{KeyRing, VaultError, hsm, now};
use crate::crypto::{self, SecretKey};
use crate::emv::keys::adjust_parity;
use crate::emv::{DerivationOption, IccMasterKey, IssuerMasterKey, Psn};

/// The generations a ring knows, and whether its key file lists them.
#[derive(Clone)]
pub(super) struct EmvRoots {
    /// False for a key file written before generations had roots: it lists
    /// none, so the ring knows generation 1 and whatever generations the
    /// database's tokens use ([`KeyRing::adopt_lookup_root_generations`]).
    recorded: bool,
    generations: BTreeMap<u8, EmvGeneration>,
}

impl Default for EmvRoots {
    fn default() -> Self {
        EmvRoots {
            recorded: false,
            generations: BTreeMap::from([(1, EmvGeneration::LOOKUP_ROOT)]),
        }
    }
}

#[derive(Clone)]
struct EmvGeneration {
    /// None: the IMKs come from the lookup root, as before roots existed.
    root: Option<SecretKey>,
    created_at: Option<DateTime<Utc>>,
}

impl EmvGeneration {
    const LOOKUP_ROOT: EmvGeneration = EmvGeneration {
        root: None,
        created_at: None,
    };
}

/// Where a generation's issuer master keys come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmvDerivation {
    /// The lookup root, under `tessera/emv/v1/imk-ac/<range>/<generation>`.
    LookupRoot,
    /// The generation's own root, under `tessera/emv/v2/imk-ac/<range>/<generation>`.
    OwnRoot,
    /// Keys in an HSM token: IMKs imported from the key file per range, or
    /// derived inside the token from a root made there (`vault/hsm.rs`).
    Hsm,
}

/// What a status display may show about one generation: never its root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmvGenerationInfo {
    pub generation: u8,
    pub derivation: EmvDerivation,
    pub created_at: Option<DateTime<Utc>>,
}

/// One generation as the key file writes it.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
pub(super) struct EmvGenerationEntry {
    generation: u8,
    /// RFC 3339; absent for generations older than their entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created_at: Option<String>,
    /// Base64 of the 32-byte root; absent when the lookup root serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    root: Option<String>,
}

impl KeyRing {
    /// The issuer master key for application cryptograms (IMK-AC) of one
    /// token BIN range and key generation: HKDF-SHA256 from the generation's
    /// root (or, for the generations that predate roots, the lookup root)
    /// under a label naming range and generation, its first 16 bytes with
    /// DES parity. Derived, not stored: every node holding the key ring has
    /// the same IMKs. A generation the ring lacks is an error, never a key.
    pub fn issuer_master_key(
        &self,
        range: &str,
        generation: u8,
    ) -> Result<IssuerMasterKey, VaultError> {
        if self.hsm.is_some() {
            return Err(VaultError::NotWithHsm(
                "reading an issuer master key",
                "it never leaves the token; derive card keys with `KeyRing::icc_master_key`",
            ));
        }
        let lookup_root = self
            .lookup_root
            .as_ref()
            .ok_or(VaultError::InvalidKeyRing)?;
        let entry = self
            .emv_roots
            .generations
            .get(&generation)
            .ok_or(VaultError::UnknownEmvGeneration(generation))?;
        let derived = match &entry.root {
            None => crypto::derive_subkey(
                lookup_root,
                &format!("tessera/emv/v1/imk-ac/{range}/{generation}"),
            )?,
            Some(root) => {
                crypto::derive_subkey(root, &format!("tessera/emv/v2/imk-ac/{range}/{generation}"))?
            }
        };
        let mut bytes = Zeroizing::new([0u8; 16]);
        bytes.copy_from_slice(&derived.expose_bytes()[..16]);
        adjust_parity(&mut bytes[..]);
        IssuerMasterKey::from_bytes(&bytes[..]).map_err(|_| VaultError::InvalidKeyRing)
    }

    /// The ICC master key of one token (EMV Book 2 A1.4): from the IMK-AC
    /// of its range and generation, in the key ring or inside the HSM
    /// token, where the IMK never leaves it.
    pub fn icc_master_key(
        &self,
        range: &str,
        generation: u8,
        token_pan: &str,
        psn: Psn,
        option: DerivationOption,
    ) -> Result<IccMasterKey, VaultError> {
        let Some(token) = &self.hsm else {
            let imk = self.issuer_master_key(range, generation)?;
            return IccMasterKey::derive(&imk, token_pan, psn, option)
                .map_err(|_| VaultError::InvalidKeyRing);
        };
        let imk = token
            .imk(range, generation)?
            .ok_or_else(|| VaultError::HsmKeyMissing(hsm::imk_label(range, generation)))?;
        let input = IccMasterKey::derivation_input(token_pan, psn, option)
            .map_err(|_| VaultError::InvalidKeyRing)?;
        let derived = Zeroizing::new(token.tdes_encrypt(imk, &input)?);
        Ok(IccMasterKey::from_derived(*derived))
    }

    pub fn has_emv_generation(&self, generation: u8) -> bool {
        if self.hsm.is_some() {
            return self.hsm_generations().contains(&generation);
        }
        self.emv_roots.generations.contains_key(&generation)
    }

    /// Every generation, oldest first.
    pub fn emv_generations(&self) -> Vec<EmvGenerationInfo> {
        if self.hsm.is_some() {
            return self
                .hsm_generations()
                .into_iter()
                .map(|generation| EmvGenerationInfo {
                    generation,
                    derivation: EmvDerivation::Hsm,
                    created_at: None,
                })
                .collect();
        }
        self.emv_roots
            .generations
            .iter()
            .map(|(&generation, entry)| EmvGenerationInfo {
                generation,
                derivation: match entry.root {
                    None => EmvDerivation::LookupRoot,
                    Some(_) => EmvDerivation::OwnRoot,
                },
                created_at: entry.created_at,
            })
            .collect()
    }

    /// True once the key file lists the ring's generations.
    pub fn emv_generations_recorded(&self) -> bool {
        self.hsm.is_some() || self.emv_roots.recorded
    }

    /// Takes `generations` (those the stored tokens use) as derived from the
    /// lookup root, as they were issued, when the key file predates
    /// generation roots. A ring that lists its generations is left as it is:
    /// a generation it lacks was retired or comes from another node's ring,
    /// and must fail rather than pay with a key it never had.
    pub fn adopt_lookup_root_generations(&mut self, generations: &[u8]) {
        if self.emv_roots.recorded {
            return;
        }
        for &generation in generations {
            self.emv_roots
                .generations
                .entry(generation)
                .or_insert(EmvGeneration::LOOKUP_ROOT);
        }
    }

    /// Adds the next generation with a fresh random root and returns its
    /// number. Save the ring, and copy it to every node, before any node
    /// issues tokens under it.
    pub fn add_emv_generation(&mut self) -> Result<u8, VaultError> {
        if self.hsm.is_some() {
            return self.add_hsm_emv_generation();
        }
        let newest = self
            .emv_roots
            .generations
            .keys()
            .next_back()
            .copied()
            .unwrap_or(0);
        let generation = newest
            .checked_add(1)
            .ok_or(VaultError::EmvGenerationOverflow)?;
        let entry = EmvGeneration {
            root: Some(SecretKey::generate()?),
            created_at: Some(now()),
        };
        self.emv_roots.generations.insert(generation, entry);
        self.emv_roots.recorded = true;
        Ok(generation)
    }

    /// Removes a generation: its IMKs can no longer be derived, so no token
    /// issued under it pays again. The caller checks that none is live.
    pub fn retire_emv_generation(&mut self, generation: u8) -> Result<(), VaultError> {
        if self.hsm.is_some() {
            return Err(VaultError::NotWithHsm(
                "retiring an EMV generation",
                "delete its objects (labels tessera/emv/...) with the HSM's own tools",
            ));
        }
        if !self.emv_roots.generations.contains_key(&generation) {
            return Err(VaultError::UnknownEmvGeneration(generation));
        }
        if self.emv_roots.generations.len() == 1 {
            return Err(VaultError::RetireLastEmvGeneration(generation));
        }
        self.emv_roots.generations.remove(&generation);
        self.emv_roots.recorded = true;
        Ok(())
    }

    /// The key file's `emv_generations`: None until the ring records them.
    pub(super) fn encode_emv_generations(&self) -> Option<Vec<EmvGenerationEntry>> {
        self.emv_roots.recorded.then(|| {
            self.emv_roots
                .generations
                .iter()
                .map(|(&generation, entry)| EmvGenerationEntry {
                    generation,
                    created_at: entry.created_at.map(|at| at.to_rfc3339()),
                    root: entry
                        .root
                        .as_ref()
                        .map(|root| STANDARD.encode(root.expose_bytes())),
                })
                .collect()
        })
    }

    /// Reads the key file's `emv_generations`; an error is the reason the
    /// file is corrupt.
    pub(super) fn decode_emv_generations(
        &mut self,
        entries: Option<&[EmvGenerationEntry]>,
    ) -> Result<(), String> {
        let Some(entries) = entries else {
            return Ok(());
        };
        let mut generations = BTreeMap::new();
        for entry in entries {
            let what = format!("EMV generation {}", entry.generation);
            if entry.generation == 0 {
                return Err("EMV generation 0 is not a generation (1 to 255)".to_owned());
            }
            let created_at = match &entry.created_at {
                None => None,
                Some(text) => Some(
                    DateTime::parse_from_rfc3339(text)
                        .map_err(|_| format!("{what} has an unreadable creation time"))?
                        .with_timezone(&Utc),
                ),
            };
            let root = match &entry.root {
                None => None,
                Some(text) => {
                    let bytes = Zeroizing::new(
                        STANDARD
                            .decode(text)
                            .map_err(|_| format!("the root of {what} is not base64"))?,
                    );
                    Some(
                        SecretKey::from_slice(&bytes)
                            .map_err(|_| format!("the root of {what} is not 32 bytes"))?,
                    )
                }
            };
            let generation = EmvGeneration { root, created_at };
            if generations.insert(entry.generation, generation).is_some() {
                return Err(format!("{what} appears twice"));
            }
        }
        if generations.is_empty() {
            return Err("emv_generations lists no generation".to_owned());
        }
        self.emv_roots = EmvRoots {
            recorded: true,
            generations,
        };
        Ok(())
    }
}
