//! Embedded migrations for SQLite, applied at start in order, each in its
//! own transaction. A database newer than this binary is refused rather than
//! guessed at.

use std::path::Path;
use std::time::Duration;

use super::group_commit::open;
use super::statements::scalar_all;

use crate::StoreResult;
use crate::data_migrations::{FREE_TEXT, MASK_CARD_NUMBERS, masked};
use crate::decisions::pending_migrations;

/// (version, SQL), in order. Append only: a released migration is never
/// edited, only followed by a new one (`released_migrations.rs` pins each
/// one's checksum). Every version the database lacks is applied, in order,
/// so that migrations written on parallel branches apply whichever lands
/// first.
pub(crate) const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/sqlite/0001_baseline.sql")),
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
    (
        8,
        include_str!("../../migrations/sqlite/0008_data_migrations.sql"),
    ),
    (
        9,
        include_str!("../../migrations/sqlite/0009_users_id_number.sql"),
    ),
    (
        10,
        include_str!("../../migrations/sqlite/0010_limits_in_memory.sql"),
    ),
    (
        11,
        include_str!("../../migrations/sqlite/0011_client_gone.sql"),
    ),
    (
        12,
        include_str!("../../migrations/sqlite/0012_payment_client_gone.sql"),
    ),
    (
        13,
        include_str!("../../migrations/sqlite/0013_payment_passwords.sql"),
    ),
    (14, include_str!("../../migrations/sqlite/0014_refunds.sql")),
    (
        15,
        include_str!("../../migrations/sqlite/0015_consent_and_reports.sql"),
    ),
    (
        16,
        include_str!("../../migrations/sqlite/0016_card_reissued.sql"),
    ),
    (
        17,
        include_str!("../../migrations/sqlite/0017_transfers.sql"),
    ),
    (
        18,
        include_str!("../../migrations/sqlite/0018_support_desk.sql"),
    ),
    (
        19,
        include_str!("../../migrations/sqlite/0019_ticket_conversations.sql"),
    ),
    (
        20,
        include_str!("../../migrations/sqlite/0020_timeline.sql"),
    ),
    (
        21,
        include_str!("../../migrations/sqlite/0021_payments_by_trace.sql"),
    ),
    (
        22,
        include_str!("../../migrations/sqlite/0022_console_sessions.sql"),
    ),
    (
        23,
        include_str!("../../migrations/sqlite/0023_account_closures.sql"),
    ),
    (
        24,
        include_str!("../../migrations/sqlite/0024_audit_chain.sql"),
    ),
    (
        25,
        include_str!("../../migrations/sqlite/0025_vault_data_keys.sql"),
    ),
    (
        26,
        include_str!("../../migrations/sqlite/0026_live_card_counts.sql"),
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
    mask_card_numbers(&mut conn)?;
    Ok(())
}

/// Masks card numbers in every free-text column, once per database
/// (`data_migrations.rs`). Rows are found by rowid; only the values that
/// change are kept in memory and written.
fn mask_card_numbers(conn: &mut rusqlite::Connection) -> StoreResult<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let done: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM data_migrations WHERE name = ?)",
        [MASK_CARD_NUMBERS],
        |row| row.get(0),
    )?;
    if done {
        return Ok(());
    }
    let mut rows_changed = 0i64;
    for (table, column, kind) in FREE_TEXT {
        let changes = {
            let mut statement = tx.prepare(&format!(
                "SELECT rowid, {column} FROM {table} WHERE {column} IS NOT NULL"
            ))?;
            let mut rows = statement.query([])?;
            let mut changes: Vec<(i64, String)> = Vec::new();
            while let Some(row) = rows.next()? {
                let value: String = row.get(1)?;
                if let Some(masked) = masked(*kind, &value) {
                    changes.push((row.get(0)?, masked));
                }
            }
            changes
        };
        for (rowid, masked) in &changes {
            tx.execute(
                &format!("UPDATE {table} SET {column} = ? WHERE rowid = ?"),
                rusqlite::params![masked, rowid],
            )?;
        }
        rows_changed += i64::try_from(changes.len()).unwrap_or(i64::MAX);
    }
    tx.execute(
        "INSERT INTO data_migrations (name, rows_changed) VALUES (?, ?)",
        rusqlite::params![MASK_CARD_NUMBERS, rows_changed],
    )?;
    tx.commit()?;
    if rows_changed > 0 {
        tracing::info!(rows_changed, "masked card numbers in stored free text");
    }
    Ok(())
}
