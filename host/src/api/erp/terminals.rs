//! Card terminals: pairing with the code the device shows, listing,
//! unpairing, and the provider's payments of a period on one. The
//! device's API key never leaves the host.

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
use crate::terminals::{PairRequest, PairedTerminal, ProviderIntent};

/// Routes under `/erp/v1`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(pair))
        .routes(routes!(list))
        .routes(routes!(unpair))
        .routes(routes!(provider_intents))
}

/// A device to pair.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"company": "acme", "plugin": "mellon", "code": "12345678"}))]
pub struct PairBody {
    /// The company.
    pub company: String,
    /// The card-terminal connector.
    pub plugin: String,
    /// The one-time code the device shows (WebECR: 8 digits).
    pub code: String,
    /// The ERP's payment method its payments book to.
    #[serde(default)]
    pub payment_method: Option<String>,
    /// The paired terminal this device replaces (a new device or a new
    /// code for the same place): it keeps its id and payments and does
    /// not count against the license's cap twice.
    #[serde(default)]
    pub replaces: Option<i64>,
}

/// Pairs the device showing `code`: the connector redeems the code for the
/// device's API key (sealed in the vault, never answered) and the device's
/// terminals are stored. A terminal paired before keeps its id and
/// payments and gets the new key. Needs the plugin's permission guarding
/// `pair-terminals`, if it declares one.
#[utoipa::path(
    post,
    path = "/terminals/pair",
    tag = "terminals",
    request_body = PairBody,
    responses(
        (status = 201, description = "The device's terminals", body = Vec<PairedTerminal>),
        (status = 403, description = "Not allowed for this ERP user", body = ApiError),
        (status = 409, description = "The license's terminal cap is reached (`terminal_cap_reached`), or the replaced terminal is unpaired", body = ApiError),
        (status = 422, description = "The provider refused the code (`rejected`): wrong, used or expired; or the plugin is not a card-terminal connector (`wrong_world`)", body = ApiError),
        (status = 502, description = "The connector failed", body = ApiError),
    ),
    security(("bearer" = []))
)]
async fn pair(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    body: Result<Json<PairBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Vec<PairedTerminal>>), ApiError> {
    let Json(body) = body?;
    if body.code.trim().is_empty() || body.code.len() > 64 {
        return Err(ApiError::invalid_input(
            "`code` is the code the terminal shows (1 to 64 characters)",
        ));
    }
    state
        .admin
        .authorize(
            &user.0,
            &body.company,
            Some(&body.plugin),
            &Operation::PairTerminals,
        )
        .await?;
    let via = &*state.connectors;
    let paired = state
        .terminals
        .pair(
            via,
            &user.0,
            &PairRequest {
                company: body.company,
                plugin: body.plugin,
                code: body.code,
                payment_method: body.payment_method,
                replaces: body.replaces,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(paired)))
}

/// Which company's terminals.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TerminalsQuery {
    /// The company (required).
    #[param(required = true, min_length = 1)]
    pub company: Option<String>,
}

/// The company's terminals, paired and unpaired (`unpaired_at`).
#[utoipa::path(
    get,
    path = "/terminals",
    tag = "terminals",
    params(TerminalsQuery),
    responses((status = 200, description = "The company's terminals", body = Vec<PairedTerminal>)),
    security(("bearer" = []))
)]
async fn list(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    query: Result<Query<TerminalsQuery>, QueryRejection>,
) -> Result<Json<Vec<PairedTerminal>>, ApiError> {
    let Query(query) = query?;
    let company = super::required("company", query.company.as_deref())?;
    state
        .admin
        .authorize(&user.0, company, None, &Operation::CompanyData)
        .await?;
    Ok(Json(state.terminals.list(company).await?))
}

/// Unpairs a terminal: its key is forgotten (once no terminal of the same
/// device uses it); the terminal and its payments stay readable.
#[utoipa::path(
    delete,
    path = "/terminals/{id}",
    tag = "terminals",
    params(("id" = i64, Path, description = "Terminal id")),
    responses(
        (status = 200, description = "Unpaired", body = PairedTerminal),
        (status = 404, description = "No such terminal (`unknown_terminal`)", body = ApiError),
        (status = 409, description = "Already unpaired (`terminal_unpaired`)", body = ApiError),
    ),
    security(("bearer" = []))
)]
async fn unpair(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    Path(id): Path<i64>,
) -> Result<Json<PairedTerminal>, ApiError> {
    let terminal = state.terminals.get(id).await?;
    super::authorize_owned(
        &state,
        &user.0,
        &terminal.company,
        Some(&terminal.plugin),
        &Operation::PairTerminals,
        &format!("terminal {id}"),
    )
    .await?;
    let actor = crate::admin::Actor::erp(&user.0);
    Ok(Json(state.terminals.unpair(&actor, id).await?))
}

/// The period to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// Created at or after, RFC 3339 (required).
    #[param(format = Date)]
    pub from: Option<String>,
    /// Created before, RFC 3339 (required).
    #[param(format = Date)]
    pub to: Option<String>,
}

/// The provider's card payments of a period on this terminal, each with the
/// host's card payment it is (`card_payment`), or none: one the host does
/// not know. The host's unfinished payments among them are brought up to
/// date from the list.
#[utoipa::path(
    get,
    path = "/terminals/{id}/provider-intents",
    tag = "terminals",
    params(("id" = i64, Path, description = "Terminal id"), PeriodQuery),
    responses(
        (status = 200, description = "The provider's payments", body = Vec<ProviderIntent>),
        (status = 400, description = "A missing or malformed instant", body = ApiError),
        (status = 404, description = "No such terminal (`unknown_terminal`)", body = ApiError),
        (status = 409, description = "Unpaired (`terminal_unpaired`)", body = ApiError),
    ),
    security(("bearer" = []))
)]
async fn provider_intents(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    Path(id): Path<i64>,
    query: Result<Query<PeriodQuery>, QueryRejection>,
) -> Result<Json<Vec<ProviderIntent>>, ApiError> {
    let Query(query) = query?;
    let from = super::required("from", query.from.as_deref())?;
    let to = super::required("to", query.to.as_deref())?;
    let terminal = state.terminals.get(id).await?;
    super::authorize_owned(
        &state,
        &user.0,
        &terminal.company,
        Some(&terminal.plugin),
        &Operation::CardPayments,
        &format!("terminal {id}"),
    )
    .await?;
    let via = &*state.connectors;
    Ok(Json(
        state
            .terminals
            .provider_intents(via, &user.0, id, from, to)
            .await?,
    ))
}
