//! The ERP API under `/erp/v1`, one module per resource. Every route here
//! needs an `erp` (or `admin`) key and `X-H2H-User` naming an enabled ERP
//! user ([`super::auth::ErpUser`]); each handler authorizes the user for the
//! company it acts on ([`crate::admin::Admin::authorize`]). The OpenAPI
//! document is generated from the handlers (`#[utoipa::path]`) and their
//! types; [`routes`] adds the `X-H2H-User` header and the common error
//! answers to each operation.

mod accounts;
mod card_payments;
mod companies;
mod documents;
mod events;
mod plugins;
mod receivables;
mod sessions;
mod signing;
mod sync;
mod terminals;
mod transfers;

use chrono::NaiveDate;
use utoipa_axum::router::OpenApiRouter;

use super::AppState;
use super::error::ApiError;
use crate::admin::AdminError;
use crate::packages::Operation;
use crate::settlements::{MAX_LIMIT, Settlements};

/// Routes under `/erp/v1`, documented.
pub fn routes() -> OpenApiRouter<AppState> {
    let mut router = OpenApiRouter::new()
        .merge(plugins::routes())
        .merge(companies::routes())
        .merge(accounts::routes())
        .merge(documents::routes())
        .merge(terminals::routes())
        .merge(card_payments::routes())
        .merge(receivables::routes())
        .merge(events::routes())
        .merge(transfers::routes())
        .merge(sessions::routes())
        .merge(signing::routes())
        .merge(sync::routes());
    for item in router.get_openapi_mut().paths.paths.values_mut() {
        super::openapi::erp_common(item);
    }
    router
}

/// Authorizes `user` for a resource the request names by id (an account,
/// a batch, a session, a document), owned by `company`. A refusal for want
/// of company access names the resource, not the company that owns it: the
/// caller learns nothing about other companies.
async fn authorize_owned(
    state: &AppState,
    user: &str,
    company: &str,
    plugin: Option<&str>,
    operation: &Operation,
    what: &str,
) -> Result<(), ApiError> {
    match state
        .admin
        .authorize(user, company, plugin, operation)
        .await
    {
        Err(AdminError::NoCompanyAccess { user, .. }) => Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "forbidden",
            format!("ERP user `{user}` may not see {what}"),
        )),
        other => Ok(other?),
    }
}

/// The settlements core over the host database.
fn settlements(state: &AppState) -> Settlements {
    Settlements::new(state.db.clone())
}

/// A page size: `default` when absent, else 1 to [`MAX_LIMIT`].
fn limit(given: Option<i64>, default: i64) -> Result<i64, ApiError> {
    match given {
        None => Ok(default),
        Some(limit) if (1..=MAX_LIMIT).contains(&limit) => Ok(limit),
        Some(limit) => Err(ApiError::invalid_input(format!(
            "limit must be 1 to {MAX_LIMIT}, not {limit}"
        ))),
    }
}

/// A cursor: absent is 0 (the start); never negative.
fn cursor(given: Option<i64>) -> Result<i64, ApiError> {
    match given {
        None => Ok(0),
        Some(after) if after >= 0 => Ok(after),
        Some(after) => Err(ApiError::invalid_input(format!(
            "after must be 0 or an id from a previous page, not {after}"
        ))),
    }
}

/// A `YYYY-MM-DD` date named `field`.
fn date(field: &str, given: Option<&str>) -> Result<Option<NaiveDate>, ApiError> {
    given
        .map(|text| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|e| {
                ApiError::invalid_input(format!("{field} `{text}` is not a YYYY-MM-DD date: {e}"))
            })
        })
        .transpose()
}

/// A required, non-empty `field`.
fn required<'a>(field: &str, given: Option<&'a str>) -> Result<&'a str, ApiError> {
    given
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::invalid_input(format!("`{field}` is required")))
}
