//! `GET /metrics`: the host's meters for Prometheus, behind an admin key
//! (scrape with `authorization: { credentials: <key> }`).

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use super::AppState;
use super::error::ApiError;
use crate::metrics::{CONTENT_TYPE, SharedState};
use crate::settlements::webhooks;

/// The meters, with the shared gauges read now.
pub async fn metrics(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let pool = state.db.pool();
    let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX);
    let shared = SharedState {
        service_mode: state.admin.service_mode().await?.active,
        webhook_lag: webhooks::delivery_lag(&state.db).await?,
        db_idle: idle,
        db_busy: pool.size().saturating_sub(idle),
    };
    let meters = state.connectors.metrics();
    meters.set_shared_state(&shared);
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], meters.encode()))
}
