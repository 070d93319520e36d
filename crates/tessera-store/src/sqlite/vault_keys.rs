use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::Connection;
use tessera_core::vault::Sealed;

use super::*;
use crate::StoreError;
use crate::rows::{Columns, ms};
use crate::vault_keys::{
    DataKeyState, ReencryptionProgress, RetireOutcome, SealedRow, SealedTable, VaultKeys,
    VersionCount, WrappedDataKey, number, offered_state, progress_row, sealed_row, wrapped_key,
};

fn all_keys(conn: &Connection) -> StoreResult<Vec<WrappedDataKey>> {
    row_all(
        conn,
        "SELECT version, wrapped, root_version, created_at, state FROM vault_data_keys \
         ORDER BY version",
        [],
    )?
    .iter()
    .map(wrapped_key)
    .collect()
}

fn version_counts(conn: &Connection) -> StoreResult<Vec<VersionCount>> {
    let mut counts = Vec::new();
    for table in SealedTable::ALL {
        for row in row_all(conn, &table.count_sql(), [])? {
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
impl VaultKeys for SqliteStore {
    async fn vault_data_keys(&self) -> StoreResult<Vec<WrappedDataKey>> {
        self.readers.read(all_keys)
    }

    async fn offer_vault_data_keys(&self, keys: &[WrappedDataKey]) -> StoreResult<()> {
        let keys = keys.to_vec();
        self.queue
            .write_direct(move |conn| {
                for key in &keys {
                    exec(
                        conn,
                        "INSERT INTO vault_data_keys \
                         (version, wrapped, root_version, created_at, state) \
                         VALUES (?, ?, ?, ?, ?) ON CONFLICT (version) DO NOTHING",
                        params![
                            key.version,
                            key.wrapped,
                            key.root_version,
                            ms(key.created_at),
                            offered_state(key)
                        ],
                    )?;
                }
                if let Some(active) = keys.iter().find(|k| k.state == DataKeyState::Active) {
                    exec(
                        conn,
                        "UPDATE vault_data_keys SET state = 'active' \
                         WHERE version = ? AND state = 'retiring' AND NOT EXISTS \
                         (SELECT 1 FROM vault_data_keys WHERE state = 'active')",
                        params![active.version],
                    )?;
                }
                Ok(())
            })
            .await
    }

    async fn add_vault_data_key(&self, key: &WrappedDataKey) -> StoreResult<()> {
        let key = key.clone();
        self.queue
            .write_direct(move |conn| {
                if scalar_opt::<i64>(
                    conn,
                    "SELECT version FROM vault_data_keys WHERE version = ?",
                    params![key.version],
                )?
                .is_some()
                {
                    return Err(StoreError::Conflict(crate::Constraint::Other));
                }
                exec(
                    conn,
                    "UPDATE vault_data_keys SET state = 'retiring' WHERE state = 'active'",
                    [],
                )?;
                exec(
                    conn,
                    "INSERT INTO vault_data_keys \
                     (version, wrapped, root_version, created_at, state) \
                     VALUES (?, ?, ?, ?, 'active')",
                    params![
                        key.version,
                        key.wrapped,
                        key.root_version,
                        ms(key.created_at)
                    ],
                )?;
                Ok(())
            })
            .await
    }

    async fn rewrap_vault_data_keys(&self, keys: &[WrappedDataKey]) -> StoreResult<()> {
        let keys = keys.to_vec();
        self.queue
            .write_direct(move |conn| {
                for key in &keys {
                    exec(
                        conn,
                        "UPDATE vault_data_keys SET wrapped = ?, root_version = ? \
                         WHERE version = ? AND wrapped IS NOT NULL",
                        params![key.wrapped, key.root_version, key.version],
                    )?;
                }
                Ok(())
            })
            .await
    }

    async fn retire_vault_data_key(&self, version: u32) -> StoreResult<RetireOutcome> {
        self.queue
            .write_direct(move |conn| {
                let state: Option<String> = scalar_opt(
                    conn,
                    "SELECT state FROM vault_data_keys WHERE version = ?",
                    params![version],
                )?;
                match state.as_deref() {
                    Some("active") => return Ok(RetireOutcome::Active),
                    Some("retiring") => {}
                    _ => return Ok(RetireOutcome::Unknown),
                }
                let in_use: u64 = version_counts(conn)?
                    .iter()
                    .filter(|count| count.version == version)
                    .map(|count| count.records)
                    .sum();
                if in_use > 0 {
                    return Ok(RetireOutcome::InUse(in_use));
                }
                exec(
                    conn,
                    "UPDATE vault_data_keys SET state = 'retired', wrapped = NULL \
                     WHERE version = ?",
                    params![version],
                )?;
                Ok(RetireOutcome::Retired)
            })
            .await
    }

    async fn sealed_version_counts(&self) -> StoreResult<Vec<VersionCount>> {
        self.readers.read(version_counts)
    }

    async fn sealed_batch(
        &self,
        table: SealedTable,
        after_key: &str,
        active: u32,
        limit: u32,
    ) -> StoreResult<Vec<SealedRow>> {
        self.readers.read(|conn| {
            row_all(
                conn,
                &table.batch_sql(["?", "?", "?"]),
                params![after_key, active, limit],
            )?
            .iter()
            .map(sealed_row)
            .collect()
        })
    }

    async fn write_resealed(
        &self,
        rows: &[(SealedRow, Sealed)],
        progress: &ReencryptionProgress,
    ) -> StoreResult<u64> {
        let rows = rows.to_vec();
        let progress = progress.clone();
        self.queue
            .write_direct(move |conn| {
                let sql = progress.table.reseal_sql(["?", "?", "?", "?", "?"]);
                let mut written = 0;
                for (old, new) in &rows {
                    written += exec(
                        conn,
                        &sql,
                        params![
                            new.key_version,
                            new.blob,
                            old.record,
                            old.sealed.key_version,
                            old.sealed.blob
                        ],
                    )? as u64;
                }
                exec(
                    conn,
                    "UPDATE vault_reencryption SET after_key = ?, resealed = resealed + ?, \
                     updated_at = ?, finished_at = ? \
                     WHERE table_name = ? AND target_version = ?",
                    params![
                        progress.after_key,
                        written as i64,
                        ms(progress.updated_at),
                        progress.finished_at.map(ms),
                        progress.table.name(),
                        progress.target_version
                    ],
                )?;
                Ok(written)
            })
            .await
    }

    async fn reencryption_progress(&self) -> StoreResult<Vec<ReencryptionProgress>> {
        self.readers.read(|conn| {
            row_all(
                conn,
                "SELECT table_name, target_version, after_key, resealed, started_at, \
                 updated_at, finished_at FROM vault_reencryption ORDER BY table_name",
                [],
            )?
            .iter()
            .map(progress_row)
            .collect()
        })
    }

    async fn start_reencryption(&self, target: u32, now: DateTime<Utc>) -> StoreResult<()> {
        self.queue
            .write_direct(move |conn| {
                for table in SealedTable::ALL {
                    exec(
                        conn,
                        "INSERT INTO vault_reencryption (table_name, target_version, \
                         after_key, resealed, started_at, updated_at, finished_at) \
                         VALUES (?, ?, '', 0, ?, ?, NULL) ON CONFLICT (table_name) DO UPDATE \
                         SET target_version = excluded.target_version, after_key = '', \
                         resealed = 0, started_at = excluded.started_at, \
                         updated_at = excluded.updated_at, finished_at = NULL",
                        params![table.name(), target, ms(now), ms(now)],
                    )?;
                }
                Ok(())
            })
            .await
    }

    async fn claim_reencryption_lease(
        &self,
        holder: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let holder = holder.to_owned();
        self.queue
            .write_direct(move |conn| {
                let claimed = exec(
                    conn,
                    "INSERT INTO vault_reencryption_lease (id, holder, lease_until) \
                     VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE \
                     SET holder = excluded.holder, lease_until = excluded.lease_until \
                     WHERE vault_reencryption_lease.holder = excluded.holder \
                     OR vault_reencryption_lease.lease_until < ?",
                    params![holder, ms(until), ms(now)],
                )?;
                Ok(claimed > 0)
            })
            .await
    }
}
