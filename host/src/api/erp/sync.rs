//! Statement sync on demand: the ERP asks the host to run an account's
//! `sync-statements` task now (the same run the daily schedule makes, under
//! the same no-overlap claim), and reads where the account's sync stands.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::AppState;
use crate::api::auth::ErpUser;
use crate::api::error::ApiError;
use crate::packages::Operation;
use crate::scheduler::TaskRun;
use crate::settlements::Settlements;
use crate::settlements::sync::{SYNC_TASK, SyncState};

/// Routes under `/erp/v1`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(sync_state, sync_now))
}

/// A sync run and where the account stands after it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncOutcome {
    /// The run as the task history records it (`outcome` ok or error).
    #[schema(value_type = Object)]
    pub run: TaskRun,
    /// The account's sync state.
    #[schema(value_type = Object)]
    pub state: SyncState,
}

/// A sync run that did not succeed, and where the account stands: the
/// error's `{code, message}` with the run and the state beside them.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncFailure {
    /// `sync_failed` (the bank or connector failed: 502) or `host_busy`
    /// (no instance was free; nothing was asked of the bank: 503).
    pub code: &'static str,
    /// The run's error.
    pub message: String,
    /// The run as the task history records it.
    #[schema(value_type = Object)]
    pub run: TaskRun,
    /// The account's sync state.
    #[schema(value_type = Object)]
    pub state: SyncState,
}

/// Where the account's statement sync stands: complete-through date, last
/// error, last balance.
#[utoipa::path(
    get,
    path = "/accounts/{id}/sync",
    tag = "statements",
    params(("id" = String, Path, description = "Bank account id")),
    responses(
        (status = 200, description = "The sync state", body = Object),
        (status = 403, description = "The ERP user may not act for the account's company", body = ApiError),
        (status = 404, description = "No such account", body = ApiError),
    ),
    security(("bearer" = []))
)]
async fn sync_state(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    Path(id): Path<String>,
) -> Result<Json<SyncState>, ApiError> {
    let settlements = Settlements::new(state.db.clone());
    let account = settlements.account(&id).await?;
    super::authorize_owned(
        &state,
        &user.0,
        &account.company,
        None,
        &Operation::CompanyData,
        &format!("account `{}`", account.id),
    )
    .await?;
    Ok(Json(settlements.sync_state(&id).await?))
}

/// Syncs the account's company's statements from its connector now. Needs
/// the plugin's permission guarding `sync-statements`, if it declares one.
/// 409 `task_running` while a sync of the company runs.
#[utoipa::path(
    post,
    path = "/accounts/{id}/sync",
    tag = "statements",
    params(("id" = String, Path, description = "Bank account id")),
    responses(
        (status = 200, description = "The run succeeded; the account's state after it", body = SyncOutcome),
        (status = 502, description = "The bank or connector failed (`sync_failed`): the run and the state beside the error", body = SyncFailure),
        (status = 403, description = "Not allowed for this ERP user", body = ApiError),
        (status = 404, description = "No such account", body = ApiError),
        (status = 409, description = "A sync of this company is running", body = ApiError),
        (status = 503, description = "Service mode, or no instance free (`host_busy`, with `Retry-After`; nothing was asked of the bank)", body = ApiError),
    ),
    security(("bearer" = []))
)]
async fn sync_now(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let settlements = Settlements::new(state.db.clone());
    let account = settlements.account(&id).await?;
    super::authorize_owned(
        &state,
        &user.0,
        &account.company,
        Some(&account.plugin),
        &Operation::SyncStatements,
        &format!("account `{id}`"),
    )
    .await?;
    let run = state
        .scheduler
        .run_now(
            &account.plugin,
            SYNC_TASK,
            Some(&account.company),
            Some(&user.0),
        )
        .await?;
    let after = settlements.sync_state(&id).await?;
    // An ERP that checks status codes sees a failed sync as one.
    let (status, code) = match run.outcome.as_str() {
        "error" | "abandoned" => (StatusCode::BAD_GATEWAY, "sync_failed"),
        "not-taken" => (StatusCode::SERVICE_UNAVAILABLE, "host_busy"),
        _ => return Ok(Json(SyncOutcome { run, state: after }).into_response()),
    };
    let failure = SyncFailure {
        code,
        message: run.error.clone().unwrap_or_default(),
        run,
        state: after,
    };
    let retry = crate::scheduler::BUSY_RETRY.as_secs().to_string();
    Ok(match status {
        StatusCode::SERVICE_UNAVAILABLE => {
            (status, [(header::RETRY_AFTER, retry)], Json(failure)).into_response()
        }
        _ => (status, Json(failure)).into_response(),
    })
}
