//! The HTTP face of the host (axum): `/health`, the admin API under
//! `/admin/v1` (admin keys), the ERP API under `/erp/v1` (ERP or admin
//! keys and `X-H2H-User`, closed with 503 in service mode), and
//! `/openapi.json`, the OpenAPI 3 document generated from the handlers,
//! and `/metrics` for Prometheus (admin keys).
//! Every answer carries `X-Request-Id` (the caller's, or one made), and so
//! does every log line of its request.

mod admin;
mod admin_api_keys;
mod admin_bank_sessions;
mod admin_config;
mod admin_erp_users;
mod auth;
mod erp;
pub mod error;
pub mod gate;
mod health;
mod json_objects;
mod metrics;
mod openapi;
pub mod request_id;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::get;
use utoipa::OpenApi as _;
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;

use crate::admin::Admin;
use crate::connectors::Connectors;
use crate::db::Database;
use crate::runtime::Runtime;
use crate::scheduler::Scheduler;
use crate::serve::Gate;
pub use auth::{ERP_USER_HEADER, ErpUser};

/// Largest request body (a plugin package upload).
pub const MAX_BODY_BYTES: usize = 64 << 20;

/// Largest ERP request body: the largest ERP request (a transfer, an
/// account) is a few KiB; nothing the ERP sends needs more.
pub const MAX_ERP_BODY_BYTES: usize = 1 << 20;

/// What request handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The host database.
    pub db: Database,
    /// The plugin runtime.
    pub runtime: Arc<Runtime>,
    /// Admin operations.
    pub admin: Admin,
    /// Installed plugins, loaded, and their calls' contexts.
    pub connectors: Arc<Connectors>,
    /// Service mode and in-flight ERP calls of this process.
    pub gate: Arc<Gate>,
    /// Runs plugin tasks, on schedule and on demand.
    pub scheduler: Scheduler,
    /// Signing tokens and the ERP users' signing sessions.
    pub tokens: Arc<crate::pkcs11::TokenService>,
    /// Bank sessions.
    pub sessions: crate::sessions::BankSessions,
    /// Card terminals.
    pub terminals: crate::terminals::Terminals,
}

/// The document's frame; the paths come from the routers.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "h2h",
        description = "The h2h host: the ERP API (`/erp/v1`) and the admin API (`/admin/v1`). \
                       Errors are `{\"code\", \"message\"}` (ErrorBody) with a stable code.",
        license(name = "Apache-2.0")
    ),
    components(schemas(error::ErrorBody)),
    tags(
        (name = "plugins", description = "Installed plugins and their tasks"),
        (name = "companies", description = "Companies the ERP user may act for"),
        (name = "accounts", description = "Bank accounts and their transactions"),
        (name = "receivables", description = "Open receivables and matching"),
        (name = "events", description = "The events feed"),
        (name = "transfers", description = "The transfer waiting room and batches"),
        (name = "statements", description = "Statement sync"),
        (name = "bank-sessions", description = "Bank sessions: open, sign, refresh, close"),
        (name = "terminals", description = "Card terminals: pair with the device's code, list, unpair"),
        (name = "signing", description = "Logging in to PKCS#11 tokens for a company"),
        (name = "admin", description = "The admin API (admin keys)"),
    )
)]
struct Frame;

/// The routers with the document's frame, bearer security and `/health`.
fn assemble(
    admin: OpenApiRouter<AppState>,
    erp: OpenApiRouter<AppState>,
) -> OpenApiRouter<AppState> {
    let mut frame = Frame::openapi();
    frame.info.version = env!("CARGO_PKG_VERSION").to_owned();
    let components = frame.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
    );
    OpenApiRouter::with_openapi(frame)
        .nest("/admin/v1", admin)
        .nest("/erp/v1", erp)
}

fn admin_routes() -> OpenApiRouter<AppState> {
    let mut routes = admin::routes()
        .merge(admin_config::routes())
        .merge(admin_erp_users::routes())
        .merge(admin_bank_sessions::routes())
        .merge(admin_api_keys::routes());
    for item in routes.get_openapi_mut().paths.paths.values_mut() {
        openapi::admin_common(item);
    }
    routes
}

/// Operation ids are handler names, which repeat across modules (`list`);
/// a repeated one becomes its method and path: `get_erp_accounts_id`.
fn unique_operation_ids(document: &mut OpenApi) {
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for item in document.paths.paths.values() {
        for operation in [&item.get, &item.put, &item.post, &item.delete, &item.patch]
            .into_iter()
            .flatten()
        {
            if let Some(id) = &operation.operation_id {
                *seen.entry(id.clone()).or_default() += 1;
            }
        }
    }
    for (path, item) in document.paths.paths.iter_mut() {
        let operations = [
            ("get", &mut item.get),
            ("put", &mut item.put),
            ("post", &mut item.post),
            ("delete", &mut item.delete),
            ("patch", &mut item.patch),
        ];
        for (method, operation) in operations {
            let Some(operation) = operation else { continue };
            let repeated = operation
                .operation_id
                .as_ref()
                .is_some_and(|id| seen.get(id).copied().unwrap_or(0) > 1);
            if repeated {
                let words: String = path
                    .split(['/', '{', '}', '-'])
                    .filter(|w| !w.is_empty() && *w != "v1")
                    .collect::<Vec<_>>()
                    .join("_");
                operation.operation_id = Some(format!("{method}_{words}"));
            }
        }
    }
}

/// The OpenAPI document of every documented route, as `/openapi.json`
/// serves it.
pub fn openapi() -> OpenApi {
    let mut document = assemble(admin_routes(), erp::routes()).into_openapi();
    unique_operation_ids(&mut document);
    document
}

/// Every route of the host.
pub fn router(state: AppState) -> Router {
    let admin = admin_routes()
        .layer(middleware::from_fn(|r, n| {
            json_objects::only_objects(MAX_ERP_BODY_BYTES, r, n)
        }))
        .layer(middleware::from_fn_with_state(state.clone(), auth::admin));
    // Every ERP route acts for a user named in `X-H2H-User`.
    let erp = erp::routes()
        .layer(DefaultBodyLimit::max(MAX_ERP_BODY_BYTES))
        .layer(middleware::from_fn(|r, n| {
            json_objects::only_objects(MAX_ERP_BODY_BYTES, r, n)
        }))
        .layer(middleware::from_fn_with_state(state.clone(), auth::erp))
        .layer(middleware::from_fn_with_state(
            state.gate.clone(),
            gate::guard,
        ));
    let (routes, mut document) = assemble(admin, erp).split_for_parts();
    unique_operation_ids(&mut document);
    let document = Arc::new(document);
    routes
        .route("/health", get(health::health))
        .route(
            "/metrics",
            get(metrics::metrics).layer(middleware::from_fn_with_state(state.clone(), auth::admin)),
        )
        .route(
            "/openapi.json",
            get(move || {
                let document = document.clone();
                async move { axum::Json(document.as_ref().clone()) }
            }),
        )
        // Its own fallback, so the answer to an unknown path keeps these
        // layers (JSON, request id) when the console's routes are merged in.
        .fallback(|| async { axum::http::StatusCode::NOT_FOUND })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(error::json_errors))
        .layer(middleware::from_fn(request_id::tag))
        .with_state(state)
}
