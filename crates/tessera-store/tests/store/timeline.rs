//! A person's timeline: sign-ins, failed sign-ins and lockouts recorded
//! for the person (and no one else), every source merged newest first,
//! entries of one millisecond in one order that pages walk exactly once,
//! and the type and since filters.

use std::sync::Arc;

use tessera_store::test_support::at;
use tessera_store::{
    AccountEvent, AttemptOutcome, AttemptRecord, Store, TimelineQuery, TimelineRow, TimelineType,
    TokenEvent, UserId,
};

use crate::{bind, user};

fn event(user_id: &UserId, kind: TimelineType, trace: &str, time: i64) -> AccountEvent {
    AccountEvent {
        user_id: user_id.clone(),
        kind,
        trace_id: Some(trace.to_owned()),
        detail: Some("Tessera/1.0 (Android 14)".to_owned()),
        created_at: at(time),
    }
}

fn attempt(user_id: &UserId, trace: &str, time: i64, failed: bool) -> AttemptRecord {
    AttemptRecord {
        trace_id: trace.to_owned(),
        user_id: user_id.clone(),
        masked_pan: Some("622202*********1234".to_owned()),
        outcome: if failed {
            AttemptOutcome::Error
        } else {
            AttemptOutcome::Success
        },
        error_code: failed.then(|| "card_declined".to_owned()),
        created_at: at(time),
        ..AttemptRecord::default()
    }
}

fn query(user_id: &UserId, limit: u32) -> TimelineQuery {
    TimelineQuery {
        user_id: user_id.clone(),
        before: None,
        since: None,
        only: None,
        limit,
    }
}

fn kinds(rows: &[TimelineRow]) -> Vec<&'static str> {
    rows.iter().map(|row| row.kind.as_str()).collect()
}

async fn sign_ins_are_recorded_for_the_person_alone(store: Arc<dyn Store>) {
    let (me, other) = (user(&*store, "1").await, user(&*store, "2").await);
    store
        .record_account_event(&event(&me, TimelineType::SignIn, "req_1", 2_000))
        .await
        .unwrap();
    store
        .record_account_event(&event(&me, TimelineType::SignInFailed, "req_2", 3_000))
        .await
        .unwrap();
    let mut locked = event(&me, TimelineType::SignInLocked, "req_2", 3_000);
    locked.detail = Some("2026-01-01T00:15:00Z".to_owned());
    store.record_account_event(&locked).await.unwrap();
    store
        .record_account_event(&event(&other, TimelineType::SignIn, "req_3", 2_500))
        .await
        .unwrap();

    let mine = store.timeline(&query(&me, 50)).await.unwrap();
    // The lockout, recorded after the failure in the same millisecond, is
    // listed first: newest first, ties by the order they were recorded.
    assert_eq!(
        kinds(&mine),
        ["sign_in_locked", "sign_in_failed", "sign_in", "signup"]
    );
    assert_eq!(mine[0].detail.as_deref(), Some("2026-01-01T00:15:00Z"));
    assert_eq!(mine[1].trace_id.as_deref(), Some("req_2"));
    assert_eq!(mine[1].detail.as_deref(), Some("Tessera/1.0 (Android 14)"));
    assert_eq!(mine[3].at, at(1_000));
    let theirs = store.timeline(&query(&other, 50)).await.unwrap();
    assert_eq!(kinds(&theirs), ["sign_in", "signup"]);
    assert_eq!(theirs[0].trace_id.as_deref(), Some("req_3"));
    // One type; a time to start from.
    let only = TimelineQuery {
        only: Some(TimelineType::SignInFailed),
        ..query(&me, 50)
    };
    assert_eq!(
        kinds(&store.timeline(&only).await.unwrap()),
        ["sign_in_failed"]
    );
    let since = TimelineQuery {
        since: Some(at(2_000)),
        ..query(&me, 50)
    };
    assert_eq!(store.timeline(&since).await.unwrap().len(), 3);
}

async fn sources_merge_newest_first_and_pages_walk_each_entry_once(store: Arc<dyn Store>) {
    let me = user(&*store, "1").await;
    let other = user(&*store, "2").await;
    bind(&*store, me.as_str(), "card-1", "fp-1", 4_000).await;
    bind(&*store, other.as_str(), "card-2", "fp-2", 4_000).await;
    for (trace, time, failed) in [
        ("trc_A", 3_000, true),
        ("trc_B", 3_000, true),
        ("trc_C", 4_000, false),
    ] {
        store
            .record_attempt(&attempt(&me, trace, time, failed))
            .await
            .unwrap();
    }
    store
        .record_attempt(&attempt(&other, "trc_X", 3_000, true))
        .await
        .unwrap();
    // The token's deletion names the person through the token's card.
    assert!(
        store
            .delete_token(&TokenEvent {
                token_ref: "tok-card-1".to_owned(),
                kind: "delete".to_owned(),
                actor: "cardholder".to_owned(),
                reason: None,
                status_after: "deleted".to_owned(),
                created_at: at(5_000),
            })
            .await
            .unwrap()
    );
    store
        .record_account_event(&event(&me, TimelineType::SignIn, "req_1", 3_000))
        .await
        .unwrap();

    let all = store.timeline(&query(&me, 200)).await.unwrap();
    assert_eq!(
        kinds(&all),
        [
            "token_event",
            "card_unbound",
            "card_bound",
            "binding_attempt",
            "binding_attempt",
            "sign_in",
            "signup"
        ]
    );
    assert_eq!(all[0].actor.as_deref(), Some("cardholder"));
    assert_eq!(all[0].card_id.as_deref(), Some("card-1"));
    assert_eq!(all[0].token_ref.as_deref(), Some("tok-card-1"));
    assert_eq!(all[0].last4.as_deref(), Some("1234"));
    // Two attempts of one millisecond: the higher trace id first.
    assert_eq!(all[3].id, "trc_B");
    assert_eq!(all[4].id, "trc_A");
    assert!(all[3].attempt.is_some());
    assert!(
        all.iter()
            .all(|row| row.trace_id.as_deref() != Some("trc_X"))
    );
    // Pages of one, two and three walk the same entries once each.
    for limit in [1, 2, 3] {
        let mut walked = Vec::new();
        let mut page = query(&me, limit);
        loop {
            let rows = store.timeline(&page).await.unwrap();
            assert!(rows.len() <= limit as usize);
            let Some(last) = rows.last() else { break };
            page.before = Some((last.at, last.key()));
            walked.extend(rows.iter().map(TimelineRow::key));
        }
        assert_eq!(
            walked,
            all.iter().map(TimelineRow::key).collect::<Vec<_>>(),
            "{limit}"
        );
    }
}

on_both_backends!(
    sign_ins_are_recorded_for_the_person_alone,
    sources_merge_newest_first_and_pages_walk_each_entry_once,
);
