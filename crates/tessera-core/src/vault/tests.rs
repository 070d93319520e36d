// Fixed-key tests of every stored derivation and format: see the file.
mod pinned;
// EMV key generations and their roots.
mod emv_roots;
// Data keys wrapped under the key file's root, installed from the database.
mod wrapping;
// The PKCS#11 backend against SoftHSM2.
mod hsm;

use std::fs;
use std::os::unix::fs::PermissionsExt;

use proptest::prelude::*;

use super::*;
use crate::card::luhn;
use crate::crypto::Argon2Params;

fn pan(payload: &str) -> Pan {
    let digit = luhn::check_digit(payload).unwrap();
    Pan::parse(&format!("{payload}{digit}")).unwrap()
}

fn ring() -> KeyRing {
    KeyRing::generate().unwrap()
}

/// Argon2id light enough for debug-build tests; the defaults are covered once.
const LIGHT: Argon2Params = Argon2Params {
    m_cost_kib: 256,
    t_cost: 1,
    p_cost: 1,
};

/// True when the two rings hold the same keys, judged by behaviour.
fn same_keys(a: &KeyRing, b: &KeyRing) -> bool {
    let card = pan("622202123456789012");
    let sealed = a.seal("card_1", &card).unwrap();
    a.versions() == b.versions()
        && a.active_version() == b.active_version()
        && b.open("card_1", &sealed).ok().as_ref() == Some(&card)
        && a.fingerprint(&card) == b.fingerprint(&card)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_pan_round_trips(payload in "[0-9]{11,18}", record in "[a-z0-9_]{1,40}") {
        let keys = ring();
        let card = pan(&payload);
        let sealed = keys.seal(&record, &card).unwrap();
        prop_assert_eq!(sealed.key_version, 1);
        prop_assert_eq!(sealed.blob.len(), crypto::NONCE_LEN + card.len() + crypto::TAG_LEN);
        prop_assert_eq!(keys.open(&record, &sealed).unwrap(), card);
    }

    #[test]
    fn a_flipped_bit_anywhere_fails(payload in "[0-9]{11,18}", bit in any::<usize>()) {
        let keys = ring();
        let card = pan(&payload);
        let mut sealed = keys.seal("card_1", &card).unwrap();
        let bit = bit % (sealed.blob.len() * 8);
        sealed.blob[bit / 8] ^= 1 << (bit % 8);
        prop_assert_eq!(keys.open("card_1", &sealed), Err(VaultError::Decrypt));
    }

    #[test]
    fn a_ciphertext_moved_to_another_record_fails(
        a in "[0-9]{11,18}", b in "[0-9]{11,18}",
        id_a in "[a-z0-9]{1,12}", id_b in "[a-z0-9]{1,12}",
    ) {
        prop_assume!(id_a != id_b);
        let keys = ring();
        let sealed_a = keys.seal(&id_a, &pan(&a)).unwrap();
        let sealed_b = keys.seal(&id_b, &pan(&b)).unwrap();
        // Swapped between the two rows.
        prop_assert_eq!(keys.open(&id_b, &sealed_a), Err(VaultError::Decrypt));
        prop_assert_eq!(keys.open(&id_a, &sealed_b), Err(VaultError::Decrypt));
    }

    #[test]
    fn a_relabelled_key_version_fails(payload in "[0-9]{11,18}") {
        let mut keys = ring();
        let card = pan(&payload);
        let old = keys.seal("card_1", &card).unwrap();
        keys.rotate().unwrap();
        let new = keys.seal("card_1", &card).unwrap();
        prop_assert_eq!(new.key_version, 2);
        let relabelled_old = Sealed { key_version: 2, ..old.clone() };
        let relabelled_new = Sealed { key_version: 1, ..new.clone() };
        prop_assert_eq!(keys.open("card_1", &relabelled_old), Err(VaultError::Decrypt));
        prop_assert_eq!(keys.open("card_1", &relabelled_new), Err(VaultError::Decrypt));
        prop_assert_eq!(keys.open("card_1", &Sealed { key_version: 3, ..old.clone() }),
            Err(VaultError::UnknownKeyVersion(3)));
        // Both still open under their true labels.
        prop_assert_eq!(keys.open("card_1", &old).unwrap(), card.clone());
        prop_assert_eq!(keys.open("card_1", &new).unwrap(), card);
    }

    #[test]
    fn fingerprints_are_keyed_and_deterministic(a in "[0-9]{11,18}", b in "[0-9]{11,18}") {
        let keys = ring();
        let (card_a, card_b) = (pan(&a), pan(&b));
        let fingerprint = keys.fingerprint(&card_a);
        prop_assert_eq!(fingerprint.as_str().len(), 64);
        prop_assert_eq!(&fingerprint, &keys.fingerprint(&card_a.clone()));
        prop_assert_ne!(&fingerprint, &ring().fingerprint(&card_a));
        if card_a != card_b {
            prop_assert_ne!(&fingerprint, &keys.fingerprint(&card_b));
        }
        prop_assert!(!fingerprint.as_str().contains(card_a.expose_digits()));
    }
}

#[test]
fn the_version_is_bound_even_when_two_versions_share_key_material() {
    // Only the associated data tells these two versions apart.
    let key = SecretKey::generate().unwrap();
    let at = |_| DataKey {
        key: KeyMaterial::Bytes(key.clone()),
        created_at: now(),
    };
    let keys = KeyRing::from_parts(
        BTreeMap::from([(1, at(1)), (2, at(2))]),
        2,
        SecretKey::generate().unwrap(),
    )
    .unwrap();
    let sealed = keys.seal("card_1", &pan("411111111111111")).unwrap();
    assert!(keys.open("card_1", &sealed).is_ok());
    let relabelled = Sealed {
        key_version: 1,
        ..sealed
    };
    assert_eq!(keys.open("card_1", &relabelled), Err(VaultError::Decrypt));
}

#[test]
fn another_key_ring_cannot_open() {
    let sealed = ring().seal("card_1", &pan("411111111111111")).unwrap();
    assert_eq!(ring().open("card_1", &sealed), Err(VaultError::Decrypt));
}

#[test]
fn contexts_keep_kinds_of_secret_apart() {
    let keys = ring();
    let sealed = keys
        .seal_bytes("otp", "card_1", b"4111111111111111")
        .unwrap();
    assert_eq!(keys.open("card_1", &sealed), Err(VaultError::Decrypt));
    assert_eq!(
        keys.open_bytes("otp", "card_1", &sealed)
            .unwrap()
            .as_slice(),
        b"4111111111111111"
    );
    assert_eq!(
        keys.open_bytes("issuer-token", "card_1", &sealed),
        Err(VaultError::Decrypt)
    );
    assert_eq!(
        keys.seal_bytes("otp", "", b"x"),
        Err(VaultError::EmptyRecordId)
    );
}

#[test]
fn a_sealed_non_pan_is_not_a_pan() {
    let keys = ring();
    let sealed = keys.seal_bytes("pan", "card_1", b"not digits").unwrap();
    assert_eq!(keys.open("card_1", &sealed), Err(VaultError::NotAPan));
}

#[test]
fn rotation_reseal_and_retirement() {
    let mut keys = ring();
    let card = pan("622202123456789012");
    let old = keys.seal("card_1", &card).unwrap();
    assert!(!keys.needs_reseal(&old));
    assert_eq!(keys.rotate().unwrap(), 2);
    assert_eq!(keys.active_version(), 2);
    assert_eq!(keys.versions(), vec![1, 2]);
    assert!(keys.needs_reseal(&old));

    let resealed = keys.reseal("card_1", &old).unwrap();
    assert_eq!(resealed.key_version, 2);
    assert_ne!(resealed.blob, old.blob);
    assert_eq!(keys.open("card_1", &resealed).unwrap(), card);
    // Resealing for the wrong record is refused, not silently re-bound.
    assert_eq!(keys.reseal("card_2", &old), Err(VaultError::Decrypt));

    assert_eq!(keys.retire(2), Err(VaultError::RetireActive(2)));
    keys.retire(1).unwrap();
    assert_eq!(keys.versions(), vec![2]);
    assert_eq!(
        keys.open("card_1", &old),
        Err(VaultError::UnknownKeyVersion(1))
    );
    assert_eq!(keys.retire(1), Err(VaultError::UnknownKeyVersion(1)));
    assert_eq!(keys.open("card_1", &resealed).unwrap(), card);
    // Versions are never reused after a retirement.
    assert_eq!(keys.rotate().unwrap(), 3);

    // Rotation leaves the lookup keys alone: fingerprints stay valid.
    let before = ring();
    let mut after = before.clone();
    after.rotate().unwrap();
    assert_eq!(before.fingerprint(&card), after.fingerprint(&card));
}

#[test]
fn lookup_keys_differ_by_purpose() {
    let keys = ring();
    let mut seen = std::collections::HashSet::new();
    for purpose in LookupPurpose::ALL {
        assert_eq!(keys.lookup_key(purpose).purpose(), purpose);
        assert!(seen.insert(keys.keyed_hash(purpose, b"same input")));
    }
    assert_eq!(
        keys.id_number_hash(" 11010519491231002x "),
        keys.id_number_hash("11010519491231002X")
    );
    assert_eq!(
        keys.id_number_hash("11010519491231002X").as_str(),
        hex::encode(keys.keyed_hash(LookupPurpose::IdNumber, b"11010519491231002X"))
    );
    let fingerprint = keys.fingerprint(&pan("411111111111111"));
    assert_eq!(
        PanFingerprint::from_stored(fingerprint.as_str()),
        Some(fingerprint.clone())
    );
    assert_eq!(PanFingerprint::from_stored("abc"), None);
}

#[test]
fn debug_prints_no_key_material() {
    let mut keys = ring();
    keys.rotate().unwrap();
    let secrets: Vec<String> = keys
        .data
        .load()
        .keys
        .values()
        .map(|k| k.key.secret().expose_bytes().to_vec())
        .chain([keys.lookup_root.as_ref().unwrap().expose_bytes().to_vec()])
        .chain(
            keys.lookup_keys
                .iter()
                .map(|k| k.key.secret().expose_bytes().to_vec()),
        )
        .flat_map(|bytes| {
            [
                hex::encode(&bytes),
                hex::encode(&bytes[..4]),
                format!("{:?}", &bytes[..4]),
                base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &bytes),
            ]
        })
        .collect();
    let shown = format!(
        "{keys:?} {:?} {:?}",
        keys.lookup_key(LookupPurpose::Par),
        keys.seal("card_1", &pan("411111111111111")).unwrap()
    );
    for secret in &secrets {
        assert!(!shown.contains(secret.as_str()), "{shown}");
    }
    assert!(shown.contains("versions: [1, 2]"), "{shown}");
}

#[test]
fn sealed_values_serialise_for_storage() {
    let keys = ring();
    let sealed = keys.seal("card_1", &pan("411111111111111")).unwrap();
    let json = serde_json::to_string(&sealed).unwrap();
    assert!(json.starts_with("{\"key_version\":1,\"blob\":\""), "{json}");
    let back: Sealed = serde_json::from_str(&json).unwrap();
    assert_eq!(back, sealed);
    assert_eq!(keys.open("card_1", &back).unwrap().last4(), "1111");
}

// --- key file ------------------------------------------------------------

fn mode_of(path: &std::path::Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn first_run_creates_a_private_key_file_and_later_runs_load_it() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let (created, status) = KeyFile::load_or_create(&data_dir, false).unwrap();
    assert_eq!(status, KeyFileStatus::Created);
    let path = data_dir.join(KEY_FILE_NAME);
    assert_eq!(mode_of(&path), 0o600);
    assert_eq!(mode_of(&data_dir), 0o700);

    let (loaded, status) = KeyFile::load_or_create(&data_dir, true).unwrap();
    assert_eq!(status, KeyFileStatus::Loaded);
    assert!(same_keys(&created, &loaded));
    let content = fs::read_to_string(&path).unwrap();
    assert!(
        content.contains("\"format\": \"tessera-keys\""),
        "{content}"
    );
}

#[test]
fn a_missing_key_file_beside_existing_data_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let error = KeyFile::load_or_create(dir.path(), true).unwrap_err();
    assert!(matches!(error, KeyFileError::Missing { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains(KEY_FILE_NAME), "{message}");
    assert!(message.contains("tessera keys restore"), "{message}");
    assert!(!dir.path().join(KEY_FILE_NAME).exists());
}

#[test]
fn a_key_file_others_can_read_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    KeyFile::load_or_create(dir.path(), false).unwrap();
    let path = dir.path().join(KEY_FILE_NAME);
    for mode in [0o640, 0o604, 0o660, 0o644] {
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        let error = KeyFile::load_or_create(dir.path(), true).unwrap_err();
        assert!(
            matches!(error, KeyFileError::TooOpen { mode: m, .. } if m == mode),
            "{error:?}"
        );
        assert!(error.to_string().contains("chmod 600"), "{error}");
    }
    fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).unwrap();
    assert!(KeyFile::load_or_create(dir.path(), true).is_ok());
}

#[test]
fn a_corrupt_key_file_is_refused_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let (keys, _) = KeyFile::load_or_create(dir.path(), false).unwrap();
    let path = dir.path().join(KEY_FILE_NAME);
    let original = fs::read_to_string(&path).unwrap();

    // One character of a key changed: still valid JSON and base64.
    let root = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        keys.lookup_root.as_ref().unwrap().expose_bytes(),
    );
    let first = root.as_bytes()[0];
    let changed_root = format!("{}{}", if first == b'A' { 'B' } else { 'A' }, &root[1..]);
    let corruptions = [
        original.replace(&root, &changed_root),
        original.replace("\"active_version\": 1", "\"active_version\": 2"),
        original[..original.len() / 2].to_owned(),
        String::new(),
        "\u{0}\u{1}garbage".to_owned(),
    ];
    for corrupt in corruptions {
        assert_ne!(corrupt, original);
        fs::write(&path, &corrupt).unwrap();
        let error = KeyFile::load_or_create(dir.path(), false).unwrap_err();
        assert!(matches!(error, KeyFileError::Corrupt { .. }), "{error:?}");
        let message = error.to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(message.contains("restore"), "{message}");
        // Still the corrupt file: nothing was generated over it.
        assert_eq!(fs::read_to_string(&path).unwrap(), corrupt);
    }
    // A newer format is named as such.
    fs::write(
        &path,
        original.replace("\"format_version\": 2", "\"format_version\": 9"),
    )
    .unwrap();
    assert!(matches!(
        KeyFile::load_or_create(dir.path(), false).unwrap_err(),
        KeyFileError::UnsupportedFormat { found: 9, .. }
    ));
}

#[test]
fn create_refuses_to_overwrite_and_replace_keeps_it_private() {
    let dir = tempfile::tempdir().unwrap();
    let (first, _) = KeyFile::load_or_create(dir.path(), false).unwrap();
    let file = KeyFile::in_dir(dir.path());
    let second = ring();
    assert!(matches!(
        file.create(&second).unwrap_err(),
        KeyFileError::AlreadyExists { .. }
    ));
    assert!(same_keys(&first, &file.load().unwrap()));

    let mut rotated = first.clone();
    rotated.rotate().unwrap();
    file.replace(&rotated).unwrap();
    assert_eq!(mode_of(file.path()), 0o600);
    assert!(same_keys(&rotated, &file.load().unwrap()));
    // No temporary file is left behind.
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn the_environment_value_is_the_base64_of_the_file() {
    let keys = ring();
    let value = keys.to_env_value().unwrap();
    let back = KeyRing::from_env_value(&format!("  {}\n", value.as_str())).unwrap();
    assert!(same_keys(&keys, &back));

    let dir = tempfile::tempdir().unwrap();
    KeyFile::in_dir(dir.path()).create(&keys).unwrap();
    let content = fs::read(dir.path().join(KEY_FILE_NAME)).unwrap();
    let from_file = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, content);
    assert!(same_keys(
        &keys,
        &KeyRing::from_env_value(&from_file).unwrap()
    ));

    let error = KeyRing::from_env_value("not base64!").unwrap_err();
    assert!(error.to_string().contains(ENV_MASTER_KEY), "{error}");
    let error = KeyRing::from_env_value("aGVsbG8=").unwrap_err();
    assert!(error.to_string().contains(ENV_MASTER_KEY), "{error}");
}

// --- backup --------------------------------------------------------------

const PASSPHRASE: &str = "correct horse battery staple";

#[test]
fn backup_round_trips_under_the_default_parameters() {
    let mut keys = ring();
    keys.rotate().unwrap();
    let bytes = backup(&keys, PASSPHRASE).unwrap();
    let text = std::str::from_utf8(&bytes).unwrap();
    assert!(text.contains("\"m_cost_kib\": 65536"), "{text}");
    assert!(same_keys(&keys, &restore(&bytes, PASSPHRASE).unwrap()));
}

#[test]
fn a_wrong_passphrase_is_a_clear_error() {
    let keys = ring();
    let bytes = backup_with_params(&keys, PASSPHRASE, LIGHT).unwrap();
    let error = restore(&bytes, "correct horse battery stapler").unwrap_err();
    assert!(matches!(error, BackupError::WrongPassphrase), "{error:?}");
    assert!(error.to_string().contains("wrong passphrase"));
    assert!(same_keys(&keys, &restore(&bytes, PASSPHRASE).unwrap()));
}

#[test]
fn a_short_passphrase_is_refused() {
    assert!(matches!(
        backup_with_params(&ring(), "short", LIGHT).unwrap_err(),
        BackupError::WeakPassphrase
    ));
}

#[test]
fn an_altered_backup_fails_to_open() {
    let keys = ring();
    let bytes = backup_with_params(&keys, PASSPHRASE, LIGHT).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    // A changed KDF parameter derives another key; the header is the AAD.
    let weaker = text.replace("\"t_cost\": 1", "\"t_cost\": 2");
    assert!(matches!(
        restore(weaker.as_bytes(), PASSPHRASE).unwrap_err(),
        BackupError::WrongPassphrase
    ));
    let greedy = text.replace("\"m_cost_kib\": 256", "\"m_cost_kib\": 4000000000");
    assert!(matches!(
        restore(greedy.as_bytes(), PASSPHRASE).unwrap_err(),
        BackupError::ParamsOutOfRange
    ));
    assert!(matches!(
        restore(b"{}", PASSPHRASE).unwrap_err(),
        BackupError::NotABackup(_)
    ));
    // A key file is not a backup.
    let key_file = key_file::encode(&keys).unwrap();
    assert!(matches!(
        restore(&key_file, PASSPHRASE).unwrap_err(),
        BackupError::NotABackup(_)
    ));
}

#[test]
fn issuer_master_keys_are_per_range_and_generation_and_survive_rotation() {
    let mut keys = ring();
    keys.adopt_lookup_root_generations(&[2]);
    let imk = keys.issuer_master_key("629990", 1).unwrap();
    assert_eq!(
        imk.expose_bytes(),
        keys.issuer_master_key("629990", 1).unwrap().expose_bytes()
    );
    for (range, generation) in [("629990", 2), ("471099", 1), ("6299901", 1)] {
        assert_ne!(
            imk.expose_bytes(),
            keys.issuer_master_key(range, generation)
                .unwrap()
                .expose_bytes(),
            "{range}/{generation}"
        );
    }
    assert!(imk.expose_bytes().iter().all(|b| b.count_ones() % 2 == 1));
    let mut rotated = keys.clone();
    rotated.rotate().unwrap();
    assert_eq!(
        imk.expose_bytes(),
        rotated
            .issuer_master_key("629990", 1)
            .unwrap()
            .expose_bytes()
    );
    assert_ne!(
        imk.expose_bytes(),
        ring()
            .issuer_master_key("629990", 1)
            .unwrap()
            .expose_bytes(),
        "another key ring, another IMK"
    );
    let shown = format!("{imk:?}");
    assert!(shown.starts_with("IssuerMasterKey(kcv "), "{shown}");
    assert!(!shown.contains(&hex::encode_upper(imk.expose_bytes())));
}

#[test]
fn token_pans_seal_for_their_token_only() {
    let keys = ring();
    let token_pan = crate::token::TokenPan::parse("6299901234567890121").unwrap();
    let sealed = keys.seal_token_pan("tok_a", &token_pan).unwrap();
    assert_eq!(keys.open_token_pan("tok_a", &sealed).unwrap(), token_pan);
    assert_eq!(
        keys.open_token_pan("tok_b", &sealed),
        Err(VaultError::Decrypt)
    );
    // Not a PAN's ciphertext, nor the other way round.
    assert!(keys.open("tok_a", &sealed).is_err());
    let pan = keys.seal("tok_a", &pan("629990123456789012")).unwrap();
    assert!(keys.open_token_pan("tok_a", &pan).is_err());
}
