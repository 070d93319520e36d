//! Sign-in and payment passwords: Argon2id with a secret pepper from the
//! key ring, one for each, hashed on two threads of their own.
//!
//! Each hash names its pepper in its PHC string: `keyid` (a label only,
//! no input to Argon2) is `signin` for the sign-in pepper and `paypwd` for
//! the payment-password pepper. Sign-in hashes without one were made when
//! sign-in borrowed the payment-password pepper; they still verify with
//! it, and sign-in rehashes them with the sign-in pepper. A hash of one
//! kind never verifies as the other.

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, KeyId, Params, ParamsBuilder, Version};
use tessera_core::error::{DomainError, ErrorCode};
use tessera_core::vault::{KeyRing, LookupPurpose};

/// OWASP's second Argon2id profile: 19 MiB, 2 passes, 1 lane.
const SIGN_IN_M_COST: u32 = 19 * 1024;
const SIGN_IN_T_COST: u32 = 2;
const SIGN_IN_P_COST: u32 = 1;

/// The `keyid` of hashes peppered with the sign-in pepper (`c2lnbmlu`).
const SIGN_IN_PEPPER_ID: &[u8] = b"signin";
/// The `keyid` of payment-password hashes (`cGF5cHdk`).
const PAYMENT_PASSWORD_PEPPER_ID: &[u8] = b"paypwd";

/// What a hash is of: each kind has its own pepper and `keyid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    SignIn,
    PaymentPassword,
}

impl Secret {
    fn keyid(self) -> &'static [u8] {
        match self {
            Secret::SignIn => SIGN_IN_PEPPER_ID,
            Secret::PaymentPassword => PAYMENT_PASSWORD_PEPPER_ID,
        }
    }

    fn pepper(self) -> LookupPurpose {
        match self {
            Secret::SignIn => LookupPurpose::SignInPepper,
            Secret::PaymentPassword => LookupPurpose::PaymentPasswordPepper,
        }
    }

    /// The pepper a stored hash of this kind was made with, told by its
    /// `keyid`; None for a `keyid` this kind never had.
    fn pepper_of(self, params: &Params) -> Option<LookupPurpose> {
        match (self, params.keyid()) {
            (Secret::SignIn, b"") => Some(LookupPurpose::PaymentPasswordPepper),
            (Secret::SignIn, SIGN_IN_PEPPER_ID) => Some(LookupPurpose::SignInPepper),
            (Secret::PaymentPassword, PAYMENT_PASSWORD_PEPPER_ID) => {
                Some(LookupPurpose::PaymentPasswordPepper)
            }
            _ => None,
        }
    }
}

fn internal() -> DomainError {
    DomainError::new(ErrorCode::InternalError)
}

fn params_for(secret: Secret) -> Result<Params, DomainError> {
    ParamsBuilder::new()
        .m_cost(SIGN_IN_M_COST)
        .t_cost(SIGN_IN_T_COST)
        .p_cost(SIGN_IN_P_COST)
        .keyid(KeyId::new(secret.keyid()).map_err(|_| internal())?)
        .build()
        .map_err(|_| internal())
}

#[cfg(test)]
fn sign_in_params() -> Result<Params, DomainError> {
    params_for(Secret::SignIn)
}

fn argon2(
    keys: &KeyRing,
    pepper: LookupPurpose,
    algorithm: Algorithm,
    version: Version,
    params: Params,
) -> Result<Argon2<'_>, DomainError> {
    // The peppers are bytes with either key backend: the HSM backend
    // imports them extractable (docs/architecture.md, "Keys in an HSM").
    let secret = keys
        .lookup_key(pepper)
        .expose_secret()
        .ok_or_else(internal)?;
    Argon2::new_with_secret(secret.expose_bytes(), algorithm, version, params)
        .map_err(|_| internal())
}

/// What a password check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCheck {
    Wrong,
    Right,
    /// Right, against a hash under the payment-password pepper: to be
    /// rehashed with the sign-in pepper.
    RightUnderOldPepper,
}

impl PasswordCheck {
    pub fn is_right(self) -> bool {
        self != PasswordCheck::Wrong
    }
}

/// Argon2's 19 MiB of working memory, allocated once and reused by every
/// hash run with it, and wiped after each.
///
/// The argon2 crate's own hashers allocate and free the 19 MiB on every
/// call. glibc serves the first from mmap and returns it, but that free
/// raises its mmap threshold to 19 MiB, so later blocks come from the
/// thread's arena, where a freed 64-byte-aligned block is just too small for
/// the next request and stays resident beside it: RSS grew by 19 MiB a hash,
/// 345-400 MiB over the benchmark series, 190 MiB after ten sequential
/// sign-ins. One block per Argon2 thread keeps it at 2 x 19 MiB.
#[derive(Default)]
pub struct Argon2Memory {
    blocks: Vec<Block>,
}

impl std::fmt::Debug for Argon2Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Argon2Memory")
            .field("blocks", &self.blocks.len())
            .finish()
    }
}

impl Argon2Memory {
    /// Runs `work` on `count` blocks and wipes them afterwards. Only the
    /// sign-in profile's size is kept; a stored hash with more memory (none
    /// are made today) gets blocks of its own, freed after.
    fn with_blocks<T>(&mut self, count: usize, work: impl FnOnce(&mut [Block]) -> T) -> T {
        let mut own = Vec::new();
        let blocks = if count <= SIGN_IN_M_COST as usize {
            if self.blocks.len() < count {
                self.blocks.resize(count, Block::new());
            }
            &mut self.blocks[..count]
        } else {
            own.resize(count, Block::new());
            own.as_mut_slice()
        };
        let result = work(blocks);
        // The blocks hold values derived from the password.
        blocks.fill(Block::new());
        result
    }
}

/// An Argon2id PHC string for a sign-in password, peppered with a key that
/// never reaches the database.
pub fn hash_password(keys: &KeyRing, password: &str) -> Result<String, DomainError> {
    hash_password_with(&mut Argon2Memory::default(), keys, password)
}

/// [`hash_password`] in memory kept between calls.
pub fn hash_password_with(
    memory: &mut Argon2Memory,
    keys: &KeyRing,
    password: &str,
) -> Result<String, DomainError> {
    hash_secret_with(memory, keys, Secret::SignIn, password)
}

/// An Argon2id PHC string for a secret of `kind`, under its own pepper.
pub fn hash_secret_with(
    memory: &mut Argon2Memory,
    keys: &KeyRing,
    kind: Secret,
    password: &str,
) -> Result<String, DomainError> {
    let mut salt = [0u8; 16];
    tessera_core::crypto::random_bytes(&mut salt).map_err(|_| internal())?;
    hash_with_salt(memory, keys, kind, password, &salt)
}

fn hash_with_salt(
    memory: &mut Argon2Memory,
    keys: &KeyRing,
    kind: Secret,
    password: &str,
    salt: &[u8],
) -> Result<String, DomainError> {
    let params = params_for(kind)?;
    let (algorithm, version) = (Algorithm::Argon2id, Version::V0x13);
    let argon = argon2(keys, kind.pepper(), algorithm, version, params.clone())?;
    let mut out = zeroize::Zeroizing::new([0u8; Params::DEFAULT_OUTPUT_LEN]);
    memory
        .with_blocks(params.block_count(), |blocks| {
            argon.hash_password_into_with_memory(password.as_bytes(), salt, &mut out[..], blocks)
        })
        .map_err(|_| internal())?;
    // The same PHC string the crate's `hash_password_with_salt` writes.
    let hash = PasswordHash {
        algorithm: algorithm.ident(),
        version: Some(version.into()),
        params: ParamsString::try_from(&params).map_err(|_| internal())?,
        salt: Some(Salt::new(salt).map_err(|_| internal())?),
        hash: Some(Output::new(&out[..]).map_err(|_| internal())?),
    };
    Ok(hash.to_string())
}

pub fn verify_password(keys: &KeyRing, password: &str, stored: &str) -> bool {
    check_password_with(&mut Argon2Memory::default(), keys, password, stored).is_right()
}

/// [`verify_password`] in memory kept between calls.
pub fn verify_password_with(
    memory: &mut Argon2Memory,
    keys: &KeyRing,
    password: &str,
    stored: &str,
) -> bool {
    check_password_with(memory, keys, password, stored).is_right()
}

/// Checks a sign-in password against the stored hash: its own pepper,
/// algorithm, version and parameters, compared in constant time. One
/// Argon2 run, whichever pepper the hash names.
pub fn check_password_with(
    memory: &mut Argon2Memory,
    keys: &KeyRing,
    password: &str,
    stored: &str,
) -> PasswordCheck {
    check_secret_with(memory, keys, Secret::SignIn, password, stored)
}

/// [`check_password_with`] for a secret of `kind`.
pub fn check_secret_with(
    memory: &mut Argon2Memory,
    keys: &KeyRing,
    kind: Secret,
    password: &str,
    stored: &str,
) -> PasswordCheck {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return PasswordCheck::Wrong;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return PasswordCheck::Wrong;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else {
        return PasswordCheck::Wrong;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(version)) => version,
        Some(Err(_)) => return PasswordCheck::Wrong,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return PasswordCheck::Wrong;
    };
    let Some(pepper) = kind.pepper_of(&params) else {
        return PasswordCheck::Wrong;
    };
    let Ok(argon) = argon2(keys, pepper, algorithm, version, params.clone()) else {
        return PasswordCheck::Wrong;
    };
    let mut out = zeroize::Zeroizing::new([0u8; Output::MAX_LENGTH]);
    let Some(out) = out.get_mut(..expected.len()) else {
        return PasswordCheck::Wrong;
    };
    let computed = memory.with_blocks(params.block_count(), |blocks| {
        argon.hash_password_into_with_memory(password.as_bytes(), salt, out, blocks)
    });
    // `Output`'s equality is constant-time.
    let right = computed.is_ok() && Output::new(out).is_ok_and(|computed| computed == *expected);
    match (right, kind, pepper) {
        (false, _, _) => PasswordCheck::Wrong,
        (true, Secret::SignIn, LookupPurpose::PaymentPasswordPepper) => {
            PasswordCheck::RightUnderOldPepper
        }
        (true, _, _) => PasswordCheck::Right,
    }
}

/// Sign-up's password rule: at least 8 characters, letters and digits.
pub fn check_password_strength(password: &str) -> Result<(), DomainError> {
    let long_enough = password.chars().count() >= 8 && password.len() <= 256;
    let letters = password.chars().any(char::is_alphabetic);
    let digits = password.chars().any(|c| c.is_ascii_digit());
    if long_enough && letters && digits {
        Ok(())
    } else {
        Err(DomainError::new(ErrorCode::WeakPassword).with_param("password"))
    }
}

/// Argon2id takes 19 MiB and tens of milliseconds of CPU per hash. It runs
/// on two threads of its own, never on the request threads: a burst of
/// sign-ins queues instead of starving every other request, and memory stays
/// bounded (on tokio's blocking pool every new thread kept its own 19 MiB
/// arena: 700 MB after a few hundred sign-ins). Each thread owns one
/// [`Argon2Memory`] for its lifetime: 2 x 19 MiB, however many hashes run.
const ARGON2_THREADS: usize = 2;

type Argon2Job = Box<dyn FnOnce(&mut Argon2Memory) + Send>;

fn argon2_threads() -> Option<&'static std::sync::Mutex<std::sync::mpsc::Sender<Argon2Job>>> {
    static POOL: std::sync::OnceLock<Option<std::sync::Mutex<std::sync::mpsc::Sender<Argon2Job>>>> =
        std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        let (jobs, queue) = std::sync::mpsc::channel::<Argon2Job>();
        let queue = std::sync::Arc::new(std::sync::Mutex::new(queue));
        for n in 0..ARGON2_THREADS {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    let mut memory = Argon2Memory::default();
                    loop {
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(&mut memory),
                            Err(_) => return,
                        }
                    }
                });
            if spawned.is_err() {
                return None;
            }
        }
        Some(std::sync::Mutex::new(jobs))
    })
    .as_ref()
}

/// The Argon2 threads' queue as one server sees it: at most `max_waiting`
/// of its hashes queued or running at once. Past that a request is shed
/// with `overloaded` at once instead of waiting behind hundreds of others
/// (2,500 sign-ins for made-up phones once kept a real one waiting 9.9 s),
/// and a queued hash whose request has gone is skipped, not run.
#[derive(Debug)]
pub struct Argon2Queue {
    waiting: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    max_waiting: usize,
}

/// Seconds a shed request is told to wait: the queue it met drains in
/// well under that.
const SHED_RETRY_AFTER_SECS: u64 = 1;

/// One place in an [`Argon2Queue`], given back when the job ends, is
/// skipped, or never reaches the threads.
struct Place(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Drop for Place {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

impl Argon2Queue {
    pub fn new(max_waiting: usize) -> Argon2Queue {
        Argon2Queue {
            waiting: std::sync::Arc::default(),
            max_waiting: max_waiting.max(1),
        }
    }

    fn take_place(&self) -> Result<Place, DomainError> {
        let before = self
            .waiting
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        let place = Place(self.waiting.clone());
        if before >= self.max_waiting {
            return Err(
                DomainError::new(ErrorCode::Overloaded).with_retry_after(SHED_RETRY_AFTER_SECS)
            );
        }
        Ok(place)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Argon2Memory) -> T + Send + 'static,
    ) -> Result<T, DomainError> {
        let place = self.take_place()?;
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Argon2Job = Box::new(move |memory| {
            let _place = place;
            // The request has gone (its client left): nobody would read it.
            if answer.is_closed() {
                return;
            }
            let _ = answer.send(work(memory));
        });
        argon2_threads()
            .ok_or_else(internal)?
            .lock()
            .map_err(|_| internal())?
            .send(job)
            .map_err(|_| internal())?;
        answered.await.map_err(|_| internal())
    }

    /// [`hash_password`] on the Argon2 threads.
    pub async fn hash_password(
        &self,
        keys: std::sync::Arc<KeyRing>,
        password: &str,
    ) -> Result<String, DomainError> {
        let password = zeroize::Zeroizing::new(password.to_owned());
        self.run(move |memory| hash_password_with(memory, &keys, &password))
            .await?
    }

    /// [`check_password_with`] on the Argon2 threads: `overloaded` when
    /// shed, and then the password was not checked.
    pub async fn check_password(
        &self,
        keys: std::sync::Arc<KeyRing>,
        password: &str,
        stored: &str,
    ) -> Result<PasswordCheck, DomainError> {
        self.check_secret(keys, Secret::SignIn, password, stored)
            .await
    }

    /// [`hash_secret_with`] on the Argon2 threads.
    pub async fn hash_secret(
        &self,
        keys: std::sync::Arc<KeyRing>,
        kind: Secret,
        password: &str,
    ) -> Result<String, DomainError> {
        let password = zeroize::Zeroizing::new(password.to_owned());
        self.run(move |memory| hash_secret_with(memory, &keys, kind, &password))
            .await?
    }

    /// [`check_secret_with`] on the Argon2 threads, `overloaded` when shed.
    pub async fn check_secret(
        &self,
        keys: std::sync::Arc<KeyRing>,
        kind: Secret,
        password: &str,
        stored: &str,
    ) -> Result<PasswordCheck, DomainError> {
        let password = zeroize::Zeroizing::new(password.to_owned());
        let stored = stored.to_owned();
        self.run(move |memory| check_secret_with(memory, &keys, kind, &password, &stored))
            .await
    }
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    use super::*;

    fn pepper(keys: &KeyRing, purpose: LookupPurpose) -> &[u8] {
        keys.lookup_key(purpose)
            .expose_secret()
            .unwrap()
            .expose_bytes()
    }

    /// A hash as sign-in made them before it had a pepper of its own: the
    /// payment-password pepper and no `keyid`.
    fn legacy_hash(keys: &KeyRing, password: &str) -> String {
        Argon2::new_with_secret(
            pepper(keys, LookupPurpose::PaymentPasswordPepper),
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(SIGN_IN_M_COST, SIGN_IN_T_COST, SIGN_IN_P_COST, None).unwrap(),
        )
        .unwrap()
        .hash_password_with_salt(password.as_bytes(), &[5u8; 16])
        .unwrap()
        .to_string()
    }

    #[test]
    fn a_hash_names_its_pepper_and_is_checked_with_it_alone() {
        let keys = KeyRing::generate().unwrap();
        let mut memory = Argon2Memory::default();
        let check = |memory: &mut Argon2Memory, password: &str, stored: &str| {
            check_password_with(memory, &keys, password, stored)
        };
        let current = hash_password_with(&mut memory, &keys, "new-pass-1").unwrap();
        assert!(current.starts_with("$argon2id$v=19$m=19456,t=2,p=1,keyid=c2lnbmlu$"));
        assert_eq!(
            check(&mut memory, "new-pass-1", &current),
            PasswordCheck::Right
        );
        assert_eq!(
            check(&mut memory, "new-pass-2", &current),
            PasswordCheck::Wrong
        );
        let legacy = legacy_hash(&keys, "old-pass-1");
        assert!(legacy.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_eq!(
            check(&mut memory, "old-pass-1", &legacy),
            PasswordCheck::RightUnderOldPepper
        );
        assert_eq!(
            check(&mut memory, "old-pass-2", &legacy),
            PasswordCheck::Wrong
        );
        // The label decides the pepper: moved to the other label, or to one
        // this service never wrote, neither hash verifies.
        let relabelled = legacy.replace("p=1$", "p=1,keyid=c2lnbmlu$");
        assert_eq!(
            check(&mut memory, "old-pass-1", &relabelled),
            PasswordCheck::Wrong
        );
        let unlabelled = current.replace(",keyid=c2lnbmlu", "");
        assert_eq!(
            check(&mut memory, "new-pass-1", &unlabelled),
            PasswordCheck::Wrong
        );
        let unknown = current.replace("keyid=c2lnbmlu", "keyid=b3RoZXI");
        assert_eq!(
            check(&mut memory, "new-pass-1", &unknown),
            PasswordCheck::Wrong
        );
    }

    #[test]
    fn hashes_are_the_phc_strings_the_crate_writes_and_reads() {
        let keys = KeyRing::generate().unwrap();
        let salt = [7u8; 16];
        let mut memory = Argon2Memory::default();
        let ours = hash_with_salt(&mut memory, &keys, Secret::SignIn, "bench-1234", &salt).unwrap();
        let stock = Argon2::new_with_secret(
            pepper(&keys, LookupPurpose::SignInPepper),
            Algorithm::Argon2id,
            Version::V0x13,
            sign_in_params().unwrap(),
        )
        .unwrap();
        let theirs = stock
            .hash_password_with_salt(b"bench-1234", &salt)
            .unwrap()
            .to_string();
        assert_eq!(ours, theirs);
        assert!(ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1,keyid=c2lnbmlu$"));
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(stock.verify_password(b"bench-1234", &parsed).is_ok());
        assert!(stock.verify_password(b"bench-1235", &parsed).is_err());
    }

    #[test]
    fn one_memory_serves_every_hash_and_is_wiped_after_each() {
        let keys = KeyRing::generate().unwrap();
        let mut memory = Argon2Memory::default();
        let first = hash_password_with(&mut memory, &keys, "first-pass-1").unwrap();
        let kept = memory.blocks.as_ptr();
        let second = hash_password_with(&mut memory, &keys, "second-pass-2").unwrap();
        assert_ne!(first, second);
        assert!(verify_password_with(
            &mut memory,
            &keys,
            "first-pass-1",
            &first
        ));
        assert!(!verify_password_with(
            &mut memory,
            &keys,
            "first-pass-2",
            &first
        ));
        assert!(verify_password_with(
            &mut memory,
            &keys,
            "second-pass-2",
            &second
        ));
        assert_eq!(memory.blocks.as_ptr(), kept, "the blocks were reallocated");
        assert_eq!(memory.blocks.len(), SIGN_IN_M_COST as usize);
        assert!(
            memory
                .blocks
                .iter()
                .all(|block| block.as_ref().iter().all(|word| *word == 0))
        );
        // Another pepper does not verify.
        let other = KeyRing::generate().unwrap();
        assert!(!verify_password(&other, "first-pass-1", &first));
    }

    /// Hashes without a `keyid`, under the payment-password pepper, as
    /// sign-in stored them before.
    #[test]
    fn stored_hashes_verify_with_their_own_parameters() {
        let keys = KeyRing::generate().unwrap();
        let mut memory = Argon2Memory::default();
        for params in [
            Params::new(8 * 1024, 1, 1, None).unwrap(),
            Params::new(SIGN_IN_M_COST + 1024, 1, 1, Some(48)).unwrap(),
        ] {
            for algorithm in [Algorithm::Argon2id, Algorithm::Argon2i] {
                let stored = Argon2::new_with_secret(
                    pepper(&keys, LookupPurpose::PaymentPasswordPepper),
                    algorithm,
                    Version::V0x13,
                    params.clone(),
                )
                .unwrap()
                .hash_password_with_salt(b"older-pass-1", &[3u8; 16])
                .unwrap()
                .to_string();
                assert!(verify_password_with(
                    &mut memory,
                    &keys,
                    "older-pass-1",
                    &stored
                ));
                assert!(!verify_password_with(
                    &mut memory,
                    &keys,
                    "older-pass-2",
                    &stored
                ));
            }
        }
        // Larger parameters got blocks of their own; only the profile's size is kept.
        assert!(memory.blocks.len() <= SIGN_IN_M_COST as usize);
        assert!(!verify_password(&keys, "older-pass-1", "not a phc string"));
        assert!(!verify_password(
            &keys,
            "older-pass-1",
            "$argon2id$v=19$m=19456,t=2,p=1"
        ));
    }

    /// A payment password is hashed under its own pepper and label, and a
    /// hash of one kind never verifies as the other.
    #[test]
    fn payment_passwords_have_a_pepper_of_their_own() {
        let keys = KeyRing::generate().unwrap();
        let mut memory = Argon2Memory::default();
        let pin = hash_secret_with(&mut memory, &keys, Secret::PaymentPassword, "830271").unwrap();
        assert!(pin.starts_with("$argon2id$v=19$m=19456,t=2,p=1,keyid=cGF5cHdk$"));
        let check = |memory: &mut Argon2Memory, kind, password: &str, stored: &str| {
            check_secret_with(memory, &keys, kind, password, stored)
        };
        assert_eq!(
            check(&mut memory, Secret::PaymentPassword, "830271", &pin),
            PasswordCheck::Right
        );
        assert_eq!(
            check(&mut memory, Secret::PaymentPassword, "830272", &pin),
            PasswordCheck::Wrong
        );
        assert_eq!(
            check(&mut memory, Secret::SignIn, "830271", &pin),
            PasswordCheck::Wrong
        );
        let sign_in = hash_password_with(&mut memory, &keys, "830271").unwrap();
        assert_eq!(
            check(&mut memory, Secret::PaymentPassword, "830271", &sign_in),
            PasswordCheck::Wrong
        );
        // Nor does a sign-in hash of the old, unlabelled kind.
        let legacy = legacy_hash(&keys, "830271");
        assert_eq!(
            check(&mut memory, Secret::PaymentPassword, "830271", &legacy),
            PasswordCheck::Wrong
        );
    }
}
