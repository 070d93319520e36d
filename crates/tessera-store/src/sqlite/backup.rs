//! Copies of the embedded database, with SQLite's online backup API: taken
//! while a server serves (`tessera db backup`), and put back in its place
//! (`tessera db restore`).
//!
//! The copy reads inside one read transaction, so every page comes from
//! the same snapshot: what was acknowledged before it began is in it, what
//! came after is not. In WAL mode a reader never holds the writer up; the
//! copy goes a few hundred pages at a time all the same, so that checkpoints
//! and the person watching its progress are not kept waiting on one call.

use std::path::Path;
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use super::migrate::MIGRATIONS;
use crate::{StoreError, StoreResult};

/// Pages copied per step of the backup API.
pub const PAGES_PER_STEP: i32 = 256;

/// How far a copy has come, in pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyProgress {
    pub copied: u64,
    pub total: u64,
}

fn other(message: impl Into<String>) -> StoreError {
    StoreError::Other(message.into())
}

fn pages(value: std::ffi::c_int) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// Copies `from` into the connection `to`, `PAGES_PER_STEP` at a time,
/// telling `progress` after each step.
fn copy(
    from: &Connection,
    to: &mut Connection,
    progress: &mut dyn FnMut(CopyProgress),
) -> StoreResult<()> {
    let backup = Backup::new(from, to)?;
    loop {
        let step = backup.step(PAGES_PER_STEP)?;
        let now = backup.progress();
        progress(CopyProgress {
            copied: pages(now.pagecount.saturating_sub(now.remaining)),
            total: pages(now.pagecount),
        });
        match step {
            StepResult::Done => return Ok(()),
            StepResult::More => {}
            // The writer is mid-commit or a checkpoint runs: a moment later.
            StepResult::Busy | StepResult::Locked => std::thread::sleep(Duration::from_millis(20)),
            _ => return Err(other("the backup stopped for a reason SQLite did not name")),
        }
    }
}

/// Copies the live database at `database` into a new file `out`, which
/// must not exist. Answers the schema version the copy holds.
pub fn back_up(
    database: &Path,
    out: &Path,
    progress: &mut dyn FnMut(CopyProgress),
) -> StoreResult<i64> {
    if !database.exists() {
        return Err(other(format!("no database at {}", database.display())));
    }
    if out.exists() {
        return Err(other(format!(
            "{} already exists; refusing to overwrite it",
            out.display()
        )));
    }
    let source = Connection::open_with_flags(
        database,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    source.busy_timeout(Duration::from_secs(5))?;
    // One snapshot for the whole copy: a commit meanwhile neither restarts
    // it nor lands half in it.
    source.execute_batch("BEGIN")?;
    let version: i64 = source.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |row| row.get(0),
    )?;
    let mut target = Connection::open(out)?;
    let copied = copy(&source, &mut target, progress);
    source.execute_batch("COMMIT")?;
    if let Err(error) = copied {
        drop(target);
        let _ = std::fs::remove_file(out);
        return Err(error);
    }
    // A copy is one self-contained file: no WAL beside it.
    target.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))?;
    Ok(version)
}

/// Checks that `file` is a sound Tessera database this binary can serve:
/// `PRAGMA integrity_check` answers ok, and its migrations table holds
/// versions this binary knows. Answers its schema version.
pub fn check_copy(file: &Path) -> StoreResult<i64> {
    let conn = Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| other(format!("{} cannot be opened: {e}", file.display())))?;
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .map_err(|e| other(format!("{} is not an SQLite database: {e}", file.display())))?;
    if integrity != "ok" {
        return Err(other(format!(
            "{} fails its integrity check: {integrity}",
            file.display()
        )));
    }
    let versions: Vec<i64> = conn
        .prepare("SELECT version FROM schema_migrations ORDER BY version")
        .and_then(|mut statement| {
            statement
                .query_map([], |row| row.get(0))?
                .collect::<Result<_, _>>()
        })
        .map_err(|_| {
            other(format!(
                "{} is no Tessera database (no migrations table)",
                file.display()
            ))
        })?;
    let newest = MIGRATIONS.last().map_or(0, |(version, _)| *version);
    match versions.last() {
        None => Err(other(format!(
            "{} is no Tessera database (no migration applied)",
            file.display()
        ))),
        Some(&version) if version > newest => Err(other(format!(
            "{} was written by a newer Tessera (schema {version}; this one knows up to {newest})",
            file.display()
        ))),
        Some(&version) => Ok(version),
    }
}

/// Puts the copy `from` in place of the database at `database`, after
/// `check_copy`. Refuses while another connection (a running server)
/// holds the database, and, without `force`, whenever one exists.
pub fn restore(
    from: &Path,
    database: &Path,
    force: bool,
    progress: &mut dyn FnMut(CopyProgress),
) -> StoreResult<i64> {
    let version = check_copy(from)?;
    if database.exists() && !force {
        return Err(other(format!(
            "{} already exists; restoring replaces everything in it: add --force",
            database.display()
        )));
    }
    let source = Connection::open_with_flags(
        from,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let mut target = Connection::open(database)?;
    // Held from here until the copy is in: no server can open the
    // database meanwhile, and one already serving it makes this fail.
    target.busy_timeout(Duration::from_millis(200))?;
    target.query_row("PRAGMA locking_mode = EXCLUSIVE", [], |_| Ok(()))?;
    target
        .execute_batch("BEGIN EXCLUSIVE; COMMIT;")
        .map_err(|_| {
            other(format!(
                "{} is in use (is a server running on this data directory?): stop it first",
                database.display()
            ))
        })?;
    copy(&source, &mut target, progress)?;
    target.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
    Ok(version)
}
