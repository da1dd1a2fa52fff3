//! The companies the ERP user may act for, and their automatic matching
//! switch.

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

/// Routes under `/erp/v1`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(companies))
        .routes(routes!(set_auto_matching))
}

/// A company the ERP user may act for.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErpCompany {
    /// Slug id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The head office, for a branch (access to it is granted separately).
    pub parent: Option<String>,
    /// Whether incoming payments are matched to receivables automatically.
    pub auto_matching: bool,
}

/// The companies the ERP user may act for.
#[utoipa::path(
    get,
    path = "/companies",
    tag = "companies",
    responses((status = 200, description = "Companies granted to the user", body = Vec<ErpCompany>))
)]
async fn companies(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
) -> Result<Json<Vec<ErpCompany>>, ApiError> {
    let settlements = super::settlements(&state);
    let mut out = Vec::new();
    for company in state.admin.erp_user_companies(&user.0).await? {
        out.push(ErpCompany {
            auto_matching: settlements.auto_matching(&company.id).await?,
            id: company.id,
            name: company.name,
            parent: company.parent,
        });
    }
    Ok(Json(out))
}

/// The automatic matching switch.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"enabled": true}))]
pub struct AutoMatching {
    /// On or off.
    pub enabled: bool,
}

/// Turns automatic matching of incoming payments on or off for a company
/// (off until turned on).
#[utoipa::path(
    put,
    path = "/companies/{id}/auto-matching",
    tag = "companies",
    params(("id" = String, Path, description = "Company id")),
    request_body = AutoMatching,
    responses((status = 200, description = "The switch as it is now", body = AutoMatching))
)]
async fn set_auto_matching(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    Path(id): Path<String>,
    body: Result<Json<AutoMatching>, JsonRejection>,
) -> Result<Json<AutoMatching>, ApiError> {
    let Json(switch) = body?;
    state
        .admin
        .authorize(&user.0, &id, None, &Operation::CompanyData)
        .await?;
    let settlements = super::settlements(&state);
    settlements.set_auto_matching(&id, switch.enabled).await?;
    Ok(Json(AutoMatching {
        enabled: settlements.auto_matching(&id).await?,
    }))
}
