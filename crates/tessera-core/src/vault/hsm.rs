//! A PKCS#11 token holding the vault's keys (`[vault] backend =
//! "pkcs11"`): every key is a token object found by its label, created
//! sensitive and not extractable, and used inside the token (AES-GCM,
//! HMAC-SHA256, TDES). Only the two password peppers are extractable: Argon2
//! takes its secret as bytes (docs/architecture.md, "Keys in an HSM").
//!
//! Sessions are pooled: a PKCS#11 session serves one operation at a time,
//! and opening one per call would cost more than the operation.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as Pkcs11Error, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::ekdf::AesCbcDeriveParams;
pub use cryptoki::object::ObjectHandle;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use zeroize::{Zeroize, Zeroizing};

use super::VaultError;
use crate::crypto::{self, NONCE_LEN, SecretKey, TAG_LEN};

/// The environment variable the token's user PIN is read from: never a
/// file, never a command-line argument, never a log.
pub const ENV_HSM_PIN: &str = "TESSERA_HSM_PIN";

/// Where the token is: the PKCS#11 module and the token's label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HsmLocation {
    pub module: PathBuf,
    pub token: String,
}

/// The label of data key `version`.
pub fn data_key_label(version: u32) -> String {
    format!("tessera/data-key/{version}")
}

/// The label of the IMK-AC of one token BIN range and EMV generation.
pub fn imk_label(range: &str, generation: u8) -> String {
    format!("tessera/emv/imk-ac/{range}/{generation}")
}

/// The label of an EMV generation's root made inside the token.
pub fn emv_root_label(generation: u8) -> String {
    format!("tessera/emv/root/{generation}")
}

/// One PKCS#11 context per module and process: a second `C_Initialize`
/// of the same module fails, and finalizing one would end the other.
static CONTEXTS: LazyLock<Mutex<HashMap<PathBuf, Pkcs11>>> = LazyLock::new(Mutex::default);

fn context(module: &Path) -> Result<Pkcs11, VaultError> {
    let mut contexts = CONTEXTS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(context) = contexts.get(module) {
        return Ok(context.clone());
    }
    let context = Pkcs11::new(module).map_err(|error| {
        VaultError::Hsm(format!(
            "cannot load the PKCS#11 module {}: {error}. Check vault.pkcs11_module (Debian's \
             SoftHSM2: /usr/lib/softhsm/libsofthsm2.so, package softhsm2)",
            module.display()
        ))
    })?;
    match context.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(Pkcs11Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(error) => {
            return Err(VaultError::Hsm(format!(
                "the PKCS#11 module {} failed to initialize: {error}",
                module.display()
            )));
        }
    }
    contexts.insert(module.to_path_buf(), context.clone());
    Ok(context)
}

/// An open, logged-in token.
pub struct HsmToken {
    context: Pkcs11,
    slot: Slot,
    location: HsmLocation,
    /// Idle sessions. The first one opened stays in the pool for the life of
    /// the token, which keeps the login (shared by all sessions) alive.
    pool: Mutex<Vec<Session>>,
    /// IMK handles by (range, generation), found or derived once.
    imks: Mutex<HashMap<(String, u8), ObjectHandle>>,
    /// The EMV generations the token holds keys for (`hsm_ring.rs`).
    generations: Mutex<BTreeSet<u8>>,
}

impl fmt::Debug for HsmToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HsmToken")
            .field("module", &self.location.module)
            .field("token", &self.location.token)
            .finish_non_exhaustive()
    }
}

impl HsmToken {
    /// Opens the token labelled `location.token` and logs in as its user.
    pub fn open(location: &HsmLocation, pin: &str) -> Result<Arc<HsmToken>, VaultError> {
        let context = context(&location.module)?;
        let failed = |what: &str, error: Pkcs11Error| {
            VaultError::Hsm(format!(
                "{what} (module {}): {error}",
                location.module.display()
            ))
        };
        let slots = context
            .get_slots_with_initialized_token()
            .map_err(|e| failed("cannot list the token slots", e))?;
        let mut found = None;
        for slot in slots {
            let info = context
                .get_token_info(slot)
                .map_err(|e| failed("cannot read a token's label", e))?;
            if info.label().trim_end() == location.token {
                found = Some(slot);
                break;
            }
        }
        let slot = found.ok_or_else(|| {
            VaultError::Hsm(format!(
                "no initialized token labelled {:?} in module {}: check vault.pkcs11_token, \
                 or initialize it (SoftHSM2: `softhsm2-util --init-token --free --label {} \
                 ...`)",
                location.token,
                location.module.display(),
                location.token
            ))
        })?;
        let session = context
            .open_rw_session(slot)
            .map_err(|e| failed("cannot open a session", e))?;
        let pin = AuthPin::from(pin.to_owned());
        match session.login(UserType::User, Some(&pin)) {
            Ok(()) | Err(Pkcs11Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(Pkcs11Error::Pkcs11(RvError::PinIncorrect, _)) => {
                return Err(VaultError::Hsm(format!(
                    "the token {:?} refused the PIN in {ENV_HSM_PIN}: set it to the token's \
                     user PIN",
                    location.token
                )));
            }
            Err(error) => return Err(failed("cannot log in to the token", error)),
        }
        Ok(Arc::new(HsmToken {
            context,
            slot,
            location: location.clone(),
            pool: Mutex::new(vec![session]),
            imks: Mutex::default(),
            generations: Mutex::default(),
        }))
    }

    pub fn location(&self) -> &HsmLocation {
        &self.location
    }

    pub fn generations(&self) -> BTreeSet<u8> {
        self.generations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(super) fn set_generations(&self, generations: BTreeSet<u8>) {
        *self
            .generations
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = generations;
    }

    /// Runs `operation` on an idle session (a new one when none is idle).
    fn with_session<T>(
        &self,
        what: &str,
        operation: impl FnOnce(&Session) -> Result<T, Pkcs11Error>,
    ) -> Result<T, VaultError> {
        self.with_session_raw(operation)
            .map_err(|e| self.error(what, &e))
    }

    fn error(&self, what: &str, error: &Pkcs11Error) -> VaultError {
        VaultError::Hsm(format!(
            "{what} in token {:?}: {error}",
            self.location.token
        ))
    }

    /// The secret key labelled `label`, if the token holds one.
    pub fn find(&self, label: &str) -> Result<Option<ObjectHandle>, VaultError> {
        let template = [
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::Label(label.as_bytes().to_vec()),
        ];
        self.with_session("cannot search for a key", |session| {
            session.find_objects(&template)
        })
        .map(|found| found.first().copied())
    }

    /// The labels of every secret key of `key_type` in the token.
    pub fn labels(&self, key_type: KeyType) -> Result<Vec<(String, ObjectHandle)>, VaultError> {
        let template = [
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(key_type),
        ];
        self.with_session("cannot list the keys", |session| {
            let mut labels = Vec::new();
            for handle in session.find_objects(&template)? {
                for attribute in session.get_attributes(handle, &[AttributeType::Label])? {
                    if let Attribute::Label(bytes) = attribute {
                        labels.push((String::from_utf8_lossy(&bytes).into_owned(), handle));
                    }
                }
            }
            Ok(labels)
        })
    }

    /// Imports `value` as a token key that can never be read back.
    pub fn import(
        &self,
        label: &str,
        use_: KeyUse,
        value: &[u8],
    ) -> Result<ObjectHandle, VaultError> {
        let mut template = use_.template(label);
        template.push(Attribute::Value(value.to_vec()));
        let created = self.with_session("cannot import a key", |session| {
            session.create_object(&template)
        });
        wipe(&mut template);
        created
    }

    /// Imports a password pepper: the one kind of key this backend lets out
    /// of the token, since Argon2 takes its secret as bytes.
    pub fn import_pepper(&self, label: &str, value: &[u8]) -> Result<ObjectHandle, VaultError> {
        let mut template = vec![
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::GENERIC_SECRET),
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(false),
            Attribute::Extractable(true),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Value(value.to_vec()),
        ];
        let created = self.with_session("cannot import a pepper", |session| {
            session.create_object(&template)
        });
        wipe(&mut template);
        created
    }

    /// A pepper's bytes (see [`HsmToken::import_pepper`]).
    pub fn read_pepper(&self, handle: ObjectHandle) -> Result<SecretKey, VaultError> {
        let value = self.with_session("cannot read a pepper", |session| {
            session.get_attributes(handle, &[AttributeType::Value])
        })?;
        let bytes = value.into_iter().find_map(|attribute| match attribute {
            Attribute::Value(bytes) => Some(Zeroizing::new(bytes)),
            _ => None,
        });
        bytes
            .and_then(|bytes| SecretKey::from_slice(&bytes).ok())
            .ok_or_else(|| VaultError::Hsm("a pepper in the token is not 32 bytes".to_owned()))
    }

    /// A fresh AES-256 key made inside the token (a data key, an EMV root).
    pub fn generate(&self, label: &str, use_: KeyUse) -> Result<ObjectHandle, VaultError> {
        let mut template = use_.template(label);
        template.push(Attribute::ValueLen(32.into()));
        self.with_session("cannot generate a key", |session| {
            session.generate_key(&Mechanism::AesKeyGen, &template)
        })
    }

    /// AES-256-GCM inside the token: `nonce || ciphertext || tag`, the
    /// format [`crypto::aes256gcm_seal`] writes.
    pub fn encrypt_gcm(
        &self,
        key: ObjectHandle,
        plaintext: &[u8],
        aad: &[u8],
    ) -> Result<Vec<u8>, VaultError> {
        let mut nonce: [u8; NONCE_LEN] = crypto::random_array()?;
        let mut blob = nonce.to_vec();
        let sealed = self.with_session("cannot encrypt", |session| {
            let params = GcmParams::new(&mut nonce, aad, ((TAG_LEN * 8) as u64).into())?;
            session.encrypt(&Mechanism::AesGcm(params), key, plaintext)
        })?;
        blob.extend_from_slice(&sealed);
        Ok(blob)
    }

    /// Opens what [`HsmToken::encrypt_gcm`] (or the key file's AES-GCM) sealed.
    pub fn decrypt_gcm(
        &self,
        key: ObjectHandle,
        blob: &[u8],
        aad: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        if blob.len() < NONCE_LEN + TAG_LEN {
            return Err(VaultError::Decrypt);
        }
        let (nonce, sealed) = blob.split_at(NONCE_LEN);
        let mut nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| VaultError::Decrypt)?;
        let opened = self.with_session_raw(|session| {
            let params = GcmParams::new(&mut nonce, aad, ((TAG_LEN * 8) as u64).into())?;
            session.decrypt(&Mechanism::AesGcm(params), key, sealed)
        });
        match opened {
            Ok(plaintext) => Ok(Zeroizing::new(plaintext)),
            // SoftHSM2 answers a tag that does not verify with
            // CKR_GENERAL_ERROR; the standard's answer is the first.
            Err(Pkcs11Error::Pkcs11(
                RvError::EncryptedDataInvalid
                | RvError::EncryptedDataLenRange
                | RvError::GeneralError,
                _,
            )) => Err(VaultError::Decrypt),
            Err(error) => Err(self.error("cannot decrypt", &error)),
        }
    }

    /// Like `with_session`, leaving the error to the caller.
    fn with_session_raw<T>(
        &self,
        operation: impl FnOnce(&Session) -> Result<T, Pkcs11Error>,
    ) -> Result<T, Pkcs11Error> {
        let idle = self
            .pool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let session = match idle {
            Some(session) => session,
            None => self.context.open_rw_session(self.slot)?,
        };
        let result = operation(&session);
        self.pool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(session);
        result
    }

    /// HMAC-SHA256 inside the token over the concatenation of `parts`.
    pub fn hmac(&self, key: ObjectHandle, parts: &[&[u8]]) -> Result<[u8; 32], VaultError> {
        let mac = self.with_session("cannot compute an HMAC", |session| {
            if let [single] = parts {
                return session.sign(&Mechanism::Sha256Hmac, key, single);
            }
            session.sign_init(&Mechanism::Sha256Hmac, key)?;
            for part in parts {
                session.sign_update(part)?;
            }
            session.sign_final()
        })?;
        mac.try_into()
            .map_err(|_| VaultError::Hsm("the token's HMAC is not 32 bytes".to_owned()))
    }

    /// Two-key TDES-ECB inside the token: the step of EMV key derivation
    /// that takes the issuer master key (EMV Book 2 A1.4).
    pub fn tdes_encrypt(&self, key: ObjectHandle, data: &[u8; 16]) -> Result<[u8; 16], VaultError> {
        let out = Zeroizing::new(self.with_session("cannot derive a card key", |session| {
            session.encrypt(&Mechanism::Des3Ecb, key, data)
        })?);
        out.as_slice()
            .try_into()
            .map_err(|_| VaultError::Hsm("the token's TDES result is not 16 bytes".to_owned()))
    }

    /// The IMK-AC of a range and generation: the token object of that label
    /// (imported by `tessera keys move-to-hsm`), or, for a generation made
    /// inside the token, derived once from its root with
    /// CKM_AES_CBC_ENCRYPT_DATA (zero IV, one block: AES-ECB of the
    /// label's SHA-256) into a non-extractable TDES key.
    pub fn imk(&self, range: &str, generation: u8) -> Result<Option<ObjectHandle>, VaultError> {
        let key = (range.to_owned(), generation);
        if let Some(handle) = self
            .imks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Ok(Some(*handle));
        }
        let label = imk_label(range, generation);
        let handle = match self.find(&label)? {
            Some(handle) => handle,
            None => {
                let Some(root) = self.find(&emv_root_label(generation))? else {
                    return Ok(None);
                };
                let digest = crypto::sha256(format!("tessera/emv/v3/{label}").as_bytes());
                let data = &digest[..16];
                let template = KeyUse::Imk.template(&label);
                self.with_session("cannot derive an issuer master key", |session| {
                    let params = AesCbcDeriveParams::new([0; 16], data);
                    session.derive_key(&Mechanism::AesCbcEncryptData(params), root, &template)
                })?
            }
        };
        self.imks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, handle);
        Ok(Some(handle))
    }

    /// Whether the token gives out `handle`'s value: false for every key
    /// but the peppers. Tests and `tessera keys move-to-hsm` check it.
    pub fn value_readable(&self, handle: ObjectHandle) -> bool {
        self.with_session_raw(|session| session.get_attributes(handle, &[AttributeType::Value]))
            .map(|attributes| {
                attributes
                    .iter()
                    .any(|attribute| matches!(attribute, Attribute::Value(_)))
            })
            .unwrap_or(false)
    }
}

/// Wipes the key bytes of an import template once the token has them.
fn wipe(template: &mut [Attribute]) {
    for attribute in template {
        if let Attribute::Value(bytes) = attribute {
            bytes.zeroize();
        }
    }
}

/// What a token key is for; each gets only the use it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUse {
    /// AES-256, encrypt and decrypt.
    DataKey,
    /// Generic secret, HMAC (sign and verify).
    Lookup,
    /// Two-key TDES, encrypt (EMV key derivation).
    Imk,
    /// AES-256, derive only.
    EmvRoot,
}

impl KeyUse {
    fn template(self, label: &str) -> Vec<Attribute> {
        let mut template = vec![
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Label(label.as_bytes().to_vec()),
        ];
        template.extend(match self {
            KeyUse::DataKey => vec![
                Attribute::KeyType(KeyType::AES),
                Attribute::Encrypt(true),
                Attribute::Decrypt(true),
            ],
            KeyUse::Lookup => vec![
                Attribute::KeyType(KeyType::GENERIC_SECRET),
                Attribute::Sign(true),
                Attribute::Verify(true),
            ],
            KeyUse::Imk => vec![Attribute::KeyType(KeyType::DES2), Attribute::Encrypt(true)],
            KeyUse::EmvRoot => vec![Attribute::KeyType(KeyType::AES), Attribute::Derive(true)],
        });
        template
    }
}
