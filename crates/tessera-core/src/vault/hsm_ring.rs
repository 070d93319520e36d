//! A key ring whose keys live in a PKCS#11 token (`hsm.rs`), and the move
//! of a key file's keys into one (`tessera keys move-to-hsm`).
//!
//! The token holds, each under a fixed label: every data key version
//! (AES-256), each lookup purpose's key (the HKDF output of the key file's
//! lookup root, so fingerprints and hashes keep matching), the IMK-AC of
//! each token BIN range and EMV generation the key file derives (HKDF
//! cannot run inside the token, so the derived IMKs are imported), and the
//! two password peppers (extractable: Argon2 takes bytes).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use cryptoki::object::KeyType;

use super::data_keys::{DataKeySet, DataKeys};
use super::hsm::{self, HsmLocation, HsmToken, KeyUse};
use super::wrapping::RootKeys;
use super::{
    KeyMaterial, KeyRing, LookupKey, LookupPurpose, VaultError, associated_data, emv_roots,
};
use crate::crypto;

/// The purposes whose keys Argon2 takes as bytes: imported extractable.
pub const PEPPERS: [LookupPurpose; 2] = [
    LookupPurpose::PaymentPasswordPepper,
    LookupPurpose::SignInPepper,
];

/// One key `tessera keys move-to-hsm` put in the token, or found there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveStep {
    pub label: String,
    /// False: the token held it already (a second run), and it matched.
    pub imported: bool,
}

/// What a move did, key by key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MoveReport {
    pub steps: Vec<MoveStep>,
}

impl MoveReport {
    pub fn imported(&self) -> usize {
        self.steps.iter().filter(|step| step.imported).count()
    }
}

impl KeyRing {
    /// The key ring of a token that `tessera keys move-to-hsm` filled. Its
    /// data keys are those the database names (`KeyRing::install`); until
    /// then it seals nothing.
    pub fn open_hsm(location: &HsmLocation, pin: &str) -> Result<KeyRing, VaultError> {
        let token = HsmToken::open(location, pin)?;
        let lookup_keys = LookupPurpose::ALL
            .iter()
            .map(|&purpose| {
                let label = purpose.label();
                let handle = token
                    .find(label)?
                    .ok_or_else(|| VaultError::HsmKeyMissing(label.to_owned()))?;
                let key = if PEPPERS.contains(&purpose) {
                    KeyMaterial::Bytes(token.read_pepper(handle)?)
                } else {
                    KeyMaterial::Hsm(token.clone(), handle)
                };
                Ok(LookupKey { purpose, key })
            })
            .collect::<Result<Vec<_>, VaultError>>()?
            .try_into()
            .map_err(|_| VaultError::InvalidKeyRing)?;
        token.set_generations(scan_generations(&token)?);
        Ok(KeyRing {
            data: DataKeys::new(DataKeySet {
                keys: BTreeMap::new(),
                active: 0,
            }),
            roots: RootKeys::default(),
            lookup_root: None,
            hsm: Some(token),
            lookup_keys,
            emv_roots: emv_roots::EmvRoots::default(),
        })
    }

    /// The token, with the HSM backend.
    pub fn hsm(&self) -> Option<&Arc<HsmToken>> {
        self.hsm.as_ref()
    }

    pub(super) fn hsm_generations(&self) -> BTreeSet<u8> {
        self.hsm
            .as_ref()
            .map(|token| token.generations())
            .unwrap_or_default()
    }

    /// A new EMV generation whose root is made inside the token; its IMKs
    /// are derived there on first use (`HsmToken::imk`).
    pub(super) fn add_hsm_emv_generation(&mut self) -> Result<u8, VaultError> {
        let token = self.hsm.as_ref().ok_or(VaultError::InvalidKeyRing)?;
        let mut generations = scan_generations(token)?;
        let newest = generations.iter().next_back().copied().unwrap_or(0);
        let generation = newest
            .checked_add(1)
            .ok_or(VaultError::EmvGenerationOverflow)?;
        token.generate(&hsm::emv_root_label(generation), KeyUse::EmvRoot)?;
        generations.insert(generation);
        token.set_generations(generations);
        Ok(generation)
    }

    /// Copies this key file ring's keys into `token` as keys that cannot be
    /// read back (the peppers excepted), for the IMKs of every range in
    /// `ranges`. A key the token holds already is checked, not copied, so a
    /// second run changes nothing; a key under the same label that
    /// computes differently is an error, never overwritten.
    pub fn move_to_hsm(&self, token: &HsmToken, ranges: &[&str]) -> Result<MoveReport, VaultError> {
        if self.hsm.is_some() {
            return Err(VaultError::NotWithHsm(
                "moving to an HSM",
                "this node's keys are in a token already",
            ));
        }
        let mut report = MoveReport::default();
        let set = self.data.load();
        for (&version, data_key) in &set.keys {
            let KeyMaterial::Bytes(key) = &data_key.key else {
                return Err(VaultError::InvalidKeyRing);
            };
            let label = hsm::data_key_label(version);
            let (handle, imported) = find_or_import(token, &label, || {
                token.import(&label, KeyUse::DataKey, key.expose_bytes())
            })?;
            // Sealed inside the token, opened with the key file's key.
            let aad = associated_data("move-check", version, "move-to-hsm");
            let blob = token.encrypt_gcm(handle, PROBE, &aad)?;
            let opened = crypto::aes256gcm_open(key, &blob, &aad).ok();
            if opened.as_ref().map(|plain| plain.as_slice()) != Some(PROBE) {
                return Err(different(&label));
            }
            report.steps.push(MoveStep { label, imported });
        }
        for purpose in LookupPurpose::ALL {
            let label = purpose.label();
            let lookup = self.lookup_key(purpose);
            let KeyMaterial::Bytes(key) = &lookup.key else {
                return Err(VaultError::InvalidKeyRing);
            };
            let pepper = PEPPERS.contains(&purpose);
            let (handle, imported) = find_or_import(token, label, || {
                if pepper {
                    token.import_pepper(label, key.expose_bytes())
                } else {
                    token.import(label, KeyUse::Lookup, key.expose_bytes())
                }
            })?;
            let same = if pepper {
                crypto::constant_time_eq(
                    token.read_pepper(handle)?.expose_bytes(),
                    key.expose_bytes(),
                )
            } else {
                token.hmac(handle, &[PROBE])? == lookup.hash(PROBE)
            };
            if !same {
                return Err(different(label));
            }
            report.steps.push(MoveStep {
                label: label.to_owned(),
                imported,
            });
        }
        for info in self.emv_generations() {
            for range in ranges {
                let imk = self.issuer_master_key(range, info.generation)?;
                let label = hsm::imk_label(range, info.generation);
                let (handle, imported) = find_or_import(token, &label, || {
                    token.import(&label, KeyUse::Imk, imk.expose_bytes())
                })?;
                let check = token.tdes_encrypt(handle, &[0; 16])?;
                if check[..3] != imk.check_value() {
                    return Err(different(&label));
                }
                report.steps.push(MoveStep { label, imported });
            }
        }
        token.set_generations(scan_generations(token)?);
        Ok(report)
    }
}

/// What the move's checks compute with: no secret.
const PROBE: &[u8] = b"tessera move-to-hsm check";

fn different(label: &str) -> VaultError {
    VaultError::Hsm(format!(
        "the token already holds a key labelled {label:?} that is not the key file's: it was \
         filled from another key file. Use an empty token, or the one filled from this key file"
    ))
}

fn find_or_import(
    token: &HsmToken,
    label: &str,
    import: impl FnOnce() -> Result<hsm::ObjectHandle, VaultError>,
) -> Result<(hsm::ObjectHandle, bool), VaultError> {
    match token.find(label)? {
        Some(handle) => Ok((handle, false)),
        None => Ok((import()?, true)),
    }
}

/// The EMV generations the token holds keys for: imported IMKs
/// (`tessera/emv/imk-ac/<range>/<generation>`) and roots made inside it.
fn scan_generations(token: &HsmToken) -> Result<BTreeSet<u8>, VaultError> {
    let mut generations = BTreeSet::new();
    for (label, _) in token.labels(KeyType::DES2)? {
        if let Some(rest) = label.strip_prefix("tessera/emv/imk-ac/")
            && let Some((_, generation)) = rest.rsplit_once('/')
            && let Ok(generation) = generation.parse()
        {
            generations.insert(generation);
        }
    }
    for (label, _) in token.labels(KeyType::AES)? {
        if let Some(generation) = label.strip_prefix("tessera/emv/root/")
            && let Ok(generation) = generation.parse()
        {
            generations.insert(generation);
        }
    }
    Ok(generations)
}
