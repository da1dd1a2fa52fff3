//! The ERP API (first routes; the full API comes with the settlements
//! work). Behind the service-mode gate.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use crate::runtime::CallContext;

/// Routes under `/erp/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/plugins", get(plugins))
        .route("/plugins/{id}/tasks/{task}", post(run_task))
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

#[derive(Debug, Serialize)]
struct TaskDone {
    plugin: String,
    version: String,
    task: String,
}

/// Runs a plugin task now (e.g. a statement sync on demand).
async fn run_task(
    State(state): State<AppState>,
    Extension(_caller): Extension<Caller>,
    Path((id, task)): Path<(String, String)>,
    body: Option<Json<TaskRequest>>,
) -> Result<Json<TaskDone>, ApiError> {
    let request = body.map(|Json(b)| b).unwrap_or_default();
    let loaded = state.registry.get(&id).await?;
    let ctx = CallContext {
        company_id: request.company,
        user: request.user,
        ..CallContext::default()
    };
    loaded.plugin.run_task(ctx, &task).await?;
    Ok(Json(TaskDone {
        plugin: id,
        version: loaded.version.to_string(),
        task,
    }))
}
