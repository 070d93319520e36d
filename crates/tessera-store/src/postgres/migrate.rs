//! Embedded migrations for PostgreSQL, applied at start. Many nodes may
//! start at once against one database: a transaction-level advisory lock
//! makes them take turns, so exactly one applies each migration and the
//! others find the schema current. A database newer than this binary is
//! refused rather than guessed at.

use futures_util::TryStreamExt;
use sqlx::PgPool;

use crate::StoreResult;
use crate::data_migrations::{FREE_TEXT, MASK_CARD_NUMBERS, masked};
use crate::decisions::pending_migrations;

/// (version, SQL), in order. Append only: a released migration is never
/// edited, only followed by a new one (`released_migrations.rs` pins each
/// one's checksum). Every version the database lacks is applied, in order,
/// so that migrations written on parallel branches apply whichever lands
/// first.
pub(crate) const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        include_str!("../../migrations/postgres/0001_baseline.sql"),
    ),
    (
        2,
        include_str!("../../migrations/postgres/0002_client_request_id.sql"),
    ),
    (
        3,
        include_str!("../../migrations/postgres/0003_key_scopes.sql"),
    ),
    (
        4,
        include_str!("../../migrations/postgres/0004_otp_comparisons.sql"),
    ),
    (
        5,
        include_str!("../../migrations/postgres/0005_attempt_limits.sql"),
    ),
    (
        6,
        include_str!("../../migrations/postgres/0006_session_ids.sql"),
    ),
    (
        7,
        include_str!("../../migrations/postgres/0007_sms_codes.sql"),
    ),
    (
        8,
        include_str!("../../migrations/postgres/0008_data_migrations.sql"),
    ),
    (
        9,
        include_str!("../../migrations/postgres/0009_users_id_number.sql"),
    ),
    (
        10,
        include_str!("../../migrations/postgres/0010_reserve_with_limits.sql"),
    ),
    (
        11,
        include_str!("../../migrations/postgres/0011_limits_by_advisory_lock.sql"),
    ),
    (
        12,
        include_str!("../../migrations/postgres/0012_binding_writes.sql"),
    ),
    (
        13,
        include_str!("../../migrations/postgres/0013_live_card_counts.sql"),
    ),
    (
        14,
        include_str!("../../migrations/postgres/0014_client_gone.sql"),
    ),
    (
        15,
        include_str!("../../migrations/postgres/0015_payment_client_gone.sql"),
    ),
    (
        16,
        include_str!("../../migrations/postgres/0016_payment_passwords.sql"),
    ),
    (
        17,
        include_str!("../../migrations/postgres/0017_refunds.sql"),
    ),
    (
        18,
        include_str!("../../migrations/postgres/0018_consent_and_reports.sql"),
    ),
    (
        19,
        include_str!("../../migrations/postgres/0019_card_wallets_and_reissue.sql"),
    ),
    (
        20,
        include_str!("../../migrations/postgres/0020_transfers.sql"),
    ),
    (
        21,
        include_str!("../../migrations/postgres/0021_support_desk.sql"),
    ),
    (
        22,
        include_str!("../../migrations/postgres/0022_ticket_conversations.sql"),
    ),
    (
        23,
        include_str!("../../migrations/postgres/0023_timeline.sql"),
    ),
    (
        24,
        include_str!("../../migrations/postgres/0024_payments_by_trace.sql"),
    ),
    (
        25,
        include_str!("../../migrations/postgres/0025_console_sessions.sql"),
    ),
    (
        26,
        include_str!("../../migrations/postgres/0026_payment_updates_heap_only.sql"),
    ),
    (
        27,
        include_str!("../../migrations/postgres/0027_account_closures.sql"),
    ),
    (
        28,
        include_str!("../../migrations/postgres/0028_audit_chain.sql"),
    ),
    (
        29,
        include_str!("../../migrations/postgres/0029_no_binding_after_closure.sql"),
    ),
    (
        30,
        include_str!("../../migrations/postgres/0030_vault_data_keys.sql"),
    ),
];

/// The advisory lock every Tessera node takes while it checks and applies
/// migrations ("TESSERA" + 'M' as bytes). Released by the commit.
const MIGRATION_LOCK: i64 = 0x5445_5353_4552_414D;

/// The schema versions this binary applies, in order.
pub fn versions() -> Vec<i64> {
    MIGRATIONS.iter().map(|(version, _)| *version).collect()
}

pub async fn run(pool: &PgPool) -> StoreResult<()> {
    // DDL is transactional in PostgreSQL: the lock, the check and every
    // pending migration commit together or not at all.
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *tx)
        .await?;
    // Checked rather than CREATE TABLE IF NOT EXISTS, whose notice every
    // later start would log; the lock makes check-then-create safe.
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('schema_migrations') IS NOT NULL")
        .fetch_one(&mut *tx)
        .await?;
    if !exists {
        sqlx::query(
            "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, \
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        )
        .execute(&mut *tx)
        .await?;
    }
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
        .fetch_all(&mut *tx)
        .await?;
    for (version, sql) in pending_migrations(MIGRATIONS, &applied)? {
        sqlx::raw_sql(sqlx::AssertSqlSafe(*sql))
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO schema_migrations (version) VALUES ($1)")
            .bind(version)
            .execute(&mut *tx)
            .await?;
        tracing::info!(version, "applied PostgreSQL migration");
    }
    mask_card_numbers(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Masks card numbers in every free-text column, once per database
/// (`data_migrations.rs`), inside the migrations' transaction and lock.
/// Rows are found by ctid, which holds still within the transaction for
/// rows it changes; only the values that change are kept in memory.
async fn mask_card_numbers(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>) -> StoreResult<()> {
    let done: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM data_migrations WHERE name = $1)")
            .bind(MASK_CARD_NUMBERS)
            .fetch_one(&mut **tx)
            .await?;
    if done {
        return Ok(());
    }
    let mut rows_changed = 0i64;
    for (table, column, kind) in FREE_TEXT {
        let changes: Vec<(String, String)> = {
            let select =
                format!("SELECT ctid::text, {column} FROM {table} WHERE {column} IS NOT NULL");
            let mut rows =
                sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(select)).fetch(&mut **tx);
            let mut changes = Vec::new();
            while let Some((ctid, value)) = rows.try_next().await? {
                if let Some(masked) = masked(*kind, &value) {
                    changes.push((ctid, masked));
                }
            }
            changes
        };
        let update = format!("UPDATE {table} SET {column} = $1 WHERE ctid = $2::tid");
        for (ctid, masked) in &changes {
            sqlx::query(sqlx::AssertSqlSafe(update.as_str()))
                .bind(masked)
                .bind(ctid)
                .execute(&mut **tx)
                .await?;
        }
        rows_changed += i64::try_from(changes.len()).unwrap_or(i64::MAX);
    }
    sqlx::query("INSERT INTO data_migrations (name, rows_changed) VALUES ($1, $2)")
        .bind(MASK_CARD_NUMBERS)
        .bind(rows_changed)
        .execute(&mut **tx)
        .await?;
    if rows_changed > 0 {
        tracing::info!(rows_changed, "masked card numbers in stored free text");
    }
    Ok(())
}
