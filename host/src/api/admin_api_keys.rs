//! API keys over the admin API: list, create (the secret is answered once)
//! and revoke (refused from the next request on, by every host process).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use crate::admin::{ApiKey, CreatedKey, Role};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(keys, create))
        .routes(routes!(revoke))
}

/// The body of `POST /api-keys`.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"name": "erp-shop", "role": "erp", "acts_for": ["anna"]}))]
pub struct NewKey {
    /// Unique name, 1 to 64 characters without whitespace.
    pub name: String,
    /// `admin` or `erp`.
    #[schema(value_type = String)]
    pub role: Role,
    /// For an `erp` key: the only ERP users it may act for (`X-H2H-User`);
    /// absent or empty, any.
    #[serde(default)]
    pub acts_for: Vec<String>,
}

/// Every key, without secrets.
#[utoipa::path(
    get,
    path = "/api-keys",
    tag = "admin",
    responses((status = 200, description = "The keys", body = Vec<Object>))
)]
async fn keys(State(state): State<AppState>) -> Result<Json<Vec<ApiKey>>, ApiError> {
    Ok(Json(state.admin.api_keys().await?))
}

/// Creates a key. Its secret is in this answer only; the host keeps a hash.
#[utoipa::path(
    post,
    path = "/api-keys",
    tag = "admin",
    request_body = NewKey,
    responses(
        (status = 201, description = "Created; `secret` is shown only now", body = Object),
        (status = 404, description = "A user in `acts_for` does not exist (`unknown_erp_user`)", body = ApiError),
        (status = 422, description = "A bad or taken name, or users for an admin key (`invalid_input`)", body = ApiError),
    )
)]
async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<NewKey>,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    let created = state
        .admin
        .create_api_key_for(&caller.actor(), &body.name, body.role, &body.acts_for)
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Revokes a key: its secret is refused from the next request on.
#[utoipa::path(
    delete,
    path = "/api-keys/{name}",
    tag = "admin",
    params(("name" = String, Path, description = "Key name")),
    responses(
        (status = 200, description = "Revoked", body = Object),
        (status = 404, description = "No such key (`unknown_api_key`)", body = ApiError),
    )
)]
async fn revoke(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Result<Json<ApiKey>, ApiError> {
    Ok(Json(
        state.admin.revoke_api_key(&caller.actor(), &name).await?,
    ))
}
