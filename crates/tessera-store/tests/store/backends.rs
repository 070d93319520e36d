//! What only one backend has: SQLite's file, writer and in-memory
//! reservations; PostgreSQL's migrations across nodes, its durability
//! settings and its connections.

use crate::*;

mod sqlite {
    use super::*;

    /// Durability must not depend on which pooled connection ran a write.
    #[tokio::test]
    async fn synchronous_is_full_on_every_connection() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("tessera.db"), SqliteOptions::default())
            .await
            .unwrap();
        let levels = store.synchronous_levels().await.unwrap();
        assert!(!levels.is_empty());
        assert!(levels.iter().all(|level| *level == 2), "{levels:?}");
        store.close().await;
    }

    /// The database, its WAL and its shared-memory file are the owner's
    /// alone: made so when new, tightened when an older version left them
    /// readable (SQLite gives the WAL and SHM the database file's mode).
    #[tokio::test]
    async fn database_files_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let mode =
            |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tessera.db");
        let store = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap();
        user(&store, "1").await;
        let files = SqliteStore::database_files(&path);
        for file in &files {
            assert_eq!(mode(file), 0o600, "{}", file.display());
        }
        store.close().await;
        for file in files.iter().filter(|f| f.exists()) {
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        let store = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap();
        for file in &files {
            assert_eq!(mode(file), 0o600, "{}", file.display());
        }
        assert!(store.user_by_id(&"user-1".into()).await.unwrap().is_some());
        store.close().await;
    }

    /// Reopening an existing database keeps its data and migrates nothing.
    #[tokio::test]
    async fn reopen_keeps_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tessera.db");
        let store = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap();
        user(&store, "1").await;
        store.close().await;
        let store = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap();
        assert!(store.has_data().await.unwrap());
        assert!(store.user_by_id(&"user-1".into()).await.unwrap().is_some());
        store.close().await;
    }

    /// Limits are counted in the writer's memory: a reopened store reads
    /// the hits back from their log, so a restart lifts no limit, and a
    /// refused claim logs nothing.
    #[tokio::test]
    async fn limits_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tessera.db");
        let card = [tessera_store::LimitBucket {
            bucket: "card:a".to_owned(),
            limit: 2,
        }];
        let window = TimeDelta::seconds(10);
        let store = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap();
        for now in [1_000, 2_000] {
            let claim = store.claim_limits(&card, window, at(now)).await.unwrap();
            assert_eq!(claim, tessera_store::LimitClaim::Counted);
        }
        store.close().await;
        let store = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap();
        let refused = tessera_store::LimitClaim::Refused {
            index: 0,
            free_at: at(11_000),
        };
        assert_eq!(
            store.claim_limits(&card, window, at(3_000)).await.unwrap(),
            refused
        );
        store.close().await;
        let logged: i64 = rusqlite::Connection::open(&path)
            .unwrap()
            .query_row("SELECT COUNT(*) FROM limit_hits", [], |row| row.get(0))
            .unwrap();
        assert_eq!(logged, 2, "the refusal logged no hit");
        let store = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap();
        let claim = store.claim_limits(&card, window, at(11_000)).await.unwrap();
        assert_eq!(
            claim,
            tessera_store::LimitClaim::Counted,
            "the first hit left"
        );
        store.close().await;
    }

    /// A database migrated by a newer Tessera is refused, not guessed at.
    #[tokio::test]
    async fn migrations_refuse_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tessera.db");
        let store = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap();
        store.close().await;
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute("INSERT INTO schema_migrations (version) VALUES (999)", [])
            .unwrap();
        let error = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap_err();
        assert!(matches!(error, StoreError::Corrupt(_)), "{error:?}");
    }

    /// The writer never checkpoints (a commit must not wait for one): the
    /// checkpointer thread copies committed pages into the database file
    /// by itself, so the file alone, without its WAL, holds them soon after.
    #[tokio::test]
    async fn checkpoints_reach_the_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tessera.db");
        let store = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap();
        user(&store, "1").await;
        let copy = dir.path().join("copy.db");
        let mut found = false;
        for _ in 0..100 {
            // The main file only: what a checkpoint has written there.
            std::fs::copy(&path, &copy).unwrap();
            let conn = rusqlite::Connection::open(&copy).unwrap();
            let users: i64 = conn
                .query_row(
                    "SELECT COUNT(*) FROM users WHERE id = 'user-1'",
                    [],
                    |row| row.get(0),
                )
                .unwrap();
            drop(conn);
            if users == 1 {
                found = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(
            found,
            "no checkpoint copied the user into the database file"
        );
        store.close().await;
    }

    /// A reservation is held by the writer, not written: the database has
    /// no row for it, yet it holds its card and its slot.
    #[tokio::test]
    async fn reservations_are_held_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tessera.db");
        let store = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap();
        let user_id = user(&store, "1").await;
        let cards_in_file = |path: &std::path::Path| {
            let conn = rusqlite::Connection::open(path).unwrap();
            conn.query_row("SELECT COUNT(*) FROM cards", [], |row| row.get::<_, i64>(0))
                .unwrap()
        };
        let held = new_card("held", &user_id, "fh", 1_000);
        assert_eq!(
            store
                .reserve_card(&held, &ReserveLimits::cards(3), at(1_000))
                .await
                .unwrap(),
            Reserve::Reserved
        );
        assert_eq!(cards_in_file(&path), 0, "a reservation wrote a row");
        let same_as_held = new_card("twice", &user_id, "fh", 5_000);
        assert_eq!(
            store
                .reserve_card(&same_as_held, &ReserveLimits::cards(3), at(5_000))
                .await
                .unwrap(),
            Reserve::InProgress
        );
        let second = new_card("second", &user_id, "f2", 5_000);
        assert_eq!(
            store
                .reserve_card(&second, &ReserveLimits::cards(1), at(5_000))
                .await
                .unwrap(),
            Reserve::LimitReached { live_cards: 1 },
            "the held reservation takes its slot"
        );

        // Completing writes the card, once, as it is bound.
        assert!(
            store
                .complete_binding(&completion("held", &user_id, "active", None, 11_000))
                .await
                .unwrap()
        );
        assert!(
            !store
                .complete_binding(&completion("held", &user_id, "active", None, 11_001))
                .await
                .unwrap(),
            "completed twice"
        );
        let bound = store.card(&user_id, &"held".into()).await.unwrap().unwrap();
        assert_eq!(
            (bound.status.as_str(), bound.created_at, bound.updated_at),
            ("active", at(1_000), at(11_000))
        );

        // Bound meanwhile by another process on the same file (a second
        // server, against the rule): the unique index refuses the
        // completion, which ends like a lost reservation and writes
        // nothing, and the next reservation hears the card is bound.
        let raced = new_card("raced", &user_id, "fr", 12_000);
        assert_eq!(
            store
                .reserve_card(&raced, &ReserveLimits::cards(5), at(12_000))
                .await
                .unwrap(),
            Reserve::Reserved
        );
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute(
                "INSERT INTO cards (id, user_id, status, pan_fingerprint, first6, last4, \
                 pan_length, brand, holder_name, par, created_at, updated_at) \
                 VALUES ('elsewhere', ?1, 'active', 'fr', '622202', '1234', 19, 'unionpay', \
                 '张三', 'par-fr', 12000, 12000)",
                [user_id.as_str()],
            )
            .unwrap();
        }
        assert!(
            !store
                .complete_binding(&completion("raced", &user_id, "active", None, 12_001))
                .await
                .unwrap()
        );
        assert!(
            store
                .card(&user_id, &"raced".into())
                .await
                .unwrap()
                .is_none()
        );
        let again = new_card("raced-2", &user_id, "fr", 12_002);
        assert_eq!(
            store
                .reserve_card(&again, &ReserveLimits::cards(5), at(12_002))
                .await
                .unwrap(),
            Reserve::AlreadyBound {
                card_id: "elsewhere".to_owned().into(),
                status: CardStatus::Active
            }
        );
        store.close().await;
    }

    /// After `close`, the writer is gone: a write fails at once with a
    /// clear error instead of waiting, and changes nothing.
    #[tokio::test]
    async fn writes_after_close_fail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tessera.db");
        let store = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap();
        store.close().await;
        let error = store.create_user(&new_user("2")).await.unwrap_err();
        assert!(
            matches!(&error, StoreError::Unavailable(message) if message.contains("writer has stopped")),
            "{error:?}"
        );
        let store = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap();
        assert!(store.user_by_id(&"user-2".into()).await.unwrap().is_none());
        store.close().await;
    }
}

mod postgres {
    use super::*;

    /// Several nodes starting at once against an empty database: one applies
    /// the migrations, the others wait and find them applied.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn migrations_nodes_start_at_once() {
        let Some(database) = TestDatabase::create().await else {
            return;
        };
        database
            .run(|url| async move {
                let mut nodes = Vec::new();
                for _ in 0..6 {
                    let url = url.clone();
                    nodes.push(tokio::spawn(async move {
                        PgStore::connect(&url, PgOptions::default()).await
                    }));
                }
                let mut stores = Vec::new();
                for node in nodes {
                    stores.push(node.await.unwrap().unwrap());
                }
                let versions: Vec<i64> =
                    sqlx::query_scalar("SELECT version FROM schema_migrations ORDER BY version")
                        .fetch_all(stores[0].pool())
                        .await
                        .unwrap();
                assert_eq!(versions, tessera_store::postgres::migration_versions());
                // Each node sees the one schema.
                user(&stores[0], "1").await;
                assert!(stores[5].has_data().await.unwrap());
                // And a node started later just works.
                let late = PgStore::connect(&url, PgOptions::default()).await.unwrap();
                assert!(late.user_by_id(&"user-1".into()).await.unwrap().is_some());
                for store in stores {
                    store.close().await;
                }
                late.close().await;
            })
            .await;
    }

    #[tokio::test]
    async fn migrations_refuse_a_newer_schema() {
        let Some(database) = TestDatabase::create().await else {
            return;
        };
        database
            .run(|url| async move {
                let store = PgStore::connect(&url, PgOptions::default()).await.unwrap();
                sqlx::query("INSERT INTO schema_migrations (version) VALUES (999)")
                    .execute(store.pool())
                    .await
                    .unwrap();
                store.close().await;
                let error = PgStore::connect(&url, PgOptions::default())
                    .await
                    .unwrap_err();
                assert!(matches!(error, StoreError::Corrupt(_)), "{error:?}");
            })
            .await;
    }

    /// Durability does not hang on the server's defaults: a database set to
    /// synchronous_commit=off still gets "on" on every pooled connection.
    #[tokio::test]
    async fn synchronous_commit_is_on_whatever_the_default() {
        let Some(database) = TestDatabase::create().await else {
            return;
        };
        let name = database.name().to_owned();
        database
            .run(|url| async move {
                let store = PgStore::connect(&url, PgOptions::default()).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "ALTER DATABASE \"{name}\" SET synchronous_commit = off"
                )))
                .execute(store.pool())
                .await
                .unwrap();
                store.close().await;
                let store = PgStore::connect(&url, PgOptions::default()).await.unwrap();
                let mut held = Vec::new();
                for _ in 0..3 {
                    let mut conn = store.pool().acquire().await.unwrap();
                    let level: String = sqlx::query_scalar("SHOW synchronous_commit")
                        .fetch_one(&mut *conn)
                        .await
                        .unwrap();
                    assert_eq!(level, "on");
                    held.push(conn);
                }
                drop(held);
                assert_eq!(store.durability().await.unwrap(), ["synchronous_commit=on"]);
                store.close().await;
            })
            .await;
    }

    /// A reservation and its release commit without waiting for their WAL
    /// flush, but only their own transaction: the connection that ran them
    /// (the only one here) is back to synchronous_commit=on for the
    /// completion and every later write.
    #[tokio::test]
    async fn unflushed_commits_stay_in_their_transaction() {
        let Some(database) = TestDatabase::create().await else {
            return;
        };
        database
            .run(|url| async move {
                let options = PgOptions {
                    max_connections: 1,
                    ..PgOptions::default()
                };
                let store = PgStore::connect(&url, options).await.unwrap();
                let user_id = user(&store, "1").await;
                let card = new_card("c1", &user_id, "fp1", 1_000);
                assert_eq!(
                    store
                        .reserve_card(&card, &ReserveLimits::cards(5), at(1_000))
                        .await
                        .unwrap(),
                    Reserve::Reserved
                );
                assert_eq!(store.durability().await.unwrap(), ["synchronous_commit=on"]);
                store.release_card(&"c1".into()).await.unwrap();
                assert_eq!(store.durability().await.unwrap(), ["synchronous_commit=on"]);
                // Released for good: the slot and the card are free again.
                assert_eq!(
                    store
                        .reserve_card(&card, &ReserveLimits::cards(5), at(1_001))
                        .await
                        .unwrap(),
                    Reserve::Reserved
                );
                store.close().await;
            })
            .await;
    }

    /// Nothing listening: Unavailable (503), not an internal error.
    #[tokio::test]
    async fn unreachable_database_is_unavailable() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let options = PgOptions {
            acquire_timeout: std::time::Duration::from_secs(2),
            ..PgOptions::default()
        };
        let error = PgStore::connect(&format!("postgres://postgres@127.0.0.1:{port}/x"), options)
            .await
            .unwrap_err();
        assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    }

    /// Connections kept warm between operations never starve an operation
    /// waiting for one: far more operations than connections at once, some
    /// keeping their connection warm and some handing it back to the pool,
    /// all get one well within the acquire timeout.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn warm_connections_starve_no_waiter() {
        let Some(database) = TestDatabase::create().await else {
            return;
        };
        database
            .run(|url| async move {
                let options = PgOptions {
                    max_connections: 2,
                    acquire_timeout: std::time::Duration::from_secs(5),
                    ..PgOptions::default()
                };
                let store = PgStore::connect(&url, options).await.unwrap();
                store
                    .put_setting("maintenance", "off", at(1))
                    .await
                    .unwrap();
                let mut tasks = Vec::new();
                for n in 0..48 {
                    let store = store.clone();
                    tasks.push(tokio::spawn(async move {
                        for _ in 0..20 {
                            let value = store.setting("maintenance").await.unwrap();
                            assert_eq!(value.as_deref(), Some("off"));
                            if n % 3 == 0 {
                                assert!(store.login_failures("nobody").await.unwrap().is_none());
                            }
                        }
                    }));
                }
                for task in tasks {
                    task.await.unwrap();
                }
                // The pool itself is still there for tools.
                let one: i32 = sqlx::query_scalar("SELECT 1")
                    .fetch_one(store.pool())
                    .await
                    .unwrap();
                assert_eq!(one, 1);
                store.close().await;
            })
            .await;
    }

    /// Closing while operations are still running: those that finish
    /// after it give their connections back instead of keeping them warm,
    /// so the close does not wait for the pool's idle timeout (ten
    /// minutes) before it returns.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn close_waits_for_no_operation_that_finished_after_it() {
        let Some(database) = TestDatabase::create().await else {
            return;
        };
        database
            .run(|url| async move {
                let store = Arc::new(PgStore::connect(&url, PgOptions::default()).await.unwrap());
                store
                    .put_setting("maintenance", "off", at(1))
                    .await
                    .unwrap();
                let tasks: Vec<_> = (0..40)
                    .map(|_| {
                        let store = Arc::clone(&store);
                        tokio::spawn(async move {
                            // Until the store refuses: it has closed.
                            while store.setting("maintenance").await.is_ok() {}
                        })
                    })
                    .collect();
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                let closed =
                    tokio::time::timeout(std::time::Duration::from_secs(60), store.close()).await;
                assert!(closed.is_ok(), "the close still waits for a connection");
                for task in tasks {
                    task.await.unwrap();
                }
            })
            .await;
    }

    /// The database goes away behind a TCP proxy and comes back: requests
    /// meanwhile fail as Unavailable within the acquire timeout, and the
    /// same store serves again afterwards without being reopened.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn recovers_when_the_database_returns() {
        let Some(database) = TestDatabase::create().await else {
            return;
        };
        database
            .run(|url| async move {
                let proxy = Proxy::start(server_address(&url)).await;
                let proxied = proxied_url(&url, proxy.port);
                let options = PgOptions {
                    max_connections: 2,
                    acquire_timeout: std::time::Duration::from_secs(2),
                    ..PgOptions::default()
                };
                let store = PgStore::connect(&proxied, options).await.unwrap();
                store.put_setting("maintenance", "on", at(1)).await.unwrap();

                proxy.cut();
                let started = std::time::Instant::now();
                let error = store.setting("maintenance").await.unwrap_err();
                assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
                let error = store.ping().await.unwrap_err();
                assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
                assert!(started.elapsed() < std::time::Duration::from_secs(15));

                proxy.restore();
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
                loop {
                    match store.setting("maintenance").await {
                        Ok(value) => {
                            assert_eq!(value.as_deref(), Some("on"));
                            break;
                        }
                        Err(error) if std::time::Instant::now() < deadline => {
                            assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
                            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        }
                        Err(error) => panic!("not back after the database returned: {error:?}"),
                    }
                }
                store.ping().await.unwrap();
                store.close().await;
            })
            .await;
    }

    /// The pool's use as `/metrics` shows it: an operation waiting on a
    /// lock holds a connection, and gives it back when it ends.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn pool_use_counts_the_connections_operations_hold() {
        let Some(database) = TestDatabase::create().await else {
            return;
        };
        database
            .run(|url| async move {
                use sqlx::Connection;
                let options = PgOptions {
                    max_connections: 3,
                    ..PgOptions::default()
                };
                let store = PgStore::connect(&url, options).await.unwrap();
                user(&store, "1").await;
                let used = store.pool_use();
                assert_eq!((used.in_use, used.max), (0, Some(3)), "{used:?}");
                assert!(used.idle >= 1, "{used:?}");

                let mut locker = sqlx::PgConnection::connect(&url).await.unwrap();
                let mut lock = locker.begin().await.unwrap();
                sqlx::query("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
                    .execute(&mut *lock)
                    .await
                    .unwrap();
                let blocked = tokio::spawn({
                    let store = store.clone();
                    async move { store.has_data().await }
                });
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
                while store.pool_use().in_use != 1 {
                    assert!(
                        std::time::Instant::now() < deadline,
                        "{:?}",
                        store.pool_use()
                    );
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
                lock.commit().await.unwrap();
                assert!(blocked.await.unwrap().unwrap());
                let used = store.pool_use();
                assert_eq!(used.in_use, 0, "{used:?}");
                assert!(used.idle >= 1, "{used:?}");
                store.close().await;
            })
            .await;
    }

    /// A URL naming several hosts, the first of them down: the store finds
    /// the one that answers as a primary and writes there.
    #[tokio::test]
    async fn a_url_of_several_hosts_writes_to_the_primary() {
        let Some(database) = TestDatabase::create().await else {
            return;
        };
        database
            .run(|url| async move {
                let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                let down = listener.local_addr().unwrap().port();
                drop(listener);
                let at = url.find('@').unwrap();
                let several = format!("{}@127.0.0.1:{down},{}", &url[..at], &url[at + 1..]);
                let store = PgStore::connect(&several, PgOptions::default())
                    .await
                    .unwrap();
                user(&store, "1").await;
                assert!(store.has_data().await.unwrap());
                store.close().await;

                // No host answering: unavailable within the acquire timeout.
                let options = PgOptions {
                    acquire_timeout: std::time::Duration::from_secs(1),
                    ..PgOptions::default()
                };
                let none = format!(
                    "{}@127.0.0.1:{down},127.0.0.1:{down}/x",
                    &url[..at]
                );
                let error = PgStore::connect(&none, options).await.unwrap_err();
                assert!(
                    matches!(&error, StoreError::Unavailable(m) if m.contains("no database host is a primary")),
                    "{error:?}"
                );
            })
            .await;
    }

    /// One confirmation presented 50 times at once through two stores, as
    /// two nodes hold them: used exactly once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_verification_is_used_once_across_nodes() {
        let Some(database) = TestDatabase::create().await else {
            return;
        };
        database
            .run(|url| async move {
                let a = PgStore::connect(&url, PgOptions::default()).await.unwrap();
                let b = PgStore::connect(&url, PgOptions::default()).await.unwrap();
                let user_id = user(&a, "1").await;
                a.create_verification(&tessera_store::VerificationRecord {
                    token_hash: "v1".to_owned(),
                    user_id: user_id.clone(),
                    purpose: "unbind_card".to_owned(),
                    scope: "card-1".to_owned(),
                    method: "payment_password".to_owned(),
                    expires_at: at(10_000),
                    created_at: at(1_000),
                })
                .await
                .unwrap();
                let barrier = Arc::new(tokio::sync::Barrier::new(50));
                let tasks: Vec<_> = (0..50)
                    .map(|i| {
                        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
                        let (user_id, barrier) = (user_id.clone(), barrier.clone());
                        tokio::spawn(async move {
                            barrier.wait().await;
                            store
                                .use_verification(
                                    "v1",
                                    &user_id,
                                    "unbind_card",
                                    "card-1",
                                    at(2_000),
                                )
                                .await
                                .unwrap()
                                .is_some()
                        })
                    })
                    .collect();
                let mut uses = 0;
                for task in tasks {
                    uses += usize::from(task.await.unwrap());
                }
                assert_eq!(uses, 1);
                a.close().await;
                b.close().await;
            })
            .await;
    }
}
