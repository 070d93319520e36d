//! Tessera's HTTP service: the router, its layers and start-up. Handlers
//! live in `routes/` and hand each request to a flow in `flows/` (binding,
//! payments, the token lifecycle, diagnosis, ...); `http/` holds what speaks
//! HTTP: extractors, the one mapping from domain errors to responses, the
//! request and response bodies; `web/` the server-rendered pages (the
//! support console, the help center) and their assets.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::Request;
use tessera_core::bins::BinIndex;
use tessera_core::error::ErrorCode;
use tessera_core::vault::{KeyFile, KeyRing};
use tessera_store::postgres::{PgOptions, PgStore, describe_url, is_postgres_url};
use tessera_store::sqlite::{DATABASE_FILE, SqliteOptions, SqliteStore};
use tessera_store::{Database, Store};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub mod client;
pub mod clock;
pub mod config;
pub mod emv_generations;
pub mod flows;
pub mod http;
pub mod identity;
pub mod ids;
pub mod issuer;
mod key_source;
pub mod listener;
pub mod passwords;
pub mod routes;
pub mod sms;
pub mod state;
#[cfg(feature = "test-support")]
pub mod test_support;
pub mod web;

pub use clock::{Clock, TestClock};
pub use config::{Config, Overrides};
pub use state::{AppState, Shared};

use crate::flows::metrics::Metrics;
use crate::http::auth::Role;
use crate::http::error::ApiError;
use crate::http::rate_limit::PublicRateLimits;
use crate::http::request_id::{ClientRequestId, REQUEST_ID};
use crate::issuer::routed::RoutedIssuer;
use crate::issuer::sandbox::SandboxIssuer;
use crate::passwords::Argon2Queue;

/// Why the service could not start, said so an operator can act on it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StartError(pub String);

impl StartError {
    pub fn new(message: String) -> StartError {
        StartError(message)
    }
}

impl From<std::io::Error> for StartError {
    fn from(error: std::io::Error) -> Self {
        StartError(error.to_string())
    }
}

impl From<tessera_core::vault::KeyFileError> for StartError {
    fn from(error: tessera_core::vault::KeyFileError) -> Self {
        StartError(error.to_string())
    }
}

impl From<tessera_store::StoreError> for StartError {
    fn from(error: tessera_store::StoreError) -> Self {
        StartError(error.to_string())
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tessera",
        description = "Token 2.0 wallet service: bind cards, vault PANs, issue payment tokens, authorize payments with EMV cryptograms. \
            Every error carries a code, a cause, a remedy in zh-CN or en (Accept-Language) and a trace id.",
        license(name = "Apache-2.0")
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "users", description = "Sign-up, sign-in, sessions and password resets"),
        (name = "cards", description = "Binding and managing cards"),
        (name = "payments", description = "Token 2.0 payments: limited-use keys, cryptograms, authorization, refunds, the token lifecycle"),
        (name = "fees", description = "What an operation costs under the fee schedule"),
        (name = "transfers", description = "Money from a bound card to a bank card, and the person's transaction records"),
        (name = "issuer", description = "Signed issuer events (issuer API key)"),
        (name = "admin", description = "Operator switches and API keys (operator API key)"),
        (name = "support", description = "Diagnosis, binding health, incidents and tickets (support API key; tickets are opened by users)"),
        (name = "sandbox", description = "The sandbox issuer and phone"),
        (name = "health", description = "Probes and this document")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A user session token (tss_...) or an API key (tsk_...)",
                    ))
                    .build(),
            ),
        );
    }
}

/// The routes and the OpenAPI document they make, from one list.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    use routes::{
        admin, admin_vault, bins, cards, fees, health, issuer, passkeys, payments, safety, sandbox,
        support, support_tickets, tickets, tokens, transfers, users,
    };
    let (router, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(users::create_user))
        .routes(routes!(
            users::create_session,
            users::list_sessions,
            users::end_all_sessions
        ))
        .routes(routes!(users::end_current_session))
        .routes(routes!(users::request_sms_code))
        .routes(routes!(users::reset_password))
        .routes(routes!(users::me, users::close_me))
        .routes(routes!(
            users::payment_password_state,
            users::set_payment_password
        ))
        .routes(routes!(users::create_verification))
        .routes(routes!(
            safety::get_payment_limits,
            safety::set_payment_limits
        ))
        .routes(routes!(
            safety::get_freeze,
            safety::freeze,
            safety::unfreeze
        ))
        .routes(routes!(passkeys::start_registration))
        .routes(routes!(passkeys::finish_registration, passkeys::list))
        .routes(routes!(passkeys::remove))
        .routes(routes!(passkeys::start_assertion))
        .routes(routes!(cards::bind_card, cards::list_cards))
        .routes(routes!(cards::list_my_attempts))
        .routes(routes!(cards::get_card, cards::unbind_card))
        .routes(routes!(cards::verify_card))
        .routes(routes!(cards::resend_otp))
        .routes(routes!(cards::set_default))
        .routes(routes!(bins::lookup_bin))
        .routes(routes!(tokens::limited_use_keys))
        .routes(routes!(tokens::single_use_cryptogram))
        .routes(routes!(tokens::suspend))
        .routes(routes!(tokens::resume))
        .routes(routes!(tokens::delete))
        .routes(routes!(payments::create_payment, payments::list_payments))
        .routes(routes!(payments::get_payment))
        .routes(routes!(payments::create_refund))
        .routes(routes!(safety::report_payment))
        .routes(routes!(fees::quote))
        .routes(routes!(
            transfers::create_transfer,
            transfers::list_transfers
        ))
        .routes(routes!(transfers::get_transfer))
        .routes(routes!(transfers::list_transactions))
        .routes(routes!(issuer::issuer_events))
        .routes(routes!(
            admin::put_maintenance,
            admin::delete_maintenance,
            admin::get_maintenance
        ))
        .routes(routes!(admin::list_keys, admin::create_key))
        .routes(routes!(admin::list_audit_events))
        .routes(routes!(admin::revoke_key))
        .routes(routes!(admin_vault::rotate))
        .routes(routes!(admin_vault::rotation))
        .routes(routes!(admin_vault::retire))
        .routes(routes!(admin::close_account))
        .routes(routes!(support::list_attempts))
        .routes(routes!(support::find_users))
        .routes(routes!(support::token_events))
        .routes(routes!(support::diagnose))
        .routes(routes!(support::binding_health))
        .routes(routes!(support::list_incidents))
        .routes(routes!(support::list_tickets))
        .routes(routes!(support::user_transactions))
        .routes(routes!(support_tickets::get_ticket))
        .routes(routes!(support_tickets::reply_to_ticket))
        .routes(routes!(support::user_timeline))
        .routes(routes!(tickets::create_ticket, tickets::list_my_tickets))
        .routes(routes!(tickets::get_my_ticket))
        .routes(routes!(tickets::reply_to_my_ticket))
        .routes(routes!(sandbox::list_sms))
        .routes(routes!(sandbox::put_issuer, sandbox::get_issuer))
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(health::openapi))
        .routes(routes!(health::metrics))
        .split_for_parts();
    let mut doc = doc;
    http::openapi::add_common_responses(&mut doc);
    (router, doc)
}

#[derive(Clone, Copy, Debug)]
struct TesseraRequestId;

impl MakeRequestId for TesseraRequestId {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        axum::http::HeaderValue::from_str(&ids::request_id())
            .ok()
            .map(RequestId::new)
    }
}

async fn fallback() -> ApiError {
    ErrorCode::NotFound.into()
}

/// The full application: routes plus the layers every request crosses.
pub fn app(state: AppState) -> Router {
    let (router, spec) = api();
    let spec = serde_json::to_value(&spec).unwrap_or_default();
    let timeout = Duration::from_secs(state.config.request_timeout_secs.max(1));
    let body_limit = state.config.max_body_bytes;
    // The wallet's pages call the API's routes in process (`web/wallet/api.rs`),
    // behind the same per-address limit as a request from outside.
    let api_for_pages = web::wallet::Api::new(
        router
            .clone()
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                http::rate_limit::limit_public_routes,
            ))
            .with_state(state.clone())
            .layer(axum::middleware::from_fn(http::error::render_errors)),
    );
    // Each `Router::layer` call wraps every route in a boxed service of its
    // own, and a `from_fn` middleware clones the service inside it for each
    // request: layer by layer, that cloned the boxes below again and again
    // (half a `/healthz`'s instructions, BENCHMARKS.md). So the layers go on
    // as two stacks, each one `layer` call, boxed once per route.
    let state_layers = tower::ServiceBuilder::new()
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            flows::metrics::measure_requests,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::rate_limit::limit_public_routes,
        ));
    // Outermost first: the request id is set first, then traced, then
    // errors rendered around everything inside.
    let request_layers = tower::ServiceBuilder::new()
        .layer(tower::util::MapRequestLayer::new(
            http::request_id::take_client_request_id,
        ))
        .layer(SetRequestIdLayer::new(REQUEST_ID, TesseraRequestId))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .on_response(http::error::log_answer)
                // 5xx answers are logged by `log_answer`, at their level.
                .on_failure(())
                .make_span_with(|request: &Request<_>| {
                    let request_id = request
                        .extensions()
                        .get::<RequestId>()
                        .and_then(|id| id.header_value().to_str().ok())
                        .unwrap_or("");
                    let span = tracing::info_span!(
                        "request",
                        trace_id = %request_id,
                        client_request_id = tracing::field::Empty,
                        method = %request.method(),
                        path = %request.uri().path(),
                    );
                    if let Some(ClientRequestId(id)) = request.extensions().get::<ClientRequestId>()
                    {
                        span.record("client_request_id", id.as_str());
                    }
                    span
                }),
        )
        .layer(axum::middleware::from_fn(http::error::render_errors))
        .layer(CatchPanicLayer::new())
        // 504 only marks the timeout for `render_errors`, which answers
        // `503 request_timeout`.
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::GATEWAY_TIMEOUT,
            timeout,
        ))
        .layer(RequestBodyLimitLayer::new(body_limit))
        .layer(axum::Extension(Arc::new(spec)));
    router
        .merge(routes::help::router())
        .merge(web::router().layer(axum::Extension(api_for_pages)))
        .fallback(fallback)
        .layer(state_layers)
        .with_state(state)
        .layer(request_layers)
}

/// Everything opened at start-up.
#[derive(Debug)]
pub struct Opened {
    pub state: AppState,
    /// The key file was created now: the operator must be told to back it up.
    pub created_keys: Option<std::path::PathBuf>,
}

/// Opens the key ring, the BIN index and the store named by `config`.
pub async fn open(config: Config) -> Result<Opened, StartError> {
    open_with_clock(config, Clock::System).await
}

/// [`open`], telling the time by `clock` (tests move theirs forward).
pub async fn open_with_clock(config: Config, clock: Clock) -> Result<Opened, StartError> {
    let time_zone = config.time_zone().map_err(StartError::new)?;
    // Owner-only, like the key file in it: the database holds ciphertexts
    // and keyed hashes that are nobody else's business.
    tessera_core::vault::key_file::create_private_dir(&config.data_dir).map_err(|e| {
        StartError::new(format!(
            "cannot create the data directory {}: {e}",
            config.data_dir.display()
        ))
    })?;
    let bins = match &config.bin_file {
        Some(path) => Arc::new(
            BinIndex::from_path(path)
                .map_err(|e| StartError::new(format!("bin_file {}: {e}", path.display())))?,
        ),
        None => BinIndex::shared_builtin()
            .map_err(|e| StartError::new(format!("the built-in BIN tables: {e}")))?,
    };
    // A token range inside a real issuer's BIN would make token PANs that
    // look like (or are) real cards: refuse to start rather than issue them.
    config
        .token_bin_ranges
        .check(|prefix| bins.is_issued_prefix(prefix))
        .map_err(|e| StartError::new(format!("token_bin_ranges: {e}")))?;
    let pool_size = config.database.pool_size.max(1);
    let acquire_timeout = Duration::from_secs(config.database.acquire_timeout_secs.max(1));
    let (store, keys, created_keys): (Arc<dyn Store>, _, _) = match &config.database_url {
        Some(url) if is_postgres_url(url) => {
            // Shared by every node; the key file still lives in each node's
            // data directory (or comes from the environment), and a
            // database that already holds users or cards must not be
            // paired with a new one.
            let target = describe_url(url);
            let store = PgStore::connect(
                url,
                PgOptions {
                    max_connections: pool_size,
                    acquire_timeout,
                    ..PgOptions::default()
                },
            )
            .await
            .map_err(|e| StartError::new(format!("the database {target}: {e}")))?;
            let has_data = store
                .has_data()
                .await
                .map_err(|e| StartError::new(format!("the database {target}: {e}")))?;
            let (keys, created_keys) =
                key_source::open_keys(&config.data_dir, &config.vault, has_data)?;
            (Arc::new(store), keys, created_keys)
        }
        Some(_) => {
            return Err(StartError::new(
                "database_url: expected a postgres:// or postgresql:// URL (leave it unset for \
                 the embedded SQLite database)"
                    .to_owned(),
            ));
        }
        None => {
            let database = config.data_dir.join(DATABASE_FILE);
            // Checked before opening, which creates the file.
            refuse_empty_database(&config.data_dir, &database)?;
            let (keys, created_keys) =
                key_source::open_keys(&config.data_dir, &config.vault, database.exists())?;
            let store = SqliteStore::open(
                &database,
                SqliteOptions {
                    readers: pool_size,
                    ..SqliteOptions::default()
                },
            )
            .await
            .map_err(|e| StartError::new(format!("the database {}: {e}", database.display())))?;
            (Arc::new(store), keys, created_keys)
        }
    };
    check_key_ring(store.as_ref(), &keys, clock.now()).await?;
    let mut keys = keys;
    emv_generations::adopt_stored_generations(store.as_ref(), &mut keys, clock.now()).await?;
    flows::key_rotation::join(store.as_ref(), &keys)
        .await
        .map_err(|e| StartError::new(format!("the vault's data keys: {e}")))?;
    let (sms, identity) = providers(&config, &store)?;
    if !config.sandbox {
        return Err(StartError::new(
            "sandbox = false: this version still answers the cards of issuers without an [issuers] table with the sandbox issuer"
                .to_owned(),
        ));
    }
    let sandbox_issuer = Arc::new(SandboxIssuer::new(
        store.clone(),
        config.sandbox_issuer.clone(),
    ));
    let issuer: Arc<dyn issuer::Issuer> = if config.issuers.is_empty() {
        sandbox_issuer
    } else {
        Arc::new(RoutedIssuer::new(&config.issuers, sandbox_issuer).map_err(StartError::new)?)
    };
    let argon2 = Argon2Queue::new(config.limits.password_queue_max);
    let public_rate_limits = PublicRateLimits::new(
        NonZeroU32::new(config.limits.public_per_address_per_minute).unwrap_or(NonZeroU32::MIN),
        NonZeroU32::new(config.limits.public_per_second).unwrap_or(NonZeroU32::MIN),
        config.trusted_proxy_networks().map_err(StartError::new)?,
    )
    .with_person_budget(
        NonZeroU32::new(config.limits.bin_lookups_per_minute).unwrap_or(NonZeroU32::MIN),
    );
    let webauthn =
        Arc::new(flows::passkeys::relying_party(&config.webauthn).map_err(StartError::new)?);
    let audit = flows::audit_chain::AuditChain::for_node(&config.node_id);
    let state = AppState::new(Shared {
        config: Arc::new(config),
        store,
        keys: Arc::new(keys),
        bins,
        issuer,
        time_zone,
        issuer_clock: Arc::default(),
        baselines: Arc::default(),
        sessions: Arc::default(),
        argon2,
        public_rate_limits,
        metrics: Metrics::default(),
        sms,
        identity,
        clock,
        webauthn,
        audit,
    });
    Ok(Opened {
        state,
        created_keys,
    })
}

/// The SMS sender and the identity provider: the configured HTTP ones,
/// else the sandbox's. Outside sandbox mode both must be configured: a
/// wallet that cannot prove phones and names must not take sign-ups.
#[allow(clippy::type_complexity)]
fn providers(
    config: &Config,
    store: &Arc<dyn Store>,
) -> Result<(Arc<dyn sms::SmsSender>, Arc<dyn identity::IdentityVerifier>), StartError> {
    let sms: Arc<dyn sms::SmsSender> = match &config.sms.http_url {
        Some(url) => Arc::new(
            sms::HttpSms::new(url, Duration::from_secs(config.sms.timeout_secs))
                .map_err(StartError::new)?,
        ),
        None if config.sandbox => Arc::new(sms::SandboxSms {
            store: store.clone(),
            print: config.sandbox_print_sms,
        }),
        None => {
            return Err(StartError::new(
                "sandbox = false: set sms.http_url to an SMS gateway; sign-up and password \
                 reset codes must reach real phones"
                    .to_owned(),
            ));
        }
    };
    let identity: Arc<dyn identity::IdentityVerifier> = match &config.identity.http_url {
        Some(url) => Arc::new(
            identity::HttpIdentity::new(url, Duration::from_secs(config.identity.timeout_secs))
                .map_err(StartError::new)?,
        ),
        None if config.sandbox => Arc::new(identity::SandboxIdentity),
        None => {
            return Err(StartError::new(
                "sandbox = false: set identity.http_url to an identity-verification provider; \
                 real names must be checked before anyone signs up"
                    .to_owned(),
            ));
        }
    };
    Ok((sms, identity))
}

/// A zero-byte database is no wallet: SQLite would take it for a new, empty
/// one and the wallet would start with every card gone (beside a key file,
/// nothing would even look wrong). It is what a copy or a restore that
/// failed half-way leaves, so refuse it and say what to do.
fn refuse_empty_database(data_dir: &Path, database: &Path) -> Result<(), StartError> {
    match std::fs::metadata(database) {
        Ok(meta) if meta.is_file() && meta.len() == 0 => Err(StartError::new(format!(
            "the database {} is empty (0 bytes), so it holds no wallet: restore it from a \
             backup; to start a new, empty wallet instead, move it and the key file {} \
             aside first",
            database.display(),
            KeyFile::in_dir(data_dir).path().display()
        ))),
        _ => Ok(()),
    }
}

/// Every node of one database must hold the same key ring: a node with
/// another would write cards the others cannot read and miss duplicates. The
/// first node records a check value of its ring; the others must match it.
/// A database written when the check value was made under the API-key key
/// holds that one: a node whose ring makes the same old value rewrites it.
async fn check_key_ring(
    store: &dyn Store,
    keys: &KeyRing,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), StartError> {
    let check = keys.key_ring_check();
    let stored = store.claim_setting(KEY_RING_CHECK, &check, now).await?;
    if stored == check {
        return Ok(());
    }
    if stored == keys.legacy_key_ring_check() {
        store.put_setting(KEY_RING_CHECK, &check, now).await?;
        tracing::info!("key ring check value rewritten under its own key");
        return Ok(());
    }
    Err(StartError::new(
        "this node's key ring is not the one the database was written with: give every node \
         the same key file (or TESSERA_MASTER_KEY) before it starts"
            .to_owned(),
    ))
}

/// The setting the key ring check value is stored as.
pub const KEY_RING_CHECK: &str = "key_ring_check";

/// A running server: its address, and a way to stop it.
#[derive(Debug)]
pub struct RunningServer {
    pub addr: SocketAddr,
    /// `https` with `listener.tls_cert`, else `http`.
    pub scheme: &'static str,
    /// The connection limits in force.
    pub limits: listener::Limits,
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// `http://addr` or `https://addr`.
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// Stops accepting, finishes requests in flight, closes the store, and
    /// returns.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        self.wait().await
    }

    /// Waits until the server stops by itself (a signal), then closes the
    /// store, so that its files are settled when this returns.
    pub async fn wait(mut self) -> std::io::Result<()> {
        let served = (&mut self.task).await.unwrap_or(Ok(()));
        self.state.store.close().await;
        served
    }
}

/// Reads the HTTPS certificate and key, if any, as [`start`] will: a command
/// checks them before it opens (and perhaps creates) the data directory.
pub fn check_tls(config: &Config) -> Result<(), StartError> {
    if let (Some(cert), Some(key)) = (&config.listener.tls_cert, &config.listener.tls_key) {
        listener::tls::acceptor(cert, key)?;
    }
    Ok(())
}

/// Binds the listener and serves in the background. The open-file limit is
/// raised first as far as the hard limit allows, and the connection cap
/// sized below it (`listener::connection_cap`).
pub async fn start(state: AppState) -> Result<RunningServer, StartError> {
    let listen = state.config.listen.clone();
    let tcp = TcpListener::bind(&listen)
        .await
        .map_err(|e| StartError::new(format!("cannot listen on {listen}: {e}")))?;
    start_on(state, tcp).await
}

/// [`start`] on a listener bound already: `tessera demo` binds first, so
/// that a port the system chose is known before its state is made (the
/// demo's passkey origin names it).
pub async fn start_on(state: AppState, tcp: TcpListener) -> Result<RunningServer, StartError> {
    emv_generations::check_issuing_generation(&state.keys, state.config.payments.imk_generation)?;
    let config = &state.config.listener;
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(listener::tls::acceptor(cert, key)?),
        _ => None,
    };
    let open_files = match listener::raise_open_file_limit() {
        Ok(limit) => limit,
        Err(error) => {
            tracing::warn!(%error, "cannot read or raise the open-file limit; assuming 1024");
            1024
        }
    };
    let limits = listener::Limits::new(config, open_files, state.config.database.pool_size);
    tracing::info!(
        open_files,
        max_connections = limits.max_connections,
        header_read_timeout_secs = limits.header_read_timeout.as_secs(),
        idle_timeout_secs = limits.idle_timeout.as_secs(),
        "connection limits"
    );
    let addr = tcp.local_addr()?;
    let (shutdown, stopped) = oneshot::channel::<()>();
    let mut router = app(state.clone());
    // The sandbox's demo checkout pays with a merchant key of its own.
    match web::wallet::checkout::DemoShop::open(&state).await {
        Ok(Some(shop)) => router = router.layer(axum::Extension(shop)),
        Ok(None) => {}
        Err(error) => {
            tracing::warn!(%error, "the demo shop has no merchant key: /demo/checkout is off")
        }
    }
    let purge = tokio::spawn(flows::housekeeping::purge_periodically(state.clone()));
    let metrics = tokio::spawn(flows::metrics::refresh_periodically(state.clone()));
    let checkpoints = tokio::spawn(flows::housekeeping::checkpoint_periodically(state.clone()));
    let key_versions = tokio::spawn(flows::key_rotation::keep_current(state.clone()));
    let scheme = if tls.is_some() { "https" } else { "http" };
    let task = tokio::spawn(async move {
        let served = listener::serve(tcp, router, limits, tls, async move {
            tokio::select! {
                _ = stopped => {}
                _ = shutdown_signal() => {}
            }
        })
        .await;
        purge.abort();
        metrics.abort();
        checkpoints.abort();
        key_versions.abort();
        served
    });
    Ok(RunningServer {
        addr,
        scheme,
        limits,
        state,
        shutdown: Some(shutdown),
        task,
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

/// Creates an API key with a role, for `scope` (an issuer key's issuer
/// codes, a merchant key's merchant ids: `flows::keys::check_scope`), and
/// returns it with its id and, for an issuer key, its signing secret. They
/// are shown once: only a keyed hash of the key and the sealed signing
/// secret are stored.
pub async fn create_api_key(
    state: &AppState,
    role: &str,
    label: &str,
    scope: &[String],
) -> Result<flows::keys::CreatedKey, StartError> {
    create_api_key_held_by(state, role, label, "", scope).await
}

/// [`create_api_key`], naming who holds the key (`--holder`).
pub async fn create_api_key_held_by(
    state: &AppState,
    role: &str,
    label: &str,
    holder: &str,
    scope: &[String],
) -> Result<flows::keys::CreatedKey, StartError> {
    let role = Role::parse(role).ok_or_else(|| {
        StartError::new(format!(
            "unknown role {role:?}: operator, support, merchant or issuer"
        ))
    })?;
    let trace_id = ids::request_id();
    let by = flows::audit::Actor::service(&trace_id);
    flows::keys::create(state, role, label, holder, scope, by)
        .await
        .map_err(|e| StartError::new(e.0))
}

/// Installs the log subscriber: `human` or `json`, filtered by `RUST_LOG`
/// (default `info`). Logs carry trace ids and masked data only.
pub fn init_tracing(format: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only for a person at a terminal, never into a file or a
    // log collector.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = if format == "json" {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}
