//! Key rotation as operators see it: versions, what each still seals, and
//! how far re-encryption has got. Never a key, wrapped or not.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::flows::key_rotation::RotationState;
use crate::http::error::rfc3339;

#[derive(Debug, Serialize, ToSchema)]
pub struct DataKeyVersionView {
    pub version: u32,
    /// `active` (seals everything new), `retiring` (still opens what it
    /// sealed) or `retired` (deleted).
    pub state: String,
    /// The root key version it is wrapped under.
    pub root_version: u32,
    pub created_at: String,
    /// Records it still seals.
    pub records: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReencryptionTableView {
    /// cards, tokens, api_keys or transfers.
    pub table: String,
    pub target_version: u32,
    pub resealed: u64,
    pub finished: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyRotationView {
    pub active_version: u32,
    pub versions: Vec<DataKeyVersionView>,
    /// Records sealed under any version but the active one.
    pub records_left: u64,
    /// Values re-encrypted since the latest rotation started.
    pub resealed: u64,
    /// Values re-encrypted per second since then.
    pub rate_per_sec: f64,
    /// True once every table was walked and no record is left behind.
    pub finished: bool,
    pub tables: Vec<ReencryptionTableView>,
}

impl From<&RotationState> for KeyRotationView {
    fn from(state: &RotationState) -> Self {
        KeyRotationView {
            active_version: state.active_version,
            versions: state
                .versions
                .iter()
                .map(|key| DataKeyVersionView {
                    version: key.version,
                    state: key.state.as_str().to_owned(),
                    root_version: key.root_version,
                    created_at: rfc3339(key.created_at),
                    records: state.records_of(key.version),
                })
                .collect(),
            records_left: state.records_left(),
            resealed: state.resealed(),
            rate_per_sec: state.rate_per_sec(),
            finished: state.finished(),
            tables: state
                .progress
                .iter()
                .map(|p| ReencryptionTableView {
                    table: p.table.name().to_owned(),
                    target_version: p.target_version,
                    resealed: p.resealed,
                    finished: p.finished_at.is_some(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyRotatedView {
    /// The new active version.
    pub version: u32,
    pub rotation: KeyRotationView,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetireKeyRequest {
    /// The data key version to retire; no record may still use it.
    pub version: u32,
}
