use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use rusqlite::Connection;

use super::*;
use crate::decisions::{StoredKey, stored_key};
use crate::rows::ms;
use crate::{Settings, StoreResult};

pub(super) fn setting_value(conn: &Connection, name: &str) -> StoreResult<Option<String>> {
    scalar_opt(
        conn,
        "SELECT value FROM settings WHERE name = ?",
        params![name],
    )
}

/// Several settings in the order asked, None where unset.
pub(super) fn setting_values(
    conn: &Connection,
    names: &[&str],
) -> StoreResult<Vec<Option<String>>> {
    names.iter().map(|name| setting_value(conn, name)).collect()
}

#[async_trait]
impl Settings for SqliteStore {
    async fn setting(&self, name: &str) -> StoreResult<Option<String>> {
        self.readers.read(|conn| setting_value(conn, name))
    }

    async fn put_setting(&self, name: &str, value: &str, now: DateTime<Utc>) -> StoreResult<()> {
        let name = name.to_owned();
        let value = value.to_owned();
        self.queue
            .write_direct(move |conn| {
                    let name = name.as_str();
                    let value = value.as_str();

        exec(conn, "INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
             params![
                 name,
                 value,
                 ms(now),
             ])?;
        Ok(())

            })
            .await
    }

    async fn claim_setting(
        &self,
        name: &str,
        value: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<String> {
        let name = name.to_owned();
        let value = value.to_owned();
        self.queue
            .write_direct(move |conn| {
                let name = name.as_str();
                let value = value.as_str();

                exec(
                    conn,
                    "INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?) \
             ON CONFLICT (name) DO NOTHING",
                    params![name, value, ms(now)],
                )?;
                scalar_one(
                    conn,
                    "SELECT value FROM settings WHERE name = ?",
                    params![name],
                )
            })
            .await
    }

    async fn delete_setting(&self, name: &str) -> StoreResult<bool> {
        let name = name.to_owned();
        self.queue
            .write_direct(move |conn| {
                let name = name.as_str();

                let result = exec(conn, "DELETE FROM settings WHERE name = ?", params![name])?;
                Ok(result > 0)
            })
            .await
    }

    async fn idempotency_begin(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
        stale_after: TimeDelta,
    ) -> StoreResult<IdempotencyBegin> {
        let scope = scope.to_owned();
        let key = key.to_owned();
        let fingerprint = fingerprint.to_owned();
        self.queue
            .write_direct(move |conn| {
                let row = row_opt(
                    conn,
                    "SELECT request_fingerprint, state, response_status, response_body, \
                     created_at FROM idempotency_keys WHERE scope = ? AND idem_key = ?",
                    params![scope, key],
                )?;
                let Some(row) = row else {
                    exec(
                        conn,
                        "INSERT INTO idempotency_keys (scope, idem_key, request_fingerprint, \
                         state, created_at) VALUES (?, ?, ?, 'in_progress', ?)",
                        params![scope, key, fingerprint, ms(now)],
                    )?;
                    return Ok(IdempotencyBegin::Started);
                };
                match stored_key(&row, &fingerprint, now, stale_after)? {
                    StoredKey::Answer(answer) => Ok(answer),
                    StoredKey::TakeOver => {
                        exec(
                            conn,
                            "UPDATE idempotency_keys SET created_at = ? \
                             WHERE scope = ? AND idem_key = ?",
                            params![ms(now), scope, key],
                        )?;
                        Ok(IdempotencyBegin::Started)
                    }
                }
            })
            .await
    }

    async fn idempotency_finish(
        &self,
        scope: &str,
        key: &str,
        status: u16,
        body: &str,
    ) -> StoreResult<()> {
        let scope = scope.to_owned();
        let key = key.to_owned();
        let body = body.to_owned();
        self.queue
            .write_direct(move |conn| {
                    let scope = scope.as_str();
                    let key = key.as_str();
                    let body = body.as_str();

                    exec(conn, "UPDATE idempotency_keys SET state = 'done', response_status = ?, response_body = ? \
             WHERE scope = ? AND idem_key = ?", params![i64::from(status), body, scope, key])?;
                    Ok(())
            })
            .await
    }

    async fn idempotency_abandon(&self, scope: &str, key: &str) -> StoreResult<()> {
        let scope = scope.to_owned();
        let key = key.to_owned();
        self.queue
            .write_direct(move |conn| {
                    let scope = scope.as_str();
                    let key = key.as_str();

        exec(conn, "DELETE FROM idempotency_keys WHERE scope = ? AND idem_key = ? AND state = 'in_progress'",
        params![
            scope,
            key,
        ])?;
        Ok(())

            })
            .await
    }

    async fn idempotency_purge(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        self.queue
            .write_direct(move |conn| {
                let purged = exec(
                    conn,
                    "DELETE FROM idempotency_keys WHERE created_at < ?",
                    params![ms(before)],
                )?;
                Ok(purged as u64)
            })
            .await
    }
}
