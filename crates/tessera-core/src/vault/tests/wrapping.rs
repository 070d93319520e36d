use super::*;

/// A second node: the same key file, read back.
fn same_file(ring: &KeyRing) -> KeyRing {
    key_file::decode(&key_file::encode(ring).unwrap(), "test").unwrap()
}

#[test]
fn a_version_made_on_one_node_seals_and_opens_on_another() {
    let first = ring();
    let second = same_file(&first);
    let new = first.new_data_key(2).unwrap();
    // Made, not installed: the maker still seals under version 1.
    assert_eq!(first.active_version(), 1);
    let rows = [first.wrapped_keys().unwrap().remove(0), new.clone()];
    let mut demoted = rows[0].clone();
    demoted.state = DataKeyState::Retiring;
    let rows = [demoted, rows[1].clone()];
    for node in [&first, &second] {
        let change = node.install(&rows).unwrap();
        assert_eq!(change.active_after, 2);
        assert_eq!(change.added, vec![2]);
        assert!(node.install(&rows).map(|c| !c.changed()).unwrap());
    }
    let card = pan("622202123456789012");
    let sealed = first.seal("card_1", &card).unwrap();
    assert_eq!(sealed.key_version, 2);
    assert_eq!(second.open("card_1", &sealed).unwrap(), card);
    // A retired row removes the version from the ring.
    let mut retired = rows[0].clone();
    retired.state = DataKeyState::Retired;
    retired.wrapped.clear();
    let change = second.install(&[retired, rows[1].clone()]).unwrap();
    assert_eq!(change.removed, vec![1]);
    assert_eq!(second.versions(), vec![2]);
}

#[test]
fn a_wrapped_key_opens_only_as_its_own_version_and_root() {
    let keys = ring();
    let row = keys.wrapped_keys().unwrap().remove(0);
    let mut moved = row.clone();
    moved.version = 7;
    moved.state = DataKeyState::Retiring;
    assert_eq!(keys.install(&[moved]), Err(VaultError::Unwrap(7)));
    let mut other_root = row.clone();
    other_root.root_version = 9;
    assert_eq!(
        keys.install(&[other_root]),
        Err(VaultError::UnknownRootVersion(9))
    );
    // Another key file's ring unwraps nothing of this one's.
    let stranger = ring();
    assert_eq!(stranger.install(&[row]), Err(VaultError::Unwrap(1)));
}

#[test]
fn a_format_1_key_file_loads_and_gains_a_root() {
    let dir = tempfile::tempdir().unwrap();
    let mut old = KeyRing::fixed_for_tests();
    assert_eq!(old.root_version(), None);
    let file = KeyFile::in_dir(dir.path());
    file.create(&old).unwrap();
    let card = pan("622202123456789012");
    let sealed = old.seal("card_1", &card).unwrap();
    assert!(file.ensure_root(&mut old).unwrap());
    assert!(!file.ensure_root(&mut old).unwrap());
    let reloaded = file.load().unwrap();
    assert_eq!(reloaded.root_version(), Some(1));
    assert_eq!(reloaded.open("card_1", &sealed).unwrap(), card);
    let text = fs::read_to_string(file.path()).unwrap();
    assert!(text.contains("\"format_version\": 2"), "{text}");
    assert!(reloaded.wrapped_keys().is_ok());
}

#[test]
fn a_new_root_rewraps_every_data_key() {
    let mut keys = ring();
    let before = keys.wrapped_keys().unwrap();
    assert_eq!(keys.add_root().unwrap(), 2);
    let after: Vec<_> = before.iter().map(|row| keys.rewrap(row).unwrap()).collect();
    assert!(after.iter().all(|row| row.root_version == 2));
    keys.retire_root(1).unwrap();
    assert!(keys.install(&after).is_ok());
    assert_eq!(
        keys.install(&before),
        Err(VaultError::UnknownRootVersion(1))
    );
    assert_eq!(keys.retire_root(2), Err(VaultError::RetireActive(2)));
}

#[test]
fn wrapped_keys_and_their_debug_carry_no_key_material() {
    let keys = ring();
    let rows = keys.wrapped_keys().unwrap();
    let data_key = keys.data.load().keys[&1]
        .key
        .secret()
        .expose_bytes()
        .to_vec();
    assert!(
        !rows[0]
            .wrapped
            .windows(32)
            .any(|w| w == data_key.as_slice())
    );
    let shown = format!("{rows:?} {keys:?}");
    assert!(!shown.contains(&hex::encode(&data_key)), "{shown}");
    assert!(!shown.contains("wrapped:"), "{shown}");
}

#[test]
fn an_open_under_an_unknown_version_is_counted_until_the_version_is_learnt() {
    let first = ring();
    let second = same_file(&first);
    let mut old = first.wrapped_keys().unwrap().remove(0);
    old.state = DataKeyState::Retiring;
    let rows = [old, first.new_data_key(2).unwrap()];
    first.install(&rows).unwrap();
    let sealed = first.seal("card_1", &pan("622202123456789012")).unwrap();
    assert_eq!(second.unknown_version_opens(), 0);
    assert_eq!(
        second.open("card_1", &sealed),
        Err(VaultError::UnknownKeyVersion(2))
    );
    assert_eq!(second.unknown_version_opens(), 1);
    second.install(&rows).unwrap();
    assert!(second.open("card_1", &sealed).is_ok());
    assert_eq!(second.unknown_version_opens(), 1);
}
