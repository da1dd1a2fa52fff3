//! The HTTP face of the host (axum). For now: health.

mod health;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;

use crate::db::Database;
use crate::runtime::Runtime;

/// What request handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The host database.
    pub db: Database,
    /// The plugin runtime.
    pub runtime: Arc<Runtime>,
}

/// Every route of the host.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health::health))
        .with_state(state)
}
