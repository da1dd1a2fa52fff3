//! Signing sessions over the ERP API: an ERP user logs in to a PKCS#11
//! token for a company with its PIN (optionally saved, sealed, for the host
//! to reopen later), lists the company's open ones, closes one. Every route
//! names the user (`X-H2H-User`) and checks their company access; opening
//! and closing also need `open-session` on a plugin the token is granted
//! to. No answer ever carries a PIN.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::admin::AdminError;
use crate::api::AppState;
use crate::api::auth::ErpUser;
use crate::api::error::ApiError;
use crate::packages::Operation;
use crate::pkcs11::{Closed, SessionInfo};

/// Routes under `/erp/v1`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(open, list))
        .routes(routes!(close))
}

/// `user` may log in to `token` for `company`: company access, and
/// `open-session` on one of the plugins the token is granted to.
async fn may_log_in(
    state: &AppState,
    user: &ErpUser,
    company: &str,
    token: &str,
) -> Result<(), ApiError> {
    state
        .admin
        .authorize(&user.0, company, None, &Operation::CompanyData)
        .await?;
    let plugins = match state.admin.token_grantees(token).await {
        Ok(plugins) => plugins,
        Err(AdminError::Token(e)) => return Err(e.into()),
        Err(e) => return Err(e.into()),
    };
    let mut refusal = None;
    for plugin in &plugins {
        match state
            .admin
            .authorize(&user.0, company, Some(plugin), &Operation::OpenSession)
            .await
        {
            Ok(()) => return Ok(()),
            Err(e) => refusal = Some(e),
        }
    }
    Err(match refusal {
        Some(e) => e.into(),
        None => ApiError::new(
            StatusCode::FORBIDDEN,
            "not_granted",
            format!("token `{token}` is granted to no plugin; an admin grants it first"),
        ),
    })
}

/// The body of `POST /signing/sessions`. `Debug` shows no PIN.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SigningSessionBody)]
#[schema(example = json!({"company": "acme", "token": "pko-card-1", "pin": "123456", "save": false}))]
pub struct OpenBody {
    /// The company.
    pub company: String,
    /// The registered token.
    pub token: String,
    /// The token's PIN, held as a secret from the moment it is parsed.
    #[schema(value_type = String)]
    pub pin: SecretString,
    /// Seal the PIN in the vault so the host can open the session again.
    #[serde(default)]
    pub save: bool,
}

/// What `POST /signing/sessions` answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Opened {
    /// The company.
    pub company: String,
    /// The token.
    pub token: String,
    /// Its slot.
    pub slot: u64,
    /// Its label.
    pub token_label: String,
    /// Whether the PIN is saved.
    pub saved: bool,
}

/// Logs in to a token for a company. A session already open for the
/// company on that token is kept (409 `signing_session_open`): a new PIN is
/// tried only once it is closed, so a wrong one never logs out a working
/// session. The host stops after 2 wrong PINs in a row (423
/// `pin_attempts_exhausted`), before a real card locks.
#[utoipa::path(
    post,
    path = "/signing/sessions",
    tag = "signing",
    request_body = OpenBody,
    responses(
        (status = 201, description = "Logged in", body = Opened),
        (status = 401, description = "Wrong PIN (`wrong_pin`)", body = ApiError),
        (status = 403, description = "No company access or `open-session` permission", body = ApiError),
        (status = 404, description = "Unknown token or company", body = ApiError),
        (status = 409, description = "A session is open (`signing_session_open`), or the token serves another company (`token_busy`)", body = ApiError),
        (status = 423, description = "PIN locked, or too many wrong PINs", body = ApiError),
    ),
    security(("bearer" = []))
)]
async fn open(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    Json(body): Json<OpenBody>,
) -> Result<(StatusCode, Json<Opened>), ApiError> {
    may_log_in(&state, &user, &body.company, &body.token).await?;
    let info = state
        .tokens
        .open_session(&body.company, &body.token, body.pin, body.save, &user.0)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(Opened {
            company: info.company,
            token: info.token,
            slot: info.slot,
            token_label: info.token_label,
            saved: info.saved,
        }),
    ))
}

/// Which company's sessions.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The company.
    #[param(min_length = 1)]
    pub company: String,
}

/// The company's open signing sessions (this host process's), never a PIN.
#[utoipa::path(
    get,
    path = "/signing/sessions",
    tag = "signing",
    params(ListQuery),
    responses(
        (status = 200, description = "The sessions", body = Vec<Object>),
        (status = 403, description = "No access to the company", body = ApiError),
    ),
    security(("bearer" = []))
)]
async fn list(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<SessionInfo>>, ApiError> {
    state
        .admin
        .authorize(&user.0, &query.company, None, &Operation::CompanyData)
        .await?;
    Ok(Json(state.tokens.sessions(Some(&query.company))))
}

/// Logs the company out of the token and forgets its saved PIN.
#[utoipa::path(
    delete,
    path = "/signing/sessions/{company}/{token}",
    tag = "signing",
    params(
        ("company" = String, Path, description = "Company id"),
        ("token" = String, Path, description = "Token name"),
    ),
    responses(
        (status = 200, description = "What was closed and forgotten", body = Object),
        (status = 403, description = "No company access or `open-session` permission", body = ApiError),
    ),
    security(("bearer" = []))
)]
async fn close(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    Path((company, token)): Path<(String, String)>,
) -> Result<Json<Closed>, ApiError> {
    may_log_in(&state, &user, &company, &token).await?;
    Ok(Json(state.tokens.close_session(&company, &token).await?))
}
