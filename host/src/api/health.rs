//! `GET /health`: is this host able to serve?

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use super::AppState;

/// The health report.
#[derive(Debug, Serialize)]
pub struct Health {
    /// `ok` or `degraded`.
    pub status: &'static str,
    /// Host version.
    pub version: &'static str,
    /// The WIT contract versions this host serves, oldest first.
    pub contracts: Vec<String>,
    /// `sqlite` or `postgres`.
    pub database: &'static str,
    /// Why the host is degraded, if it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// 200 with `status: ok` when the database answers, 503 otherwise.
pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let ping = state.db.ping().await;
    let code = if ping.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let health = Health {
        status: if ping.is_ok() { "ok" } else { "degraded" },
        version: env!("CARGO_PKG_VERSION"),
        contracts: crate::runtime::ContractVersion::ALL
            .map(crate::runtime::ContractVersion::package)
            .to_vec(),
        database: state.db.backend(),
        problem: ping.err().map(|e| e.to_string()),
    };
    (code, Json(health))
}
