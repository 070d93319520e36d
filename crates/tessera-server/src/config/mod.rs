//! Configuration in layers (lldap's way, with figment): built-in defaults, then
//! a TOML file (`--config`), then `TESSERA_*` environment variables, then
//! command-line flags. A bad value is reported with the layer it came from.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use tessera_core::bins::policy::SupportPolicy;
use tessera_core::fees::FeeSchedule;
use tessera_core::issuer_health::AnomalyRule;
use tessera_core::risk::RiskRules;
use tessera_core::token::TokenBinRanges;

use crate::issuer::http::IssuerEndpoint;

#[cfg(test)]
mod fees;
mod limits;
mod listener;
mod retention;
mod safety;
mod vault;
pub use limits::LimitsConfig;
pub use listener::ListenerConfig;
pub use retention::RetentionConfig;
pub use safety::{ConsentConfig, WebauthnConfig};
pub use vault::{VaultBackend, VaultConfig};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the embedded database and the key file live.
    pub data_dir: PathBuf,
    /// Address to listen on; port 0 picks a free one.
    pub listen: String,
    /// Connection timeouts, the connection cap and HTTPS (`[listener]`).
    pub listener: ListenerConfig,
    /// `postgres://...` to share one database between nodes; SQLite in
    /// `data_dir` when absent.
    pub database_url: Option<String>,
    /// This node's name, unique among the nodes of one database: its audit
    /// entries form the chain `node:<node_id>`, continued after a restart.
    pub node_id: String,
    /// Cards one user may hold at once (pending ones count).
    pub card_limit: u32,
    /// The time zone a card's expiry is judged in.
    pub wallet_time_zone: String,
    /// Sandbox mode: the built-in sandbox issuer answers, and OTP texts go to
    /// the sandbox phone (`GET /v1/sandbox/sms`).
    pub sandbox: bool,
    pub sandbox_issuer: SandboxIssuerConfig,
    /// Also show each sandbox SMS on standard output, as the simulated phone's
    /// screen (`tessera demo` turns this on). Sandbox mode only.
    pub sandbox_print_sms: bool,
    /// Which cards are accepted.
    pub policy: SupportPolicy,
    /// An operator's own BIN table (CSV, the columns of `data/bins_cn.csv`),
    /// used instead of the shipped tables.
    pub bin_file: Option<PathBuf>,
    pub token_bin_ranges: TokenBinRanges,
    /// The BIN controller id that starts every PAR.
    pub par_bin_controller_id: String,
    /// The wallet's Token Requestor ID (11 digits).
    pub token_requestor_id: String,
    pub session_ttl_secs: u64,
    pub otp_ttl_secs: u64,
    /// Seconds after a code was sent before the person may ask for a new
    /// one (`POST /v1/cards/{id}/otp`).
    pub otp_resend_after_secs: u64,
    pub otp_max_attempts: u32,
    pub max_body_bytes: usize,
    pub request_timeout_secs: u64,
    /// Proxies (addresses or networks such as `10.0.0.0/8`) whose
    /// `X-Forwarded-For` names the client; from anyone else the header is
    /// ignored and the connection's peer is the client.
    pub trusted_proxies: Vec<String>,
    /// `human` or `json`.
    pub log_format: String,
    /// Seconds a binding may wait on the issuer before it counts as a
    /// timeout (`issuer_unavailable`).
    pub issuer_timeout_secs: u64,
    /// Retry-After sent with `issuer_unavailable`.
    pub issuer_retry_after_secs: u64,
    pub database: DatabaseConfig,
    /// Binding health: the anomaly rule's windows and thresholds, and the
    /// issuer circuit breaker.
    pub health: HealthConfig,
    pub payments: PaymentsConfig,
    /// What operations cost, by operation and channel (`[fees]`,
    /// `tessera_core::fees`); binding is always free.
    pub fees: FeeSchedule,
    /// Limits on what one request or one person may do (`[limits]`).
    pub limits: LimitsConfig,
    /// The no-confirmation limits people may choose (`[consent]`).
    pub consent: ConsentConfig,
    /// The risk rules every payment is scored by (`[risk]`).
    pub risk: RiskRules,
    /// Passkeys: the relying party's id and origin (`[webauthn]`).
    pub webauthn: WebauthnConfig,
    /// The wallet's own text messages (`[sms]`).
    pub sms: SmsConfig,
    /// The identity-verification provider sign-up asks (`[identity]`).
    pub identity: IdentityConfig,
    /// How long what people leave behind is kept (`[retention]`).
    pub retention: RetentionConfig,
    /// Key rotation: how often a node reads the data key versions, and the
    /// re-encryption's batch (`[vault]`).
    pub vault: VaultConfig,
    /// Banks reached over the issuer protocol, by issuer code
    /// (`[issuers.ABC]`, `issuer/http.rs`); other cards keep the sandbox.
    pub issuers: BTreeMap<String, IssuerEndpoint>,
}

/// `[sms]`: where the wallet's own texts (sign-up and reset codes) go.
/// Without `http_url` they land in the sandbox outbox (sandbox mode only).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SmsConfig {
    /// An SMS gateway that takes `POST {"phone": ..., "text": ...}` and
    /// answers 2xx once it accepted the text (plain `http://`: a gateway
    /// on the operator's own network, holding the provider's credentials).
    pub http_url: Option<String>,
    /// Seconds a text may take to be accepted before it counts as failed.
    pub timeout_secs: u64,
}

impl Default for SmsConfig {
    fn default() -> Self {
        SmsConfig {
            http_url: None,
            timeout_secs: 10,
        }
    }
}

/// `[identity]`: who confirms that a real name and an ID number belong
/// together. Without `http_url` the sandbox provider answers (sandbox mode
/// only; its outcomes come from the ID number's sequence digits).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct IdentityConfig {
    /// A provider (or a gateway to one) that takes `POST {"real_name": ...,
    /// "id_number": ...}` and answers 200 `{"result": "match" | "mismatch"
    /// | "not_found"}` (plain `http://`, on the operator's own network).
    pub http_url: Option<String>,
    /// Seconds a check may take before it counts as unavailable.
    pub timeout_secs: u64,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        IdentityConfig {
            http_url: None,
            timeout_secs: 10,
        }
    }
}

/// A provider's URL: plain `http://` (this build speaks no TLS).
fn check_provider_url(name: &str, url: Option<&str>, timeout_secs: u64) -> Result<(), String> {
    if timeout_secs == 0 || timeout_secs > 120 {
        return Err(format!("{name}.timeout_secs must be 1 to 120"));
    }
    match url {
        Some(url) if !url.starts_with("http://") || url.len() <= "http://".len() => Err(format!(
            "{name}.http_url: {url:?} is not an http:// URL (this build speaks plain HTTP: \
             point it at a gateway on your own network)"
        )),
        _ => Ok(()),
    }
}

/// Token 2.0 payments: limited-use keys, cryptograms, the ATC rule.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PaymentsConfig {
    /// Limited-use keys handed to a device per `POST /v1/tokens/{ref}/keys`.
    pub key_batch_size: u16,
    /// The most a device may ask for at once (`count`).
    pub max_key_batch: u16,
    /// How far below the highest ATC accepted a late payment may still
    /// come (each ATC pays once, whatever the window).
    pub atc_window: u16,
    /// How long a server-made single-use cryptogram stays valid.
    pub cryptogram_ttl_secs: u64,
    /// The IMK-AC generation new tokens are issued under (1-255). Raising it
    /// rotates the issuer master keys for new tokens; older tokens keep
    /// theirs.
    pub imk_generation: u8,
    /// Channels the wallet's tokens may pay through: nfc, in_app, ecommerce.
    pub channels: Vec<String>,
    /// Issuer events signed longer ago than this are refused (replays).
    pub issuer_event_max_age_secs: u64,
    /// A token is renewed (a new PSN, its ATCs from zero) when handing out
    /// keys or a cryptogram would take its ATC past this.
    pub renew_at_atc: u16,
    /// A token whose expiry is this close, or past, is renewed when its
    /// holder next asks for keys or a cryptogram, if its card runs longer.
    pub renew_days_before_expiry: u32,
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        PaymentsConfig {
            key_batch_size: 10,
            max_key_batch: 50,
            atc_window: 32,
            cryptogram_ttl_secs: 300,
            imk_generation: 1,
            channels: vec![
                "nfc".to_owned(),
                "in_app".to_owned(),
                "ecommerce".to_owned(),
            ],
            issuer_event_max_age_secs: 300,
            renew_at_atc: 65_000,
            renew_days_before_expiry: 30,
        }
    }
}

/// How issuers are watched. The flags live in the database, so every node
/// sees an issuer's incident and breaker at once.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct HealthConfig {
    /// The recent window an issuer is judged on.
    pub recent_window_secs: u64,
    /// Its baseline: this long before the recent window.
    pub baseline_window_secs: u64,
    pub anomaly: AnomalyRule,
    /// How long a breaker answers at once before one probe may ask the
    /// issuer again.
    pub breaker_cool_down_ms: u64,
    /// One node re-evaluates an issuer at most this often.
    pub evaluate_interval_ms: u64,
    /// An issuer's recent window counts at most its newest this many
    /// attempts, so that judging a busy bank every few seconds reads a
    /// bounded number of rows (the failure rate of 5,000 answers is as
    /// clear as that of a million).
    pub recent_max_samples: u32,
    /// How often each node recomputes the binding-health figures `/metrics`
    /// serves (they read the shared database); 0 computes them on every
    /// scrape.
    pub metrics_refresh_ms: u64,
}

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig {
            recent_window_secs: 600,
            baseline_window_secs: 24 * 3600,
            anomaly: AnomalyRule::default(),
            breaker_cool_down_ms: 30_000,
            evaluate_interval_ms: 2_000,
            recent_max_samples: 5_000,
            metrics_refresh_ms: 10_000,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// Reader connections (SQLite) or pool size (PostgreSQL).
    pub pool_size: u32,
    pub acquire_timeout_secs: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            pool_size: 8,
            acquire_timeout_secs: 10,
        }
    }
}

/// How the sandbox issuer behaves before an operator changes it at run time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxIssuerConfig {
    pub latency_ms: u64,
    /// Share of verifications that answer "issuer unavailable", 0.0 to 1.0.
    pub failure_rate: f64,
    /// How long the `slow` outcome (digits 510) takes.
    pub slow_ms: u64,
}

impl Default for SandboxIssuerConfig {
    fn default() -> Self {
        SandboxIssuerConfig {
            latency_ms: 0,
            failure_rate: 0.0,
            slow_ms: 2000,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./tessera-data"),
            listen: "127.0.0.1:8080".to_owned(),
            listener: ListenerConfig::default(),
            database_url: None,
            node_id: "main".to_owned(),
            card_limit: 5,
            wallet_time_zone: "Asia/Shanghai".to_owned(),
            sandbox: true,
            sandbox_issuer: SandboxIssuerConfig::default(),
            sandbox_print_sms: false,
            policy: SupportPolicy::default(),
            bin_file: None,
            token_bin_ranges: TokenBinRanges::default(),
            par_bin_controller_id: "T001".to_owned(),
            token_requestor_id: "40000000001".to_owned(),
            session_ttl_secs: 12 * 3600,
            otp_ttl_secs: 300,
            otp_resend_after_secs: 60,
            otp_max_attempts: 5,
            max_body_bytes: 64 * 1024,
            request_timeout_secs: 30,
            trusted_proxies: Vec::new(),
            log_format: "human".to_owned(),
            issuer_timeout_secs: 10,
            issuer_retry_after_secs: 30,
            database: DatabaseConfig::default(),
            health: HealthConfig::default(),
            payments: PaymentsConfig::default(),
            fees: FeeSchedule::default(),
            limits: LimitsConfig::default(),
            consent: ConsentConfig::default(),
            risk: RiskRules::default(),
            webauthn: WebauthnConfig::default(),
            sms: SmsConfig::default(),
            identity: IdentityConfig::default(),
            retention: RetentionConfig::default(),
            vault: VaultConfig::default(),
            issuers: BTreeMap::new(),
        }
    }
}

/// Settings given on the command line; they win over every other layer.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card_limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<String>,
    /// `listener.tls_cert` and `listener.tls_key` (merged under `[listener]`).
    #[serde(skip)]
    pub tls_cert: Option<PathBuf>,
    #[serde(skip)]
    pub tls_key: Option<PathBuf>,
}

impl Config {
    /// Loads the layers. `file` is the `--config` TOML, when given.
    pub fn load(file: Option<&std::path::Path>, overrides: &Overrides) -> Result<Config, String> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.exists() {
                return Err(format!("the config file {} does not exist", file.display()));
            }
            figment = figment.merge(Toml::file_exact(file));
        }
        // Only variables that name a setting: others under the same prefix
        // (TESSERA_MASTER_KEY, the CLI's TESSERA_SERVER) are not settings.
        let settings: Vec<String> = match serde_json::to_value(Config::default()) {
            Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
            _ => Vec::new(),
        };
        let env = Env::prefixed("TESSERA_")
            .filter(move |key| {
                let top = key.as_str().split("__").next().unwrap_or("");
                settings.iter().any(|name| name.eq_ignore_ascii_case(top))
            })
            .split("__");
        let mut figment = figment.merge(env).merge(Serialized::defaults(overrides));
        for (key, path) in [
            ("listener.tls_cert", &overrides.tls_cert),
            ("listener.tls_key", &overrides.tls_key),
        ] {
            if let Some(path) = path {
                figment = figment.merge(Serialized::default(key, path));
            }
        }
        Config::extract(figment)
    }

    /// The built-in defaults under one TOML document, checked as `load`
    /// checks a `--config` file; no environment, no flags. What the
    /// configuration fuzz target (`fuzz/fuzz_targets/config_toml.rs`) reads.
    pub fn from_toml(text: &str) -> Result<Config, String> {
        Config::extract(
            Figment::from(Serialized::defaults(Config::default())).merge(Toml::string(text)),
        )
    }

    fn extract(figment: Figment) -> Result<Config, String> {
        let config: Config = figment.extract().map_err(|error| {
            error
                .into_iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        })?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        self.listen
            .parse::<SocketAddr>()
            .map_err(|e| format!("listen: {:?} is not an address:port ({e})", self.listen))?;
        self.time_zone()?;
        self.trusted_proxy_networks()?;
        self.policy.validate().map_err(|e| e.to_string())?;
        if self.card_limit == 0 {
            return Err("card_limit must be at least 1".to_owned());
        }
        if self.otp_ttl_secs == 0
            || self.otp_resend_after_secs == 0
            || self.otp_resend_after_secs > self.otp_ttl_secs
        {
            return Err(
                "otp_ttl_secs must be at least 1, and otp_resend_after_secs 1 to otp_ttl_secs"
                    .to_owned(),
            );
        }
        let limits = &self.limits;
        if limits.card_bindings_per_day == 0
            || limits.user_bindings_per_day == 0
            || limits.phone_sms_per_day == 0
            || self.otp_max_attempts == 0
        {
            return Err(
                "limits.card_bindings_per_day, user_bindings_per_day, phone_sms_per_day and \
                 otp_max_attempts must be at least 1"
                    .to_owned(),
            );
        }
        // Counted exactly up to the store's bound (`LimitBucket::MOST_HITS`);
        // only `--load-test` raises them past it, after this check.
        let most = tessera_store::LimitBucket::MOST_HITS;
        if [
            limits.card_bindings_per_day,
            limits.user_bindings_per_day,
            limits.phone_sms_per_day,
        ]
        .iter()
        .any(|&limit| limit > most)
        {
            return Err(format!(
                "limits.card_bindings_per_day, user_bindings_per_day and phone_sms_per_day \
                 must be at most {most}"
            ));
        }
        if !(0.0..=1.0).contains(&self.sandbox_issuer.failure_rate) {
            return Err("sandbox_issuer.failure_rate must be between 0 and 1".to_owned());
        }
        if self.token_requestor_id.len() != 11
            || !self.token_requestor_id.bytes().all(|b| b.is_ascii_digit())
        {
            return Err("token_requestor_id must be 11 digits".to_owned());
        }
        if self.par_bin_controller_id.len() != 4
            || !self
                .par_bin_controller_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric())
        {
            return Err("par_bin_controller_id must be 4 letters or digits".to_owned());
        }
        self.consent.check()?;
        self.retention.check()?;
        if self.risk.step_up_at > self.risk.decline_at {
            return Err("risk.step_up_at must be at most risk.decline_at".to_owned());
        }
        let payments = &self.payments;
        if payments.key_batch_size == 0 || payments.key_batch_size > payments.max_key_batch {
            return Err("payments.key_batch_size must be 1 to payments.max_key_batch".to_owned());
        }
        if payments.max_key_batch > 1000 {
            return Err("payments.max_key_batch must be at most 1000".to_owned());
        }
        // A renewed token starts from ATC 0: the largest batch must fit
        // below the renewal point, or every request would renew again.
        if payments.renew_at_atc < payments.max_key_batch {
            return Err("payments.renew_at_atc must be at least payments.max_key_batch".to_owned());
        }
        if payments.imk_generation == 0 {
            return Err("payments.imk_generation must be 1 to 255".to_owned());
        }
        if payments.cryptogram_ttl_secs == 0 || payments.issuer_event_max_age_secs == 0 {
            return Err(
                "payments.cryptogram_ttl_secs and issuer_event_max_age_secs must be positive"
                    .to_owned(),
            );
        }
        if let Some(channel) = payments
            .channels
            .iter()
            .find(|c| !matches!(c.as_str(), "nfc" | "in_app" | "ecommerce"))
        {
            return Err(format!(
                "payments.channels: {channel:?} is not nfc, in_app or ecommerce"
            ));
        }
        self.fees.validate()?;
        self.limits.validate()?;
        let health = &self.health;
        if health.recent_window_secs == 0 || health.baseline_window_secs == 0 {
            return Err(
                "health: recent_window_secs and baseline_window_secs must be above 0".to_owned(),
            );
        }
        if u64::from(health.recent_max_samples) < health.anomaly.min_samples {
            return Err(
                "health: recent_max_samples must be at least anomaly.min_samples".to_owned(),
            );
        }
        let rule = &health.anomaly;
        if rule.min_samples == 0
            || !(0.0..=1.0).contains(&rule.failure_rate_min_increase)
            || !(0.0..=1.0).contains(&rule.unavailable_share)
            || rule.failure_rate_factor < 1.0
            || rule.latency_factor < 1.0
        {
            return Err(
                "health.anomaly: min_samples must be at least 1, failure_rate_min_increase and \
                 unavailable_share between 0 and 1, the factors at least 1"
                    .to_owned(),
            );
        }
        self.limits.validate()?;
        self.listener.validate()?;
        check_provider_url("sms", self.sms.http_url.as_deref(), self.sms.timeout_secs)?;
        check_provider_url(
            "identity",
            self.identity.http_url.as_deref(),
            self.identity.timeout_secs,
        )?;
        for (code, endpoint) in &self.issuers {
            endpoint.validate(code)?;
        }
        if !matches!(self.log_format.as_str(), "human" | "json") {
            return Err(format!(
                "log_format: {:?} is neither human nor json",
                self.log_format
            ));
        }
        Ok(())
    }

    pub fn time_zone(&self) -> Result<chrono_tz::Tz, String> {
        self.wallet_time_zone.parse::<chrono_tz::Tz>().map_err(|_| {
            format!(
                "wallet_time_zone: {:?} is not a time zone",
                self.wallet_time_zone
            )
        })
    }

    /// A configuration for tests: a temporary data directory, port 0.
    pub fn new_for_test(data_dir: PathBuf) -> Config {
        let mut config = Config {
            data_dir,
            listen: "127.0.0.1:0".to_owned(),
            ..Config::default()
        };
        // Tests sign up and sign in hundreds of times from one loopback
        // address; the rate limits' own tests set them.
        config.limits.public_per_address_per_minute = LimitsConfig::LOAD_TEST;
        config.limits.public_per_second = LimitsConfig::LOAD_TEST;
        // Tests read `/metrics` right after what they count; the snapshot's
        // own test sets an interval.
        config.health.metrics_refresh_ms = 0;
        config
    }

    /// `trusted_proxies` as networks; a single address is a network of one.
    pub fn trusted_proxy_networks(&self) -> Result<Vec<ipnet::IpNet>, String> {
        self.trusted_proxies
            .iter()
            .map(|entry| {
                entry
                    .parse::<ipnet::IpNet>()
                    .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        format!(
                            "trusted_proxies: {entry:?} is neither an address nor a network \
                             such as 10.0.0.0/8"
                        )
                    })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    // The jail's closure returns figment's own (large) error type.
    #[allow(clippy::result_large_err)]
    fn layers_apply_in_order_and_errors_name_the_value() {
        // The jail sets environment variables for this closure only.
        figment::Jail::expect_with(|jail| {
            jail.clear_env();
            let defaults = Config::load(None, &Overrides::default()).unwrap();
            assert_eq!(defaults.card_limit, 5);
            assert_eq!(defaults.sandbox_issuer.latency_ms, 0);

            // The file over the defaults.
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("tessera.toml");
            std::fs::write(
                &file,
                "card_limit = 9\nlisten = \"127.0.0.1:9000\"\n[policy]\nrefused_card_types = [\"prepaid\", \"semi_credit\"]\n[sandbox_issuer]\nlatency_ms = 150\n",
            )
            .unwrap();
            let config = Config::load(Some(&file), &Overrides::default()).unwrap();
            assert_eq!(config.card_limit, 9);
            assert_eq!(config.sandbox_issuer.latency_ms, 150);
            assert_eq!(config.policy.refused_card_types.len(), 2);
            assert_eq!(config.otp_ttl_secs, defaults.otp_ttl_secs);

            // TESSERA_* variables over the file (`__` for a nested key);
            // variables that name no setting are left alone.
            jail.set_env("TESSERA_CARD_LIMIT", "7");
            jail.set_env("TESSERA_SANDBOX_ISSUER__LATENCY_MS", "40");
            jail.set_env("TESSERA_SERVER", "http://127.0.0.1:1");
            jail.set_env("TESSERA_LIMITS__CARD_BINDINGS_PER_DAY", "3");
            jail.set_env("TESSERA_LIMITS__SIGN_IN_MAX_ATTEMPTS", "3");
            let config = Config::load(Some(&file), &Overrides::default()).unwrap();
            assert_eq!(config.card_limit, 7);
            assert_eq!(config.limits.card_bindings_per_day, 3);
            assert_eq!(
                config.limits.user_bindings_per_day,
                defaults.limits.user_bindings_per_day
            );
            jail.set_env("TESSERA_LIMITS__DEVICE_FIELD_CHARS", "32");
            let config = Config::load(Some(&file), &Overrides::default()).unwrap();
            assert_eq!(config.limits.device_field_chars, 32);
            assert_eq!(config.limits.message_chars, defaults.limits.message_chars);
            assert_eq!(config.sandbox_issuer.latency_ms, 40);
            assert_eq!(config.limits.sign_in_max_attempts, 3);
            assert_eq!(config.limits.sign_in_window_secs, 900);
            assert_eq!(config.listen, "127.0.0.1:9000");
            assert_eq!(config.policy.refused_card_types.len(), 2);

            // Flags over the variables.
            let flags = Overrides {
                listen: Some("127.0.0.1:0".to_owned()),
                card_limit: Some(3),
                ..Overrides::default()
            };
            let config = Config::load(Some(&file), &flags).unwrap();
            assert_eq!(
                (config.card_limit, config.listen.as_str()),
                (3, "127.0.0.1:0")
            );
            assert_eq!(config.sandbox_issuer.latency_ms, 40);

            // A bad variable is named with its layer.
            jail.set_env("TESSERA_CARD_LIMIT", "many");
            let error = Config::load(Some(&file), &Overrides::default()).unwrap_err();
            assert!(
                error.contains("\"CARD_LIMIT\"") && error.contains("`TESSERA_` environment"),
                "{error}"
            );
            Ok(())
        });
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tessera.toml");
        // A resend may not wait longer than the code lives.
        std::fs::write(&file, "otp_ttl_secs = 120\notp_resend_after_secs = 180\n").unwrap();
        let error = Config::load(Some(&file), &Overrides::default()).unwrap_err();
        assert!(error.contains("otp_resend_after_secs"), "{error}");
        std::fs::write(&file, "otp_ttl_secs = 120\notp_resend_after_secs = 30\n").unwrap();
        let config = Config::load(Some(&file), &Overrides::default()).unwrap();
        assert_eq!(
            (config.otp_ttl_secs, config.otp_resend_after_secs),
            (120, 30)
        );
        std::fs::write(&file, "card_limt = 9\n").unwrap();
        let error = Config::load(Some(&file), &Overrides::default()).unwrap_err();
        assert!(error.contains("card_limt"), "{error}");
        std::fs::write(&file, "card_limit = \"many\"\n").unwrap();
        let error = Config::load(Some(&file), &Overrides::default()).unwrap_err();
        assert!(
            error.contains("card_limit") && error.contains("tessera.toml"),
            "{error}"
        );
        std::fs::write(&file, "[limits]\nnotice_chars = 0\n").unwrap();
        let error = Config::load(Some(&file), &Overrides::default()).unwrap_err();
        assert!(error.contains("limits.notice_chars"), "{error}");
        std::fs::write(&file, "wallet_time_zone = \"Mars/Olympus\"\n").unwrap();
        assert!(Config::load(Some(&file), &Overrides::default()).is_err());
        // A limit of nothing would lock every phone: refused, and named.
        std::fs::write(&file, "[limits]\nsign_in_max_attempts = 0\n").unwrap();
        let error = Config::load(Some(&file), &Overrides::default()).unwrap_err();
        assert!(error.contains("limits.sign_in_max_attempts"), "{error}");
        // A binding limit is counted exactly up to the store's bound.
        std::fs::write(&file, "[limits]\nphone_sms_per_day = 33\n").unwrap();
        let error = Config::load(Some(&file), &Overrides::default()).unwrap_err();
        assert!(
            error.contains("phone_sms_per_day") && error.contains("at most 32"),
            "{error}"
        );
        std::fs::write(&file, "[limits]\nphone_sms_per_day = 32\n").unwrap();
        assert!(Config::load(Some(&file), &Overrides::default()).is_ok());
        std::fs::write(&file, "[limits]\nsign_in_window_secs = 900\n").unwrap();
        let config = Config::load(Some(&file), &Overrides::default()).unwrap();
        assert_eq!(config.limits.sign_in_window_secs, 900);
        assert!(
            Config::load(
                Some(&dir.path().join("missing.toml")),
                &Overrides::default()
            )
            .is_err()
        );
    }
}
