//! The PKCS#11 backend against SoftHSM2. SoftHSM2 reads where its tokens
//! live once per process, so each test runs its body in a child process of
//! this test binary, with a token of its own (`vault/softhsm.rs`).

use std::path::PathBuf;
use std::process::Command;

use super::*;
use crate::emv::{DerivationOption, Psn};
use crate::vault::hsm::{self, HsmToken};
use crate::vault::softhsm::{SoftHsm, TEST_PIN};

/// Set in the child: the file it writes once the body has passed, so the
/// parent knows the body ran (a filter that matched nothing also exits 0).
const CHILD: &str = "TESSERA_SOFTHSM_CHILD_DONE";

fn in_child(name: &str, body: impl FnOnce(&HsmLocation)) {
    if let Some(done) = std::env::var_os(CHILD) {
        let location = HsmLocation {
            module: PathBuf::from(crate::vault::softhsm::SOFTHSM_MODULE),
            token: crate::vault::softhsm::TEST_TOKEN.to_owned(),
        };
        body(&location);
        std::fs::write(done, b"passed").unwrap();
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let Some(softhsm) = SoftHsm::new(dir.path()).unwrap() else {
        eprintln!("skipped: SoftHSM2 is not installed (set TESSERA_REQUIRE_SOFTHSM to fail)");
        return;
    };
    let done = dir.path().join("done");
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            &format!("vault::tests::hsm::{name}"),
            "--exact",
            "--nocapture",
        ])
        .envs(softhsm.env())
        .env(CHILD, &done)
        .output()
        .unwrap();
    assert!(
        output.status.success() && done.exists(),
        "the child failed or did not run:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A key file ring with an EMV generation of its own root beside the
/// lookup root's, moved into the token.
fn moved(location: &HsmLocation) -> (KeyRing, KeyRing) {
    let mut file = ring();
    assert_eq!(file.add_emv_generation().unwrap(), 2);
    let token = HsmToken::open(location, TEST_PIN).unwrap();
    let report = file.move_to_hsm(&token, &["629990", "471099"]).unwrap();
    // One data key, 14 lookup keys, 2 generations x 2 ranges of IMKs.
    assert_eq!(report.steps.len(), 1 + 14 + 4);
    assert_eq!(report.imported(), report.steps.len());
    let hsm = KeyRing::open_hsm(location, TEST_PIN).unwrap();
    hsm.install(&file.wrapped_keys().unwrap()).unwrap();
    (file, hsm)
}

#[test]
fn token_keys_compute_as_the_key_files_do() {
    in_child("token_keys_compute_as_the_key_files_do", |location| {
        let (file, hsm) = moved(location);
        let card = pan("625094000000001");

        // Sealed by either, opened by the other: the same format and AAD.
        let sealed = file.seal("card_1", &card).unwrap();
        assert_eq!(hsm.open("card_1", &sealed).unwrap(), card);
        let sealed = hsm.seal("card_1", &card).unwrap();
        assert_eq!(file.open("card_1", &sealed).unwrap(), card);
        assert_eq!(hsm.open("card_2", &sealed), Err(VaultError::Decrypt));
        let mut altered = sealed.clone();
        altered.blob[20] ^= 1;
        assert_eq!(hsm.open("card_1", &altered), Err(VaultError::Decrypt));

        // Every keyed lookup gives the stored values of before the move.
        assert_eq!(hsm.fingerprint(&card), file.fingerprint(&card));
        for purpose in LookupPurpose::ALL {
            assert_eq!(
                hsm.keyed_hash(purpose, b"value"),
                file.keyed_hash(purpose, b"value"),
                "{purpose:?}"
            );
        }
        assert_eq!(hsm.key_ring_check(), file.key_ring_check());
        let pepper = LookupPurpose::SignInPepper;
        assert_eq!(
            hsm.lookup_key(pepper)
                .expose_secret()
                .unwrap()
                .expose_bytes(),
            file.lookup_key(pepper)
                .expose_secret()
                .unwrap()
                .expose_bytes()
        );
        assert!(
            hsm.lookup_key(LookupPurpose::ApiKey)
                .expose_secret()
                .is_none()
        );

        // Card keys of both generations, the IMK staying in the token.
        for generation in [1, 2] {
            let from = |ring: &KeyRing| {
                ring.icc_master_key(
                    "629990",
                    generation,
                    "6299900000000018",
                    Psn::default(),
                    DerivationOption::A,
                )
                .unwrap()
                .expose_bytes()
                .to_vec()
            };
            assert_eq!(from(&hsm), from(&file), "generation {generation}");
        }
        assert!(hsm.has_emv_generation(2) && !hsm.has_emv_generation(3));
        assert!(matches!(
            hsm.issuer_master_key("629990", 1),
            Err(VaultError::NotWithHsm(..))
        ));
        assert!(matches!(
            hsm.icc_master_key("990000", 1, "9900000000000017", Psn::default(), DerivationOption::A),
            Err(VaultError::HsmKeyMissing(label)) if label == "tessera/emv/imk-ac/990000/1"
        ));
    });
}

#[test]
fn no_key_but_the_peppers_leaves_the_token() {
    in_child("no_key_but_the_peppers_leaves_the_token", |location| {
        let (_file, _hsm) = moved(location);
        let token = HsmToken::open(location, TEST_PIN).unwrap();
        let mut labels = vec![hsm::data_key_label(1), hsm::imk_label("629990", 2)];
        labels.extend(
            LookupPurpose::ALL
                .iter()
                .filter(|purpose| !super::super::hsm_ring::PEPPERS.contains(purpose))
                .map(|purpose| purpose.label().to_owned()),
        );
        for label in &labels {
            let handle = token.find(label).unwrap().unwrap();
            // C_GetAttributeValue of CKA_VALUE is refused.
            assert!(!token.value_readable(handle), "{label} is readable");
        }
        for pepper in super::super::hsm_ring::PEPPERS {
            let handle = token.find(pepper.label()).unwrap().unwrap();
            assert!(token.value_readable(handle), "{pepper:?}");
        }
    });
}

#[test]
fn a_second_move_changes_nothing_and_another_key_file_is_refused() {
    in_child(
        "a_second_move_changes_nothing_and_another_key_file_is_refused",
        |location| {
            let (file, _hsm) = moved(location);
            let token = HsmToken::open(location, TEST_PIN).unwrap();
            let again = file.move_to_hsm(&token, &["629990", "471099"]).unwrap();
            assert_eq!(again.imported(), 0);
            assert_eq!(again.steps.len(), 19);
            let before = token.labels(cryptoki::object::KeyType::AES).unwrap().len();

            let error = ring().move_to_hsm(&token, &["629990"]).unwrap_err();
            assert!(error.to_string().contains("not the key file's"), "{error}");
            let after = token.labels(cryptoki::object::KeyType::AES).unwrap().len();
            assert_eq!(before, after);
        },
    );
}

#[test]
fn rotation_makes_the_data_key_inside_the_token() {
    in_child("rotation_makes_the_data_key_inside_the_token", |location| {
        let (file, mut hsm) = moved(location);
        let card = pan("625094000000001");
        let old = hsm.seal("card_1", &card).unwrap();

        let row = hsm.new_data_key(2).unwrap();
        assert_eq!(row.root_version, crate::vault::wrapping::HSM_ROOT_VERSION);
        let mut rows = file.wrapped_keys().unwrap();
        rows[0].state = DataKeyState::Retiring;
        rows.push(row.clone());
        let change = hsm.install(&rows).unwrap();
        assert_eq!((change.active_after, change.added), (2, vec![2]));
        let sealed = hsm.seal("card_1", &card).unwrap();
        assert_eq!(sealed.key_version, 2);
        assert_eq!(hsm.open("card_1", &sealed).unwrap(), card);
        assert_eq!(hsm.open("card_1", &old).unwrap(), card);

        // Another node of the token learns it from the row alone.
        let other = KeyRing::open_hsm(location, TEST_PIN).unwrap();
        other.install(&rows).unwrap();
        assert_eq!(other.open("card_1", &sealed).unwrap(), card);

        // A key file node cannot, and says why.
        assert_eq!(file.install(&rows), Err(VaultError::DataKeyInHsm(2)));
        // Nothing about a root applies.
        assert!(matches!(hsm.add_root(), Err(VaultError::NotWithHsm(..))));
        assert!(matches!(
            hsm.rewrap(&rows[0]),
            Err(VaultError::NotWithHsm(..))
        ));
        assert!(matches!(hsm.rotate(), Err(VaultError::NotWithHsm(..))));

        // A generation made in the token derives the same keys every time.
        assert_eq!(hsm.add_emv_generation().unwrap(), 3);
        let key = |ring: &KeyRing| {
            ring.icc_master_key(
                "629990",
                3,
                "6299900000000018",
                Psn::default(),
                DerivationOption::A,
            )
            .unwrap()
            .expose_bytes()
            .to_vec()
        };
        let reopened = KeyRing::open_hsm(location, TEST_PIN).unwrap();
        assert!(reopened.has_emv_generation(3));
        assert_eq!(key(&hsm), key(&reopened));
        assert_ne!(
            key(&hsm),
            hsm.icc_master_key(
                "629990",
                2,
                "6299900000000018",
                Psn::default(),
                DerivationOption::A
            )
            .unwrap()
            .expose_bytes()
            .to_vec()
        );
    });
}

#[test]
fn a_wrong_pin_or_token_says_what_to_fix() {
    in_child("a_wrong_pin_or_token_says_what_to_fix", |location| {
        let error = KeyRing::open_hsm(location, "0000").unwrap_err().to_string();
        assert!(error.contains("TESSERA_HSM_PIN"), "{error}");
        let elsewhere = HsmLocation {
            token: "no-such-token".to_owned(),
            ..location.clone()
        };
        let error = KeyRing::open_hsm(&elsewhere, TEST_PIN)
            .unwrap_err()
            .to_string();
        assert!(error.contains("vault.pkcs11_token"), "{error}");
        // An empty token: the move has not run.
        let error = KeyRing::open_hsm(location, TEST_PIN)
            .unwrap_err()
            .to_string();
        assert!(error.contains("move-to-hsm"), "{error}");
    });
}
