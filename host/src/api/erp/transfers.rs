//! The transfer waiting room over HTTP: queue transfers (idempotent by the
//! ERP's id), list, read, cancel while queued, export (batch per account and
//! submit), read a batch, refresh it from the bank, withdraw it, submit it
//! again. Thin: the work is in [`crate::settlements::transfers`].

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::AppState;
use crate::api::auth::ErpUser;
use crate::api::error::ApiError;
use crate::packages::Operation;
use crate::settlements::transfers::{
    Batch, NewTransfer, Transfer, TransferError, TransferStatus, Transfers,
};

/// Routes under `/erp/v1`. Reads and queue changes need company access
/// alone ([`Operation::CompanyData`]); sending a batch also the plugin's
/// permission guarding [`Operation::SubmitTransfers`].
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(enqueue, list))
        .routes(routes!(get_transfer, cancel))
        .routes(routes!(export))
        .routes(routes!(get_batch))
        .routes(routes!(refresh))
        .routes(routes!(withdraw))
        .routes(routes!(submit))
}

impl From<TransferError> for ApiError {
    fn from(e: TransferError) -> Self {
        match e {
            TransferError::Unavailable(e) => e.into(),
            TransferError::Context(e) => e.into(),
            TransferError::Call(e) => e.into(),
            TransferError::Session(e) => e.into(),
            e => {
                let status = match &e {
                    TransferError::InvalidInput(_) => StatusCode::BAD_REQUEST,
                    TransferError::UnknownCompany(_)
                    | TransferError::UnknownAccount(_)
                    | TransferError::UnknownTransfer { .. }
                    | TransferError::UnknownBatch(_) => StatusCode::NOT_FOUND,
                    TransferError::Conflict { .. }
                    | TransferError::NotCancellable { .. }
                    | TransferError::BatchState { .. }
                    | TransferError::BatchBusy(_) => StatusCode::CONFLICT,
                    _ => StatusCode::INTERNAL_SERVER_ERROR,
                };
                if status.is_server_error() {
                    tracing::error!(error = %e, "transfer operation failed");
                }
                ApiError::new(status, e.kind(), e.to_string())
            }
        }
    }
}

fn transfers(state: &AppState) -> Transfers {
    Transfers::new(state.db.clone())
}

/// Batch `id`, once `user` may do `operation` on it: reads need company
/// access, submitting also the plugin's guarding permission.
async fn authorized_batch(
    state: &AppState,
    transfers: &Transfers,
    user: &ErpUser,
    id: i64,
    operation: &Operation,
) -> Result<Batch, ApiError> {
    let batch = transfers.batch(id).await?;
    super::authorize_owned(
        state,
        &user.0,
        &batch.company,
        Some(&batch.plugin),
        operation,
        &format!("batch {id}"),
    )
    .await?;
    Ok(batch)
}

/// A transfer to queue: the company paying and the transfer.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"company": "acme", "id": "erp-pay-2026-0042", "account": "acme-pln", "amount": "1234.50", "currency": "PLN", "counterparty_account": "PL61109010140000071219812874", "counterparty_name": "Dostawca Sp. z o.o.", "title": "FV/2026/11/0042"}))]
pub struct TransferRequest {
    /// The company paying.
    pub company: String,
    /// The transfer.
    #[serde(flatten)]
    pub transfer: NewTransfer,
}

/// A batch and its transfers as they stand.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchView {
    /// The batch.
    #[serde(flatten)]
    pub batch: Batch,
    /// The transfers it carried, as they stand now.
    pub transfers: Vec<Transfer>,
}

async fn batch_view(transfers: &Transfers, batch: Batch) -> Result<BatchView, ApiError> {
    let items = transfers.batch_transfers(batch.id).await?;
    Ok(BatchView {
        batch,
        transfers: items,
    })
}

/// Queues a transfer. 201 when queued now; 200 with the same transfer when
/// the same request came before.
#[utoipa::path(
    post,
    path = "/transfers",
    tag = "transfers",
    request_body = TransferRequest,
    responses(
        (status = 201, description = "Queued", body = Transfer),
        (status = 200, description = "The same request queued it before", body = Transfer),
        (status = 400, description = "Invalid transfer (`invalid_input`)", body = ApiError),
        (status = 404, description = "No such company or account", body = ApiError),
        (status = 409, description = "The id is taken by another transfer (`transfer_conflict`)", body = ApiError),
    ),
    security(("bearer" = []))
)]
async fn enqueue(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    body: Result<Json<TransferRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<Transfer>), ApiError> {
    let Json(request) = body?;
    state
        .admin
        .authorize(&user.0, &request.company, None, &Operation::CompanyData)
        .await?;
    let done = transfers(&state)
        .enqueue(&request.company, &request.transfer)
        .await?;
    let status = if done.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(done.transfer)))
}

/// Which transfers to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The company.
    #[param(min_length = 1)]
    pub company: String,
    /// Only transfers in this status.
    pub status: Option<String>,
    /// Cursor: the last `seq` of the previous page (0 or absent: the start).
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// Page size, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// The company's transfers, oldest first, of one status or all, a page at
/// a time (`seq` is the cursor).
#[utoipa::path(
    get,
    path = "/transfers",
    tag = "transfers",
    params(ListQuery),
    responses(
        (status = 200, description = "The transfers", body = Vec<Transfer>),
        (status = 400, description = "Unknown status", body = ApiError),
        (status = 404, description = "No such company", body = ApiError),
    ),
    security(("bearer" = []))
)]
async fn list(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Vec<Transfer>>, ApiError> {
    let Query(query) = query?;
    let after = super::cursor(query.after)?;
    let limit = super::limit(query.limit, 100)?;
    state
        .admin
        .authorize(&user.0, &query.company, None, &Operation::CompanyData)
        .await?;
    let status = query
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(str::parse::<TransferStatus>)
        .transpose()?;
    let listed = transfers(&state)
        .list(&query.company, status, after, limit)
        .await?;
    Ok(Json(listed))
}

/// One transfer.
#[utoipa::path(
    get,
    path = "/transfers/{company}/{id}",
    tag = "transfers",
    params(
        ("company" = String, Path, description = "Company id"),
        ("id" = String, Path, description = "The ERP's transfer id"),
    ),
    responses(
        (status = 200, description = "The transfer", body = Transfer),
        (status = 404, description = "No such transfer (`unknown_transfer`)", body = ApiError),
    ),
    security(("bearer" = []))
)]
async fn get_transfer(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    Path((company, id)): Path<(String, String)>,
) -> Result<Json<Transfer>, ApiError> {
    state
        .admin
        .authorize(&user.0, &company, None, &Operation::CompanyData)
        .await?;
    Ok(Json(transfers(&state).transfer(&company, &id).await?))
}

/// Cancels a queued transfer (again: the same answer). 409
/// `not_cancellable` once it is in a batch.
#[utoipa::path(
    delete,
    path = "/transfers/{company}/{id}",
    tag = "transfers",
    params(
        ("company" = String, Path, description = "Company id"),
        ("id" = String, Path, description = "The ERP's transfer id"),
    ),
    responses(
        (status = 200, description = "Cancelled", body = Transfer),
        (status = 404, description = "No such transfer", body = ApiError),
        (status = 409, description = "Not queued any more (`not_cancellable`)", body = ApiError),
    ),
    security(("bearer" = []))
)]
async fn cancel(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    Path((company, id)): Path<(String, String)>,
) -> Result<Json<Transfer>, ApiError> {
    state
        .admin
        .authorize(&user.0, &company, None, &Operation::CompanyData)
        .await?;
    Ok(Json(transfers(&state).cancel(&company, &id).await?))
}

/// What to export.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"company": "acme", "account": "acme-pln"}))]
pub struct ExportRequest {
    /// The company.
    pub company: String,
    /// Only this account's transfers; absent: every account's.
    #[serde(default)]
    pub account: Option<String>,
}

/// Batches the company's queued transfers, one batch per source account,
/// and submits each through the account's connector. Answers the batches
/// made, each in its state after its submission (`unknown`: submit it again
/// later; `failed`: its transfers are queued again).
#[utoipa::path(
    post,
    path = "/transfers/export",
    tag = "transfers",
    request_body = ExportRequest,
    responses(
        (status = 200, description = "The batches made (none: nothing was queued)", body = Vec<BatchView>),
        (status = 403, description = "The user may not submit transfers through an account's plugin", body = ApiError),
        (status = 404, description = "No such company or account", body = ApiError),
    ),
    security(("bearer" = []))
)]
async fn export(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    body: Result<Json<ExportRequest>, JsonRejection>,
) -> Result<Json<Vec<BatchView>>, ApiError> {
    let Json(request) = body?;
    state
        .admin
        .authorize(&user.0, &request.company, None, &Operation::CompanyData)
        .await?;
    let transfers = transfers(&state);
    let accounts = transfers
        .accounts_to_export(&request.company, request.account.as_deref())
        .await?;
    for account in &accounts {
        state
            .admin
            .authorize(
                &user.0,
                &request.company,
                Some(&account.plugin),
                &Operation::SubmitTransfers,
            )
            .await?;
    }
    let batches = transfers
        .export_accounts(&state.connectors, &accounts, Some(&user.0))
        .await?;
    let mut views = Vec::with_capacity(batches.len());
    for batch in batches {
        views.push(batch_view(&transfers, batch).await?);
    }
    Ok(Json(views))
}

/// One batch with its transfers.
#[utoipa::path(
    get,
    path = "/batches/{id}",
    tag = "transfers",
    params(("id" = i64, Path, description = "Batch id")),
    responses(
        (status = 200, description = "The batch", body = BatchView),
        (status = 404, description = "No such batch (`unknown_batch`)", body = ApiError),
    ),
    security(("bearer" = []))
)]
async fn get_batch(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    Path(id): Path<i64>,
) -> Result<Json<BatchView>, ApiError> {
    let transfers = transfers(&state);
    let batch = authorized_batch(&state, &transfers, &user, id, &Operation::CompanyData).await?;
    Ok(Json(batch_view(&transfers, batch).await?))
}

/// Asks the bank (`get-batch-status`) where a submitted batch's transfers
/// stand and stores it.
#[utoipa::path(
    post,
    path = "/batches/{id}/refresh",
    tag = "transfers",
    params(("id" = i64, Path, description = "Batch id")),
    responses(
        (status = 200, description = "The batch after the refresh", body = BatchView),
        (status = 404, description = "No such batch", body = ApiError),
        (status = 409, description = "Not submitted (`batch_state`)", body = ApiError),
        (status = 502, description = "The connector failed (permanent)", body = ApiError),
        (status = 503, description = "The connector failed (retryable)", body = ApiError),
    ),
    security(("bearer" = []))
)]
async fn refresh(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    Path(id): Path<i64>,
) -> Result<Json<BatchView>, ApiError> {
    let transfers = transfers(&state);
    authorized_batch(&state, &transfers, &user, id, &Operation::CompanyData).await?;
    let batch = transfers
        .refresh(&state.connectors, id, Some(&user.0))
        .await?;
    Ok(Json(batch_view(&transfers, batch).await?))
}

/// Withdraws a submitted batch from the bank (an unsigned payment taken
/// back): what the bank has not executed becomes `cancelled`; the rest keep
/// the state the bank reports.
#[utoipa::path(
    post,
    path = "/batches/{id}/withdraw",
    tag = "transfers",
    params(("id" = i64, Path, description = "Batch id")),
    responses(
        (status = 200, description = "The batch after the withdrawal", body = BatchView),
        (status = 403, description = "The user may not submit transfers through this plugin", body = ApiError),
        (status = 404, description = "No such batch", body = ApiError),
        (status = 409, description = "Not submitted (`batch_state`)", body = ApiError),
        (status = 502, description = "The connector failed or cannot withdraw (permanent)", body = ApiError),
        (status = 503, description = "The connector failed (retryable)", body = ApiError),
    ),
    security(("bearer" = []))
)]
async fn withdraw(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    Path(id): Path<i64>,
) -> Result<Json<BatchView>, ApiError> {
    let transfers = transfers(&state);
    authorized_batch(&state, &transfers, &user, id, &Operation::SubmitTransfers).await?;
    let batch = transfers
        .withdraw(&state.connectors, id, Some(&user.0))
        .await?;
    Ok(Json(batch_view(&transfers, batch).await?))
}

/// Submits a `created` or `unknown` batch again, with its own idempotency
/// key: the bank answers the batch it already has, or takes it now.
#[utoipa::path(
    post,
    path = "/batches/{id}/submit",
    tag = "transfers",
    params(("id" = i64, Path, description = "Batch id")),
    responses(
        (status = 200, description = "The batch after the attempt (see `state`, `last_error`)", body = BatchView),
        (status = 403, description = "The user may not submit transfers through this plugin", body = ApiError),
        (status = 404, description = "No such batch", body = ApiError),
        (status = 409, description = "Submitted, failed (`batch_state`) or being submitted (`batch_busy`)", body = ApiError),
    ),
    security(("bearer" = []))
)]
async fn submit(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    Path(id): Path<i64>,
) -> Result<Json<BatchView>, ApiError> {
    let transfers = transfers(&state);
    authorized_batch(&state, &transfers, &user, id, &Operation::SubmitTransfers).await?;
    let batch = transfers
        .submit(&state.connectors, id, Some(&user.0))
        .await?;
    Ok(Json(batch_view(&transfers, batch).await?))
}
