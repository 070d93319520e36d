//! Running statements on a rusqlite connection and reading their rows by
//! column name (`rows.rs` maps them to records). Statements are cached per
//! connection.

use std::cell::Cell;

use rusqlite::types::{FromSql, Value, ValueRef};
use rusqlite::{Connection, Params, StatementStatus};

use crate::listings::{Listing, Param};
use crate::rows::{Column, Columns};
use crate::{Constraint, StoreError, StoreResult};

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match &error {
            rusqlite::Error::SqliteFailure(failure, _) => match failure.code {
                ErrorCode::ConstraintViolation
                    if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                        || failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
                {
                    let message = match &error {
                        rusqlite::Error::SqliteFailure(_, Some(message)) => message.as_str(),
                        _ => "",
                    };
                    StoreError::Conflict(Constraint::from_sqlite(message))
                }
                // RAISE(ABORT, ...) of migration 0025's triggers.
                ErrorCode::ConstraintViolation
                    if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_TRIGGER
                        && matches!(&error, rusqlite::Error::SqliteFailure(_, Some(message))
                            if message == "key_version_stale") =>
                {
                    StoreError::KeyVersionStale
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

    /// SQLite keeps a flag as 0 or 1.
    fn flag(&self, name: &str) -> StoreResult<bool> {
        Ok(self.col::<i64>(name)? != 0)
    }
}

/// Runs one statement; the number of rows it changed.
pub(super) fn exec(conn: &Connection, sql: &str, params: impl Params) -> StoreResult<usize> {
    let mut statement = conn.prepare_cached(sql)?;
    let changed = statement.execute(params)?;
    check_plan_kept(&statement, sql);
    Ok(changed)
}

/// A cached statement must keep its plan. SQLite compiles a statement
/// again on every run when a bound value steers its plan (`LIMIT ?` does:
/// write `LIMIT CAST(? AS BIGINT)`); that cost a payment's history read
/// 300 µs instead of 12. Checked in debug builds, so the tests catch it.
fn check_plan_kept(statement: &rusqlite::CachedStatement<'_>, sql: &str) {
    if cfg!(debug_assertions) {
        let runs = statement.get_status(StatementStatus::Run);
        let compiled = statement.get_status(StatementStatus::RePrepare);
        assert!(
            runs < 3 || compiled * 2 < runs,
            "compiled again on {compiled} of {runs} runs: {sql}"
        );
    }
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
    let first = rows.next()?.map(|row| map(&NamedRow::new(row))).transpose();
    drop(rows);
    check_plan_kept(&statement, sql);
    first
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
    drop(rows);
    check_plan_kept(&statement, sql);
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

    fn flag(&self, name: &str) -> StoreResult<bool> {
        Ok(self.col::<i64>(name)? != 0)
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

impl rusqlite::ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(match self {
            Param::Int(value) => rusqlite::types::ToSqlOutput::from(*value),
            Param::Text(value) => rusqlite::types::ToSqlOutput::from(value.as_str()),
        })
    }
}

/// Every row of a listing (`listings.rs`), mapped.
pub(super) fn listed<T>(
    conn: &Connection,
    listing: &Listing,
    map: impl FnMut(&NamedRow<'_, '_>) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    query_all(
        conn,
        &listing.sql,
        rusqlite::params_from_iter(listing.params.iter()),
        map,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE n (v INTEGER PRIMARY KEY); INSERT INTO n VALUES (1), (2), (3);",
        )
        .unwrap();
        conn
    }

    fn read(conn: &Connection, sql: &str) -> Vec<i64> {
        query_all(conn, sql, [2], |row| row.get(0)).unwrap()
    }

    #[test]
    fn a_cast_limit_keeps_its_plan() {
        let conn = numbers();
        for _ in 0..5 {
            assert_eq!(
                read(&conn, "SELECT v FROM n ORDER BY v LIMIT CAST(? AS BIGINT)"),
                [1, 2]
            );
        }
    }

    #[test]
    #[should_panic(expected = "compiled again")]
    fn a_bound_limit_compiled_on_every_run_is_caught() {
        let conn = numbers();
        for _ in 0..5 {
            read(&conn, "SELECT v FROM n ORDER BY v LIMIT ?");
        }
    }
}
