//! The data migration that masks card numbers in free text written before
//! it was masked: rows written as the previous release wrote them (raw
//! SQL, on a database without migration 0008), masked once the store opens
//! again, and only once.

use crate::*;

/// Free text as the previous release stored it, one row per free-text
/// column, each with a card number in a format that got through.
const UNMASKED_ROWS: &[&str] = &[
    "INSERT INTO support_tickets (id, user_id, trace_id, message, status, details, created_at) \
     VALUES ('tkt_1', 'user-1', 'req_1', '卡号４１１１ １１１１ １１１１ １１１１绑不上', 'open', \
     '{\"trace_id\":\"req_1\",\"attempt\":{\"device\":{\"id\":\"dev-4111111111111111\",\"model\":\"4111.1111.1111.1111\"},\"created_at\":\"2026-12-05T10:00:00Z\"},\"diagnosis\":{\"device\":{\"zh\":\"4111.1111.1111.1111\",\"en\":\"4111.1111.1111.1111\"}}}', 1000)",
    "INSERT INTO token_events (token_ref, kind, actor, reason, status_after, created_at) \
     VALUES ('tok_1', 'suspend', 'cardholder', 'lost 4111/1111/1111/1111', 'suspended', 1000)",
    "INSERT INTO binding_attempts (trace_id, user_id, device, outcome, latency_ms, created_at) \
     VALUES ('req_2', 'user-1', '{\"id\":\"dev-1\",\"model\":\"٤١١١١١١١١١١١١١١١\",\"os\":\"iOS 17\"}', 'error', 5, 1000)",
    "INSERT INTO payments (id, user_id, card_id, token_ref, merchant_key_id, merchant_id, \
     merchant_name, channel, amount, currency, cryptogram_result, status, trace_id, created_at) \
     VALUES ('pay_1', 'user-1', 'card-1', 'tok_1', 'key-1', 'SHOP-1', '店 4111_1111_1111_1111', \
     'nfc', 100, 'CNY', 'verified', 'approved', 'req_3', 1000)",
    "INSERT INTO settings (name, value, updated_at) VALUES ('maintenance', \
     '{\"until\":\"2026-12-05T10:00:00Z\",\"message_zh\":\"4111\u{3000}1111\u{3000}1111\u{3000}1111\",\"message_en\":\"upgrade\"}', 1000)",
    "INSERT INTO idempotency_keys (scope, idem_key, request_fingerprint, state, response_status, \
     response_body, created_at) VALUES ('user:user-1', 'k1', 'fp', 'done', 201, \
     '{\"id\":\"tkt_1\",\"message\":\"4111,1111,1111,1111\",\"created_at\":\"2026-12-05T10:00:00Z\"}', 1000)",
    "INSERT INTO api_keys (id, key_hash, role, label, created_at) \
     VALUES ('key-1', 'kh', 'merchant', 'shop 4111  1111  1111  1111', 1000)",
];

/// (query, what it must read after the migration).
const MASKED: &[(&str, &str)] = &[
    ("SELECT message FROM support_tickets", "卡号****1111绑不上"),
    (
        "SELECT details FROM support_tickets",
        "{\"trace_id\":\"req_1\",\"attempt\":{\"device\":{\"id\":\"dev-4111111111111111\",\"model\":\"****1111\"},\"created_at\":\"2026-12-05T10:00:00Z\"},\"diagnosis\":{\"device\":{\"zh\":\"****1111\",\"en\":\"****1111\"}}}",
    ),
    ("SELECT reason FROM token_events", "lost ****1111"),
    (
        "SELECT device FROM binding_attempts",
        "{\"id\":\"dev-1\",\"model\":\"****1111\",\"os\":\"iOS 17\"}",
    ),
    ("SELECT merchant_name FROM payments", "店 ****1111"),
    (
        "SELECT value FROM settings WHERE name = 'maintenance'",
        "{\"until\":\"2026-12-05T10:00:00Z\",\"message_zh\":\"****1111\",\"message_en\":\"upgrade\"}",
    ),
    (
        "SELECT response_body FROM idempotency_keys",
        "{\"id\":\"tkt_1\",\"message\":\"****1111\",\"created_at\":\"2026-12-05T10:00:00Z\"}",
    ),
    ("SELECT label FROM api_keys", "shop ****1111"),
];

/// Turns a database back into one the previous release left: without
/// migration 0008 and its record of data migrations.
const BEFORE_0008: &[&str] = &[
    "DROP TABLE data_migrations",
    "DELETE FROM schema_migrations WHERE version = 8",
];

const LATE_ROW: &str = "INSERT INTO token_events (token_ref, kind, actor, reason, status_after, \
     created_at) VALUES ('tok_2', 'suspend', 'wallet', 'late 4111/1111/1111/1111', 'suspended', 2000)";

mod sqlite {
    use super::*;

    fn run(path: &std::path::Path, statements: &[&str]) {
        let conn = rusqlite::Connection::open(path).unwrap();
        for sql in statements {
            conn.execute(sql, []).unwrap();
        }
    }

    fn read(path: &std::path::Path, sql: &str) -> String {
        rusqlite::Connection::open(path)
            .unwrap()
            .query_row(sql, [], |row| row.get(0))
            .unwrap()
    }

    #[tokio::test]
    async fn stored_free_text_is_masked_once_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tessera.db");
        let store = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap();
        user(&store, "1").await;
        store.close().await;
        run(&path, BEFORE_0008);
        run(&path, UNMASKED_ROWS);
        assert_eq!(
            read(&path, "SELECT reason FROM token_events"),
            "lost 4111/1111/1111/1111"
        );

        let store = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap();
        store.close().await;
        for (sql, expected) in MASKED {
            assert_eq!(read(&path, sql), *expected, "{sql}");
        }
        assert_eq!(
            read(
                &path,
                "SELECT name || ' ' || rows_changed FROM data_migrations"
            ),
            "mask_card_numbers_v1 8"
        );

        // Recorded: a later start does not run it again.
        run(&path, &[LATE_ROW]);
        let store = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap();
        store.close().await;
        assert_eq!(
            read(
                &path,
                "SELECT reason FROM token_events WHERE token_ref = 'tok_2'"
            ),
            "late 4111/1111/1111/1111"
        );
    }
}

mod postgres {
    use super::*;

    async fn run(pool: &sqlx::PgPool, statements: &[&str]) {
        for sql in statements {
            sqlx::raw_sql(sqlx::AssertSqlSafe(*sql))
                .execute(pool)
                .await
                .unwrap();
        }
    }

    async fn read(pool: &sqlx::PgPool, sql: &str) -> String {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(pool)
            .await
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn stored_free_text_is_masked_once_at_start() {
        let Some(database) = TestDatabase::create().await else {
            return;
        };
        database
            .run(|url| async move {
                let store = PgStore::connect(&url, PgOptions::default()).await.unwrap();
                user(&store, "1").await;
                run(store.pool(), BEFORE_0008).await;
                run(store.pool(), UNMASKED_ROWS).await;
                store.close().await;

                // Several nodes start at once: one masks, under the lock.
                let mut nodes = Vec::new();
                for _ in 0..3 {
                    let url = url.clone();
                    nodes.push(tokio::spawn(async move {
                        PgStore::connect(&url, PgOptions::default()).await
                    }));
                }
                let mut stores = Vec::new();
                for node in nodes {
                    stores.push(node.await.unwrap().unwrap());
                }
                let pool = stores[0].pool().clone();
                for (sql, expected) in MASKED {
                    assert_eq!(read(&pool, sql).await, *expected, "{sql}");
                }
                assert_eq!(
                    read(
                        &pool,
                        "SELECT name || ' ' || rows_changed FROM data_migrations"
                    )
                    .await,
                    "mask_card_numbers_v1 8"
                );

                // Recorded: a later start does not run it again.
                run(&pool, &[LATE_ROW]).await;
                let late = PgStore::connect(&url, PgOptions::default()).await.unwrap();
                assert_eq!(
                    read(
                        &pool,
                        "SELECT reason FROM token_events WHERE token_ref = 'tok_2'"
                    )
                    .await,
                    "late 4111/1111/1111/1111"
                );
                late.close().await;
                for store in stores {
                    store.close().await;
                }
            })
            .await;
    }
}
