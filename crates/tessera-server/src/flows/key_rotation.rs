//! Key rotation under load. The database holds every data key version
//! wrapped under the key file's root (`vault_data_keys`); a node reads them
//! at start, every `vault.refresh_secs`, and at once when one of its
//! sealing writes is refused because a newer version is active (the
//! triggers of the table's migration refuse any other: `key_version_stale`).
//! A node also reads them when one of its opens meets a version it lacks.
//! A rotation adds a version and makes it active in one transaction, then
//! one node at a time (a lease) re-encrypts every sealed value in batches,
//! recording how far it got, so that a node that dies mid-way is followed
//! by another, or by itself after a restart, from there.

use std::sync::LazyLock;

use chrono::{DateTime, TimeDelta, Utc};
use tessera_core::error::{DomainError, ErrorCode};
use tessera_core::vault::{
    KeyRing, PAN_CONTEXT, RingChange, Sealed, TOKEN_PAN_CONTEXT, VaultError, WrappedDataKey,
};
use tessera_store::vault_keys::{ReencryptionProgress, SealedRow, SealedTable, VersionCount};
use tessera_store::{Store, StoreError};
use tokio::sync::Notify;

use crate::flows::audit::{self, Actor};
use crate::flows::keys::SIGNING_SECRET_CONTEXT;
use crate::http::error::{ApiError, store_error};
use crate::state::AppState;

/// Seconds a refused sealing write asks its caller to wait: time for the
/// node to read the new version, which it starts at once.
pub const STALE_RETRY_AFTER_SECS: u64 = 1;

/// Wakes every node's refresher in this process when one of its writes
/// was refused as stale (`http/error.rs`, which has no state at hand).
static STALE_SEEN: LazyLock<Notify> = LazyLock::new(Notify::new);

/// Called where `StoreError::KeyVersionStale` is mapped to the caller's
/// error: the refresher reads the versions now instead of at its next turn.
pub fn stale_version_seen() {
    STALE_SEEN.notify_waiters();
}

/// The refusal a caller gets: retryable, and the retry finds the node
/// holding the new version.
pub fn stale_error() -> DomainError {
    stale_version_seen();
    DomainError::new(ErrorCode::KeyVersionStale).with_retry_after(STALE_RETRY_AFTER_SECS)
}

/// The vault context each table's values are sealed under.
pub fn context(table: SealedTable) -> &'static str {
    match table {
        SealedTable::Cards | SealedTable::Transfers => PAN_CONTEXT,
        SealedTable::Tokens => TOKEN_PAN_CONTEXT,
        SealedTable::ApiKeys => SIGNING_SECRET_CONTEXT,
    }
}

/// At start: the versions of this node's key file that the database lacks
/// are recorded (the first node's active version becomes the active one),
/// then the ring takes in every version the database holds.
pub async fn join(store: &dyn Store, keys: &KeyRing) -> Result<RingChange, String> {
    let offered = keys.wrapped_keys().map_err(|e| e.to_string())?;
    store
        .offer_vault_data_keys(&offered)
        .await
        .map_err(|e| format!("cannot record the data key versions: {e}"))?;
    let stored = store
        .vault_data_keys()
        .await
        .map_err(|e| format!("cannot read the data key versions: {e}"))?;
    keys.install(&stored).map_err(|e| e.to_string())
}

/// Reads the database's versions into this node's ring.
pub async fn refresh(store: &dyn Store, keys: &KeyRing) -> Result<RingChange, RotationError> {
    let stored = store.vault_data_keys().await?;
    let change = keys.install(&stored)?;
    if change.changed() {
        tracing::info!(
            active_before = change.active_before,
            active = change.active_after,
            added = ?change.added,
            removed = ?change.removed,
            "data key versions learnt from the database"
        );
    }
    Ok(change)
}

/// For the life of the server: keeps the ring current, and re-encrypts
/// when a rotation left work and this node holds the lease.
pub async fn keep_current(state: AppState) {
    let every = state.config.vault.refresh_every();
    let mut misses = state.keys.unknown_version_opens();
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = STALE_SEEN.notified() => {}
            () = unknown_version_met(&state, misses) => {}
        }
        misses = state.keys.unknown_version_opens();
        if let Err(error) = refresh(state.store.as_ref(), &state.keys).await {
            tracing::warn!(%error, "cannot read the data key versions");
            continue;
        }
        reencrypt_until_done(state.clone()).await;
    }
}

/// Returns once an open on this node has met a version its ring lacks
/// (one atomic load every 100 ms while none has).
async fn unknown_version_met(state: &AppState, seen: u64) {
    while state.keys.unknown_version_opens() == seen {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Why rotation, retirement or re-encryption stopped. Messages name
/// versions and counts, never a key.
#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(
        "another rotation added version {0} at the same moment: look at the versions, and rotate again only if still needed"
    )]
    Raced(u32),
    #[error(
        "data key version {version} still seals {records} records: wait for re-encryption to finish (`tessera keys status`), then retire it"
    )]
    InUse { version: u32, records: u64 },
    #[error(
        "data key version {0} is the active one: rotate first, then retire it once re-encryption has finished"
    )]
    Active(u32),
    #[error("there is no data key version {0} to retire (unknown, or retired already)")]
    Unknown(u32),
}

impl From<RotationError> for ApiError {
    fn from(error: RotationError) -> Self {
        let refused = |zh: String, en: String| {
            ApiError(DomainError::new(ErrorCode::InvalidRequest).with_notice(zh, en))
        };
        match error {
            RotationError::Store(StoreError::KeyVersionStale) => ApiError(stale_error()),
            RotationError::Store(store) => ApiError(store_error(&store)),
            RotationError::Vault(vault) => {
                tracing::error!(error = %vault, "key ring");
                ApiError(DomainError::new(ErrorCode::InternalError))
            }
            RotationError::Raced(version) => refused(
                format!(
                    "另一次轮换同时加入了第 {version} 版密钥。请先查看密钥状态，确有需要再轮换。"
                ),
                error.to_string(),
            ),
            RotationError::InUse { version, records } => refused(
                format!(
                    "第 {version} 版密钥仍加密着 {records} 条记录。请等重新加密完成（查看密钥轮换状态）后再停用。"
                ),
                error.to_string(),
            ),
            RotationError::Active(version) => refused(
                format!("第 {version} 版是正在使用的密钥。请先轮换，等重新加密完成后再停用。"),
                error.to_string(),
            ),
            RotationError::Unknown(version) => refused(
                format!("没有可停用的第 {version} 版密钥（不存在，或已停用）。"),
                error.to_string(),
            ),
        }
    }
}

/// Adds a data key version, makes it active everywhere (nodes that have
/// not read it yet are refused sealing writes until they do), records the
/// rotation in the audit and starts re-encryption. Returns the version.
pub async fn rotate(state: &AppState, actor: Actor<'_>) -> Result<u32, RotationError> {
    let stored = state.store.vault_data_keys().await?;
    state.keys.install(&stored)?;
    let newest = stored
        .iter()
        .map(|key| key.version)
        .chain(state.keys.versions())
        .max()
        .unwrap_or(0);
    let version = newest.checked_add(1).ok_or(VaultError::VersionOverflow)?;
    let key: WrappedDataKey = state.keys.new_data_key(version)?;
    match state.store.add_vault_data_key(&key).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => return Err(RotationError::Raced(version)),
        Err(error) => return Err(error.into()),
    }
    refresh(state.store.as_ref(), &state.keys).await?;
    state.store.start_reencryption(version, state.now()).await?;
    let subject = format!("key_version:{version}");
    actor
        .record(state, audit::KEY_ROTATED, None, Some(subject))
        .await
        .map_err(|e| StoreError::Other(format!("audit: {}", e.0.code.as_str())))?;
    Ok(version)
}

/// Walks the re-encryption until nothing is left for this node (done, or
/// another node holds the lease): started by a rotation on the node that
/// made it; `keep_current` picks it up on every node after that.
pub async fn reencrypt_until_done(state: AppState) {
    loop {
        match reencrypt_batch(&state).await {
            Ok(0) => break,
            Ok(_) => tokio::task::yield_now().await,
            Err(error) => {
                tracing::warn!(%error, "re-encryption paused");
                break;
            }
        }
    }
}

/// Retires a version no record uses any more: its key is deleted from the
/// database and every node's ring (at its next refresh).
pub async fn retire(state: &AppState, version: u32, actor: Actor<'_>) -> Result<(), RotationError> {
    use tessera_store::vault_keys::RetireOutcome;
    match state.store.retire_vault_data_key(version).await? {
        RetireOutcome::Retired => {}
        RetireOutcome::InUse(records) => return Err(RotationError::InUse { version, records }),
        RetireOutcome::Active => return Err(RotationError::Active(version)),
        RetireOutcome::Unknown => return Err(RotationError::Unknown(version)),
    }
    refresh(state.store.as_ref(), &state.keys).await?;
    actor
        .record(
            state,
            audit::KEY_RETIRED,
            None,
            Some(format!("key_version:{version}")),
        )
        .await
        .map_err(|e| StoreError::Other(format!("audit: {}", e.0.code.as_str())))?;
    Ok(())
}

/// How long a node holds the re-encryption lease without renewing it.
const LEASE: TimeDelta = TimeDelta::seconds(30);

/// One batch of one unfinished table, if this node holds (or takes) the
/// lease; returns how many rows it walked (0: nothing to do here now).
pub async fn reencrypt_batch(state: &AppState) -> Result<u64, RotationError> {
    let progress = state.store.reencryption_progress().await?;
    let active = state.keys.active_version();
    let Some(next) = progress
        .iter()
        .find(|p| p.finished_at.is_none() && p.target_version == active)
    else {
        return Ok(0);
    };
    let now = state.now();
    if !state
        .store
        .claim_reencryption_lease(&state.config.node_id, now + LEASE, now)
        .await?
    {
        return Ok(0);
    }
    let batch = state.config.vault.reencrypt_batch.max(1);
    let rows = state
        .store
        .sealed_batch(next.table, &next.after_key, active, batch)
        .await?;
    let walked = rows.len() as u64;
    let resealed = reseal_rows(&state.keys, next.table, &rows);
    let done = rows.len() < batch as usize;
    let after_key = rows
        .last()
        .map_or_else(|| next.after_key.clone(), |row| row.record.clone());
    let finished_at = if done { Some(state.now()) } else { None };
    let update = ReencryptionProgress {
        after_key,
        updated_at: state.now(),
        finished_at,
        ..next.clone()
    };
    state.store.write_resealed(&resealed, &update).await?;
    if done
        && progress
            .iter()
            .all(|p| p.finished_at.is_some() || p.table == next.table)
    {
        restart_if_left_behind(state, active).await?;
    }
    // A finished table with nothing walked still counts as progress.
    Ok(walked.max(u64::from(done)))
}

/// Values written under the old version while the rotation committed (a
/// write already past the trigger's check) land behind the walk: a final
/// count finds them and walks again.
async fn restart_if_left_behind(state: &AppState, active: u32) -> Result<(), RotationError> {
    let counts = state.store.sealed_version_counts().await?;
    let left = counts
        .iter()
        .any(|count| count.version != active && state.keys.has_version(count.version));
    if left {
        tracing::info!(
            active,
            "values left under older versions: re-encryption walks again"
        );
        state.store.start_reencryption(active, state.now()).await?;
    } else {
        tracing::info!(active, "re-encryption finished");
    }
    Ok(())
}

/// Each row resealed under the active version. A row that does not open
/// (a version this ring lacks, a damaged value) is left as it is and
/// logged by record id only.
fn reseal_rows(keys: &KeyRing, table: SealedTable, rows: &[SealedRow]) -> Vec<(SealedRow, Sealed)> {
    rows.iter()
        .filter_map(
            |row| match keys.reseal_bytes(context(table), &row.record, &row.sealed) {
                Ok(sealed) => Some((row.clone(), sealed)),
                Err(error) => {
                    tracing::warn!(
                        table = table.name(),
                        record = %row.record,
                        key_version = row.sealed.key_version,
                        %error,
                        "a sealed value cannot be re-encrypted"
                    );
                    None
                }
            },
        )
        .collect()
}

/// What `GET /v1/admin/keys/rotation` and `tessera keys status` show.
#[derive(Debug, Clone)]
pub struct RotationState {
    pub active_version: u32,
    pub versions: Vec<WrappedDataKey>,
    pub counts: Vec<VersionCount>,
    pub progress: Vec<ReencryptionProgress>,
}

impl RotationState {
    /// Records not under the active version.
    pub fn records_left(&self) -> u64 {
        self.counts
            .iter()
            .filter(|count| count.version != self.active_version)
            .map(|count| count.records)
            .sum()
    }

    pub fn records_of(&self, version: u32) -> u64 {
        self.counts
            .iter()
            .filter(|count| count.version == version)
            .map(|count| count.records)
            .sum()
    }

    pub fn resealed(&self) -> u64 {
        self.progress.iter().map(|p| p.resealed).sum()
    }

    /// Values resealed per second since the walk started.
    pub fn rate_per_sec(&self) -> f64 {
        let started: Option<DateTime<Utc>> = self.progress.iter().map(|p| p.started_at).min();
        let latest: Option<DateTime<Utc>> = self.progress.iter().map(|p| p.updated_at).max();
        match (started, latest) {
            (Some(started), Some(latest)) if latest > started => {
                let secs = (latest - started).num_milliseconds() as f64 / 1000.0;
                self.resealed() as f64 / secs
            }
            _ => 0.0,
        }
    }

    pub fn finished(&self) -> bool {
        self.progress.iter().all(|p| p.finished_at.is_some()) && self.records_left() == 0
    }
}

pub async fn rotation_state(store: &dyn Store) -> Result<RotationState, RotationError> {
    let versions = store.vault_data_keys().await?;
    let active_version = versions
        .iter()
        .find(|key| key.state == tessera_core::vault::DataKeyState::Active)
        .map_or(0, |key| key.version);
    Ok(RotationState {
        active_version,
        versions,
        counts: store.sealed_version_counts().await?,
        progress: store.reencryption_progress().await?,
    })
}
