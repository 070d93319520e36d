//! The support console's sessions, written once for both backends: the SQL
//! (with `$n` placeholders; SQLite's store replaces `$` with `?`, binding
//! in the same order) and the record read from a row (`rows::Columns`).

use crate::StoreResult;
use crate::model::ConsoleSessionRecord;
use crate::rows::Columns;

/// Binds id_hash, key_id, key_hash, csrf_secret, created_at, last_seen_at,
/// expires_at.
pub(crate) const SESSION_INSERT: &str = "INSERT INTO console_sessions \
    (id_hash, key_id, key_hash, csrf_secret, created_at, last_seen_at, expires_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7)";

pub(crate) const SESSION_BY_HASH: &str = "SELECT * FROM console_sessions WHERE id_hash = $1";

/// Binds last_seen_at, id_hash.
pub(crate) const SESSION_TOUCH: &str =
    "UPDATE console_sessions SET last_seen_at = $1 WHERE id_hash = $2";

pub(crate) const SESSION_END: &str = "DELETE FROM console_sessions WHERE id_hash = $1";

/// Binds now, idle_before.
pub(crate) const SESSION_PURGE: &str =
    "DELETE FROM console_sessions WHERE expires_at <= $1 OR last_seen_at < $2";

pub(crate) fn console_session_from_row(row: &impl Columns) -> StoreResult<ConsoleSessionRecord> {
    Ok(ConsoleSessionRecord {
        id_hash: row.col("id_hash")?,
        key_id: row.col("key_id")?,
        key_hash: row.col("key_hash")?,
        csrf_secret: row.col("csrf_secret")?,
        created_at: row.time("created_at")?,
        last_seen_at: row.time("last_seen_at")?,
        expires_at: row.time("expires_at")?,
    })
}
