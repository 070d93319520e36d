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
     key_holder, role, action, user_id, trace_id)";

pub(crate) fn audit_event_from_row(row: &impl Columns) -> StoreResult<AuditEvent> {
    let user_id: Option<String> = row.col("user_id")?;
    Ok(AuditEvent {
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
