//! The rows of operators' tables, shared by both backends: API keys and
//! the audit of reads of a person's data.

use crate::model::*;
use crate::rows::{Columns, small};
use crate::{StoreError, StoreResult};

/// The columns `api_key_from_row` reads.
pub(crate) const API_KEY_COLUMNS: &str = "id, key_hash, role, label, holder, scope, \
     signing_key_version, signing_secret_ciphertext, created_at, revoked_at FROM api_keys";

/// An API key's scope as stored: a JSON array of issuer codes or merchant
/// ids.
pub(crate) fn scope_json(scope: &[String]) -> StoreResult<String> {
    serde_json::to_string(scope).map_err(|e| StoreError::Other(e.to_string()))
}

pub(crate) fn api_key_from_row(row: &impl Columns) -> StoreResult<ApiKeyRecord> {
    let scope: String = row.col("scope")?;
    let version: Option<i64> = row.col("signing_key_version")?;
    let ciphertext: Option<Vec<u8>> = row.col("signing_secret_ciphertext")?;
    let signing_secret = match (version, ciphertext) {
        (Some(version), Some(blob)) => Some((small(version)?, blob)),
        (None, None) => None,
        _ => {
            return Err(StoreError::Corrupt(
                "api key signing secret without its key version".to_owned(),
            ));
        }
    };
    Ok(ApiKeyRecord {
        id: row.id("id")?,
        key_hash: row.col("key_hash")?,
        role: row.col("role")?,
        label: row.col("label")?,
        holder: row.col("holder")?,
        scope: serde_json::from_str(&scope)
            .map_err(|e| StoreError::Corrupt(format!("api key scope: {e}")))?,
        signing_secret,
        created_at: row.time("created_at")?,
        revoked_at: row.opt_time("revoked_at")?,
    })
}

/// An audit row's insert, without its values: bound in this order.
pub(crate) const AUDIT_INSERT: &str = "INSERT INTO audit_events (id, created_at, key_id, \
     key_holder, role, action, user_id, trace_id, subject, chain_id, seq, prev_hash, entry_hash)";

/// A chain's head: its entry with the highest sequence number.
pub(crate) const AUDIT_HEAD: &str = "SELECT chain_id, seq, prev_hash, entry_hash \
     FROM audit_events WHERE chain_id = $1 ORDER BY seq DESC LIMIT 1";

/// Every entry written at or after a time, in the order written.
pub(crate) const AUDIT_SINCE: &str = "SELECT * FROM audit_events WHERE created_at >= $1 \
     ORDER BY created_at, chain_id, seq, id";

pub(crate) const CHECKPOINT_INSERT: &str = "INSERT INTO audit_checkpoints \
     (chain_id, seq, entry_hash, created_at, signature) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (chain_id, seq) DO NOTHING";

pub(crate) const CHECKPOINTS: &str = "SELECT chain_id, seq, entry_hash, created_at, signature \
     FROM audit_checkpoints ORDER BY chain_id, seq";

pub(crate) fn audit_link_from_row(row: &impl Columns) -> StoreResult<Option<AuditLink>> {
    let chain_id: Option<String> = row.col("chain_id")?;
    let Some(chain_id) = chain_id else {
        return Ok(None);
    };
    let seq: Option<i64> = row.col("seq")?;
    let prev_hash: Option<String> = row.col("prev_hash")?;
    let entry_hash: Option<String> = row.col("entry_hash")?;
    match (seq, prev_hash, entry_hash) {
        (Some(seq), Some(prev_hash), Some(entry_hash)) => Ok(Some(AuditLink {
            chain_id,
            seq,
            prev_hash,
            entry_hash,
        })),
        _ => Err(StoreError::Corrupt(format!(
            "audit entry of chain {chain_id} without its place or hashes"
        ))),
    }
}

pub(crate) fn audit_checkpoint_from_row(row: &impl Columns) -> StoreResult<AuditCheckpointRecord> {
    Ok(AuditCheckpointRecord {
        chain_id: row.col("chain_id")?,
        seq: row.col("seq")?,
        entry_hash: row.col("entry_hash")?,
        created_at: row.time("created_at")?,
        signature: row.col("signature")?,
    })
}

pub(crate) fn audit_event_from_row(row: &impl Columns) -> StoreResult<AuditEvent> {
    let user_id: Option<String> = row.col("user_id")?;
    Ok(AuditEvent {
        subject: row.col("subject")?,
        link: audit_link_from_row(row)?,
        id: row.col("id")?,
        created_at: row.time("created_at")?,
        key_id: row.col("key_id")?,
        key_holder: row.col("key_holder")?,
        role: row.col("role")?,
        action: row.col("action")?,
        user_id: user_id.map(UserId::from),
        trace_id: row.col("trace_id")?,
    })
}
