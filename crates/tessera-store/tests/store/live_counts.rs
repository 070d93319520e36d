//! A wallet's count of live cards, kept in its owner's row (SQLite's
//! migration 0026, PostgreSQL's 0013): a reservation reads it instead of
//! counting the cards, so it must never fall below the truth, whichever
//! path made a card live or ended it, and the card limit must still hold
//! exactly under a burst.

use tessera_core::vault::Sealed;
use tessera_store::vault_keys::{ReencryptionProgress, SealedTable};
use tessera_store::{AccountClosure, ClosedBy, Retention, RetentionCutoffs};

use crate::*;

/// The user holds exactly `live` cards as far as the card limit can tell:
/// a limit of `live` refuses another card (a count below the truth would
/// let it in), one of `live + 1` takes it, and lets it go again.
async fn holds(store: &dyn Store, user_id: &UserId, live: u32, now: i64, step: &str) {
    let probe = new_card(
        &format!("probe-{now}"),
        user_id,
        &format!("fp-probe-{now}"),
        now,
    );
    assert_eq!(
        store
            .reserve_card(&probe, &ReserveLimits::cards(live), at(now))
            .await
            .unwrap(),
        Reserve::LimitReached { live_cards: live },
        "after {step}"
    );
    assert_eq!(
        store
            .reserve_card(&probe, &ReserveLimits::cards(live + 1), at(now))
            .await
            .unwrap(),
        Reserve::Reserved,
        "after {step}"
    );
    store.release_card(&probe.id).await.unwrap();
}

fn token_deleted(card_id: &str, now: i64) -> TokenEvent {
    TokenEvent {
        token_ref: format!("tok-{card_id}"),
        kind: "delete".to_owned(),
        actor: "wallet".to_owned(),
        reason: Some("deleted in the wallet".to_owned()),
        status_after: "deleted".to_owned(),
        created_at: at(now),
    }
}

/// How `walk` looks at the count after each step.
#[derive(Clone, Copy)]
enum Look<'a> {
    /// Through the card limit (`holds`): on both backends.
    Limit,
    /// The SQLite file's own rows, which the triggers keep exact.
    Rows(&'a std::path::Path),
}

/// After `step`, user-1 holds `live` live cards.
async fn look(store: &dyn Store, how: Look<'_>, step: &str, live: u32, now: i64) {
    match how {
        Look::Limit => holds(store, &"user-1".into(), live, now, step).await,
        Look::Rows(path) => {
            let (counted, rows) = sqlite_rows::counts(path, "user-1");
            assert_eq!(counted, rows, "after {step}");
            // The code run out is still a pending row until a
            // reservation ends it.
            let stale = i64::from(step == "a code run out");
            assert_eq!(counted, i64::from(live) + stale, "after {step}");
        }
    }
}

/// Every path that makes one of user-1's cards live or ends it, in turn;
/// after each, a `look` at the count.
async fn walk(store: &dyn Store, how: Look<'_>) -> UserId {
    let check = async |step: &str, live: u32, now: i64| look(store, how, step, live, now).await;
    let user_id = user(store, "1").await;
    check("nothing", 0, 900).await;
    bind(store, &user_id, "a", "fa", 1_000).await;
    check("a binding", 1, 1_010).await;
    bind_pending(store, &user_id, "b", "fb", 1_100, 90_000).await;
    check("a pending binding", 2, 1_110).await;
    assert!(
        store
            .finish_otp(&"b".into(), OtpOutcome::Verified, at(1_200))
            .await
            .unwrap()
    );
    check("a code verified", 2, 1_210).await;
    bind_pending(store, &user_id, "c", "fc", 1_300, 90_000).await;
    assert!(
        store
            .finish_otp(&"c".into(), OtpOutcome::Failed, at(1_400))
            .await
            .unwrap()
    );
    check("a code failed", 2, 1_410).await;
    bind_pending(store, &user_id, "d", "fd", 1_500, 90_000).await;
    assert!(
        store
            .finish_otp(&"d".into(), OtpOutcome::Expired, at(1_600))
            .await
            .unwrap()
    );
    check("a code expired", 2, 1_610).await;
    // Its code runs out at 5_000 and nothing ends it: the next
    // reservation after that does.
    bind_pending(store, &user_id, "e", "fe", 1_700, 5_000).await;
    check("a code waiting", 3, 4_990).await;
    check("a code run out", 2, 5_000).await;
    let released = new_card("r", &user_id, "fr", 5_100);
    assert_eq!(
        store
            .reserve_card(&released, &ReserveLimits::cards(10), at(5_100))
            .await
            .unwrap(),
        Reserve::Reserved
    );
    store.release_card(&released.id).await.unwrap();
    check("a reservation released", 2, 5_110).await;
    assert!(
        store
            .unbind_card(&user_id, &"a".into(), at(5_200))
            .await
            .unwrap()
    );
    check("an unbinding", 1, 5_210).await;
    bind(store, &user_id, "f", "ff", 5_300).await;
    assert!(
        store
            .delete_token(&token_deleted("f", 5_400))
            .await
            .unwrap()
    );
    check("a token deleted", 1, 5_410).await;
    bind(store, &user_id, "g", "fg", 5_500).await;
    let close = IssuerChange {
        card_id: "g".to_owned().into(),
        occurred_at: at(5_600),
        kind: IssuerChangeKind::Close,
        reason: Some("closed by the bank".to_owned()),
        now: at(5_600),
    };
    assert_eq!(
        store.apply_issuer_change(&close).await.unwrap(),
        IssuerApply::Applied
    );
    check("an issuer's closure", 1, 5_610).await;
    // A key rotation rewrites every card's ciphertext, and no status.
    let sealed = store
        .sealed_batch(SealedTable::Cards, "", 2, 100)
        .await
        .unwrap();
    assert!(!sealed.is_empty());
    let resealed: Vec<_> = sealed
        .into_iter()
        .map(|row| {
            let new = Sealed {
                key_version: 2,
                blob: vec![0x5A; 48],
            };
            (row, new)
        })
        .collect();
    let progress = ReencryptionProgress {
        table: SealedTable::Cards,
        target_version: 2,
        after_key: "g".to_owned(),
        resealed: 0,
        started_at: at(5_700),
        updated_at: at(5_700),
        finished_at: None,
    };
    assert!(store.write_resealed(&resealed, &progress).await.unwrap() > 0);
    check("a key rotation", 1, 5_710).await;
    bind(store, &user_id, "h", "fh", 5_800).await;
    bind_pending(store, &user_id, "i", "fi", 5_800, 90_000).await;
    check("two more", 3, 5_810).await;
    let closure = AccountClosure {
        user_id: user_id.clone(),
        closed_by: ClosedBy::Holder,
        key_id: None,
        reason: None,
        closed_at: at(6_000),
        purged_at: None,
    };
    assert!(store.close_account(&closure).await.unwrap());
    check("the account's closure", 0, 6_010).await;
    user_id
}

async fn every_path_keeps_the_count(store: Arc<dyn Store>) {
    walk(&*store, Look::Limit).await;
}

/// A seed writes cards without reservations, here into a wallet whose
/// count a reservation had already read: they count all the same.
async fn seeded_cards_count(store: Arc<dyn Store>) {
    let user_id = user(&*store, "7").await;
    bind(&*store, &user_id, "a", "fa", 1_000).await;
    holds(&*store, &user_id, 1, 2_000, "a binding").await;
    let seeded = |card_id: &str| SeededCard {
        card: new_card(card_id, "user-7", &format!("fp-{card_id}"), 5_000),
        completion: completion(card_id, "user-7", "active", None, 5_000),
        attempt: AttemptRecord {
            client_gone: false,
            card_id: Some(card_id.to_owned().into()),
            outcome: AttemptOutcome::Success,
            error_code: None,
            ..attempt(&format!("trace-{card_id}"), "user-7", 5_000)
        },
        is_default: false,
    };
    let batch = SeedBatch {
        users: Vec::new(),
        cards: vec![seeded("s1"), seeded("s2"), seeded("s3")],
    };
    store.seed_batch(&batch).await.unwrap();
    holds(&*store, &user_id, 4, 6_000, "a seed").await;
}

/// A burst for a wallet one card short of its limit: exactly one binding
/// gets the last slot, however the requests race.
async fn a_burst_at_the_limit_takes_one(store: Arc<dyn Store>) {
    let user_id = user(&*store, "1").await;
    for n in 0..4 {
        bind(
            &*store,
            &user_id,
            &format!("a{n}"),
            &format!("fa{n}"),
            1_000,
        )
        .await;
    }
    let mut tasks = Vec::new();
    for n in 0..50 {
        let store = store.clone();
        let user_id = user_id.clone();
        tasks.push(tokio::spawn(async move {
            let card = new_card(&format!("c{n:02}"), &user_id, &format!("fc{n}"), 2_000);
            store
                .reserve_card(&card, &ReserveLimits::cards(5), at(2_000))
                .await
                .unwrap()
        }));
    }
    let mut reserved = 0;
    for task in tasks {
        match task.await.unwrap() {
            Reserve::Reserved => reserved += 1,
            Reserve::LimitReached { live_cards } => assert_eq!(live_cards, 5),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(reserved, 1);
    assert_eq!(store.list_cards(&user_id).await.unwrap().len(), 4);
}

on_both_backends!(
    every_path_keeps_the_count,
    seeded_cards_count,
    a_burst_at_the_limit_takes_one
);

mod sqlite_rows {
    use super::*;

    /// (users.live_cards, the user's cards in a live status).
    pub(super) fn counts(path: &std::path::Path, user_id: &str) -> (i64, i64) {
        rusqlite::Connection::open(path)
            .unwrap()
            .query_row(
                "SELECT live_cards, (SELECT COUNT(*) FROM cards WHERE user_id = ?1 \
                 AND status IN ('pending_verification', 'active')) FROM users WHERE id = ?1",
                [user_id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap()
    }

    /// On SQLite the triggers keep the count exact: the cards in a live
    /// status, a code run out included until something ends it.
    #[tokio::test]
    async fn every_path_keeps_the_count_exact() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tessera.db");
        let store = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap();
        let user_id = walk(&store, Look::Rows(&path)).await;
        // A purge of the closed account deletes its cards, none live.
        let cutoffs = RetentionCutoffs {
            attempts_before: at(0),
            sessions_before: at(0),
            sms_codes_before: at(0),
            closed_before: at(7_000),
            now: at(7_000),
        };
        let purged = store.purge_retained(&cutoffs).await.unwrap();
        assert_eq!(purged.closed_accounts, 1);
        assert_eq!(store.list_cards(&user_id).await.unwrap().len(), 0);
        assert_eq!(counts(&path, "user-1"), (0, 0));
        store.close().await;
    }

    /// Turns a database back into one the previous release left: without
    /// migration 0026's columns and triggers.
    const BEFORE_0026: &[&str] = &[
        "DROP TRIGGER cards_live_inserted",
        "DROP TRIGGER cards_live_deleted",
        "DROP TRIGGER cards_live_changed",
        "DROP TRIGGER otp_challenges_live_due",
        "DROP TRIGGER otp_challenges_live_due_sooner",
        "ALTER TABLE users DROP COLUMN live_cards",
        "ALTER TABLE users DROP COLUMN live_due",
        "DELETE FROM schema_migrations WHERE version = 26",
    ];

    /// The migration counts the cards stored before it, and the limit
    /// holds on those counts.
    #[tokio::test]
    async fn the_migration_counts_stored_cards() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tessera.db");
        let store = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap();
        let one = user(&store, "1").await;
        let two = user(&store, "2").await;
        bind(&store, &one, "a", "fa", 1_000).await;
        bind(&store, &one, "b", "fb", 1_000).await;
        bind_pending(&store, &one, "c", "fc", 1_000, 5_000).await;
        assert!(
            store
                .unbind_card(&one, &"b".into(), at(1_100))
                .await
                .unwrap()
        );
        bind(&store, &two, "d", "fd", 1_000).await;
        store.close().await;
        let conn = rusqlite::Connection::open(&path).unwrap();
        for sql in BEFORE_0026 {
            conn.execute(sql, []).unwrap();
        }
        drop(conn);

        let store = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap();
        assert_eq!(counts(&path, "user-1"), (2, 2));
        assert_eq!(counts(&path, "user-2"), (1, 1));
        holds(&store, &one, 2, 2_000, "the migration").await;
        // The pending card's code was due at 5_000: it leaves the wallet.
        holds(&store, &one, 1, 5_000, "the migration's due time").await;
        assert_eq!(counts(&path, "user-1"), (1, 1));
        store.close().await;
    }
}
