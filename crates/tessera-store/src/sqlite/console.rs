//! SQLite's support console sessions (`ConsoleSessions`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::types::Value;

use super::*;
use crate::console_rows::*;
use crate::rows::ms;
use crate::{ConsoleSessions, StoreResult};

/// Runs one statement through the writer; answers the rows it changed.
async fn write(store: &SqliteStore, sql: &'static str, binds: Vec<Value>) -> StoreResult<usize> {
    let sql = sql.replace('$', "?");
    store
        .queue
        .write_direct(move |conn| exec(conn, &sql, params_from_iter(binds)))
        .await
}

#[async_trait]
impl ConsoleSessions for SqliteStore {
    async fn create_console_session(&self, session: &ConsoleSessionRecord) -> StoreResult<()> {
        write(
            self,
            SESSION_INSERT,
            vec![
                Value::Text(session.id_hash.clone()),
                Value::Text(session.key_id.clone()),
                Value::Text(session.key_hash.clone()),
                Value::Text(session.csrf_secret.clone()),
                Value::Integer(ms(session.created_at)),
                Value::Integer(ms(session.last_seen_at)),
                Value::Integer(ms(session.expires_at)),
            ],
        )
        .await?;
        Ok(())
    }

    async fn console_session(&self, id_hash: &str) -> StoreResult<Option<ConsoleSessionRecord>> {
        self.readers.read(|conn| {
            query_opt(
                conn,
                &SESSION_BY_HASH.replace('$', "?"),
                params![id_hash],
                |row| console_session_from_row(row),
            )
        })
    }

    async fn touch_console_session(&self, id_hash: &str, now: DateTime<Utc>) -> StoreResult<()> {
        write(
            self,
            SESSION_TOUCH,
            vec![Value::Integer(ms(now)), Value::Text(id_hash.to_owned())],
        )
        .await?;
        Ok(())
    }

    async fn end_console_session(&self, id_hash: &str) -> StoreResult<bool> {
        let ended = write(self, SESSION_END, vec![Value::Text(id_hash.to_owned())]).await?;
        Ok(ended > 0)
    }

    async fn purge_console_sessions(
        &self,
        now: DateTime<Utc>,
        idle_before: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let purged = write(
            self,
            SESSION_PURGE,
            vec![Value::Integer(ms(now)), Value::Integer(ms(idle_before))],
        )
        .await?;
        Ok(purged as u64)
    }
}
