//! What every request handler shares: configuration, the store, the key
//! ring, the BIN index, the issuer connector and the clock.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tessera_core::bins::BinIndex;
use tessera_core::vault::KeyRing;
use tessera_store::Store;

use crate::clock::Clock;
use crate::config::Config;
use crate::flows::audit_chain::AuditChain;
use crate::flows::issuer_health::{BaselineCache, EvaluationClock};
use crate::flows::metrics::Metrics;
use crate::http::auth::SessionCache;
use crate::http::rate_limit::PublicRateLimits;
use crate::identity::IdentityVerifier;
use crate::issuer::Issuer;
use crate::passwords::Argon2Queue;
use crate::sms::SmsSender;

/// Cloned for every request (axum's `State`), so it is one `Arc`: a clone
/// is one count, where a struct of a dozen `Arc`s took a dozen, and as many
/// again to drop.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

#[derive(Debug)]
pub struct Shared {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    pub keys: Arc<KeyRing>,
    pub bins: Arc<BinIndex>,
    pub issuer: Arc<dyn Issuer>,
    pub time_zone: chrono_tz::Tz,
    /// When this node last ran the issuer anomaly rule.
    pub issuer_clock: Arc<EvaluationClock>,
    /// Issuers' baselines, a closed stretch at a time (`flows/issuer_health.rs`).
    pub baselines: Arc<BaselineCache>,
    /// Sessions read lately (`http/auth.rs`).
    pub sessions: Arc<SessionCache>,
    /// This server's place in the Argon2 threads' queue (`passwords.rs`).
    pub argon2: Argon2Queue,
    /// This node's budgets for the routes that need no account
    /// (`http/rate_limit.rs`).
    pub public_rate_limits: PublicRateLimits,
    /// This node's counters and the binding-health snapshot
    /// (`flows/metrics.rs`).
    pub metrics: Metrics,
    /// The wallet's own text messages (`sms.rs`).
    pub sms: Arc<dyn SmsSender>,
    /// Who confirms a real name and ID number at sign-up (`identity.rs`).
    pub identity: Arc<dyn IdentityVerifier>,
    /// What time it is: the system's, or a test's (`clock.rs`).
    pub clock: Clock,
    /// The relying party passkeys are made for (`flows/passkeys.rs`).
    pub webauthn: Arc<webauthn_rs::Webauthn>,
    /// This node's audit chain (`flows/audit_chain.rs`).
    pub audit: AuditChain,
}

impl Shared {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}
