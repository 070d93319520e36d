use chrono::{TimeZone, Utc};

use super::*;

/// One chain's entries as the writer stores them: ids, fields and hashes.
struct Written {
    ids: Vec<String>,
    prevs: Vec<String>,
    hashes: Vec<String>,
    seqs: Vec<i64>,
    actions: Vec<String>,
}

fn write(keys: &KeyRing, count: i64) -> Written {
    let mut written = Written {
        ids: vec![],
        prevs: vec![],
        hashes: vec![],
        seqs: vec![],
        actions: vec![],
    };
    let mut prev = GENESIS;
    for seq in 1..=count {
        let id = format!("aud_{seq}");
        let action = "session.signed_in".to_owned();
        let hash = fields(&id, seq, &action).hash(keys, &prev);
        written.prevs.push(to_hex(&prev));
        written.hashes.push(to_hex(&hash));
        written.ids.push(id);
        written.seqs.push(seq);
        written.actions.push(action);
        prev = hash;
    }
    written
}

fn fields<'a>(id: &'a str, seq: i64, action: &'a str) -> AuditFields<'a> {
    AuditFields {
        chain_id: "node:a",
        seq,
        id,
        created_at: Utc.timestamp_millis_opt(1_700_000_000_000).unwrap(),
        key_id: "",
        role: "user",
        action,
        user_id: Some("usr_1"),
        subject: None,
        trace_id: "trace",
    }
}

fn stored(written: &Written) -> Vec<StoredEntry<'_>> {
    (0..written.ids.len())
        .map(|i| StoredEntry {
            fields: fields(&written.ids[i], written.seqs[i], &written.actions[i]),
            prev_hash: &written.prevs[i],
            entry_hash: &written.hashes[i],
        })
        .collect()
}

fn checkpoint(keys: &KeyRing, written: &Written, seq: i64) -> StoredCheckpoint {
    let checkpoint = Checkpoint {
        chain_id: "node:a".to_owned(),
        seq,
        entry_hash: from_hex(&written.hashes[usize::try_from(seq - 1).unwrap()]).unwrap(),
        created_at: Utc.timestamp_millis_opt(1_700_000_100_000).unwrap(),
    };
    StoredCheckpoint {
        signature: hex::encode(checkpoint.sign(keys)),
        checkpoint,
    }
}

#[test]
fn an_untouched_chain_has_no_findings() {
    let keys = KeyRing::fixed_for_tests();
    let written = write(&keys, 5);
    let checkpoints = [checkpoint(&keys, &written, 5)];
    assert_eq!(verify(&keys, &stored(&written), &checkpoints), vec![]);
    // Under another key ring every entry fails.
    let other = KeyRing::generate().unwrap();
    assert!(!verify(&other, &stored(&written), &checkpoints).is_empty());
}

#[test]
fn each_kind_of_tampering_is_named_where_it_is() {
    let keys = KeyRing::fixed_for_tests();
    let chain = "node:a".to_owned();

    let mut changed = write(&keys, 5);
    changed.actions[2] = "session.locked".to_owned();
    assert_eq!(
        verify(&keys, &stored(&changed), &[]),
        vec![Finding::Changed {
            chain_id: chain.clone(),
            seq: 3,
            id: "aud_3".into()
        }]
    );

    let mut removed = write(&keys, 5);
    for column in [
        &mut removed.ids,
        &mut removed.prevs,
        &mut removed.hashes,
        &mut removed.actions,
    ] {
        column.remove(2);
    }
    removed.seqs.remove(2);
    assert_eq!(
        verify(&keys, &stored(&removed), &[]),
        vec![Finding::Removed {
            chain_id: chain.clone(),
            from: 3,
            to: 3
        }]
    );

    let mut inserted = write(&keys, 5);
    inserted.ids.push("aud_forged".into());
    inserted.prevs.push(to_hex(&[7; 32]));
    inserted.hashes.push(to_hex(&[9; 32]));
    inserted.seqs.push(3);
    inserted.actions.push("api_key.created".into());
    assert_eq!(
        verify(&keys, &stored(&inserted), &[]),
        vec![Finding::Inserted {
            chain_id: chain.clone(),
            seq: 3,
            id: "aud_forged".into()
        }]
    );

    let mut swapped = write(&keys, 5);
    swapped.seqs.swap(1, 3);
    let findings = verify(&keys, &stored(&swapped), &[]);
    assert_eq!(
        findings,
        vec![
            Finding::Moved {
                chain_id: chain.clone(),
                id: "aud_4".into(),
                written_at: 4,
                found_at: 2
            },
            Finding::Moved {
                chain_id: chain.clone(),
                id: "aud_2".into(),
                written_at: 2,
                found_at: 4
            },
        ]
    );

    let written = write(&keys, 5);
    let checkpoints = [checkpoint(&keys, &written, 5)];
    let mut cut = write(&keys, 5);
    for column in [
        &mut cut.ids,
        &mut cut.prevs,
        &mut cut.hashes,
        &mut cut.actions,
    ] {
        column.truncate(3);
    }
    cut.seqs.truncate(3);
    let findings = verify(&keys, &stored(&cut), &checkpoints);
    assert!(
        matches!(
            &findings[..],
            [Finding::Truncated {
                head: 3,
                checkpoint_seq: 5,
                ..
            }]
        ),
        "{findings:?}"
    );
    assert!(findings[0].to_string().contains("entries 4 to 5"));

    let mut forged = checkpoint(&keys, &written, 5);
    forged.checkpoint.seq = 9;
    assert_eq!(
        verify(&keys, &stored(&written), &[forged]),
        vec![Finding::ForgedCheckpoint {
            chain_id: chain,
            seq: 9
        }]
    );
}
