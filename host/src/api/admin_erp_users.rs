//! The admin REST API for ERP users (who they are, the companies they may
//! act for, the plugin permissions they hold) and company webhooks. Same
//! library calls as `h2h erp-user` and `h2h webhook`; webhook secrets go in
//! and never come back.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::{Extension, Json};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use crate::admin::{ErpUserAccess, ErpUserInfo, WebhookInfo, split_permission};

type ApiResult<T> = Result<Json<T>, ApiError>;

/// Routes under `/admin/v1`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, add_user))
        .routes(routes!(get_user))
        .routes(routes!(disable_user))
        .routes(routes!(enable_user))
        .routes(routes!(permissions))
        .routes(routes!(grant_permission))
        .routes(routes!(revoke_permission))
        .routes(routes!(grant_company, revoke_company))
        .routes(routes!(webhooks))
        .routes(routes!(set_webhook, remove_webhook))
}

/// A new ERP user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"id": "anna", "display_name": "Anna Kowalska", "email": "anna@example.com"}))]
pub struct NewErpUser {
    /// Slug id, as the ERP will send it in `X-H2H-User`.
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// Optional e-mail address.
    #[serde(default)]
    pub email: Option<String>,
}

/// Every ERP user.
#[utoipa::path(
    get,
    path = "/erp-users",
    tag = "admin",
    responses((status = 200, description = "ERP users", body = Vec<ErpUserInfo>))
)]
async fn list_users(State(state): State<AppState>) -> ApiResult<Vec<ErpUserInfo>> {
    Ok(Json(state.admin.erp_users().await?))
}

/// Adds an ERP user (enabled, with access to nothing yet).
#[utoipa::path(
    post,
    path = "/erp-users",
    tag = "admin",
    request_body = NewErpUser,
    responses(
        (status = 200, description = "Added", body = ErpUserInfo),
        (status = 409, description = "The id is taken (`erp_user_exists`)", body = ApiError),
    )
)]
async fn add_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Result<Json<NewErpUser>, JsonRejection>,
) -> ApiResult<ErpUserInfo> {
    let Json(new) = body?;
    Ok(Json(
        state
            .admin
            .add_erp_user(
                &caller.actor(),
                &new.id,
                &new.display_name,
                new.email.as_deref(),
            )
            .await?,
    ))
}

/// One ERP user.
#[utoipa::path(
    get,
    path = "/erp-users/{id}",
    tag = "admin",
    params(("id" = String, Path, description = "ERP user id")),
    responses(
        (status = 200, description = "The user", body = ErpUserInfo),
        (status = 404, description = "No such user (`unknown_erp_user`)", body = ApiError),
    )
)]
async fn get_user(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<ErpUserInfo> {
    Ok(Json(state.admin.erp_user(&id).await?))
}

/// Disables an ERP user: their requests get 403 `unknown_erp_user`; grants
/// are kept.
#[utoipa::path(
    post,
    path = "/erp-users/{id}/disable",
    tag = "admin",
    params(("id" = String, Path, description = "ERP user id")),
    responses((status = 200, description = "Disabled", body = ErpUserInfo))
)]
async fn disable_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<ErpUserInfo> {
    Ok(Json(
        state
            .admin
            .set_erp_user_enabled(&caller.actor(), &id, false)
            .await?,
    ))
}

/// Enables a disabled ERP user again.
#[utoipa::path(
    post,
    path = "/erp-users/{id}/enable",
    tag = "admin",
    params(("id" = String, Path, description = "ERP user id")),
    responses((status = 200, description = "Enabled", body = ErpUserInfo))
)]
async fn enable_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<ErpUserInfo> {
    Ok(Json(
        state
            .admin
            .set_erp_user_enabled(&caller.actor(), &id, true)
            .await?,
    ))
}

/// The companies and plugin permissions of an ERP user.
#[utoipa::path(
    get,
    path = "/erp-users/{id}/permissions",
    tag = "admin",
    params(("id" = String, Path, description = "ERP user id")),
    responses((status = 200, description = "What the user may do", body = ErpUserAccess))
)]
async fn permissions(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<ErpUserAccess> {
    Ok(Json(state.admin.erp_user_access(&id).await?))
}

/// A permission to grant.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"permission": "pkobp/submit-transfers"}))]
pub struct PermissionGrant {
    /// `<plugin>/<permission>`, declared by the installed plugin.
    pub permission: String,
}

/// Grants a plugin permission to an ERP user.
#[utoipa::path(
    post,
    path = "/erp-users/{id}/permissions",
    tag = "admin",
    params(("id" = String, Path, description = "ERP user id")),
    request_body = PermissionGrant,
    responses(
        (status = 200, description = "What the user may do now", body = ErpUserAccess),
        (status = 404, description = "Undeclared permission (`unknown_permission`) or user", body = ApiError),
    )
)]
async fn grant_permission(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Result<Json<PermissionGrant>, JsonRejection>,
) -> ApiResult<ErpUserAccess> {
    let Json(grant) = body?;
    let (plugin, permission) = split_permission(&grant.permission)?;
    Ok(Json(
        state
            .admin
            .grant_permission(&caller.actor(), &id, plugin, permission)
            .await?,
    ))
}

/// Takes a plugin permission from an ERP user.
#[utoipa::path(
    delete,
    path = "/erp-users/{id}/permissions/{plugin}/{permission}",
    tag = "admin",
    params(
        ("id" = String, Path, description = "ERP user id"),
        ("plugin" = String, Path, description = "Plugin id"),
        ("permission" = String, Path, description = "Permission name"),
    ),
    responses((status = 200, description = "What the user may do now", body = ErpUserAccess))
)]
async fn revoke_permission(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, plugin, permission)): Path<(String, String, String)>,
) -> ApiResult<ErpUserAccess> {
    Ok(Json(
        state
            .admin
            .revoke_permission(&caller.actor(), &id, &plugin, &permission)
            .await?,
    ))
}

/// Options of a company grant.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"with_branches": false}))]
pub struct CompanyGrant {
    /// Also grant each branch the company has now (a head office does not
    /// imply its branches otherwise).
    #[serde(default)]
    pub with_branches: bool,
}

/// Lets an ERP user act for a company. Body optional.
#[utoipa::path(
    put,
    path = "/erp-users/{id}/companies/{company}",
    tag = "admin",
    params(
        ("id" = String, Path, description = "ERP user id"),
        ("company" = String, Path, description = "Company id"),
    ),
    request_body(content = Option<CompanyGrant>, description = "Optional", example = json!({"with_branches": false})),
    responses((status = 200, description = "What the user may do now", body = ErpUserAccess))
)]
async fn grant_company(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, company)): Path<(String, String)>,
    body: Option<Json<CompanyGrant>>,
) -> ApiResult<ErpUserAccess> {
    let grant = body.map(|Json(b)| b).unwrap_or_default();
    Ok(Json(
        state
            .admin
            .grant_company(&caller.actor(), &id, &company, grant.with_branches)
            .await?,
    ))
}

/// Stops an ERP user acting for a company.
#[utoipa::path(
    delete,
    path = "/erp-users/{id}/companies/{company}",
    tag = "admin",
    params(
        ("id" = String, Path, description = "ERP user id"),
        ("company" = String, Path, description = "Company id"),
    ),
    responses((status = 200, description = "What the user may do now", body = ErpUserAccess))
)]
async fn revoke_company(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, company)): Path<(String, String)>,
) -> ApiResult<ErpUserAccess> {
    Ok(Json(
        state
            .admin
            .revoke_company(&caller.actor(), &id, &company)
            .await?,
    ))
}

/// Every webhook (never a secret).
#[utoipa::path(
    get,
    path = "/webhooks",
    tag = "admin",
    responses((status = 200, description = "Webhooks", body = Vec<WebhookInfo>))
)]
async fn webhooks(State(state): State<AppState>) -> ApiResult<Vec<WebhookInfo>> {
    Ok(Json(state.admin.webhooks().await?))
}

/// A company's webhook. `Debug` shows no secret.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://erp.example.com/h2h/events", "secret": "a-long-shared-secret-0123456789"}))]
pub struct NewWebhook {
    /// `http://` or `https://` URL events are posted to.
    pub url: String,
    /// Shared secret for the signatures, 16 to 1024 bytes; sealed in the
    /// vault, never returned.
    #[schema(value_type = String)]
    pub secret: SecretString,
    /// Let it reach loopback, private and link-local addresses (an ERP on
    /// the company's own network); refused otherwise. Default false.
    #[serde(default)]
    pub allow_private: bool,
}

impl std::fmt::Debug for NewWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewWebhook")
            .field("url", &self.url)
            .field("allow_private", &self.allow_private)
            .finish_non_exhaustive()
    }
}

/// Sets a company's webhook (URL and secret); the delivery cursor starts
/// after the newest event now, and is kept when the webhook is set again.
#[utoipa::path(
    put,
    path = "/companies/{company}/webhook",
    tag = "admin",
    params(("company" = String, Path, description = "Company id")),
    request_body = NewWebhook,
    responses(
        (status = 200, description = "Set (without the secret)", body = WebhookInfo),
        (status = 422, description = "Not an http(s) URL, a private address without `allow_private`, or the secret is too short (`invalid_input`)", body = ApiError),
    )
)]
async fn set_webhook(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(company): Path<String>,
    body: Result<Json<NewWebhook>, JsonRejection>,
) -> ApiResult<WebhookInfo> {
    // A rejection's text could quote the body, secret included.
    let Json(new) = body.map_err(|_| {
        ApiError::invalid_input("send {\"url\": \"https://...\", \"secret\": \"...\"} as JSON")
    })?;
    Ok(Json(
        state
            .admin
            .set_webhook(
                &caller.actor(),
                &company,
                &new.url,
                &new.secret,
                new.allow_private,
            )
            .await?,
    ))
}

/// What was removed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Removed {
    /// The company.
    pub company: String,
    /// Always true.
    pub removed: bool,
}

/// Removes a company's webhook and its secret.
#[utoipa::path(
    delete,
    path = "/companies/{company}/webhook",
    tag = "admin",
    params(("company" = String, Path, description = "Company id")),
    responses(
        (status = 200, description = "Removed", body = Removed),
        (status = 404, description = "No webhook (`no_webhook`)", body = ApiError),
    )
)]
async fn remove_webhook(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(company): Path<String>,
) -> ApiResult<Removed> {
    state
        .admin
        .remove_webhook(&caller.actor(), &company)
        .await?;
    Ok(Json(Removed {
        company,
        removed: true,
    }))
}
