//! What `/metrics` serves: the binding-health report, which reads the
//! shared database (hundreds of milliseconds once many attempts are
//! stored), from a snapshot refreshed in the background; and this node's
//! own counters of requests, issuer calls and shed work, recorded as they
//! happen and rendered on each scrape.
//!
//! A scrape never waits on the database while a snapshot is fresh, and
//! scrapes that find it stale compute it once between them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use axum::http::Method;
use metrics::{Counter, Gauge, Histogram, histogram, with_local_recorder};
use metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use tessera_core::error::{ErrorCode, Lang};

use crate::flows::binding_stats;
use crate::http::error::ApiError;
use crate::state::AppState;

/// Latency buckets in seconds, from a cached read to an issuer's timeout.
const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// One method's routes, by pattern.
type RouteMap = HashMap<Box<str>, Arc<RouteHandles>>;

/// One method and route's handles in the recorder.
struct RouteHandles {
    latency: Histogram,
    by_status: RwLock<Vec<(u16, Counter)>>,
}

impl RouteHandles {
    fn count(&self, status: u16, register: impl FnOnce() -> Counter) {
        let by_status = self
            .by_status
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((_, counter)) = by_status.iter().find(|(s, _)| *s == status) {
            counter.increment(1);
            return;
        }
        drop(by_status);
        let mut by_status = self
            .by_status
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((_, counter)) = by_status.iter().find(|(s, _)| *s == status) {
            counter.increment(1);
            return;
        }
        let counter = register();
        counter.increment(1);
        by_status.push((status, counter));
    }
}

#[derive(Debug)]
struct Rendered {
    at: Instant,
    text: Arc<str>,
}

/// `/metrics` for one node.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    /// Every request's counters, registered once per method, route and
    /// status: a request then costs a map read and atomic additions, not a
    /// key built and looked up in the recorder (which cost get-card 14%).
    routes: RwLock<HashMap<Method, RouteMap>>,
    in_flight: Gauge,
    shed_rate_limited: Counter,
    shed_overloaded: Counter,
    report: Mutex<Option<Rendered>>,
    /// One computation of the report at a time.
    computing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&BUCKETS)
            .map(PrometheusBuilder::build_recorder)
            // The buckets above are never empty: the builder cannot refuse.
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        let (in_flight, shed_rate_limited, shed_overloaded) =
            with_local_recorder(&recorder, || {
                describe();
                (
                    gauge!("tessera_http_requests_in_flight"),
                    counter!("tessera_requests_shed_total", "code" => "rate_limited"),
                    counter!("tessera_requests_shed_total", "code" => "overloaded"),
                )
            });
        Metrics {
            recorder,
            handle,
            routes: RwLock::default(),
            in_flight,
            shed_rate_limited,
            shed_overloaded,
            report: Mutex::new(None),
            computing: tokio::sync::Mutex::new(()),
        }
    }
}

fn describe() {
    describe_counter!(
        "tessera_http_requests_total",
        "Requests answered by this node, by method, route and status."
    );
    describe_histogram!(
        "tessera_http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer a request on this node, by method and route."
    );
    describe_gauge!(
        "tessera_http_requests_in_flight",
        "Requests this node is answering now."
    );
    describe_counter!(
        "tessera_requests_shed_total",
        "Requests refused unchecked to protect the node, by code (overloaded, rate_limited)."
    );
    describe_counter!(
        "tessera_issuer_calls_total",
        "Calls to issuers from this node, by issuer, operation and outcome."
    );
    describe_histogram!(
        "tessera_issuer_call_duration_seconds",
        Unit::Seconds,
        "Time an issuer took to answer this node, by issuer and operation."
    );
    describe_gauge!(
        "tessera_metrics_report_age_seconds",
        "Age of the binding-health figures in this answer."
    );
    describe_gauge!(
        "tessera_db_connections",
        "This node's database connections, by state (in_use, idle); on SQLite its read connections."
    );
    describe_gauge!(
        "tessera_db_connections_max",
        "The database connections this node may hold (PostgreSQL's pool size)."
    );
}

impl Metrics {
    fn record(&self, what: impl FnOnce()) {
        with_local_recorder(&self.recorder, what);
    }

    /// One request answered.
    pub fn request(&self, method: &Method, route: &str, status: u16, took: Duration) {
        let known = self
            .routes
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(method)
            .and_then(|routes| routes.get(route))
            .cloned();
        let handles = match known {
            Some(handles) => handles,
            None => self.register(method, route),
        };
        handles.latency.record(took.as_secs_f64());
        handles.count(status, || self.status_counter(method, route, status));
    }

    fn register(&self, method: &Method, route: &str) -> Arc<RouteHandles> {
        let latency = with_local_recorder(&self.recorder, || {
            histogram!(
                "tessera_http_request_duration_seconds",
                "method" => method.as_str().to_owned(),
                "route" => route.to_owned()
            )
        });
        let mut routes = self.routes.write().unwrap_or_else(PoisonError::into_inner);
        routes
            .entry(method.clone())
            .or_default()
            .entry(route.into())
            .or_insert_with(|| {
                Arc::new(RouteHandles {
                    latency,
                    by_status: RwLock::default(),
                })
            })
            .clone()
    }

    fn status_counter(&self, method: &Method, route: &str, status: u16) -> Counter {
        with_local_recorder(&self.recorder, || {
            counter!(
                "tessera_http_requests_total",
                "method" => method.as_str().to_owned(),
                "route" => route.to_owned(),
                "status" => status.to_string()
            )
        })
    }

    /// A request refused unchecked, by its code.
    fn shed(&self, code: ErrorCode) {
        match code {
            ErrorCode::RateLimited => self.shed_rate_limited.increment(1),
            ErrorCode::Overloaded => self.shed_overloaded.increment(1),
            _ => {}
        }
    }

    /// One call to an issuer: `operation` is `verify_binding` or
    /// `authorize_payment`, `outcome` the answer's label.
    pub fn issuer_call(
        &self,
        issuer: &str,
        operation: &'static str,
        outcome: &str,
        took: Duration,
    ) {
        let (issuer, outcome) = (issuer.to_owned(), outcome.to_owned());
        self.record(|| {
            counter!("tessera_issuer_calls_total", "issuer" => issuer.clone(), "operation" => operation, "outcome" => outcome)
                .increment(1);
            histogram!("tessera_issuer_call_duration_seconds", "issuer" => issuer, "operation" => operation)
                .record(took.as_secs_f64());
        });
    }

    /// The report, from the snapshot while it is young enough (twice the
    /// refresh interval, so that a late refresh is not raced), else
    /// computed now, once however many scrapes wait.
    async fn report(&self, state: &AppState) -> Result<(Arc<str>, Duration), ApiError> {
        let max_age = Duration::from_millis(state.config.health.metrics_refresh_ms) * 2;
        if let Some(fresh) = self.kept(Some(max_age)) {
            return Ok(fresh);
        }
        let _computing = self.computing.lock().await;
        if let Some(fresh) = self.kept(Some(max_age)) {
            return Ok(fresh);
        }
        self.refresh(state).await?;
        self.kept(None)
            .ok_or_else(|| ApiError::from(ErrorCode::InternalError))
    }

    /// The kept report and its age, unless older than `max_age`.
    fn kept(&self, max_age: Option<Duration>) -> Option<(Arc<str>, Duration)> {
        let report = self.report.lock().unwrap_or_else(PoisonError::into_inner);
        let report = report.as_ref()?;
        let age = report.at.elapsed();
        match max_age {
            Some(max_age) if age > max_age => None,
            _ => Some((report.text.clone(), age)),
        }
    }

    /// Computes the binding-health report and keeps it.
    pub async fn refresh(&self, state: &AppState) -> Result<(), ApiError> {
        let report = binding_stats::current(state, state.now(), Lang::En).await?;
        let text: Arc<str> = binding_stats::prometheus(&report).into();
        *self.report.lock().unwrap_or_else(PoisonError::into_inner) = Some(Rendered {
            at: Instant::now(),
            text,
        });
        Ok(())
    }

    /// The whole answer: the report, its age, and this node's counters.
    pub async fn render(&self, state: &AppState) -> Result<String, ApiError> {
        let (report, age) = self.report(state).await?;
        let pool = state.store.pool_use();
        self.record(|| {
            gauge!("tessera_metrics_report_age_seconds").set(age.as_secs_f64());
            gauge!("tessera_db_connections", "state" => "in_use").set(f64::from(pool.in_use));
            gauge!("tessera_db_connections", "state" => "idle").set(f64::from(pool.idle));
            if let Some(max) = pool.max {
                gauge!("tessera_db_connections_max").set(f64::from(max));
            }
        });
        let mut out = String::with_capacity(report.len() + 4096);
        out.push_str(&report);
        out.push_str(&self.handle.render());
        Ok(out)
    }
}

/// Counts every request on this node: by method, route (its pattern, never
/// the ids in it) and status, its duration, those in flight, and those shed.
pub async fn measure_requests(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .cloned();
    let in_flight = InFlight::start(&state.metrics.in_flight);
    let response = next.run(request).await;
    drop(in_flight);
    let metrics = &state.metrics;
    let route = route.as_ref().map_or("unmatched", |path| path.as_str());
    metrics.request(
        &method,
        route,
        response.status().as_u16(),
        started.elapsed(),
    );
    if let Some(code) = crate::http::error::answered_code(&response) {
        metrics.shed(code);
    }
    response
}

/// A request in flight, counted down when it ends however it ends (a
/// client that leaves drops it).
struct InFlight(Gauge);

impl InFlight {
    fn start(gauge: &Gauge) -> InFlight {
        gauge.increment(1.0);
        InFlight(gauge.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

/// How often histogram samples are folded into their buckets. The recorder
/// keeps each sample until then: without it, a node nobody scrapes would
/// hold every request's duration.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Folds histogram samples every few seconds, and keeps the report fresh
/// every `health.metrics_refresh_ms` (with 0, scrapes compute it instead).
pub async fn refresh_periodically(state: AppState) {
    let every_ms = state.config.health.metrics_refresh_ms;
    let mut upkeep = tokio::time::interval(UPKEEP_EVERY);
    upkeep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut refresh = tokio::time::interval(Duration::from_millis(every_ms.max(1)));
    refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = upkeep.tick() => state.metrics.handle.run_upkeep(),
            _ = refresh.tick(), if every_ms > 0 => {
                let _computing = state.metrics.computing.lock().await;
                if let Err(ApiError(error)) = state.metrics.refresh(&state).await {
                    tracing::warn!(error = %error, "could not refresh the binding-health figures");
                }
            }
        }
    }
}
