//! Bank accounts of a company and their stored transactions.

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
use crate::settlements::{BankAccount, TransactionFilter, TransactionPage};

/// Routes under `/erp/v1`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, add))
        .routes(routes!(get_one))
        .routes(routes!(transactions))
}

/// A bank account.
#[derive(Debug, Serialize, ToSchema)]
pub struct Account {
    /// Slug id.
    pub id: String,
    /// The owning company.
    pub company: String,
    /// The connector plugin that serves it.
    pub plugin: String,
    /// IBAN, electronic form (no spaces).
    pub iban: String,
    /// ISO 4217.
    pub currency: String,
    /// Display name.
    pub name: String,
}

impl From<BankAccount> for Account {
    fn from(a: BankAccount) -> Self {
        Self {
            id: a.id,
            company: a.company,
            plugin: a.plugin,
            iban: a.iban,
            currency: a.currency,
            name: a.name,
        }
    }
}

/// A new bank account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"id": "acme-pln", "company": "acme", "plugin": "pkobp", "iban": "PL61 1090 1014 0000 0712 1981 2874", "currency": "PLN", "name": "Main PLN"}))]
pub struct NewAccount {
    /// Slug id, unique on the host.
    pub id: String,
    /// The owning company.
    pub company: String,
    /// The connector plugin that serves it.
    pub plugin: String,
    /// IBAN (spaces allowed; checksum verified).
    pub iban: String,
    /// ISO 4217, e.g. `UAH`.
    pub currency: String,
    /// Display name; the id when absent.
    #[serde(default)]
    pub name: Option<String>,
}

/// Which company's accounts.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountsQuery {
    /// The company (required).
    #[param(required = true, min_length = 1)]
    pub company: Option<String>,
}

/// The bank accounts of a company.
#[utoipa::path(
    get,
    path = "/accounts",
    tag = "accounts",
    params(AccountsQuery),
    responses((status = 200, description = "The company's accounts", body = Vec<Account>))
)]
async fn list(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    query: Result<Query<AccountsQuery>, QueryRejection>,
) -> Result<Json<Vec<Account>>, ApiError> {
    let Query(query) = query?;
    let company = super::required("company", query.company.as_deref())?;
    state
        .admin
        .authorize(&user.0, company, None, &Operation::CompanyData)
        .await?;
    let accounts = super::settlements(&state).accounts_of(company).await?;
    Ok(Json(accounts.into_iter().map(Account::from).collect()))
}

/// Adds a bank account of a company, served by a connector plugin.
#[utoipa::path(
    post,
    path = "/accounts",
    tag = "accounts",
    request_body = NewAccount,
    responses(
        (status = 201, description = "Added", body = Account),
        (status = 404, description = "No such company (`unknown_company`) or plugin (`not_installed`)", body = ApiError),
        (status = 409, description = "The id, or the IBAN for this plugin, exists (`already_exists`)", body = ApiError),
    )
)]
async fn add(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    body: Result<Json<NewAccount>, JsonRejection>,
) -> Result<(StatusCode, Json<Account>), ApiError> {
    let Json(new) = body?;
    state
        .admin
        .authorize(&user.0, &new.company, None, &Operation::CompanyData)
        .await?;
    let installed = state.admin.installed().await?;
    if !installed.iter().any(|p| p.plugin == new.plugin) {
        return Err(crate::admin::AdminError::NotInstalled(new.plugin).into());
    }
    let account = BankAccount {
        name: new
            .name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| new.id.clone()),
        id: new.id,
        company: new.company,
        plugin: new.plugin,
        iban: new.iban,
        currency: new.currency,
    };
    let added = super::settlements(&state).add_account(&account).await?;
    Ok((StatusCode::CREATED, Json(added.into())))
}

/// One bank account.
#[utoipa::path(
    get,
    path = "/accounts/{id}",
    tag = "accounts",
    params(("id" = String, Path, description = "Bank account id")),
    responses(
        (status = 200, description = "The account", body = Account),
        (status = 404, description = "No such account (`unknown_account`)", body = ApiError),
    )
)]
async fn get_one(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    Path(id): Path<String>,
) -> Result<Json<Account>, ApiError> {
    let account = super::settlements(&state).account(&id).await?;
    super::authorize_owned(
        &state,
        &user.0,
        &account.company,
        None,
        &Operation::CompanyData,
        &format!("account `{}`", account.id),
    )
    .await?;
    Ok(Json(account.into()))
}

/// Which transactions to read.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TransactionsQuery {
    /// Booked on or after, `YYYY-MM-DD`.
    #[param(format = Date)]
    pub from: Option<String>,
    /// Booked on or before, `YYYY-MM-DD`.
    #[param(format = Date)]
    pub to: Option<String>,
    /// Cursor: the `next` of the previous page (0 or absent: the start).
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// Page size, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// An account's stored transactions, in the order the host stored them,
/// a page at a time. Polling with the last `next` returns only what was
/// stored since.
#[utoipa::path(
    get,
    path = "/accounts/{id}/transactions",
    tag = "accounts",
    params(("id" = String, Path, description = "Bank account id"), TransactionsQuery),
    responses(
        (status = 200, description = "A page of transactions", body = TransactionPage),
        (status = 404, description = "No such account (`unknown_account`)", body = ApiError),
    )
)]
async fn transactions(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    Path(id): Path<String>,
    query: Result<Query<TransactionsQuery>, QueryRejection>,
) -> Result<Json<TransactionPage>, ApiError> {
    let Query(query) = query?;
    let filter = TransactionFilter {
        from: super::date("from", query.from.as_deref())?,
        to: super::date("to", query.to.as_deref())?,
        after: super::cursor(query.after)?,
        limit: super::limit(query.limit, 100)?,
    };
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
    Ok(Json(settlements.transactions_of(&account, &filter).await?))
}
