//! Open receivables the ERP registers for matching, their status and the
//! payments matched to them.

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
use crate::settlements::{MatchedPayment, Receivable};
use crate::values::Currency;

/// Routes under `/erp/v1`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, add))
        .routes(routes!(get_one))
}

/// A receivable.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceivableView {
    /// Row id (the cursor of the list).
    pub id: i64,
    /// The company owed.
    pub company: String,
    /// Invoice number, unique per company.
    pub invoice_number: String,
    /// The invoice amount in the currency's minor units (`"1500.00"`).
    pub amount: String,
    /// What remains open, in the currency's minor units.
    pub open_amount: String,
    /// ISO 4217.
    pub currency: String,
    /// Who owes it.
    pub counterparty: String,
    /// `open`, `settled` or `review`.
    pub status: String,
}

impl From<Receivable> for ReceivableView {
    fn from(r: Receivable) -> Self {
        Self {
            id: r.id,
            company: r.company,
            invoice_number: r.invoice_number,
            amount: Currency::show(&r.currency, &r.amount.to_string()),
            open_amount: Currency::show(&r.currency, &r.open_amount.to_string()),
            currency: r.currency,
            counterparty: r.counterparty,
            status: r.status,
        }
    }
}

/// A receivable with the payments matched to it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceivableDetail {
    /// The receivable.
    #[serde(flatten)]
    pub receivable: ReceivableView,
    /// Payments matched to it (settling it, or flagged for review).
    pub payments: Vec<MatchedPayment>,
}

/// A new open receivable.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "company": "acme",
    "invoice_number": "FV/2026/11/0042",
    "amount": "1500.00",
    "currency": "UAH",
    "counterparty": "ТОВ Ромашка"
}))]
pub struct NewReceivable {
    /// The company owed.
    #[schema(min_length = 1, max_length = 64)]
    pub company: String,
    /// Invoice number, unique per company: one line, no control or
    /// bidirectional formatting characters.
    #[schema(min_length = 1, max_length = 64, example = "FV/2026/11/0042")]
    pub invoice_number: String,
    /// More than zero, written `digits[.digits]` with at most the
    /// currency's minor units of decimals and 12 digits before the point:
    /// no sign, exponent, grouping or spaces.
    #[schema(pattern = r"^[0-9]{1,12}(\.[0-9]{1,3})?$", example = "1500.00")]
    pub amount: String,
    /// ISO 4217 code with minor units (`UAH`, `PLN`, `EUR`, `JPY`).
    #[schema(pattern = "^[A-Z]{3}$", example = "UAH")]
    pub currency: String,
    /// Who owes it: one line of at most 140 characters.
    #[serde(default)]
    #[schema(max_length = 140)]
    pub counterparty: String,
}

/// Which receivables.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReceivablesQuery {
    /// The company (required).
    #[param(required = true, min_length = 1)]
    pub company: Option<String>,
    /// `open`, `settled` or `review`; all when absent.
    pub status: Option<String>,
    /// Cursor: the last `id` of the previous page (0 or absent: the start).
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// Page size, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// A company's receivables in id order, a page at a time.
#[utoipa::path(
    get,
    path = "/receivables",
    tag = "receivables",
    params(ReceivablesQuery),
    responses((status = 200, description = "Receivables", body = Vec<ReceivableView>))
)]
async fn list(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    query: Result<Query<ReceivablesQuery>, QueryRejection>,
) -> Result<Json<Vec<ReceivableView>>, ApiError> {
    let Query(query) = query?;
    let company = super::required("company", query.company.as_deref())?;
    let after = super::cursor(query.after)?;
    let limit = super::limit(query.limit, 100)?;
    state
        .admin
        .authorize(&user.0, company, None, &Operation::CompanyData)
        .await?;
    let found = super::settlements(&state)
        .receivables_of(company, query.status.as_deref(), after, limit)
        .await?;
    Ok(Json(found.into_iter().map(ReceivableView::from).collect()))
}

/// Registers an open receivable for matching.
#[utoipa::path(
    post,
    path = "/receivables",
    tag = "receivables",
    request_body = NewReceivable,
    responses(
        (status = 201, description = "Registered", body = ReceivableView),
        (status = 404, description = "No such company (`unknown_company`)", body = ApiError),
        (status = 409, description = "The invoice is registered (`already_exists`)", body = ApiError),
    )
)]
async fn add(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    body: Result<Json<NewReceivable>, JsonRejection>,
) -> Result<(StatusCode, Json<ReceivableView>), ApiError> {
    let Json(new) = body?;
    state
        .admin
        .authorize(&user.0, &new.company, None, &Operation::CompanyData)
        .await?;
    let added = super::settlements(&state)
        .add_receivable(
            &new.company,
            &new.invoice_number,
            &new.amount,
            &new.currency,
            &new.counterparty,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(added.into())))
}

/// A receivable: status, open amount and the payments matched to it.
#[utoipa::path(
    get,
    path = "/receivables/{company}/{invoice}",
    tag = "receivables",
    params(
        ("company" = String, Path, description = "Company id"),
        ("invoice" = String, Path, description = "Invoice number, URL-encoded (`FV%2F2026%2F1`)"),
    ),
    responses(
        (status = 200, description = "The receivable", body = ReceivableDetail),
        (status = 404, description = "No such invoice (`unknown_receivable`)", body = ApiError),
    )
)]
async fn get_one(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    Path((company, invoice)): Path<(String, String)>,
) -> Result<Json<ReceivableDetail>, ApiError> {
    state
        .admin
        .authorize(&user.0, &company, None, &Operation::CompanyData)
        .await?;
    let found = super::settlements(&state)
        .receivable_with_payments(&company, &invoice)
        .await?;
    let Some((receivable, payments)) = found else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_receivable",
            format!("{company} has no invoice {invoice}"),
        ));
    };
    Ok(Json(ReceivableDetail {
        receivable: receivable.into(),
        payments,
    }))
}
