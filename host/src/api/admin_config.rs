//! The admin REST API for what plugins run with: companies, their settings,
//! HTTP grants and scheduled tasks. Same library calls as the CLI.

use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use crate::admin::{AdminError, Company, HttpGrantInfo, SettingValue, StorageReport, TaskInfo};
use crate::scheduler::{TaskRun, history};

type ApiResult<T> = Result<Json<T>, ApiError>;

/// Routes under `/admin/v1`, documented under the `admin` tag.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(companies, add_company))
        .routes(routes!(settings))
        .routes(routes!(set_setting, unset_setting))
        .routes(routes!(http_grant))
        .routes(routes!(storage, set_storage_limits))
        .routes(routes!(allow_private))
        .routes(routes!(revoke_origin))
        .routes(routes!(tasks))
        .routes(routes!(change_task))
        .routes(routes!(task_history))
}

#[utoipa::path(
    get,
    path = "/companies",
    tag = "admin",
    responses((status = 200, description = "Companies"))
)]
async fn companies(State(state): State<AppState>) -> ApiResult<Vec<Company>> {
    Ok(Json(state.admin.companies().await?))
}

/// A company to add.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"id": "acme", "name": "ACME Sp. z o.o."}))]
struct NewCompany {
    /// Slug id.
    id: String,
    /// Display name.
    name: String,
    /// The parent company, for a group.
    parent: Option<String>,
}

#[utoipa::path(
    post,
    path = "/companies",
    tag = "admin",
    request_body = NewCompany,
    responses((status = 200, description = "Added"))
)]
async fn add_company(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<NewCompany>,
) -> ApiResult<Company> {
    let company = state
        .admin
        .add_company(
            &caller.actor(),
            &body.id,
            &body.name,
            body.parent.as_deref(),
        )
        .await?;
    Ok(Json(company))
}

#[utoipa::path(
    get,
    path = "/companies/{company}/plugins/{plugin}/settings",
    tag = "admin",
    params(("company" = String, Path, description = "Company id"), ("plugin" = String, Path, description = "Plugin id")),
    responses((status = 200, description = "Settings (secrets: only whether set)"))
)]
async fn settings(
    State(state): State<AppState>,
    Path((company, plugin)): Path<(String, String)>,
) -> ApiResult<Vec<SettingValue>> {
    Ok(Json(state.admin.settings(&company, &plugin).await?))
}

/// A setting's new value.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"value": "https://acp.privatbank.ua"}))]
struct NewValue {
    /// The value; a secret's is sealed and never shown again.
    value: String,
}

/// Answers with the settings as listed: a secret's value never comes back.
#[utoipa::path(
    put,
    path = "/companies/{company}/plugins/{plugin}/settings/{name}",
    tag = "admin",
    params(("company" = String, Path, description = "Company id"), ("plugin" = String, Path, description = "Plugin id"), ("name" = String, Path, description = "Setting name")),
    request_body = NewValue,
    responses((status = 200, description = "Set"))
)]
async fn set_setting(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((company, plugin, name)): Path<(String, String, String)>,
    Json(body): Json<NewValue>,
) -> ApiResult<Vec<SettingValue>> {
    let body = secrecy::SecretString::from(body.value);
    state
        .admin
        .set_setting(
            &caller.actor(),
            &company,
            &plugin,
            &name,
            secrecy::ExposeSecret::expose_secret(&body),
        )
        .await?;
    Ok(Json(state.admin.settings(&company, &plugin).await?))
}

#[utoipa::path(
    delete,
    path = "/companies/{company}/plugins/{plugin}/settings/{name}",
    tag = "admin",
    params(("company" = String, Path, description = "Company id"), ("plugin" = String, Path, description = "Plugin id"), ("name" = String, Path, description = "Setting name")),
    responses((status = 200, description = "Unset"))
)]
async fn unset_setting(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((company, plugin, name)): Path<(String, String, String)>,
) -> ApiResult<Vec<SettingValue>> {
    state
        .admin
        .unset_setting(&caller.actor(), &company, &plugin, &name)
        .await?;
    Ok(Json(state.admin.settings(&company, &plugin).await?))
}

#[utoipa::path(
    get,
    path = "/plugins/{id}/grants/http",
    tag = "admin",
    params(("id" = String, Path, description = "Plugin id")),
    responses((status = 200, description = "The HTTP grant"))
)]
async fn http_grant(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<HttpGrantInfo> {
    Ok(Json(state.admin.http_grant(&id).await?))
}

#[utoipa::path(
    get,
    path = "/plugins/{id}/storage",
    tag = "admin",
    params(("id" = String, Path, description = "Plugin id")),
    responses(
        (status = 200, description = "What the plugin stores and the limits in force"),
        (status = 404, description = "Not installed (`not_installed`)"),
    )
)]
async fn storage(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StorageReport> {
    Ok(Json(state.admin.storage(&id).await?))
}

/// The admin's storage limits for a plugin; `null` for both: back to the
/// manifest's quota within the host's cap.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"quota_bytes": 3145728, "max_keys": 1000}))]
struct StorageLimits {
    quota_bytes: Option<u64>,
    max_keys: Option<u64>,
}

#[utoipa::path(
    put,
    path = "/plugins/{id}/storage",
    tag = "admin",
    params(("id" = String, Path, description = "Plugin id")),
    request_body = StorageLimits,
    responses(
        (status = 200, description = "Set; the plugin reloads with them"),
        (status = 404, description = "Not installed (`not_installed`)"),
        (status = 422, description = "Only one of the two given (`invalid_input`)"),
    )
)]
async fn set_storage_limits(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Json(body): Json<StorageLimits>,
) -> ApiResult<StorageReport> {
    let limits = match (body.quota_bytes, body.max_keys) {
        (Some(bytes), Some(keys)) => Some((bytes, keys)),
        (None, None) => None,
        _ => {
            return Err(AdminError::InvalidInput(
                "give both quota_bytes and max_keys, or neither".to_owned(),
            )
            .into());
        }
    };
    Ok(Json(
        state
            .admin
            .set_storage_limits(&caller.actor(), &id, limits)
            .await?,
    ))
}

/// A private `host:port` the plugin may (or may no longer) reach.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"host_port": "10.0.0.5:8443", "allow": true}))]
struct PrivateHost {
    /// `host:port` on a private network the plugin may reach.
    host_port: String,
    /// False takes the permission back.
    #[serde(default = "yes")]
    allow: bool,
}

fn yes() -> bool {
    true
}

#[utoipa::path(
    post,
    path = "/plugins/{id}/grants/http/private-hosts",
    tag = "admin",
    params(("id" = String, Path, description = "Plugin id")),
    request_body = PrivateHost,
    responses((status = 200, description = "Changed"))
)]
async fn allow_private(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Json(body): Json<PrivateHost>,
) -> ApiResult<HttpGrantInfo> {
    let grant = state
        .admin
        .allow_private_host(&caller.actor(), &id, &body.host_port, body.allow)
        .await?;
    Ok(Json(grant))
}

/// An origin of the manifest to revoke (or restore).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"origin": "https://acp.privatbank.ua", "restore": false}))]
struct RevokedOrigin {
    /// An origin the manifest declares.
    origin: String,
    /// True gives it back.
    #[serde(default)]
    restore: bool,
}

#[utoipa::path(
    post,
    path = "/plugins/{id}/grants/http/revoked-origins",
    tag = "admin",
    params(("id" = String, Path, description = "Plugin id")),
    request_body = RevokedOrigin,
    responses((status = 200, description = "Changed"))
)]
async fn revoke_origin(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Json(body): Json<RevokedOrigin>,
) -> ApiResult<HttpGrantInfo> {
    let grant = state
        .admin
        .revoke_origin(&caller.actor(), &id, &body.origin, body.restore)
        .await?;
    Ok(Json(grant))
}

#[utoipa::path(
    get,
    path = "/tasks",
    tag = "admin",
    responses((status = 200, description = "Tasks"))
)]
async fn tasks(State(state): State<AppState>) -> ApiResult<Vec<TaskInfo>> {
    Ok(Json(state.admin.tasks().await?))
}

/// `{"cron": "..."}` sets, `{"cron": null}` restores the default,
/// `{"paused": true|false}` pauses or resumes; both may come together.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"cron": "0 */2 * * *", "paused": false}))]
struct TaskChange {
    /// A 5- or 6-field cron expression; null restores the manifest's.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>, nullable)]
    cron: Option<Option<String>>,
    /// Pause or resume.
    paused: Option<bool>,
}

mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

#[utoipa::path(
    put,
    path = "/tasks/{plugin}/{task}",
    tag = "admin",
    params(("plugin" = String, Path, description = "Plugin id"), ("task" = String, Path, description = "Task name")),
    request_body = TaskChange,
    responses((status = 200, description = "Changed"))
)]
async fn change_task(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((plugin, task)): Path<(String, String)>,
    Json(body): Json<TaskChange>,
) -> ApiResult<TaskInfo> {
    let actor = caller.actor();
    let mut info = None;
    if let Some(cron) = &body.cron {
        info = Some(
            state
                .admin
                .set_task_cron(&actor, &plugin, &task, cron.as_deref())
                .await?,
        );
    }
    if let Some(paused) = body.paused {
        info = Some(
            state
                .admin
                .pause_task(&actor, &plugin, &task, paused)
                .await?,
        );
    }
    match info {
        Some(info) => Ok(Json(info)),
        None => Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "give `cron` (null for the default) or `paused`",
        )),
    }
}

#[derive(Debug, Deserialize)]
struct HistoryQuery {
    #[serde(default = "twenty")]
    limit: i64,
}

fn twenty() -> i64 {
    20
}

#[utoipa::path(
    get,
    path = "/tasks/{plugin}/{task}/history",
    tag = "admin",
    params(("plugin" = String, Path, description = "Plugin id"), ("task" = String, Path, description = "Task name")),
    responses((status = 200, description = "Runs"))
)]
async fn task_history(
    State(state): State<AppState>,
    Path((plugin, task)): Path<(String, String)>,
    Query(query): Query<HistoryQuery>,
) -> ApiResult<Vec<TaskRun>> {
    Ok(Json(
        history::list(&state.db, &plugin, &task, query.limit.clamp(1, 1000)).await?,
    ))
}
