//! The admin REST API for bank sessions: the context a user's session
//! lives in (per database or per company), and the databases sessions can
//! be shared to (a connection string goes in and never comes back out).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use crate::sessions::ShareTarget;

/// Routes under `/admin/v1`, documented under the `admin` tag.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(targets, add_target))
        .routes(routes!(remove_target))
        .routes(routes!(context, set_context))
}

/// Where a user's one session of a connector lives.
#[derive(Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"per_company": false}))]
pub struct SessionContext {
    /// True: one per user and company (Vendo's "Zapisuj poświadczenia per
    /// firma"); false (the default): one per user in the database, serving
    /// every company whose ids it covers.
    pub per_company: bool,
}

/// The context of a connector's bank sessions.
#[utoipa::path(
    get,
    path = "/plugins/{id}/bank-sessions/context",
    tag = "admin",
    params(("id" = String, Path, description = "Plugin id")),
    responses((status = 200, description = "The context", body = SessionContext))
)]
async fn context(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<SessionContext>, ApiError> {
    Ok(Json(SessionContext {
        per_company: state.sessions.per_company(&id).await?,
    }))
}

/// Sets the context of a connector's bank sessions, for sessions opened
/// and calls made from now on.
#[utoipa::path(
    put,
    path = "/plugins/{id}/bank-sessions/context",
    tag = "admin",
    params(("id" = String, Path, description = "Plugin id")),
    request_body = SessionContext,
    responses((status = 200, description = "Set", body = SessionContext))
)]
async fn set_context(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Json(body): Json<SessionContext>,
) -> Result<Json<SessionContext>, ApiError> {
    state
        .sessions
        .set_per_company(&caller.actor(), &id, body.per_company)
        .await?;
    Ok(Json(body))
}

/// The body of `POST /share-targets`.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"name": "branch-db", "connection_string": "postgres://h2h@db.internal/branch"}))]
pub struct NewTarget {
    /// The name users share to (a-z, 0-9, `-`, `_`).
    pub name: String,
    /// The target's PostgreSQL connection string; sealed, never answered.
    #[schema(value_type = String)]
    pub connection_string: SecretString,
}

/// The registered share targets, never their connection strings.
#[utoipa::path(
    get,
    path = "/share-targets",
    tag = "admin",
    responses((status = 200, description = "The targets", body = Vec<Object>))
)]
async fn targets(State(state): State<AppState>) -> Result<Json<Vec<ShareTarget>>, ApiError> {
    Ok(Json(state.sessions.share_targets().await?))
}

/// Registers (or replaces) a share target, once it answers as an h2h
/// database that receives shared sessions.
#[utoipa::path(
    post,
    path = "/share-targets",
    tag = "admin",
    request_body = NewTarget,
    responses(
        (status = 201, description = "Registered", body = Object),
        (status = 400, description = "Not a PostgreSQL connection string, or a bad name", body = ApiError),
        (status = 409, description = "Not an h2h database (`share_target_not_h2h`)", body = ApiError),
        (status = 502, description = "It cannot be reached (`share_target_unreachable`)", body = ApiError),
    )
)]
async fn add_target(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<NewTarget>,
) -> Result<(StatusCode, Json<ShareTarget>), ApiError> {
    let target = state
        .sessions
        .add_share_target(&caller.actor(), &body.name, &body.connection_string)
        .await?;
    Ok((StatusCode::CREATED, Json(target)))
}

/// Forgets a share target and its connection string; refused while shares
/// name it.
#[utoipa::path(
    delete,
    path = "/share-targets/{name}",
    tag = "admin",
    params(("name" = String, Path, description = "Target name")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such target", body = ApiError),
        (status = 409, description = "Shares name it (`share_target_in_use`)", body = ApiError),
    )
)]
async fn remove_target(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .sessions
        .remove_share_target(&caller.actor(), &name)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
