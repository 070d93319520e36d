//! PostgreSQL's support console sessions (`ConsoleSessions`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::*;
use crate::console_rows::*;
use crate::rows::ms;
use crate::{ConsoleSessions, StoreResult};

#[async_trait]
impl ConsoleSessions for PgStore {
    async fn create_console_session(&self, session: &ConsoleSessionRecord) -> StoreResult<()> {
        sqlx::query(SESSION_INSERT)
            .bind(&session.id_hash)
            .bind(&session.key_id)
            .bind(&session.key_hash)
            .bind(&session.csrf_secret)
            .bind(ms(session.created_at))
            .bind(ms(session.last_seen_at))
            .bind(ms(session.expires_at))
            .execute(&mut *self.lease().await?)
            .await?;
        Ok(())
    }

    async fn console_session(&self, id_hash: &str) -> StoreResult<Option<ConsoleSessionRecord>> {
        let row = sqlx::query(SESSION_BY_HASH)
            .bind(id_hash)
            .fetch_optional(&mut *self.lease().await?)
            .await?;
        row.as_ref().map(console_session_from_row).transpose()
    }

    async fn touch_console_session(&self, id_hash: &str, now: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query(SESSION_TOUCH)
            .bind(ms(now))
            .bind(id_hash)
            .execute(&mut *self.lease().await?)
            .await?;
        Ok(())
    }

    async fn end_console_session(&self, id_hash: &str) -> StoreResult<bool> {
        let done = sqlx::query(SESSION_END)
            .bind(id_hash)
            .execute(&mut *self.lease().await?)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn purge_console_sessions(
        &self,
        now: DateTime<Utc>,
        idle_before: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let done = sqlx::query(SESSION_PURGE)
            .bind(ms(now))
            .bind(ms(idle_before))
            .execute(&mut *self.lease().await?)
            .await?;
        Ok(done.rows_affected())
    }
}
