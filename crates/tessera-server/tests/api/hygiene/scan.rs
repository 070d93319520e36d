//! What the hygiene tests read, and how they look for a secret in it: every
//! value of every table (SQLite cells, a PostgreSQL dump of every row),
//! every file of the data directory (the SQLite WAL included), and each
//! secret in every form it could be written in.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use serde_json::Value;
use sqlx::Connection;

use crate::TestDatabase;

/// One stored text or binary value.
pub struct Stored {
    pub table: String,
    pub column: String,
    pub bytes: Vec<u8>,
}

/// Every text and binary value the stopped server's database holds: the
/// SQLite file in `dir`'s data directory, or the PostgreSQL `database`.
pub async fn stored_values(
    dir: &tempfile::TempDir,
    database: Option<&TestDatabase>,
) -> Vec<Stored> {
    match database {
        None => sqlite_values(&dir.path().join("data/tessera.db")).await,
        Some(database) => postgres_values(database.url()).await,
    }
}

/// Every text and blob value in the SQLite file. The connection is closed
/// when this returns, before the files are read: the last connection to
/// close removes the WAL and shared-memory files.
async fn sqlite_values(path: &Path) -> Vec<Stored> {
    use rusqlite::types::ValueRef;
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut values = Vec::new();
    for table in sqlite_tables(&conn) {
        let mut statement = conn.prepare(&format!("SELECT * FROM {table}")).unwrap();
        let columns: Vec<String> = statement
            .column_names()
            .into_iter()
            .map(str::to_owned)
            .collect();
        let mut rows = statement.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for (index, column) in columns.iter().enumerate() {
                let bytes = match row.get_ref(index).unwrap() {
                    ValueRef::Text(bytes) | ValueRef::Blob(bytes) => bytes.to_vec(),
                    ValueRef::Null | ValueRef::Integer(_) | ValueRef::Real(_) => continue,
                };
                values.push(Stored {
                    table: table.clone(),
                    column: column.clone(),
                    bytes,
                });
            }
        }
    }
    values
}

fn sqlite_tables(conn: &rusqlite::Connection) -> Vec<String> {
    let mut tables = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .unwrap();
    tables
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Every text and bytea value in the PostgreSQL database.
async fn postgres_values(url: &str) -> Vec<Stored> {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text \
         FROM information_schema.columns WHERE table_schema = current_schema() \
         AND data_type IN ('text', 'character varying', 'bytea', 'jsonb', 'json') \
         ORDER BY table_name, ordinal_position",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut values = Vec::new();
    for (table, column, data_type) in columns {
        let select = if data_type == "bytea" {
            format!("SELECT \"{column}\" FROM \"{table}\"")
        } else {
            format!("SELECT convert_to(\"{column}\"::text, 'UTF8') FROM \"{table}\"")
        };
        let found: Vec<Option<Vec<u8>>> = sqlx::query_scalar(sqlx::AssertSqlSafe(select))
            .fetch_all(&mut conn)
            .await
            .unwrap();
        for bytes in found.into_iter().flatten() {
            values.push(Stored {
                table: table.clone(),
                column: column.clone(),
                bytes,
            });
        }
    }
    let _ = conn.close().await;
    values
}

/// Every row of every table of the PostgreSQL database as one JSON line
/// (`row_to_json`: every column, numbers and bytea, as hex, included), by
/// table: what a dump of the database would hold.
pub async fn postgres_dump(database: &TestDatabase) -> Vec<(String, Vec<u8>)> {
    let mut conn = sqlx::PgConnection::connect(database.url()).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(tables.len() > 10, "{tables:?}");
    let mut dump = Vec::new();
    for table in tables {
        let select = format!("SELECT row_to_json(t)::text FROM \"{table}\" t");
        let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(select))
            .fetch_all(&mut conn)
            .await
            .unwrap();
        dump.push((table, rows.join("\n").into_bytes()));
    }
    let _ = conn.close().await;
    dump
}

/// Every column of every table, as `table.column`, of either backend.
pub async fn columns(dir: &Path, database: Option<&TestDatabase>) -> Vec<String> {
    match database {
        None => {
            let conn = rusqlite::Connection::open(dir.join("tessera.db")).unwrap();
            let mut names = Vec::new();
            for table in sqlite_tables(&conn) {
                let statement = conn.prepare(&format!("SELECT * FROM {table}")).unwrap();
                for column in statement.column_names() {
                    names.push(format!("{table}.{column}"));
                }
            }
            names
        }
        Some(database) => {
            let mut conn = sqlx::PgConnection::connect(database.url()).await.unwrap();
            let names = sqlx::query_scalar(
                "SELECT table_name::text || '.' || column_name::text \
                 FROM information_schema.columns WHERE table_schema = current_schema()",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap();
            let _ = conn.close().await;
            names
        }
    }
}

/// Every file of a directory, with its bytes.
pub fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            found.push((path.display().to_string(), bytes));
        }
    }
    found
}

pub fn holds(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// A secret as it could be written: its bytes, their hex (both cases) and
/// base64 (standard and URL-safe, without padding, so that a padded copy is
/// found too).
pub fn forms(secret: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("raw", secret.to_vec()),
        ("hex", hex::encode(secret).into_bytes()),
        ("HEX", hex::encode_upper(secret).into_bytes()),
        ("base64", STANDARD_NO_PAD.encode(secret).into_bytes()),
        ("base64url", URL_SAFE_NO_PAD.encode(secret).into_bytes()),
    ]
}

/// The form `secret` is in `haystack` in, if any.
pub fn found_form(haystack: &[u8], secret: &[u8]) -> Option<&'static str> {
    forms(secret)
        .into_iter()
        .find(|(_, form)| holds(haystack, form))
        .map(|(name, _)| name)
}

/// The names a card security code would be stored or sent under.
const CVC_NAMES: [&str; 6] = ["cvc", "cvv", "cvn", "cav", "csc", "security_code"];

/// True when the value is the CVC: the whole value, or, in a JSON value,
/// any string or number equal to it, or any member named like a CVC.
pub fn is_or_holds_cvc(bytes: &[u8], cvc: &str) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    if text.trim() == cvc {
        return true;
    }
    fn walk(value: &Value, cvc: &str) -> bool {
        match value {
            Value::String(s) => s.trim() == cvc,
            Value::Number(n) => n.to_string() == cvc,
            Value::Array(items) => items.iter().any(|v| walk(v, cvc)),
            Value::Object(members) => members.iter().any(|(name, v)| {
                CVC_NAMES.iter().any(|c| name.eq_ignore_ascii_case(c)) || walk(v, cvc)
            }),
            Value::Bool(_) | Value::Null => false,
        }
    }
    serde_json::from_str::<Value>(text).is_ok_and(|value| walk(&value, cvc))
}

/// True when the CVC's digits follow a CVC's name closely (`"cvc":"739"`,
/// `cvc=739`, `cvv 739`): what a log line, a file or a dump would show.
pub fn cvc_near_its_name(bytes: &[u8], cvc: &str) -> bool {
    let lower = bytes.to_ascii_lowercase();
    let digits = cvc.as_bytes();
    (0..lower.len().saturating_sub(digits.len() - 1))
        .filter(|&at| &lower[at..at + digits.len()] == digits)
        .any(|at| {
            let before = &lower[at.saturating_sub(24)..at];
            CVC_NAMES.iter().any(|name| holds(before, name.as_bytes()))
        })
}

/// Whether any column is named like a card security code.
pub fn cvc_columns(columns: &[String]) -> Vec<&String> {
    columns
        .iter()
        .filter(|c| {
            let column = c
                .rsplit('.')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            CVC_NAMES
                .iter()
                .any(|name| column == *name || column.starts_with(&format!("{name}_")))
        })
        .collect()
}

/// Whether `code` (a six-digit text-message code) stands in `text` as a
/// number of its own: not part of a longer run of digits, and not the
/// fraction after a decimal point (the microseconds of every log line's
/// time), where a random code turns up by chance.
pub fn holds_code(text: &str, code: &str) -> bool {
    let bytes = text.as_bytes();
    text.match_indices(code).any(|(at, _)| {
        let before = at.checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(at + code.len()).copied();
        !before.is_some_and(|b| b.is_ascii_digit() || b == b'.')
            && !after.is_some_and(|b| b.is_ascii_digit())
    })
}
