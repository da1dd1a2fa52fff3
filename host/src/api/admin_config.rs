//! The admin REST API for what plugins run with: companies, their settings,
//! HTTP grants and scheduled tasks. Same library calls as the CLI.

use axum::extract::{Path, Query, State};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use serde::Deserialize;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use crate::admin::{Company, HttpGrantInfo, SettingValue, TaskInfo};
use crate::scheduler::{TaskRun, history};

type ApiResult<T> = Result<Json<T>, ApiError>;

/// Routes under `/admin/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/companies", get(companies).post(add_company))
        .route(
            "/companies/{company}/plugins/{plugin}/settings",
            get(settings),
        )
        .route(
            "/companies/{company}/plugins/{plugin}/settings/{name}",
            put(set_setting).delete(unset_setting),
        )
        .route("/plugins/{id}/grants/http", get(http_grant))
        .route(
            "/plugins/{id}/grants/http/private-hosts",
            post(allow_private),
        )
        .route(
            "/plugins/{id}/grants/http/revoked-origins",
            post(revoke_origin),
        )
        .route("/tasks", get(tasks))
        .route("/tasks/{plugin}/{task}", put(change_task))
        .route("/tasks/{plugin}/{task}/history", get(task_history))
}

async fn companies(State(state): State<AppState>) -> ApiResult<Vec<Company>> {
    Ok(Json(state.admin.companies().await?))
}

#[derive(Debug, Deserialize)]
struct NewCompany {
    id: String,
    name: String,
    parent: Option<String>,
}

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

async fn settings(
    State(state): State<AppState>,
    Path((company, plugin)): Path<(String, String)>,
) -> ApiResult<Vec<SettingValue>> {
    Ok(Json(state.admin.settings(&company, &plugin).await?))
}

#[derive(Debug, Deserialize)]
struct NewValue {
    value: String,
}

/// Answers with the settings as listed: a secret's value never comes back.
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

async fn http_grant(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<HttpGrantInfo> {
    Ok(Json(state.admin.http_grant(&id).await?))
}

#[derive(Debug, Deserialize)]
struct PrivateHost {
    host_port: String,
    #[serde(default = "yes")]
    allow: bool,
}

fn yes() -> bool {
    true
}

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

#[derive(Debug, Deserialize)]
struct RevokedOrigin {
    origin: String,
    #[serde(default)]
    restore: bool,
}

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

async fn tasks(State(state): State<AppState>) -> ApiResult<Vec<TaskInfo>> {
    Ok(Json(state.admin.tasks().await?))
}

/// `{"cron": "..."}` sets, `{"cron": null}` restores the default,
/// `{"paused": true|false}` pauses or resumes; both may come together.
#[derive(Debug, Deserialize)]
struct TaskChange {
    #[serde(default, with = "double_option")]
    cron: Option<Option<String>>,
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

async fn task_history(
    State(state): State<AppState>,
    Path((plugin, task)): Path<(String, String)>,
    Query(query): Query<HistoryQuery>,
) -> ApiResult<Vec<TaskRun>> {
    Ok(Json(
        history::list(&state.db, &plugin, &task, query.limit.clamp(1, 1000)).await?,
    ))
}
