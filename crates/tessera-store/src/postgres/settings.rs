use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

use super::*;
use crate::decisions::{StoredKey, stored_key};
use crate::rows::ms;
use crate::{Settings, StoreResult};

#[async_trait]
impl Settings for PgStore {
    async fn setting(&self, name: &str) -> StoreResult<Option<String>> {
        let mut lease = self.lease().await?;
        let value = sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *lease)
            .await?;
        lease.finish();
        Ok(value)
    }

    async fn put_setting(&self, name: &str, value: &str, now: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO settings (name, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, \
             updated_at = EXCLUDED.updated_at",
        )
        .bind(name)
        .bind(value)
        .bind(ms(now))
        .execute(&mut *self.lease().await?)
        .await?;
        Ok(())
    }

    async fn claim_setting(
        &self,
        name: &str,
        value: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<String> {
        sqlx::query(
            "INSERT INTO settings (name, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(value)
        .bind(ms(now))
        .execute(&mut *self.lease().await?)
        .await?;
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
                .bind(name)
                .fetch_one(&mut *self.lease().await?)
                .await?,
        )
    }

    async fn delete_setting(&self, name: &str) -> StoreResult<bool> {
        let result = sqlx::query("DELETE FROM settings WHERE name = $1")
            .bind(name)
            .execute(&mut *self.lease().await?)
            .await?;
        Ok(result.rows_affected() > 0)
    }

    async fn idempotency_begin(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
        stale_after: TimeDelta,
    ) -> StoreResult<IdempotencyBegin> {
        // The row may vanish between the insert and the select (abandoned
        // or purged by another node): then try again, a few times.
        for _ in 0..3 {
            let mut lease = self.lease().await?;
            let mut tx = lease.begin().await?;
            // Claims the key, or waits for whoever is claiming it right now
            // and then finds their row.
            let inserted = sqlx::query(
                "INSERT INTO idempotency_keys (scope, idem_key, request_fingerprint, state, \
                 created_at) VALUES ($1, $2, $3, 'in_progress', $4) \
                 ON CONFLICT (scope, idem_key) DO NOTHING",
            )
            .bind(scope)
            .bind(key)
            .bind(fingerprint)
            .bind(ms(now))
            .execute(&mut *tx)
            .await?;
            if inserted.rows_affected() == 1 {
                tx.commit().await?;
                return Ok(IdempotencyBegin::Started);
            }
            let row = sqlx::query(
                "SELECT request_fingerprint, state, response_status, response_body, created_at \
                 FROM idempotency_keys WHERE scope = $1 AND idem_key = $2 FOR UPDATE",
            )
            .bind(scope)
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = row else {
                tx.rollback().await?;
                continue;
            };
            let outcome = match stored_key(&row, fingerprint, now, stale_after)? {
                StoredKey::Answer(answer) => answer,
                StoredKey::TakeOver => {
                    // The row lock lets only one taker through; the next
                    // sees the fresh created_at.
                    sqlx::query(
                        "UPDATE idempotency_keys SET created_at = $1 \
                         WHERE scope = $2 AND idem_key = $3",
                    )
                    .bind(ms(now))
                    .bind(scope)
                    .bind(key)
                    .execute(&mut *tx)
                    .await?;
                    IdempotencyBegin::Started
                }
            };
            tx.commit().await?;
            return Ok(outcome);
        }
        // The key keeps being created and dropped under us: someone else is
        // working on it.
        Ok(IdempotencyBegin::InProgress { since: now })
    }

    async fn idempotency_finish(
        &self,
        scope: &str,
        key: &str,
        status: u16,
        body: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE idempotency_keys SET state = 'done', response_status = $1, \
             response_body = $2 WHERE scope = $3 AND idem_key = $4",
        )
        .bind(i64::from(status))
        .bind(body)
        .bind(scope)
        .bind(key)
        .execute(&mut *self.lease().await?)
        .await?;
        Ok(())
    }

    async fn idempotency_abandon(&self, scope: &str, key: &str) -> StoreResult<()> {
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE scope = $1 AND idem_key = $2 \
             AND state = 'in_progress'",
        )
        .bind(scope)
        .bind(key)
        .execute(&mut *self.lease().await?)
        .await?;
        Ok(())
    }

    async fn idempotency_purge(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let result = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(ms(before))
            .execute(&mut *self.lease().await?)
            .await?;
        Ok(result.rows_affected())
    }
}
