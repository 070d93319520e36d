//! What the support desk reads: the people a search finds, by the real
//! name and the ID number's last four or by a card's first six and last
//! four, and the audit of those reads, newest first a page at a time.

use std::sync::Arc;

use tessera_store::test_support::at;
use tessera_store::{
    AuditCheckpointRecord, AuditEvent, AuditFilter, AuditLink, NewUser, Store, StoreError,
    UserSearch,
};

use crate::{bind, new_card, new_user, user};

fn named(n: &str, name: &str, last4: &str, created_at: i64) -> NewUser {
    NewUser {
        real_name: name.to_owned(),
        real_name_normalized: name.to_owned(),
        id_number_last4: last4.to_owned(),
        created_at: at(created_at),
        ..new_user(n)
    }
}

fn ids(users: &[tessera_store::UserRecord]) -> Vec<&str> {
    users.iter().map(|u| u.id.as_str()).collect()
}

async fn a_search_finds_only_the_people_it_names(store: Arc<dyn Store>) {
    for user in [
        named("1", "李四", "002X", 2_000),
        named("2", "李四", "1234", 1_000),
        named("3", "王五", "002X", 3_000),
        named("4", "李四", "002X", 1_500),
    ] {
        store.create_user(&user).await.unwrap();
    }
    let search = UserSearch::NameAndIdLast4 {
        name_normalized: "李四".to_owned(),
        id_last4: "002X".to_owned(),
    };
    // Oldest account first, at most `limit`.
    let found = store.find_users(&search, 10).await.unwrap();
    assert_eq!(ids(&found), ["user-4", "user-1"]);
    assert_eq!(
        ids(&store.find_users(&search, 1).await.unwrap()),
        ["user-4"]
    );
    let nobody = UserSearch::NameAndIdLast4 {
        name_normalized: "李四".to_owned(),
        id_last4: "9999".to_owned(),
    };
    assert!(store.find_users(&nobody, 10).await.unwrap().is_empty());

    // By card: the one who bound 622202...1234, not the one whose card
    // ends otherwise; a card unbound since still finds its person.
    let holder = user(store.as_ref(), "5").await;
    let other = user(store.as_ref(), "6").await;
    bind(store.as_ref(), holder.as_str(), "card-1", "fp-1", 10_000).await;
    let mut card = new_card("card-2", other.as_str(), "fp-2", 10_000);
    card.last4 = "9876".to_owned();
    store
        .reserve_card(&card, &tessera_store::ReserveLimits::cards(10), at(10_000))
        .await
        .unwrap();
    let search = UserSearch::Card {
        first6: "622202".to_owned(),
        last4: "1234".to_owned(),
    };
    assert_eq!(
        ids(&store.find_users(&search, 10).await.unwrap()),
        [holder.as_str()]
    );
    store
        .unbind_card(&holder, &"card-1".to_owned().into(), at(11_000))
        .await
        .unwrap();
    assert_eq!(
        ids(&store.find_users(&search, 10).await.unwrap()),
        [holder.as_str()]
    );
    let wrong_bin = UserSearch::Card {
        first6: "436742".to_owned(),
        last4: "1234".to_owned(),
    };
    assert!(store.find_users(&wrong_bin, 10).await.unwrap().is_empty());
}

fn event(id: &str, created_at: i64, user_id: Option<&str>) -> AuditEvent {
    AuditEvent {
        id: id.to_owned(),
        created_at: at(created_at),
        key_id: "key-s".to_owned(),
        key_holder: "王芳".to_owned(),
        role: "support".to_owned(),
        action: "support.user.read".to_owned(),
        user_id: user_id.map(|u| u.to_owned().into()),
        trace_id: format!("trace-{id}"),
        subject: None,
        link: None,
    }
}

fn linked(id: &str, seq: i64, prev: &str, chain: &str) -> AuditEvent {
    AuditEvent {
        subject: Some("api_key:key-x".to_owned()),
        link: Some(AuditLink {
            chain_id: chain.to_owned(),
            seq,
            prev_hash: prev.to_owned(),
            entry_hash: format!("hash-{id}"),
        }),
        ..event(id, 1_000 + seq, None)
    }
}

/// Each writer's chain: its head is its highest place; a second entry
/// after the same predecessor (two writers racing) is refused and nothing
/// written; checkpoints are kept once per place.
async fn audit_chains_keep_their_head_and_refuse_a_fork(store: Arc<dyn Store>) {
    assert_eq!(store.audit_chain_head("node:a").await.unwrap(), None);
    let first = linked("aud-1", 1, "genesis", "node:a");
    let second = linked("aud-2", 2, "hash-aud-1", "node:a");
    let other = linked("aud-3", 1, "genesis", "node:b");
    for entry in [&first, &second, &other] {
        store.record_audit_event(entry).await.unwrap();
    }
    let fork = linked("aud-4", 2, "hash-aud-1", "node:a");
    assert!(matches!(
        store.record_audit_event(&fork).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.audit_chain_head("node:a").await.unwrap(),
        second.link.clone()
    );
    assert_eq!(
        store.audit_chain_head("node:b").await.unwrap(),
        other.link.clone()
    );
    let since = store.audit_entries_since(at(1_002)).await.unwrap();
    assert_eq!(since, std::slice::from_ref(&second));
    assert_eq!(store.audit_entries_since(at(0)).await.unwrap().len(), 3);

    let checkpoint = AuditCheckpointRecord {
        chain_id: "node:a".to_owned(),
        seq: 2,
        entry_hash: "hash-aud-2".to_owned(),
        created_at: at(9_000),
        signature: "signed".to_owned(),
    };
    store.record_audit_checkpoint(&checkpoint).await.unwrap();
    let again = AuditCheckpointRecord {
        signature: "other".to_owned(),
        ..checkpoint.clone()
    };
    store.record_audit_checkpoint(&again).await.unwrap();
    assert_eq!(store.audit_checkpoints().await.unwrap(), [checkpoint]);
}

async fn audit_events_are_appended_and_listed_newest_first(store: Arc<dyn Store>) {
    let events = [
        event("aud-a", 1_000, Some("user-1")),
        event("aud-b", 2_000, None),
        event("aud-c", 2_000, Some("user-2")),
    ];
    for event in &events {
        store.record_audit_event(event).await.unwrap();
    }
    let page = store
        .audit_events(&AuditFilter {
            before: None,
            limit: 2,
        })
        .await
        .unwrap();
    assert_eq!(page, [events[2].clone(), events[1].clone()]);
    let last = page.last().unwrap();
    let rest = store
        .audit_events(&AuditFilter {
            before: Some((last.created_at, last.id.clone())),
            limit: 2,
        })
        .await
        .unwrap();
    assert_eq!(rest, [events[0].clone()]);
    // Appended only: the same id again is refused, the first row kept.
    assert!(
        store
            .record_audit_event(&event("aud-a", 5_000, None))
            .await
            .is_err()
    );
    let all = store
        .audit_events(&AuditFilter {
            before: None,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[2], events[0]);
}

on_both_backends!(
    a_search_finds_only_the_people_it_names,
    audit_events_are_appended_and_listed_newest_first,
    audit_chains_keep_their_head_and_refuse_a_fork,
);
