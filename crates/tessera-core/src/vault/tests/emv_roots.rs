use super::*;

fn imk(keys: &KeyRing, generation: u8) -> Vec<u8> {
    keys.issuer_master_key("629990", generation)
        .unwrap()
        .expose_bytes()
        .to_vec()
}

#[test]
fn a_generation_the_ring_lacks_is_an_error_never_a_key() {
    let keys = ring();
    assert_eq!(
        keys.issuer_master_key("629990", 2).unwrap_err(),
        VaultError::UnknownEmvGeneration(2)
    );
    let message = VaultError::UnknownEmvGeneration(2).to_string();
    assert!(message.contains("copy the key file"), "{message}");
    assert!(keys.has_emv_generation(1));
    assert!(!keys.emv_generations_recorded());
}

#[test]
fn a_new_generation_has_its_own_root() {
    let mut keys = ring();
    let mut adopted = keys.clone();
    adopted.adopt_lookup_root_generations(&[2]);
    let generation_1 = imk(&keys, 1);

    assert_eq!(keys.add_emv_generation().unwrap(), 2);
    assert!(keys.emv_generations_recorded());
    assert_ne!(imk(&keys, 2), imk(&adopted, 2), "not the lookup root's");
    assert_ne!(imk(&keys, 2), generation_1);
    assert_eq!(imk(&keys, 1), generation_1, "generation 1 keeps its IMKs");
    let info = keys.emv_generations();
    assert_eq!(info.len(), 2);
    assert_eq!(info[0].derivation, EmvDerivation::LookupRoot);
    assert_eq!(info[1].derivation, EmvDerivation::OwnRoot);
    assert!(info[1].created_at.is_some());

    // Two rings adding generation 2 get different roots.
    let mut other = ring();
    other.add_emv_generation().unwrap();
    assert_ne!(imk(&keys, 2), imk(&other, 2));
}

#[test]
fn the_key_file_keeps_the_generations() {
    let mut keys = ring();
    keys.adopt_lookup_root_generations(&[3]);
    assert_eq!(keys.add_emv_generation().unwrap(), 4);
    let content = key_file::encode(&keys).unwrap();
    let text = String::from_utf8(content.to_vec()).unwrap();
    assert!(text.contains("\"emv_generations\""), "{text}");
    let read = key_file::decode(&content, "test").unwrap();
    assert!(read.emv_generations_recorded());
    for generation in [1, 3, 4] {
        assert_eq!(imk(&read, generation), imk(&keys, generation));
    }
    assert!(!read.has_emv_generation(2));
    // A recorded ring adopts nothing: a generation it lacks stays unknown.
    let mut read = read;
    read.adopt_lookup_root_generations(&[2]);
    assert!(!read.has_emv_generation(2));
}

#[test]
fn a_key_file_from_before_generation_roots_still_reads_the_same() {
    let keys = ring();
    let content = key_file::encode(&keys).unwrap();
    let text = String::from_utf8(content.to_vec()).unwrap();
    assert!(!text.contains("emv_generations"), "{text}");
    let read = key_file::decode(&content, "test").unwrap();
    assert_eq!(*key_file::encode(&read).unwrap(), *content);
    assert_eq!(imk(&read, 1), imk(&keys, 1));
}

#[test]
fn a_damaged_generation_list_is_refused() {
    let mut keys = ring();
    keys.add_emv_generation().unwrap();
    let content = key_file::encode(&keys).unwrap();
    let mut json: serde_json::Value = serde_json::from_slice(&content).unwrap();
    json["emv_generations"][1]["root"] = serde_json::json!("AAAA");
    let altered = serde_json::to_vec(&json).unwrap();
    // The checksum catches it first.
    assert!(matches!(
        key_file::decode(&altered, "test"),
        Err(KeyFileError::Corrupt { .. })
    ));
}

#[test]
fn retiring_removes_a_generation_but_never_the_last() {
    let mut keys = ring();
    keys.add_emv_generation().unwrap();
    keys.retire_emv_generation(1).unwrap();
    assert_eq!(
        keys.issuer_master_key("629990", 1).unwrap_err(),
        VaultError::UnknownEmvGeneration(1)
    );
    assert_eq!(
        keys.retire_emv_generation(2),
        Err(VaultError::RetireLastEmvGeneration(2))
    );
    assert_eq!(
        keys.retire_emv_generation(7),
        Err(VaultError::UnknownEmvGeneration(7))
    );
    let read = key_file::decode(&key_file::encode(&keys).unwrap(), "test").unwrap();
    assert!(!read.has_emv_generation(1));
    assert!(read.has_emv_generation(2));
}
