//! The admin console at `/console`: pages rendered by the host itself
//! (maud), one small script of our own for drag-and-drop, no build step.
//!
//! - `reach`: whom the console answers (loopback unless configured), and
//!   the headers every console answer carries (CSP, no framing);
//! - `session`: the signed-in session from its cookie, and the CSRF check
//!   every form passes;
//! - `limiter`: sign-in attempts per peer;
//! - `layout`: the frame of every page (navigation, service-mode banner,
//!   the last action's message);
//! - `sign_in`, `plugins`, `companies`, `access`, `tasks`, `sessions`, `terminals`,
//!   `events`, `users`, `keys`, `audit`: the pages and their forms;
//! - `assets`: the stylesheet and the script.
//!
//! Every action goes through the same `Admin` functions as the admin API
//! and the CLI, audited under the signed-in key's name.

mod access;
mod assets;
mod audit;
mod companies;
mod events;
mod keys;
mod layout;
mod limiter;
mod plugins;
mod reach;
mod session;
mod sessions;
mod sign_in;
mod tasks;
mod terminals;
mod users;

pub use reach::{Reach, guard as reach_guard};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::response::Redirect;
use axum::routing::{any, get, post};

use crate::api::{AppState, MAX_BODY_BYTES, request_id};

/// Where the console lives.
pub const BASE: &str = "/console";

/// The console's routes, answering as `reach` allows.
pub fn router(state: AppState, reach: Reach) -> Router {
    let limiter = limiter::SignInLimiter::default();
    Router::new()
        .route(BASE, get(|| async { Redirect::to("/console/plugins") }))
        .route("/console/sign-in", get(sign_in::form).post(sign_in::submit))
        .route("/console/sign-out", post(sign_in::sign_out))
        .route("/console/plugins", get(plugins::page))
        .route("/console/plugins/upload", post(plugins::upload))
        .route("/console/plugins/license", post(plugins::license))
        .route("/console/plugins/{id}/action", post(plugins::action))
        .route("/console/plugins/{id}/progress", get(plugins::progress))
        .route(
            "/console/companies",
            get(companies::page).post(companies::add),
        )
        .route("/console/companies/{id}", get(companies::company))
        .route("/console/companies/{id}/settings", post(companies::setting))
        .route(
            "/console/companies/{id}/identities",
            post(companies::remove_identity),
        )
        .route("/console/tasks", get(tasks::page))
        .route("/console/tasks/{plugin}/{task}", get(tasks::runs))
        .route("/console/tasks/{plugin}/{task}/run", post(tasks::run))
        .route("/console/tasks/{plugin}/{task}/pause", post(tasks::pause))
        .route("/console/access", get(access::page))
        .route("/console/access/http", post(access::http))
        .route("/console/access/signing", post(access::signing))
        .route("/console/access/tokens", post(access::register_token))
        .route("/console/access/identity", post(access::identity))
        .route("/console/sessions", get(sessions::page))
        .route("/console/sessions/action", post(sessions::action))
        .route("/console/terminals", get(terminals::page))
        .route("/console/events", get(events::page))
        .route("/console/users", get(users::page))
        .route("/console/users/add", post(users::add))
        .route("/console/users/grant", post(users::grant))
        .route("/console/users/state", post(users::set_state))
        .route("/console/keys", get(keys::page).post(keys::create))
        .route("/console/keys/revoke", post(keys::revoke))
        .route("/console/audit", get(audit::page))
        .route("/console/assets/console.css", get(assets::css))
        .route("/console/assets/console.js", get(assets::js))
        // Unknown console paths get the console's 404 page; other paths
        // stay the API's (JSON) 404.
        .route("/console/{*rest}", any(layout::not_found))
        .layer(axum::Extension(limiter))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(reach::headers))
        .layer(middleware::from_fn_with_state(reach, reach::guard))
        .layer(middleware::from_fn(request_id::tag))
        .with_state(state)
}
