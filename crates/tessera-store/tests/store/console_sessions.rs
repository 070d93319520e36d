//! The support console's sessions: found by their id's hash, touched, ended
//! once, and purged when past their end or idle.

use tessera_store::ConsoleSessionRecord;

use crate::*;

fn session(id_hash: &str, created_ms: i64, expires_ms: i64) -> ConsoleSessionRecord {
    ConsoleSessionRecord {
        id_hash: id_hash.to_owned(),
        key_id: "key_1".to_owned(),
        key_hash: "kh1".to_owned(),
        csrf_secret: "csrf1".to_owned(),
        created_at: at(created_ms),
        last_seen_at: at(created_ms),
        expires_at: at(expires_ms),
    }
}

async fn console_sessions_are_kept_touched_ended_and_purged(store: Arc<dyn Store>) {
    let first = session("h1", 1_000, 100_000);
    store.create_console_session(&first).await.unwrap();
    assert_eq!(
        store.console_session("h1").await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(store.console_session("h2").await.unwrap(), None);
    // The same id twice is refused: ids are random, a repeat is a bug.
    assert!(store.create_console_session(&first).await.is_err());

    store.touch_console_session("h1", at(5_000)).await.unwrap();
    let touched = store.console_session("h1").await.unwrap().unwrap();
    assert_eq!(touched.last_seen_at, at(5_000));
    assert_eq!(touched.created_at, at(1_000));

    assert!(store.end_console_session("h1").await.unwrap());
    assert!(!store.end_console_session("h1").await.unwrap());
    assert_eq!(store.console_session("h1").await.unwrap(), None);

    // Past its end (a), idle (b), live (c).
    store
        .create_console_session(&session("a", 1_000, 10_000))
        .await
        .unwrap();
    store
        .create_console_session(&session("b", 1_000, 100_000))
        .await
        .unwrap();
    store
        .create_console_session(&session("c", 1_000, 100_000))
        .await
        .unwrap();
    store.touch_console_session("c", at(30_000)).await.unwrap();
    assert_eq!(
        store
            .purge_console_sessions(at(40_000), at(20_000))
            .await
            .unwrap(),
        2
    );
    assert!(store.console_session("c").await.unwrap().is_some());
    assert!(store.console_session("a").await.unwrap().is_none());
    assert!(store.console_session("b").await.unwrap().is_none());
}

on_both_backends!(console_sessions_are_kept_touched_ended_and_purged);
