//! Operators' switches: the maintenance window, and the sandbox's phone and
//! issuer.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceWindow {
    /// RFC 3339; binding resumes then.
    pub until: String,
    #[serde(default)]
    pub message_zh: String,
    #[serde(default)]
    pub message_en: String,
}
#[derive(Debug, Serialize, ToSchema)]
pub struct MaintenanceStatus {
    pub active: bool,
    pub window: Option<MaintenanceWindow>,
}
#[derive(Debug, Serialize, ToSchema)]
pub struct SmsView {
    pub phone: String,
    pub body: String,
    pub created_at: String,
}
#[derive(Debug, Serialize, ToSchema)]
pub struct SmsList {
    pub data: Vec<SmsView>,
    pub next_cursor: Option<String>,
}
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SandboxIssuerRequest {
    /// One issuer (e.g. ICBC), or all issuers when absent.
    pub issuer_code: Option<String>,
    pub latency_ms: u64,
    /// 0.0 to 1.0: the share of verifications that answer issuer_unavailable.
    pub failure_rate: f64,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SmsQuery {
    pub phone: String,
}

/// An API key as operators see it: never its secret or its hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyView {
    /// `key_...`: what `DELETE /v1/admin/keys/{id}` takes.
    pub id: String,
    /// operator, support, merchant or issuer.
    pub role: String,
    /// What the key acts for: an issuer key's issuer codes, a merchant key's
    /// merchant ids; empty for operator and support keys.
    pub scope: Vec<String>,
    /// The note given at creation.
    pub label: String,
    pub created_at: String,
    /// When it was revoked; null while it works.
    pub revoked_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyList {
    /// Oldest first, revoked keys included.
    pub data: Vec<ApiKeyView>,
}
