//! Files kept exactly as the bank sent or took them: an account's MT940
//! statements and the batch files sent from it.

use axum::Extension;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::AppState;
use crate::api::auth::ErpUser;
use crate::api::error::ApiError;
use crate::packages::Operation;
use crate::settlements::StoredDocument;

/// Routes under `/erp/v1`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(content))
}

/// How many documents to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DocumentsQuery {
    /// At most this many, newest first, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// The bank files kept for an account (statements fetched, batches sent),
/// newest first, without their content.
#[utoipa::path(
    get,
    path = "/accounts/{id}/documents",
    tag = "accounts",
    params(("id" = String, Path, description = "Bank account id"), DocumentsQuery),
    responses(
        (status = 200, description = "The account's files", body = Vec<StoredDocument>),
        (status = 404, description = "No such account (`unknown_account`)", body = ApiError),
    )
)]
async fn list(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    Path(id): Path<String>,
    query: Result<Query<DocumentsQuery>, QueryRejection>,
) -> Result<Json<Vec<StoredDocument>>, ApiError> {
    let Query(query) = query?;
    let settlements = super::settlements(&state);
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
    let limit = super::limit(query.limit, 100)?;
    Ok(Json(settlements.documents(&id, limit).await?))
}

/// One kept file, byte for byte, with the media type the bank named.
#[utoipa::path(
    get,
    path = "/documents/{id}",
    tag = "accounts",
    params(("id" = i64, Path, description = "Document id")),
    responses(
        (status = 200, description = "The file as the bank sent or took it, in the media type the bank named (`Content-Type`: an MT940 as `text/plain; charset=ISO-8859-2`, a pain.001 as `application/xml`, ...)", content_type = "*/*", body = Vec<u8>),
        (status = 404, description = "No such document (`unknown_document`)", body = ApiError),
    )
)]
async fn content(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    Path(id): Path<i64>,
) -> Result<impl IntoResponse, ApiError> {
    let settlements = super::settlements(&state);
    let (document, bytes) = settlements.document(id).await?;
    let account = settlements.account(&document.account).await?;
    super::authorize_owned(
        &state,
        &user.0,
        &account.company,
        None,
        &Operation::CompanyData,
        &format!("account `{}`", account.id),
    )
    .await?;
    let disposition = format!(
        "attachment; filename=\"{}\"",
        document.name.replace(['"', '\\', '\r', '\n'], "_")
    );
    Ok((
        [
            (header::CONTENT_TYPE, document.media_type),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    ))
}
