//! Installed plugins as the ERP sees them, and running a plugin task now
//! (e.g. a statement sync on demand) for a company.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::AppState;
use crate::api::auth::ErpUser;
use crate::api::error::ApiError;
use crate::packages::Operation;
use crate::scheduler::TaskRun;
use crate::settlements::sync::SYNC_TASK;

/// Routes under `/erp/v1`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(plugins))
        .routes(routes!(run_task))
}

/// An installed plugin, as the ERP sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErpPlugin {
    /// Plugin id.
    pub plugin: String,
    /// Installed version.
    pub version: String,
}

/// The enabled plugins.
#[utoipa::path(
    get,
    path = "/plugins",
    tag = "plugins",
    responses((status = 200, description = "Enabled plugins", body = Vec<ErpPlugin>))
)]
async fn plugins(
    State(state): State<AppState>,
    Extension(_user): Extension<ErpUser>,
) -> Result<Json<Vec<ErpPlugin>>, ApiError> {
    let enabled = crate::catalog::enabled_plugins(&state.db).await?;
    Ok(Json(
        enabled
            .into_iter()
            .map(|(plugin, version)| ErpPlugin { plugin, version })
            .collect(),
    ))
}

/// The body of a task run.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"company": "acme"}))]
pub struct TaskRequest {
    /// The company the task runs for; the ERP user must have access to it.
    pub company: String,
}

/// A task run as the task history records it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskRunView {
    /// Increasing id.
    pub id: i64,
    /// The plugin.
    pub plugin: String,
    /// The task.
    pub task: String,
    /// The company.
    pub company: Option<String>,
    /// `manual` here.
    pub trigger: String,
    /// Start, RFC 3339 UTC.
    pub started_at: String,
    /// End, RFC 3339 UTC.
    pub finished_at: Option<String>,
    /// `ok` or `error` (the plugin failed; see `error`).
    pub outcome: String,
    /// Why it failed.
    pub error: Option<String>,
}

impl From<TaskRun> for TaskRunView {
    fn from(run: TaskRun) -> Self {
        Self {
            id: run.id,
            plugin: run.plugin,
            task: run.task,
            company: run.company,
            trigger: run.trigger,
            started_at: run.started_at,
            finished_at: run.finished_at,
            outcome: run.outcome,
            error: run.error,
        }
    }
}

/// Runs a declared plugin task now for a company, on behalf of the ERP
/// user. If the plugin declares permissions guarding `task:<task>` (for its
/// host-run statement sync: `sync-statements`), the user must hold one.
#[utoipa::path(
    post,
    path = "/plugins/{id}/tasks/{task}",
    tag = "plugins",
    params(
        ("id" = String, Path, description = "Plugin id"),
        ("task" = String, Path, description = "Task name, as the manifest declares it"),
    ),
    request_body = TaskRequest,
    responses(
        (status = 200, description = "The run (its outcome may be `error`)", body = TaskRunView),
        (status = 404, description = "No such task (`unknown_task`)", body = ApiError),
        (status = 409, description = "The task is running (`task_running`)", body = ApiError),
    )
)]
async fn run_task(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    Path((id, task)): Path<(String, String)>,
    body: Result<Json<TaskRequest>, JsonRejection>,
) -> Result<Json<TaskRunView>, ApiError> {
    let Json(request) = body?;
    let company = super::required("company", Some(&request.company))?;
    // The host's own statement sync is guarded as `sync-statements`
    // whichever route asks for it.
    let operation = if task == SYNC_TASK {
        Operation::SyncStatements
    } else {
        Operation::Task(task.clone())
    };
    state
        .admin
        .authorize(&user.0, company, Some(&id), &operation)
        .await?;
    let run = state
        .scheduler
        .run_now(&id, &task, Some(company), Some(&user.0))
        .await?;
    Ok(Json(run.into()))
}
