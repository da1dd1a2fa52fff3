//! The HTTP face of the host (axum): `/health`, the admin API under
//! `/admin/v1` (admin keys) and the ERP API under `/erp/v1` (ERP or admin
//! keys, closed with 503 in service mode).

mod admin;
mod admin_config;
mod auth;
mod erp;
pub mod error;
pub mod gate;
mod health;
mod signing;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::get;

use crate::admin::Admin;
use crate::db::Database;
use crate::registry::Registry;
use crate::runtime::Runtime;
use crate::scheduler::Scheduler;
pub use gate::Gate;

/// Largest request body (a plugin package upload).
pub const MAX_BODY_BYTES: usize = 64 << 20;

/// What request handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The host database.
    pub db: Database,
    /// The plugin runtime.
    pub runtime: Arc<Runtime>,
    /// Admin operations.
    pub admin: Admin,
    /// Installed plugins, loaded.
    pub registry: Arc<Registry>,
    /// Service mode and in-flight ERP calls of this process.
    pub gate: Arc<Gate>,
    /// Runs plugin tasks, on schedule and on demand.
    pub scheduler: Scheduler,
    /// Signing tokens and the ERP users' signing sessions.
    pub tokens: Arc<crate::tokens::TokenService>,
}

/// Every route of the host.
pub fn router(state: AppState) -> Router {
    let admin = admin::routes()
        .merge(admin_config::routes())
        .layer(middleware::from_fn_with_state(state.clone(), auth::admin));
    let erp = erp::routes()
        .layer(middleware::from_fn_with_state(state.clone(), auth::erp))
        .layer(middleware::from_fn_with_state(
            state.gate.clone(),
            gate::guard,
        ));
    Router::new()
        .route("/health", get(health::health))
        .nest("/admin/v1", admin)
        .nest("/erp/v1", erp)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}
