//! Card payments on paired terminals: start a sale (idempotent by the
//! ERP's reference), read it, refresh it from the provider, read every
//! answer the provider gave.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::AppState;
use crate::api::auth::ErpUser;
use crate::api::error::ApiError;
use crate::packages::Operation;
use crate::runtime::model::Money;
use crate::runtime::model::pos::{EInvoicing, IntentKind};
use crate::terminals::{CardIntent, Exchange, NewIntent};
use crate::values::{Currency, MoneyError};

/// Routes under `/erp/v1`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start, list))
        .routes(routes!(get_one))
        .routes(routes!(refresh))
        .routes(routes!(void))
        .routes(routes!(exchanges))
}

/// A sale or refund to start.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"company": "acme", "terminal": 1, "amount": "12.40", "currency": "EUR", "reference": "R-2026-000123"}))]
pub struct StartBody {
    /// `sale` (default) or `refund`.
    #[serde(default)]
    pub kind: Option<String>,
    /// For a refund: the approved sale it gives money back for (host id).
    #[serde(default)]
    pub original: Option<i64>,
    /// The company.
    pub company: String,
    /// The terminal (host id, from `/terminals`).
    pub terminal: i64,
    /// More than zero, written `digits[.digits]` with at most the
    /// currency's minor units of decimals: `"12.40"`. Sent to the terminal
    /// as written; a retry must repeat it exactly.
    #[schema(pattern = r"^[0-9]{1,12}(\.[0-9]{1,3})?$", example = "12.40")]
    pub amount: String,
    /// ISO 4217 with minor units, e.g. `EUR`.
    #[schema(pattern = "^[A-Z]{3}$", example = "EUR")]
    pub currency: String,
    /// The ERP's reference (receipt number): the idempotency key. The same
    /// reference never starts a second charge.
    pub reference: String,
    /// What the Greek e-invoicing provider gave the ERP for the receipt;
    /// the provider checks the signature and refuses a sale whose data
    /// does not verify (`invalid_provider_signature`).
    #[serde(default)]
    pub e_invoicing: Option<EInvoicingBody>,
}

/// An e-invoicing provider's data for a receipt.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EInvoicingBody {
    /// The provider's id.
    #[serde(default)]
    pub provider_id: Option<String>,
    /// The signed input exactly as the provider issued it
    /// (`UID;MARK;timestamp;amount;net;VAT;total;TID`).
    pub input: String,
    /// The provider's signature over `input`, base64.
    pub signature: String,
}

fn checked(body: &StartBody) -> Result<(), ApiError> {
    let money = |e: MoneyError| ApiError::invalid_input(e.to_string());
    Currency::parse(&body.currency)
        .and_then(|currency| currency.amount(&body.amount))
        .map_err(money)?;
    let reference = body.reference.trim();
    if reference.is_empty() || reference.len() > 64 || reference != body.reference {
        return Err(ApiError::invalid_input(
            "`reference` is 1 to 64 characters without surrounding spaces",
        ));
    }
    Ok(())
}

/// Starts a sale, or a refund of an approved sale (`original`), on a
/// terminal. 201 with the new payment; 200 with the
/// payment the same reference started before (refreshed when unfinished:
/// never a second charge). A start whose answer was lost is `unknown` and
/// looked up by reference, here and on every refresh. Needs the plugin's
/// permission guarding `card-payments` (money moves: refused unless the
/// plugin declares one).
#[utoipa::path(
    post,
    path = "/card-payments",
    tag = "terminals",
    request_body = StartBody,
    responses(
        (status = 201, description = "Started", body = CardIntent),
        (status = 200, description = "The payment this reference started before", body = CardIntent),
        (status = 400, description = "A bad amount, currency or reference", body = ApiError),
        (status = 403, description = "Not allowed for this ERP user", body = ApiError),
        (status = 404, description = "No such terminal", body = ApiError),
        (status = 409, description = "The reference started another payment (`reference_taken`), the original is not an approved sale (`not_refundable`), or the terminal is unpaired", body = ApiError),
    ),
    security(("bearer" = []))
)]
async fn start(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    body: Result<Json<StartBody>, JsonRejection>,
) -> Result<(StatusCode, Json<CardIntent>), ApiError> {
    let Json(body) = body?;
    checked(&body)?;
    let kind = match body.kind.as_deref() {
        None | Some("sale") => IntentKind::Sale,
        Some("refund") => IntentKind::Refund,
        Some(other) => {
            return Err(ApiError::invalid_input(format!(
                "`kind` is `sale` or `refund`, not `{other}`"
            )));
        }
    };
    let terminal = state.terminals.get(body.terminal).await?;
    super::authorize_owned(
        &state,
        &user.0,
        &terminal.company,
        Some(&terminal.plugin),
        &Operation::CardPayments,
        &format!("terminal {}", terminal.id),
    )
    .await?;
    if terminal.company != body.company {
        return Err(crate::terminals::TerminalError::UnknownTerminal(body.terminal).into());
    }
    let via = &*state.connectors;
    let (intent, started) = state
        .terminals
        .start_intent(
            via,
            &user.0,
            &NewIntent {
                company: body.company,
                terminal: body.terminal,
                kind,
                amount: Money {
                    amount: body.amount,
                    currency: body.currency,
                },
                reference: body.reference,
                original: body.original,
                e_invoicing: body.e_invoicing.map(|e| EInvoicing {
                    provider_id: e.provider_id,
                    input: e.input,
                    signature: e.signature,
                }),
            },
        )
        .await?;
    let status = if started {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(intent)))
}

/// Which payments to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The company (required).
    #[param(required = true, min_length = 1)]
    pub company: Option<String>,
    /// Only this terminal's (host id).
    pub terminal: Option<i64>,
    /// Cursor: the last id of the previous page (0 or absent: the start).
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// Page size, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// The company's card payments, oldest first, a page at a time from the
/// cursor `after`.
#[utoipa::path(
    get,
    path = "/card-payments",
    tag = "terminals",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of payments", body = Vec<CardIntent>),
        (status = 400, description = "A bad cursor or limit", body = ApiError),
    ),
    security(("bearer" = []))
)]
async fn list(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Vec<CardIntent>>, ApiError> {
    let Query(query) = query?;
    let company = super::required("company", query.company.as_deref())?;
    state
        .admin
        .authorize(&user.0, company, None, &Operation::CompanyData)
        .await?;
    let after = super::cursor(query.after)?;
    let limit = super::limit(query.limit, 100)?;
    Ok(Json(
        state
            .terminals
            .intents(company, query.terminal, after, limit)
            .await?,
    ))
}

async fn owned(state: &AppState, user: &str, id: i64) -> Result<CardIntent, ApiError> {
    let intent = state.terminals.intent(id).await?;
    super::authorize_owned(
        state,
        user,
        &intent.company,
        None,
        &Operation::CompanyData,
        &format!("card payment {id}"),
    )
    .await?;
    Ok(intent)
}

/// A card payment as the host knows it.
#[utoipa::path(
    get,
    path = "/card-payments/{id}",
    tag = "terminals",
    params(("id" = i64, Path, description = "Card payment id")),
    responses(
        (status = 200, description = "The payment", body = CardIntent),
        (status = 404, description = "No such payment (`unknown_card_payment`)", body = ApiError),
    ),
    security(("bearer" = []))
)]
async fn get_one(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    Path(id): Path<i64>,
) -> Result<Json<CardIntent>, ApiError> {
    Ok(Json(owned(&state, &user.0, id).await?))
}

/// Asks the provider where the payment stands (by its id, or by
/// reference when its start's answer was lost) and answers it.
#[utoipa::path(
    post,
    path = "/card-payments/{id}/refresh",
    tag = "terminals",
    params(("id" = i64, Path, description = "Card payment id")),
    responses(
        (status = 200, description = "The payment after the refresh", body = CardIntent),
        (status = 404, description = "No such payment", body = ApiError),
    ),
    security(("bearer" = []))
)]
async fn refresh(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    Path(id): Path<i64>,
) -> Result<Json<CardIntent>, ApiError> {
    owned(&state, &user.0, id).await?;
    let via = &*state.connectors;
    Ok(Json(
        state.terminals.refresh_intent(via, &user.0, id).await?,
    ))
}

/// Voids an approved sale: `void_state` is `pending` until the provider
/// confirms (`voided`) or refuses (`refused`, the sale stands); call again
/// to ask the provider about a pending void. Needs `card-payments`.
#[utoipa::path(
    post,
    path = "/card-payments/{id}/void",
    tag = "terminals",
    params(("id" = i64, Path, description = "Card payment id")),
    responses(
        (status = 200, description = "The sale with its void's state", body = CardIntent),
        (status = 404, description = "No such payment", body = ApiError),
        (status = 409, description = "Not an approved sale (`not_voidable`)", body = ApiError),
    ),
    security(("bearer" = []))
)]
async fn void(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    Path(id): Path<i64>,
) -> Result<Json<CardIntent>, ApiError> {
    let intent = state.terminals.intent(id).await?;
    let terminal = state.terminals.get(intent.terminal).await?;
    super::authorize_owned(
        &state,
        &user.0,
        &intent.company,
        Some(&terminal.plugin),
        &Operation::CardPayments,
        &format!("card payment {id}"),
    )
    .await?;
    let via = &*state.connectors;
    Ok(Json(state.terminals.void_intent(via, &user.0, id).await?))
}

/// Every answer the provider gave about the payment, as received.
#[utoipa::path(
    get,
    path = "/card-payments/{id}/exchanges",
    tag = "terminals",
    params(("id" = i64, Path, description = "Card payment id")),
    responses(
        (status = 200, description = "The exchanges, oldest first", body = Vec<Exchange>),
        (status = 404, description = "No such payment", body = ApiError),
    ),
    security(("bearer" = []))
)]
async fn exchanges(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    Path(id): Path<i64>,
) -> Result<Json<Vec<Exchange>>, ApiError> {
    owned(&state, &user.0, id).await?;
    Ok(Json(state.terminals.exchanges(id).await?))
}
