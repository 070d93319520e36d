//! Settings and idempotency records.

use crate::*;

async fn idempotency(store: Arc<dyn Store>) {
    use IdempotencyBegin::*;
    let stale = 60_000;
    assert_eq!(
        store
            .idempotency_begin("u1", "k", "fp", at(1_000), TimeDelta::milliseconds(stale))
            .await
            .unwrap(),
        Started
    );
    assert_eq!(
        store
            .idempotency_begin("u1", "k", "fp", at(1_001), TimeDelta::milliseconds(stale))
            .await
            .unwrap(),
        InProgress { since: at(1_000) }
    );
    assert_eq!(
        store
            .idempotency_begin(
                "u1",
                "k",
                "other",
                at(1_001),
                TimeDelta::milliseconds(stale)
            )
            .await
            .unwrap(),
        Conflict
    );
    // Keys are per scope.
    assert_eq!(
        store
            .idempotency_begin(
                "u2",
                "k",
                "other",
                at(1_000),
                TimeDelta::milliseconds(stale)
            )
            .await
            .unwrap(),
        Started
    );
    store
        .idempotency_finish("u1", "k", 201, r#"{"card":"c1"}"#)
        .await
        .unwrap();
    assert_eq!(
        store
            .idempotency_begin("u1", "k", "fp", at(999_999), TimeDelta::milliseconds(stale))
            .await
            .unwrap(),
        Replay {
            status: 201,
            body: r#"{"card":"c1"}"#.to_owned()
        }
    );
    assert_eq!(
        store
            .idempotency_begin(
                "u1",
                "k",
                "other",
                at(2_000),
                TimeDelta::milliseconds(stale)
            )
            .await
            .unwrap(),
        Conflict
    );
    // Abandoning a finished key changes nothing.
    store.idempotency_abandon("u1", "k").await.unwrap();
    assert!(matches!(
        store
            .idempotency_begin("u1", "k", "fp", at(2_000), TimeDelta::milliseconds(stale))
            .await
            .unwrap(),
        Replay { status: 201, .. }
    ));

    // An abandoned key can be used again, even with another body.
    assert_eq!(
        store
            .idempotency_begin("u1", "k2", "fp", at(1_000), TimeDelta::milliseconds(stale))
            .await
            .unwrap(),
        Started
    );
    store.idempotency_abandon("u1", "k2").await.unwrap();
    assert_eq!(
        store
            .idempotency_begin("u1", "k2", "fp2", at(1_000), TimeDelta::milliseconds(stale))
            .await
            .unwrap(),
        Started
    );

    // A request that died mid-way is taken over once it is stale...
    assert_eq!(
        store
            .idempotency_begin("u1", "k3", "fp", at(1_000), TimeDelta::milliseconds(stale))
            .await
            .unwrap(),
        Started
    );
    assert_eq!(
        store
            .idempotency_begin("u1", "k3", "fp", at(61_000), TimeDelta::milliseconds(stale))
            .await
            .unwrap(),
        InProgress { since: at(1_000) }
    );
    assert_eq!(
        store
            .idempotency_begin(
                "u1",
                "k3",
                "other",
                at(61_001),
                TimeDelta::milliseconds(stale)
            )
            .await
            .unwrap(),
        Conflict
    );
    assert_eq!(
        store
            .idempotency_begin("u1", "k3", "fp", at(61_001), TimeDelta::milliseconds(stale))
            .await
            .unwrap(),
        Started
    );
    // ...by one request only.
    assert_eq!(
        store
            .idempotency_begin("u1", "k3", "fp", at(61_002), TimeDelta::milliseconds(stale))
            .await
            .unwrap(),
        InProgress { since: at(61_001) }
    );

    // Purge: u1/k, u2/k and u1/k2 began at 1_000; u1/k3 at 61_001.
    assert_eq!(store.idempotency_purge(at(1_000)).await.unwrap(), 0);
    assert_eq!(store.idempotency_purge(at(61_001)).await.unwrap(), 3);
    assert_eq!(store.idempotency_purge(at(61_001)).await.unwrap(), 0);
    assert_eq!(
        store
            .idempotency_begin(
                "u1",
                "k",
                "other",
                at(70_000),
                TimeDelta::milliseconds(stale)
            )
            .await
            .unwrap(),
        Started
    );
    assert_eq!(
        store
            .idempotency_begin("u1", "k3", "fp", at(70_000), TimeDelta::milliseconds(stale))
            .await
            .unwrap(),
        InProgress { since: at(61_001) }
    );
    assert_eq!(
        store
            .idempotency_purge(DateTime::<Utc>::MAX_UTC)
            .await
            .unwrap(),
        2
    );
}

async fn settings(store: Arc<dyn Store>) {
    assert_eq!(store.setting("maintenance").await.unwrap(), None);
    store.put_setting("maintenance", "on", at(1)).await.unwrap();
    assert_eq!(
        store.setting("maintenance").await.unwrap().as_deref(),
        Some("on")
    );
    let value = r#"{"decline":"05","说明":"维护"}"#;
    store
        .put_setting("maintenance", value, at(2))
        .await
        .unwrap();
    assert_eq!(
        store.setting("maintenance").await.unwrap().as_deref(),
        Some(value)
    );
    store
        .put_setting("sandbox_issuer", "approve", at(3))
        .await
        .unwrap();
    // Several at once, in the order asked, None where unset.
    assert_eq!(
        store
            .settings(&["sandbox_issuer", "nothing", "maintenance"])
            .await
            .unwrap(),
        [Some("approve".to_owned()), None, Some(value.to_owned())]
    );
    assert!(store.settings(&[]).await.unwrap().is_empty());
    assert!(store.delete_setting("maintenance").await.unwrap());
    assert!(!store.delete_setting("maintenance").await.unwrap());
    assert_eq!(store.setting("maintenance").await.unwrap(), None);
    assert_eq!(
        store.setting("sandbox_issuer").await.unwrap().as_deref(),
        Some("approve")
    );
}

async fn concurrent_idempotency(store: Arc<dyn Store>) {
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .idempotency_begin(
                    "u1",
                    "one-key",
                    "fp",
                    at(1_000),
                    TimeDelta::milliseconds(60_000),
                )
                .await
                .unwrap()
        }));
    }
    let mut started = 0;
    for task in tasks {
        match task.await.unwrap() {
            IdempotencyBegin::Started => started += 1,
            IdempotencyBegin::InProgress { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(started, 1);

    // A stale key is taken over by one request only.
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .idempotency_begin(
                    "u1",
                    "one-key",
                    "fp",
                    at(100_000),
                    TimeDelta::milliseconds(60_000),
                )
                .await
                .unwrap()
        }));
    }
    let mut taken = 0;
    for task in tasks {
        match task.await.unwrap() {
            IdempotencyBegin::Started => taken += 1,
            IdempotencyBegin::InProgress { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(taken, 1);
}

on_both_backends!(idempotency, settings, concurrent_idempotency);
