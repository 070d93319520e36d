//! Embedded migrations for PostgreSQL, applied at start. Many nodes may
//! start at once against one database: a transaction-level advisory lock
//! makes them take turns, so exactly one applies each migration and the
//! others find the schema current. A database newer than this binary is
//! refused rather than guessed at.

use sqlx::PgPool;

use crate::StoreResult;
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
    tx.commit().await?;
    Ok(())
}
