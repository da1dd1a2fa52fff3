//! The ERP API (first routes; the full API comes with the settlements
//! work). Behind the service-mode gate.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use crate::scheduler::TaskRun;

/// Routes under `/erp/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/plugins", get(plugins))
        .route("/plugins/{id}/tasks/{task}", post(run_task))
        .merge(super::signing::routes())
}

/// An installed plugin, as the ERP sees it.
#[derive(Debug, Serialize)]
struct ErpPlugin {
    plugin: String,
    version: String,
}

async fn plugins(State(state): State<AppState>) -> Result<Json<Vec<ErpPlugin>>, ApiError> {
    let installed = state.admin.installed().await?;
    Ok(Json(
        installed
            .into_iter()
            .filter(|p| p.enabled)
            .map(|p| ErpPlugin {
                plugin: p.plugin,
                version: p.version,
            })
            .collect(),
    ))
}

#[derive(Debug, Default, Deserialize)]
struct TaskRequest {
    company: Option<String>,
    user: Option<String>,
}

/// Runs a plugin task now (e.g. a statement sync on demand); answers with
/// the run as the task history records it.
async fn run_task(
    State(state): State<AppState>,
    Extension(_caller): Extension<Caller>,
    Path((id, task)): Path<(String, String)>,
    body: Option<Json<TaskRequest>>,
) -> Result<Json<TaskRun>, ApiError> {
    let request = body.map(|Json(b)| b).unwrap_or_default();
    let run = state
        .scheduler
        .run_now(
            &id,
            &task,
            request.company.as_deref(),
            request.user.as_deref(),
        )
        .await?;
    Ok(Json(run))
}
