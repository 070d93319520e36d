//! The HTTP ceiling without Tessera: one axum route answering what
//! `GET /healthz` answers, on the same axum, hyper and tokio as the service
//! and in the same kind of runtime as `tessera serve` (multi-threaded, a
//! worker per core). `scripts/bench-http.sh` runs both under wrk.

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let listener = tokio::net::TcpListener::bind(&address).await?;
    println!("listening on http://{}", listener.local_addr()?);
    let app = Router::new().route("/healthz", get(healthz));
    axum::serve(listener, app).await
}
