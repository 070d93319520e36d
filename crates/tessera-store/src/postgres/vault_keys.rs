use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tessera_core::vault::Sealed;

use super::*;
use crate::rows::{Columns, ms};
use crate::vault_keys::{
    DataKeyState, ReencryptionProgress, RetireOutcome, SealedRow, SealedTable, VaultKeys,
    VersionCount, WrappedDataKey, number, offered_state, progress_row, sealed_row, wrapped_key,
};
use crate::{Constraint, StoreError};

async fn version_counts(conn: &mut PgConnection) -> StoreResult<Vec<VersionCount>> {
    let mut counts = Vec::new();
    for table in SealedTable::ALL {
        // Built from fixed column names only (`SealedTable::columns`).
        let sql = table.count_sql();
        for row in sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .fetch_all(&mut *conn)
            .await?
        {
            counts.push(VersionCount {
                table,
                version: number(row.col("key_version")?)?,
                records: u64::try_from(row.col::<i64>("records")?).unwrap_or(0),
            });
        }
    }
    Ok(counts)
}

#[async_trait]
impl VaultKeys for PgStore {
    async fn vault_data_keys(&self) -> StoreResult<Vec<WrappedDataKey>> {
        let mut lease = self.lease().await?;
        let rows = sqlx::query(
            "SELECT version, wrapped, root_version, created_at, state FROM vault_data_keys \
             ORDER BY version",
        )
        .fetch_all(&mut *lease)
        .await?;
        lease.finish();
        rows.iter().map(wrapped_key).collect()
    }

    async fn offer_vault_data_keys(&self, keys: &[WrappedDataKey]) -> StoreResult<()> {
        let mut lease = self.lease().await?;
        let mut tx = lease.begin().await?;
        for key in keys {
            sqlx::query(
                "INSERT INTO vault_data_keys (version, wrapped, root_version, created_at, state) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (version) DO NOTHING",
            )
            .bind(i64::from(key.version))
            .bind(&key.wrapped)
            .bind(i64::from(key.root_version))
            .bind(ms(key.created_at))
            .bind(offered_state(key))
            .execute(&mut *tx)
            .await?;
        }
        if let Some(active) = keys.iter().find(|k| k.state == DataKeyState::Active) {
            // Two nodes starting at once: the unique index lets one win.
            sqlx::query(
                "UPDATE vault_data_keys SET state = 'active' WHERE version = $1 \
                 AND state = 'retiring' AND NOT EXISTS \
                 (SELECT 1 FROM vault_data_keys WHERE state = 'active')",
            )
            .bind(i64::from(active.version))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn add_vault_data_key(&self, key: &WrappedDataKey) -> StoreResult<()> {
        let mut lease = self.lease().await?;
        let mut tx = lease.begin().await?;
        // One rotation at a time; sealing writes only read the table.
        sqlx::query("LOCK TABLE vault_data_keys IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await?;
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT version FROM vault_data_keys WHERE version = $1")
                .bind(i64::from(key.version))
                .fetch_optional(&mut *tx)
                .await?;
        if exists.is_some() {
            return Err(StoreError::Conflict(Constraint::Other));
        }
        sqlx::query("UPDATE vault_data_keys SET state = 'retiring' WHERE state = 'active'")
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO vault_data_keys (version, wrapped, root_version, created_at, state) \
             VALUES ($1, $2, $3, $4, 'active')",
        )
        .bind(i64::from(key.version))
        .bind(&key.wrapped)
        .bind(i64::from(key.root_version))
        .bind(ms(key.created_at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn rewrap_vault_data_keys(&self, keys: &[WrappedDataKey]) -> StoreResult<()> {
        let mut lease = self.lease().await?;
        let mut tx = lease.begin().await?;
        for key in keys {
            sqlx::query(
                "UPDATE vault_data_keys SET wrapped = $1, root_version = $2 \
                 WHERE version = $3 AND wrapped IS NOT NULL",
            )
            .bind(&key.wrapped)
            .bind(i64::from(key.root_version))
            .bind(i64::from(key.version))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn retire_vault_data_key(&self, version: u32) -> StoreResult<RetireOutcome> {
        let mut lease = self.lease().await?;
        let mut tx = lease.begin().await?;
        // No rotation or retirement beside this one while it counts.
        sqlx::query("LOCK TABLE vault_data_keys IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await?;
        let state: Option<String> =
            sqlx::query_scalar("SELECT state FROM vault_data_keys WHERE version = $1")
                .bind(i64::from(version))
                .fetch_optional(&mut *tx)
                .await?;
        match state.as_deref() {
            Some("active") => return Ok(RetireOutcome::Active),
            Some("retiring") => {}
            _ => return Ok(RetireOutcome::Unknown),
        }
        // Only the active version may be written (the triggers), so no
        // record can come to use this one after it is counted.
        let in_use: u64 = version_counts(&mut tx)
            .await?
            .iter()
            .filter(|count| count.version == version)
            .map(|count| count.records)
            .sum();
        if in_use > 0 {
            return Ok(RetireOutcome::InUse(in_use));
        }
        sqlx::query(
            "UPDATE vault_data_keys SET state = 'retired', wrapped = NULL WHERE version = $1",
        )
        .bind(i64::from(version))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(RetireOutcome::Retired)
    }

    async fn sealed_version_counts(&self) -> StoreResult<Vec<VersionCount>> {
        let mut lease = self.lease().await?;
        let counts = version_counts(&mut lease).await?;
        lease.finish();
        Ok(counts)
    }

    async fn sealed_batch(
        &self,
        table: SealedTable,
        after_key: &str,
        active: u32,
        limit: u32,
    ) -> StoreResult<Vec<SealedRow>> {
        let mut lease = self.lease().await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(table.batch_sql(["$1", "$2", "$3"])))
            .bind(after_key)
            .bind(i64::from(active))
            .bind(i64::from(limit))
            .fetch_all(&mut *lease)
            .await?;
        lease.finish();
        rows.iter().map(sealed_row).collect()
    }

    async fn write_resealed(
        &self,
        rows: &[(SealedRow, Sealed)],
        progress: &ReencryptionProgress,
    ) -> StoreResult<u64> {
        let mut lease = self.lease().await?;
        let mut tx = lease.begin().await?;
        let sql = progress.table.reseal_sql(["$1", "$2", "$3", "$4", "$5"]);
        let mut written = 0;
        for (old, new) in rows {
            written += sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(i64::from(new.key_version))
                .bind(&new.blob)
                .bind(&old.record)
                .bind(i64::from(old.sealed.key_version))
                .bind(&old.sealed.blob)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        sqlx::query(
            "UPDATE vault_reencryption SET after_key = $1, resealed = resealed + $2, \
             updated_at = $3, finished_at = $4 WHERE table_name = $5 AND target_version = $6",
        )
        .bind(&progress.after_key)
        .bind(i64::try_from(written).unwrap_or(i64::MAX))
        .bind(ms(progress.updated_at))
        .bind(progress.finished_at.map(ms))
        .bind(progress.table.name())
        .bind(i64::from(progress.target_version))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(written)
    }

    async fn reencryption_progress(&self) -> StoreResult<Vec<ReencryptionProgress>> {
        let mut lease = self.lease().await?;
        let rows = sqlx::query(
            "SELECT table_name, target_version, after_key, resealed, started_at, updated_at, \
             finished_at FROM vault_reencryption ORDER BY table_name",
        )
        .fetch_all(&mut *lease)
        .await?;
        lease.finish();
        rows.iter().map(progress_row).collect()
    }

    async fn start_reencryption(&self, target: u32, now: DateTime<Utc>) -> StoreResult<()> {
        let mut lease = self.lease().await?;
        let mut tx = lease.begin().await?;
        for table in SealedTable::ALL {
            sqlx::query(
                "INSERT INTO vault_reencryption (table_name, target_version, after_key, \
                 resealed, started_at, updated_at, finished_at) \
                 VALUES ($1, $2, '', 0, $3, $3, NULL) ON CONFLICT (table_name) DO UPDATE \
                 SET target_version = EXCLUDED.target_version, after_key = '', resealed = 0, \
                 started_at = EXCLUDED.started_at, updated_at = EXCLUDED.updated_at, \
                 finished_at = NULL",
            )
            .bind(table.name())
            .bind(i64::from(target))
            .bind(ms(now))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn claim_reencryption_lease(
        &self,
        holder: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let claimed = sqlx::query(
            "INSERT INTO vault_reencryption_lease (id, holder, lease_until) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET holder = EXCLUDED.holder, \
             lease_until = EXCLUDED.lease_until \
             WHERE vault_reencryption_lease.holder = EXCLUDED.holder \
             OR vault_reencryption_lease.lease_until < $3",
        )
        .bind(holder)
        .bind(ms(until))
        .bind(ms(now))
        .execute(&mut *self.lease().await?)
        .await?
        .rows_affected();
        Ok(claimed > 0)
    }
}
