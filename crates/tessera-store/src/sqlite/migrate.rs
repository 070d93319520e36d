//! Embedded migrations for SQLite, applied at start in order, each in its
//! own transaction. A database newer than this binary is refused rather than
//! guessed at.

use std::path::Path;
use std::time::Duration;

use super::group_commit::open;
use super::statements::scalar_all;

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
        include_str!("../../migrations/sqlite/0001_baseline.sql"),
    ),
    (
        2,
        include_str!("../../migrations/sqlite/0002_client_request_id.sql"),
    ),
    (
        3,
        include_str!("../../migrations/sqlite/0003_key_scopes.sql"),
    ),
    (
        4,
        include_str!("../../migrations/sqlite/0004_otp_comparisons.sql"),
    ),
    (
        5,
        include_str!("../../migrations/sqlite/0005_attempt_limits.sql"),
    ),
    (
        6,
        include_str!("../../migrations/sqlite/0006_session_ids.sql"),
    ),
    (
        7,
        include_str!("../../migrations/sqlite/0007_sms_codes.sql"),
    ),
];

/// Applies every migration the database at `path` lacks, creating the
/// file if needed.
pub fn run(path: &Path, busy_timeout: Duration) -> StoreResult<()> {
    let mut conn = open(path, busy_timeout, true)?;
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, \
         applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)",
        [],
    )?;
    let applied: Vec<i64> = scalar_all(&conn, "SELECT version FROM schema_migrations", [])?;
    for (version, sql) in pending_migrations(MIGRATIONS, &applied)? {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES (?)",
            [version],
        )?;
        tx.commit()?;
    }
    Ok(())
}
