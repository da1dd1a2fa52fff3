//! The events feed: new payments and matches of the companies the ERP user
//! may act for, in order, read with a cursor.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::{Extension, Json};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::AppState;
use crate::api::auth::ErpUser;
use crate::api::error::ApiError;
use crate::packages::Operation;
use crate::settlements::EventPage;

/// Routes under `/erp/v1`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(events))
}

/// Which events.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Cursor: the `next` of the previous page (0 or absent: the start).
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// Page size, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// One company (which the user must have access to); all of the
    /// user's companies when absent.
    pub company: Option<String>,
}

/// Events after the cursor, in order, each with the ERP users to notify.
/// Pass `next` as `after` to get the following page; a page shorter than
/// `limit` means nothing more for now (poll again with the same `next`).
#[utoipa::path(
    get,
    path = "/events",
    tag = "events",
    params(EventsQuery),
    responses((status = 200, description = "A page of events", body = EventPage))
)]
async fn events(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    query: Result<Query<EventsQuery>, QueryRejection>,
) -> Result<Json<EventPage>, ApiError> {
    let Query(query) = query?;
    let after = super::cursor(query.after)?;
    let limit = super::limit(query.limit, 100)?;
    let companies = match query.company.as_deref() {
        Some(company) => {
            state
                .admin
                .authorize(&user.0, company, None, &Operation::CompanyData)
                .await?;
            vec![company.to_owned()]
        }
        None => state
            .admin
            .erp_user_companies(&user.0)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect(),
    };
    let page = super::settlements(&state)
        .events_of(after, limit, &companies)
        .await?;
    Ok(Json(page))
}
