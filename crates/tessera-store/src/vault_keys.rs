//! The vault's data keys as the database keeps them (wrapped under the key
//! file's root), and the re-encryption that follows a rotation: the tables
//! holding sealed values, walked in primary-key order, with their progress
//! and the lease of the one node that walks
//! (`migrations/sqlite/0025_vault_data_keys.sql`,
//! `migrations/postgres/0030_vault_data_keys.sql`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tessera_core::vault::Sealed;
pub use tessera_core::vault::{DataKeyState, WrappedDataKey};

use crate::rows::Columns;
use crate::{StoreError, StoreResult};

/// A table holding sealed values, and the columns that hold them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SealedTable {
    /// Card numbers, sealed under the card's id.
    Cards,
    /// Token PANs, sealed under the token's reference.
    Tokens,
    /// Issuer API keys' signing secrets, sealed under the key's id.
    ApiKeys,
    /// A pending transfer's destination card number, under its id.
    Transfers,
}

impl SealedTable {
    pub const ALL: [SealedTable; 4] = [
        SealedTable::Cards,
        SealedTable::Tokens,
        SealedTable::ApiKeys,
        SealedTable::Transfers,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SealedTable::Cards => "cards",
            SealedTable::Tokens => "tokens",
            SealedTable::ApiKeys => "api_keys",
            SealedTable::Transfers => "transfers",
        }
    }

    pub fn parse(name: &str) -> Option<SealedTable> {
        SealedTable::ALL.into_iter().find(|t| t.name() == name)
    }

    /// (primary key, key version, ciphertext): fixed names, never input.
    pub(crate) fn columns(self) -> (&'static str, &'static str, &'static str) {
        match self {
            SealedTable::Cards => ("id", "pan_key_version", "pan_ciphertext"),
            SealedTable::Tokens => ("token_ref", "token_pan_key_version", "token_pan_ciphertext"),
            SealedTable::ApiKeys => ("id", "signing_key_version", "signing_secret_ciphertext"),
            SealedTable::Transfers => ("id", "to_key_version", "to_ciphertext"),
        }
    }

    /// Rows whose sealed value is under another version than `?active`,
    /// after `?after` in primary-key order, `?limit` of them. `$n` or `?`
    /// placeholders are the caller's (`placeholders`).
    pub(crate) fn batch_sql(self, placeholders: [&str; 3]) -> String {
        let (key, version, ciphertext) = self.columns();
        let [after, active, limit] = placeholders;
        format!(
            "SELECT {key} AS record_key, {version} AS key_version, {ciphertext} AS ciphertext \
             FROM {table} WHERE {key} > {after} AND {version} IS NOT NULL \
             AND {ciphertext} IS NOT NULL AND {version} <> {active} \
             ORDER BY {key} LIMIT CAST({limit} AS BIGINT)",
            table = self.name()
        )
    }

    /// One resealed row, written only if it still holds what was read.
    pub(crate) fn reseal_sql(self, placeholders: [&str; 5]) -> String {
        let (key, version, ciphertext) = self.columns();
        let [
            new_version,
            new_ciphertext,
            record,
            old_version,
            old_ciphertext,
        ] = placeholders;
        format!(
            "UPDATE {table} SET {version} = {new_version}, {ciphertext} = {new_ciphertext} \
             WHERE {key} = {record} AND {version} = {old_version} \
             AND {ciphertext} = {old_ciphertext}",
            table = self.name()
        )
    }

    /// How many records each version sealed.
    pub(crate) fn count_sql(self) -> String {
        let (_, version, ciphertext) = self.columns();
        format!(
            "SELECT {version} AS key_version, COUNT(*) AS records FROM {table} \
             WHERE {version} IS NOT NULL AND {ciphertext} IS NOT NULL GROUP BY {version}",
            table = self.name()
        )
    }
}

/// One sealed value as read for re-encryption.
#[derive(Debug, Clone)]
pub struct SealedRow {
    /// The primary key, which is also the record id it is sealed under.
    pub record: String,
    pub sealed: Sealed,
}

/// How many records of one table one version sealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionCount {
    pub table: SealedTable,
    pub version: u32,
    pub records: u64,
}

/// How far re-encryption has walked one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReencryptionProgress {
    pub table: SealedTable,
    /// The version it reseals under.
    pub target_version: u32,
    /// The last primary key done; empty before the first batch.
    pub after_key: String,
    pub resealed: u64,
    pub started_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// What [`VaultKeys::retire_vault_data_key`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetireOutcome {
    Retired,
    /// Records still sealed under the version: reseal them first.
    InUse(u64),
    /// The active version seals everything new: rotate first.
    Active,
    /// No such version, or retired already.
    Unknown,
}

#[async_trait]
pub trait VaultKeys: Send + Sync {
    /// Every version, oldest first.
    async fn vault_data_keys(&self) -> StoreResult<Vec<WrappedDataKey>>;
    /// Records the versions of a node's key file that the table lacks (the
    /// first writer wins each); the one offered as active becomes active
    /// only while no version is.
    async fn offer_vault_data_keys(&self, keys: &[WrappedDataKey]) -> StoreResult<()>;
    /// Adds `key` as the active version, the active one before it retiring,
    /// in one transaction. `Conflict` when the version exists (another
    /// rotation got there first).
    async fn add_vault_data_key(&self, key: &WrappedDataKey) -> StoreResult<()>;
    /// Replaces wrapped keys (a new root) where the version still exists.
    async fn rewrap_vault_data_keys(&self, keys: &[WrappedDataKey]) -> StoreResult<()>;
    /// Retires a version only when no record uses it, counted in the same
    /// transaction; its key is deleted, its row kept.
    async fn retire_vault_data_key(&self, version: u32) -> StoreResult<RetireOutcome>;
    /// Records per table and version.
    async fn sealed_version_counts(&self) -> StoreResult<Vec<VersionCount>>;
    /// Up to `limit` rows not under `active`, after `after_key`.
    async fn sealed_batch(
        &self,
        table: SealedTable,
        after_key: &str,
        active: u32,
        limit: u32,
    ) -> StoreResult<Vec<SealedRow>>;
    /// Writes resealed rows (each only if unchanged since read) and the
    /// table's progress in one transaction; returns how many were written.
    async fn write_resealed(
        &self,
        rows: &[(SealedRow, Sealed)],
        progress: &ReencryptionProgress,
    ) -> StoreResult<u64>;
    async fn reencryption_progress(&self) -> StoreResult<Vec<ReencryptionProgress>>;
    /// Starts (or restarts) the walk of every table towards `target`.
    async fn start_reencryption(&self, target: u32, now: DateTime<Utc>) -> StoreResult<()>;
    /// Takes or renews the walker's lease; false while another holds it.
    async fn claim_reencryption_lease(
        &self,
        holder: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
}

pub(crate) fn wrapped_key(row: &impl Columns) -> StoreResult<WrappedDataKey> {
    let state: String = row.col("state")?;
    let state = DataKeyState::parse(&state)
        .ok_or_else(|| StoreError::Corrupt(format!("vault_data_keys.state {state:?}")))?;
    Ok(WrappedDataKey {
        version: number(row.col("version")?)?,
        wrapped: row.col::<Option<Vec<u8>>>("wrapped")?.unwrap_or_default(),
        root_version: number(row.col("root_version")?)?,
        created_at: row.time("created_at")?,
        state,
    })
}

pub(crate) fn sealed_row(row: &impl Columns) -> StoreResult<SealedRow> {
    Ok(SealedRow {
        record: row.col("record_key")?,
        sealed: Sealed {
            key_version: number(row.col("key_version")?)?,
            blob: row.col("ciphertext")?,
        },
    })
}

pub(crate) fn progress_row(row: &impl Columns) -> StoreResult<ReencryptionProgress> {
    let table: String = row.col("table_name")?;
    Ok(ReencryptionProgress {
        table: SealedTable::parse(&table)
            .ok_or_else(|| StoreError::Corrupt(format!("vault_reencryption {table:?}")))?,
        target_version: number(row.col("target_version")?)?,
        after_key: row.col("after_key")?,
        resealed: u64::try_from(row.col::<i64>("resealed")?).unwrap_or(0),
        started_at: row.time("started_at")?,
        updated_at: row.time("updated_at")?,
        finished_at: row.opt_time("finished_at")?,
    })
}

pub(crate) fn number(value: i64) -> StoreResult<u32> {
    u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("key version {value}")))
}

/// Where a version's row starts when offered by a key file.
pub(crate) fn offered_state(key: &WrappedDataKey) -> &'static str {
    match key.state {
        DataKeyState::Retired => DataKeyState::Retired.as_str(),
        _ => DataKeyState::Retiring.as_str(),
    }
}
