//! Fixed-key tests: with fixed key bytes and fixed inputs, the exact output
//! of every derivation and format that stored data depends on, computed once
//! from the code and written down here.
//!
//! They exist because a change to any of these (an HKDF label, what a keyed
//! hash covers, the associated data, the sealed layout, the key file or the
//! backup format) makes stored cards unreadable (their ciphertexts no longer
//! open) or unfindable (fingerprints and hashes no longer match the stored
//! index), and the round-trip tests would not notice: they pass as long as
//! writing and reading change together. A failure here means the change
//! needs a migration of stored data, not a new literal.

use super::*;
use crate::emv::IssuerMasterKey;
use crate::token::TokenPan;

impl KeyRing {
    /// A key ring from fixed bytes, for the tests that pin stored formats
    /// (here and in `token`): data key version 1 is the bytes 00 01 .. 1f,
    /// created 2025-01-01T00:00:00Z; the lookup root is 20 21 .. 3f.
    pub(crate) fn fixed_for_tests() -> KeyRing {
        let bytes = |first: u8| -> [u8; 32] { std::array::from_fn(|i| first + i as u8) };
        let created_at = DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let data_key = DataKey {
            key: KeyMaterial::Bytes(SecretKey::from_slice(&bytes(0x00)).unwrap()),
            created_at,
        };
        KeyRing::from_parts(
            BTreeMap::from([(1, data_key)]),
            1,
            SecretKey::from_slice(&bytes(0x20)).unwrap(),
        )
        .unwrap()
    }
}

const CARD: &str = "6222021234567890128";
const TOKEN_PAN: &str = "6299901234567890121";
const PASSPHRASE: &str = "correct horse battery staple";

/// The PAN fingerprint of `CARD` under the fixed ring.
const CARD_FINGERPRINT: &str = "79a4cece48fa1816e46f550086f937931a4cc52829f241e3ed1bbb174e4c852e";

/// `associated_data("pan", 1, "card_1")`.
const PAN_AAD: &str =
    "746573736572612e7661756c742e7631000000000370616e0000000100000006636172645f31";

/// `CARD` sealed for `card_1` under the fixed ring, as stored.
const SEALED_CARD: &str = r#"{"key_version":1,"blob":"7djqNjeIRiParoO47bke6CQWpi8DJhUXbY0ukggsCwia8saTGN+1QMBkGWEX0CU="}"#;

fn card() -> Pan {
    Pan::parse(CARD).unwrap()
}

fn token_pan() -> TokenPan {
    TokenPan::parse(TOKEN_PAN).unwrap()
}

#[test]
fn the_pan_fingerprint_is_pinned() {
    let fingerprint = KeyRing::fixed_for_tests().fingerprint(&card());
    assert_eq!(fingerprint.as_str(), CARD_FINGERPRINT);
    assert_eq!(
        PanFingerprint::from_stored(CARD_FINGERPRINT),
        Some(fingerprint)
    );
}

#[test]
fn the_id_number_hash_is_pinned() {
    let keys = KeyRing::fixed_for_tests();
    let pinned = "09624b7c6b106af9dc595c9a35b0e976fca95bceda0d03d8a8a14459cece99f0";
    assert_eq!(keys.id_number_hash("11010519491231002X").as_str(), pinned);
    // Spaces around it and a lower-case check character hash the same.
    assert_eq!(keys.id_number_hash(" 11010519491231002x ").as_str(), pinned);
}

#[test]
fn the_token_pan_fingerprint_is_pinned() {
    assert_eq!(
        KeyRing::fixed_for_tests().token_fingerprint(&token_pan()),
        "ec771e305d586f24b7e3079db2956fbd493a21ff10e5f17381ab57047ee54e37"
    );
}

/// Every lookup purpose's key, through its HKDF label: session tokens, API
/// keys, OTPs and passwords are stored hashed under these too, so a changed
/// label would sign everyone out, void every API key and make every
/// password fail.
#[test]
fn every_lookup_key_is_pinned() {
    let pinned = [
        (
            LookupPurpose::PanFingerprint,
            "de53248f4101890b0df48d5604df420b6354ca7157671b4e7f124d518cf99bdb",
        ),
        (
            LookupPurpose::IdNumber,
            "96a4bd5abc204cd6583b1820f002659fe821f3876e6654f599d210bc0c9c2728",
        ),
        (
            LookupPurpose::IdempotencyBody,
            "012c35e3f2a90dff097714af3628c0ecfcc0a47c824cd6bb17634853f39994c0",
        ),
        (
            LookupPurpose::Par,
            "1da645b8d82c849d14e5e4fe80a8b054ee383a86d6b5aafe6258e65a1383ffa3",
        ),
        (
            LookupPurpose::SessionToken,
            "b499a8ae81771b9525345907ea8624ae1b785dfc3dfb3e882b3d9cdb63594bcb",
        ),
        (
            LookupPurpose::ApiKey,
            "02af7de47dc69b4296ff2aff01e97c9e8fb6ad63f7b59cd1c0452d5185f196eb",
        ),
        (
            LookupPurpose::OtpCode,
            "8733fdfb2a3d6213b2de28c0415592311f09007368e5d37d9bf41adaac3004f9",
        ),
        (
            LookupPurpose::PaymentPasswordPepper,
            "013cfaf1445efd844b83fbb2e54a664e5fcffb1bb06e0a854070c6751ffcdd61",
        ),
        (
            LookupPurpose::TokenPanFingerprint,
            "f40b1f1922593281770701f3a28eedef85edaf1ddd4fc84431754b314b165a9b",
        ),
        (
            LookupPurpose::SignInPepper,
            "33a63baaa123ac0982d5a9dde9822c921480f4dd2ba41151be016feb4933060a",
        ),
        (
            LookupPurpose::KeyRingCheck,
            "e9c0d903d12d79ba9249461a3c7d10b1206c0c9e4477f2b89c89aceac23b91f8",
        ),
        (
            LookupPurpose::BirthdayPin,
            "d2c31541ad3e4800ca28294be0eb55652f0788f8cd3b856572e11d0dd5fb02f2",
        ),
        (
            LookupPurpose::AuditChain,
            "f033cf53aa1e8258b46a36dab179bdd10b1517472c17d2338827bbdc2e7bea35",
        ),
        (
            LookupPurpose::AuditCheckpoint,
            "1a732d4a623f64114fd5cf378bd42fb09a299f96502499305ebe454dde16d0b7",
        ),
    ];
    assert_eq!(
        pinned.map(|(purpose, _)| purpose),
        LookupPurpose::ALL,
        "a new purpose needs its pinned value here"
    );
    let keys = KeyRing::fixed_for_tests();
    for (purpose, hash) in pinned {
        assert_eq!(
            hex::encode(keys.keyed_hash(purpose, b"tessera")),
            hash,
            "{purpose:?}"
        );
    }
}

/// The key ring check value is stored in every database: a changed one
/// would keep every node from starting. The legacy value (under the API-key
/// key) is what databases written before the check had its own key hold.
#[test]
fn the_key_ring_check_values_are_pinned() {
    let keys = KeyRing::fixed_for_tests();
    assert_eq!(keys.key_ring_check(), "3c79025318c19fa5");
    assert_eq!(keys.legacy_key_ring_check(), "ca4a4a00f3524b47");
    assert_eq!(
        keys.legacy_key_ring_check(),
        hex::encode(&keys.keyed_hash(LookupPurpose::ApiKey, b"tessera key ring check v1")[..8])
    );
}

/// IMKs are derived, never stored: a changed derivation would fail every
/// cryptogram of every token already issued.
#[test]
fn the_issuer_master_keys_are_pinned() {
    let mut keys = KeyRing::fixed_for_tests();
    // Generation 2 as a key file from before generation roots has it.
    keys.adopt_lookup_root_generations(&[2]);
    for (range, generation, key, check_value) in [
        ("629990", 1, "46E68ACBDF4F4A290BF8BA26941FBF4C", "9E5B03"),
        ("629990", 2, "CB5BFD1504C1DAABBA02802F8A75D934", "EF2492"),
        ("471099", 1, "91BF98643297F8C180D0A2708AC48A0D", "9C5F32"),
    ] {
        let imk: IssuerMasterKey = keys.issuer_master_key(range, generation).unwrap();
        assert_eq!(
            hex::encode_upper(imk.expose_bytes()),
            key,
            "{range}/{generation}"
        );
        assert_eq!(hex::encode_upper(imk.check_value()), check_value);
    }
}

#[test]
fn the_associated_data_is_pinned() {
    assert_eq!(hex::encode(associated_data("pan", 1, "card_1")), PAN_AAD);
}

#[test]
fn a_stored_sealed_pan_still_opens() {
    let keys = KeyRing::fixed_for_tests();
    let sealed: Sealed = serde_json::from_str(SEALED_CARD).unwrap();
    assert_eq!(keys.open("card_1", &sealed).unwrap(), card());
    // The layout underneath: AES-256-GCM, `nonce || ciphertext || tag`,
    // under data key version 1 with exactly these associated data.
    let data_key = keys.data.load().keys[&1].key.secret().clone();
    let aad = hex::decode(PAN_AAD).unwrap();
    let plaintext = crypto::aes256gcm_open(&data_key, &sealed.blob, &aad).unwrap();
    assert_eq!(plaintext.as_slice(), CARD.as_bytes());
}

#[test]
fn a_stored_sealed_token_pan_still_opens() {
    let sealed: Sealed = serde_json::from_str(
        r#"{"key_version":1,"blob":"CtznYQwXhIc27Boo3R36xigmBTstWO2fRGMiW00h7WHQDnidZUpkE48epeAS2fE="}"#,
    )
    .unwrap();
    let keys = KeyRing::fixed_for_tests();
    assert_eq!(
        keys.open_token_pan("tok_pinned", &sealed).unwrap(),
        token_pan()
    );
}

#[test]
fn a_fresh_seal_has_the_stored_layout() {
    let keys = KeyRing::fixed_for_tests();
    let sealed = keys.seal("card_1", &card()).unwrap();
    assert_eq!(sealed.key_version, 1);
    assert_eq!(
        sealed.blob.len(),
        crypto::NONCE_LEN + CARD.len() + crypto::TAG_LEN
    );
    let aad = hex::decode(PAN_AAD).unwrap();
    let plaintext =
        crypto::aes256gcm_open(keys.data.load().keys[&1].key.secret(), &sealed.blob, &aad).unwrap();
    assert_eq!(plaintext.as_slice(), CARD.as_bytes());
    // Stored as JSON with exactly these two fields, the blob in base64.
    let json: serde_json::Value = serde_json::to_value(&sealed).unwrap();
    let mut fields: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, ["blob", "key_version"]);
    assert_eq!(json["key_version"], 1);
    let blob = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        json["blob"].as_str().unwrap(),
    )
    .unwrap();
    assert_eq!(blob, sealed.blob);
}

/// The fixed ring's key file. Losing the ability to read it loses every card.
const KEY_FILE: &str = r#"{
  "format": "tessera-keys",
  "format_version": 1,
  "active_version": 1,
  "data_keys": [
    {
      "version": 1,
      "created_at": "2025-01-01T00:00:00+00:00",
      "key": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    }
  ],
  "lookup_root": "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=",
  "checksum": "0287bf35c9a7aab215b577af5073057e748b0f021bd5cb707571b3246bd55caa"
}
"#;

#[test]
fn a_stored_key_file_still_loads() {
    let keys = key_file::decode(KEY_FILE.as_bytes(), "pinned key file").unwrap();
    assert_eq!(keys.fingerprint(&card()).as_str(), CARD_FINGERPRINT);
    let sealed: Sealed = serde_json::from_str(SEALED_CARD).unwrap();
    assert_eq!(keys.open("card_1", &sealed).unwrap(), card());
    // And a fresh key file of the same ring says the same.
    let fresh = key_file::encode(&KeyRing::fixed_for_tests()).unwrap();
    let fresh: serde_json::Value = serde_json::from_slice(&fresh).unwrap();
    let pinned: serde_json::Value = serde_json::from_str(KEY_FILE).unwrap();
    assert_eq!(fresh, pinned);
}

#[test]
fn a_stored_backup_still_restores() {
    let backup = serde_json::json!({
        "header": {
            "format": "tessera-keys-backup",
            "format_version": 1,
            "kdf": "argon2id-v19",
            "kdf_params": { "m_cost_kib": 256, "t_cost": 1, "p_cost": 1 },
            "salt": "Nvu5aX8HaPItkCPoVjf/2A==",
            "cipher": "aes-256-gcm"
        },
        "sealed": concat!(
            "tHLaBhC/YZuwNOC5GMz8w/XpueA2gRjsgWbSiS+AmCpq1P/IbkP+Uztj7yF/7c1PYe7kvUhV",
            "x+VCsny3+OeYQyaGQ9ky32A50TMMvF1SRZ0b9oltY3vr2XEcTWgX/pvVK9N7ySD+nRat/qHS",
            "4XSYkeW99XIgaXAvp3K0FNXdjBdqlTYrNtiOl2ctrIVICZOQx1AU5VgZNQe1Hzbgwo4qGob7",
            "jJ47wR1N1G8nLntwp3fOofCeBKz6/RZNeMD5psPqtr38PiRY03JXcH2v0rYoN82zLH+J2jUS",
            "lCYKNjqRCAthSCK13u9628ekih3MUVgktKSBhc+alfPrhoss4IAvN3ZUC0t5KoCYtkXMf7u3",
            "xNHprPqEkWwNv7BpnjaN0Fg1UommYjV72m58IEQbmz6Nh35fgOn1eaQnFGHqBELbPVQ+jDMn",
            "AwuGIsz1wN1ZMVBc4qlDTeJkjfgU+i/4zTkUQSPwYntOnoG4JkaajBYJQf78iF0hlPEQkOq2",
            "gyWzYnTLRfD3UPZ9Ve8gb0G9wtNlzFxgJ1LfrvGhBkPnDkFJcw==",
        ),
    });
    let keys = restore(&serde_json::to_vec(&backup).unwrap(), PASSPHRASE).unwrap();
    assert_eq!(keys.fingerprint(&card()).as_str(), CARD_FINGERPRINT);
    let sealed: Sealed = serde_json::from_str(SEALED_CARD).unwrap();
    assert_eq!(keys.open("card_1", &sealed).unwrap(), card());
}
