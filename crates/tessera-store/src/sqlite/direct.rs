//! Direct SQLite access for the hot paths (binding, reading a card,
//! signing a request in, paying).
//!
//! sqlx runs every SQLite connection on a thread of its own and sends it
//! each statement over a channel: a binding's dozen statements were a dozen
//! round trips between threads, and on two cores the context switches cost
//! more than SQLite's own work (BENCHMARKS.md has the profile). Here the
//! same SQL runs through rusqlite, which links the same `libsqlite3-sys` as
//! sqlx, inline on the calling thread: a read takes a connection from a
//! small pool of read-only connections, and a write job runs whole on the
//! writer's own thread and connection (see `group_commit.rs`). Statements
//! are cached per connection.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::types::{FromSql, Value, ValueRef};
use rusqlite::{Connection, OpenFlags, Params};
use sqlx::sqlite::SqliteRow;

use crate::{StoreError, StoreResult};

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match &error {
            rusqlite::Error::SqliteFailure(failure, _) => match failure.code {
                ErrorCode::ConstraintViolation
                    if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                        || failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
                {
                    StoreError::Conflict("unique constraint")
                }
                ErrorCode::DatabaseBusy
                | ErrorCode::DatabaseLocked
                | ErrorCode::CannotOpen
                | ErrorCode::DiskFull
                | ErrorCode::SystemIoFailure => StoreError::Unavailable(error.to_string()),
                ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => {
                    StoreError::Corrupt(error.to_string())
                }
                _ => StoreError::Other(error.to_string()),
            },
            rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::IntegralValueOutOfRange(..)
            | rusqlite::Error::InvalidColumnType(..)
            | rusqlite::Error::InvalidColumnName(_) => StoreError::Corrupt(error.to_string()),
            _ => StoreError::Other(error.to_string()),
        }
    }
}

/// How much of the database file a reader maps (1 GiB of address space;
/// only the pages a read touches become resident, and they are the OS's
/// page cache, not the heap).
const READER_MMAP: i64 = 1 << 30;

/// How many statements each connection keeps prepared.
const STATEMENT_CACHE: usize = 64;

/// A pool of read-only connections used inline: a read is one indexed
/// lookup of microseconds, cheaper to run where the request is than to hand
/// to another thread. The pool never waits: when every connection is out (a
/// read runs on each runtime thread at most, plus blocking tasks), another
/// is opened, and kept if the pool is below its size.
#[derive(Debug)]
pub struct Readers {
    path: PathBuf,
    busy_timeout: Duration,
    keep: usize,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    pub fn open(path: &Path, busy_timeout: Duration, keep: usize) -> StoreResult<Readers> {
        let readers = Readers {
            path: path.to_owned(),
            busy_timeout,
            keep: keep.max(1),
            idle: Mutex::new(Vec::new()),
        };
        // One connection now, so that a database that cannot be read fails
        // at start rather than on the first request.
        let first = readers.connect()?;
        readers.give_back(first);
        Ok(readers)
    }

    fn connect(&self) -> StoreResult<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(self.busy_timeout)?;
        // Reads map the file instead of copying each page in through a
        // read call: at a million cards a lookup walks pages that no
        // connection's cache holds.
        conn.pragma_update(None, "mmap_size", READER_MMAP)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(conn)
    }

    fn give_back(&self, conn: Connection) {
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if idle.len() < self.keep {
            idle.push(conn);
        }
    }

    /// Runs `read` on an idle connection (a fresh one if none is idle).
    pub fn read<T>(&self, read: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let taken = self
            .idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop();
        let conn = match taken {
            Some(conn) => conn,
            None => self.connect()?,
        };
        let result = read(&conn);
        self.give_back(conn);
        result
    }
}

/// A value a column holds, readable from both sqlx's rows and rusqlite's,
/// so that each record is mapped from a row once.
pub(crate) trait Column:
    for<'r> sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite> + rusqlite::types::FromSql
{
}

impl<T> Column for T where
    T: for<'r> sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite> + rusqlite::types::FromSql
{
}

/// A result row of either driver.
pub(crate) trait Columns {
    fn col<T: Column>(&self, name: &str) -> StoreResult<T>;
}

impl Columns for SqliteRow {
    fn col<T: Column>(&self, name: &str) -> StoreResult<T> {
        Ok(sqlx::Row::try_get(self, name)?)
    }
}

/// A rusqlite row, read by column name.
///
/// rusqlite looks a name up by asking SQLite for every column's name in
/// turn, each call under the connection's mutex: reading a card's 40
/// columns so cost 800 calls, a tenth of the writer thread's time. Mappers
/// read columns in about the order the SELECT lists them, so this lookup
/// tries the column after the last one read first: one call per column.
pub(super) struct NamedRow<'r, 's> {
    row: &'r rusqlite::Row<'s>,
    next: Cell<usize>,
}

impl<'r, 's> NamedRow<'r, 's> {
    fn new(row: &'r rusqlite::Row<'s>) -> Self {
        NamedRow {
            row,
            next: Cell::new(0),
        }
    }

    fn index(&self, name: &str) -> StoreResult<usize> {
        let statement = self.row.as_ref();
        let count = statement.column_count();
        let start = self.next.get();
        for offset in 0..count {
            let index = (start + offset) % count;
            if statement.column_name(index)?.eq_ignore_ascii_case(name) {
                self.next.set(index + 1);
                return Ok(index);
            }
        }
        Err(rusqlite::Error::InvalidColumnName(name.to_owned()).into())
    }

    /// The column at `index`, for rows read by position.
    pub(super) fn get<T: FromSql>(&self, index: usize) -> StoreResult<T> {
        Ok(self.row.get(index)?)
    }
}

impl Columns for NamedRow<'_, '_> {
    fn col<T: Column>(&self, name: &str) -> StoreResult<T> {
        let index = self.index(name)?;
        Ok(self.row.get(index)?)
    }
}

/// Runs one statement; the number of rows it changed.
pub(super) fn exec(conn: &Connection, sql: &str, params: impl Params) -> StoreResult<usize> {
    Ok(conn.prepare_cached(sql)?.execute(params)?)
}

/// The first row of a query, mapped, if there is one.
pub(super) fn query_opt<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    map: impl FnOnce(&NamedRow<'_, '_>) -> StoreResult<T>,
) -> StoreResult<Option<T>> {
    let mut statement = conn.prepare_cached(sql)?;
    let mut rows = statement.query(params)?;
    rows.next()?.map(|row| map(&NamedRow::new(row))).transpose()
}

/// Every row of a query, mapped.
pub(super) fn query_all<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    mut map: impl FnMut(&NamedRow<'_, '_>) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let mut statement = conn.prepare_cached(sql)?;
    let mut rows = statement.query(params)?;
    let mut all = Vec::new();
    while let Some(row) = rows.next()? {
        all.push(map(&NamedRow::new(row))?);
    }
    Ok(all)
}

/// A row copied out of its statement, for code that reads a few columns
/// of a small result after the statement is done.
#[derive(Debug)]
pub(super) struct OwnedRow(Vec<(String, Value)>);

impl OwnedRow {
    fn copy(row: &NamedRow<'_, '_>) -> StoreResult<OwnedRow> {
        let row = row.row;
        let statement = row.as_ref();
        let mut columns = Vec::with_capacity(statement.column_count());
        for index in 0..statement.column_count() {
            let name = statement.column_name(index)?.to_owned();
            columns.push((name, row.get::<_, Value>(index)?));
        }
        Ok(OwnedRow(columns))
    }
}

impl Columns for OwnedRow {
    fn col<T: Column>(&self, name: &str) -> StoreResult<T> {
        let (_, value) = self
            .0
            .iter()
            .find(|(column, _)| column.eq_ignore_ascii_case(name))
            .ok_or_else(|| StoreError::Corrupt(format!("no column {name}")))?;
        T::column_result(ValueRef::from(value))
            .map_err(|e| StoreError::Corrupt(format!("column {name}: {e}")))
    }
}

pub(super) fn row_one(conn: &Connection, sql: &str, params: impl Params) -> StoreResult<OwnedRow> {
    row_opt(conn, sql, params)?
        .ok_or_else(|| StoreError::Other("a query that always answers returned no row".to_owned()))
}

pub(super) fn row_opt(
    conn: &Connection,
    sql: &str,
    params: impl Params,
) -> StoreResult<Option<OwnedRow>> {
    query_opt(conn, sql, params, OwnedRow::copy)
}

pub(super) fn row_all(
    conn: &Connection,
    sql: &str,
    params: impl Params,
) -> StoreResult<Vec<OwnedRow>> {
    query_all(conn, sql, params, OwnedRow::copy)
}

/// The first column of the first row.
pub(super) fn scalar_opt<T: FromSql>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
) -> StoreResult<Option<T>> {
    query_opt(conn, sql, params, |row| row.get(0))
}

pub(super) fn scalar_one<T: FromSql>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
) -> StoreResult<T> {
    scalar_opt(conn, sql, params)?
        .ok_or_else(|| StoreError::Other("a query that always answers returned no row".to_owned()))
}

pub(super) fn scalar_all<T: FromSql>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
) -> StoreResult<Vec<T>> {
    query_all(conn, sql, params, |row| row.get(0))
}
