//! Liveness, readiness, metrics and the API description.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::http::error::ApiError;
use crate::state::AppState;

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = Object)))]
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Longest a readiness probe waits on the database: a write that has not
/// gone through by then is as good as failed to a load balancer.
const READY_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);

/// The settings row each probe rewrites.
const PROBE_SETTING: &str = "readiness_probe";

/// Ready for traffic: the database answers a read, then takes a write,
/// each within two seconds. A database that still reads but refuses or holds every write
/// (a full disk, a lock, a read-only standby) is not ready; once writes go
/// through again the node is ready again, without a restart.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses((status = 200, body = Object), (status = 503, body = Object)))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let backend = state.store.backend();
    let read = tokio::time::timeout(READY_WITHIN, state.store.ping()).await;
    let failed = match read {
        Ok(Ok(())) => {
            let now = state.now();
            let written = tokio::time::timeout(
                READY_WITHIN,
                state
                    .store
                    .put_setting(PROBE_SETTING, &crate::http::error::rfc3339(now), now),
            )
            .await;
            match written {
                Ok(Ok(())) => None,
                Ok(Err(error)) => Some(("writes_failing", error.to_string())),
                Err(_) => Some(("writes_failing", "no answer within 2 s".to_owned())),
            }
        }
        Ok(Err(error)) => Some(("database_unreachable", error.to_string())),
        Err(_) => Some(("database_unreachable", "no answer within 2 s".to_owned())),
    };
    match failed {
        None => (
            StatusCode::OK,
            Json(json!({ "status": "ready", "database": backend })),
        ),
        Some((reason, error)) => {
            tracing::warn!(reason, error = %error, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "database": backend, "reason": reason })),
            )
        }
    }
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "health", responses((status = 200, body = Object)))]
pub async fn openapi(axum::Extension(spec): axum::Extension<std::sync::Arc<Value>>) -> Json<Value> {
    Json((*spec).clone())
}

/// Binding health as Prometheus gauges over the 5m, 1h and 24h windows:
/// attempts, success ratio, failures by cause and code, issuer latency,
/// open incidents and breakers, computed from the shared database (so
/// every node reports the whole cluster) every `health.metrics_refresh_ms`;
/// then this node's own requests by route and status, their latency,
/// requests in flight and shed, and issuer calls by issuer and outcome
/// with their latency. Holds no card data.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let mut response = state.metrics.render(&state).await?.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(response)
}
