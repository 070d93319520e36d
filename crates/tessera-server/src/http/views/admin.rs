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
#[serde(deny_unknown_fields)]
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
    /// Who holds the key, as named at creation (empty for keys made before
    /// holders were kept).
    pub holder: String,
    pub created_at: String,
    /// When it was revoked; null while it works.
    pub revoked_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyList {
    /// Oldest first, revoked keys included.
    pub data: Vec<ApiKeyView>,
}

/// A key to make: `POST /v1/admin/keys`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyRequest {
    /// support, merchant or issuer (operator keys are made only with
    /// `tessera admin create-key`).
    pub role: String,
    /// Issuer keys: the issuer codes of the BIN table they act for (CCB,
    /// ICBC, ...); at least one.
    #[serde(default)]
    pub issuers: Vec<String>,
    /// Merchant keys: the merchant ids they pay as; at least one.
    #[serde(default)]
    pub merchants: Vec<String>,
    /// Who holds the key: a person or a team.
    pub holder: String,
    /// A note.
    #[serde(default)]
    pub label: String,
}

/// A key just made: the only answer that holds its secret.
#[derive(Serialize, ToSchema)]
pub struct CreatedKeyView {
    pub id: String,
    /// The bearer secret (`tsk_...`): shown this once, never again.
    pub key: String,
    pub role: String,
    pub scope: Vec<String>,
    pub holder: String,
    pub label: String,
    pub created_at: String,
    /// Issuer keys: the secret their events are signed with (`tsg_...`),
    /// shown this once.
    pub signing_secret: Option<String>,
}

impl std::fmt::Debug for CreatedKeyView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedKeyView")
            .field("id", &self.id)
            .field("role", &self.role)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// One audit entry (a read of a person's data, a sign-in, a key made, ...),
/// as operators list them.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventView {
    /// `aud_...`.
    pub id: String,
    pub at: String,
    /// The acting API key; empty when a person or the service acted.
    pub key_id: String,
    /// The key's holder when it acted.
    pub key_holder: String,
    /// The actor's role: an API key's, `user` or `service`.
    pub role: String,
    /// `support.users.search`, `session.signed_in`, `api_key.created`, ...
    pub action: String,
    /// The person concerned, when there is one.
    pub user_id: Option<String>,
    /// The other ids concerned: `card:crd_...`, `token:tok_...`,
    /// `api_key:key_...`, ...
    pub subject: Option<String>,
    pub trace_id: String,
    /// The writer's chain (`node:<node_id>`) and the entry's place in it;
    /// none for entries older than the chain.
    pub chain_id: Option<String>,
    pub seq: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventList {
    /// Newest first.
    pub data: Vec<AuditEventView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditEventQuery {
    /// At most 200; 50 by default.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
}
