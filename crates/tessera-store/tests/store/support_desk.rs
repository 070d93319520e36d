//! What the support desk reads: the people a search finds, by the real
//! name and the ID number's last four or by a card's first six and last
//! four, and the audit of those reads, newest first a page at a time.

use std::sync::Arc;

use tessera_store::test_support::at;
use tessera_store::{AuditEvent, AuditFilter, NewUser, Store, UserSearch};

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
    }
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
);
