//! Bank sessions over HTTP: open (the host signs with a token's key and
//! the PIN given now, or the workstation signs and posts the signature),
//! list, show, refresh, close, the company's default authorizing user, and
//! sharing a session to another database (share, list, revoke).
//! Opening, signing, refreshing and closing need the plugin's permission
//! guarding `open-session`; reading needs company access. Thin: the work is
//! in [`crate::sessions`].

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use secrecy::SecretString;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::admin::Actor;
use crate::api::AppState;
use crate::api::auth::ErpUser;
use crate::api::error::ApiError;
use crate::packages::Operation;
use crate::runtime::model::bank::{ChallengeSignature, LoginMethod};
use crate::sessions::{
    BankSession, HostSigning, OpenRequest, SessionError, SessionShare, ShareError, ShareRequest,
    login_method,
};

/// Routes under `/erp/v1`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(open, list))
        .routes(routes!(show, close))
        .routes(routes!(sign))
        .routes(routes!(refresh))
        .routes(routes!(default_user))
        .routes(routes!(default_login_method))
        .routes(routes!(share, shares))
        .routes(routes!(revoke_share))
}

impl From<SessionError> for ApiError {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::Unavailable(e) => e.into(),
            SessionError::Admin(e) => e.into(),
            SessionError::Context(e) => e.into(),
            SessionError::Call(e) => e.into(),
            SessionError::Token(e) => e.into(),
            SessionError::Share(e) => {
                let status = match &e {
                    ShareError::UnknownTarget(_) | ShareError::UnknownShare { .. } => {
                        StatusCode::NOT_FOUND
                    }
                    ShareError::BadName(_)
                    | ShareError::NotPostgres
                    | ShareError::InvalidInput(_)
                    | ShareError::Uncovered { .. } => StatusCode::BAD_REQUEST,
                    ShareError::TargetUser { .. } | ShareError::NotOpener { .. } => {
                        StatusCode::FORBIDDEN
                    }
                    ShareError::NotAHost { .. }
                    | ShareError::PluginMissing { .. }
                    | ShareError::TargetCompany { .. }
                    | ShareError::Received { .. }
                    | ShareError::Duplicate { .. }
                    | ShareError::InUse(_) => StatusCode::CONFLICT,
                    ShareError::Unreachable { .. } | ShareError::Rights { .. } => {
                        StatusCode::BAD_GATEWAY
                    }
                    ShareError::Crypto(_) | ShareError::Vault(_) | ShareError::Database(_) => {
                        StatusCode::INTERNAL_SERVER_ERROR
                    }
                };
                if status.is_server_error() {
                    tracing::warn!(error = %e, "sharing a bank session failed");
                }
                ApiError::new(status, e.kind(), e.to_string())
            }
            e => {
                let status = match &e {
                    SessionError::UnknownSession(_) => StatusCode::NOT_FOUND,
                    SessionError::State { .. } => StatusCode::CONFLICT,
                    SessionError::InvalidInput(_) => StatusCode::BAD_REQUEST,
                    SessionError::NotGranted { .. } => StatusCode::FORBIDDEN,
                    SessionError::BadAnswer { .. } => StatusCode::BAD_GATEWAY,
                    _ => StatusCode::INTERNAL_SERVER_ERROR,
                };
                if status.is_server_error() {
                    tracing::error!(error = %e, "bank session operation failed");
                }
                ApiError::new(status, e.kind(), e.to_string())
            }
        }
    }
}

/// Session `id`, once `user` may do `operation` on it.
async fn authorized(
    state: &AppState,
    user: &ErpUser,
    id: i64,
    operation: &Operation,
) -> Result<BankSession, ApiError> {
    let session = state.sessions.get(id).await?;
    super::authorize_owned(
        state,
        &user.0,
        &session.company,
        Some(&session.plugin),
        operation,
        &format!("bank session {id}"),
    )
    .await?;
    Ok(session)
}

fn base64_field(name: &str, text: &str) -> Result<Vec<u8>, ApiError> {
    STANDARD.decode(text.trim()).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_input",
            format!("`{name}` is not base64: {e}"),
        )
    })
}

/// The host signs the challenge with a token's key.
#[derive(Deserialize, ToSchema)]
pub struct SignWith {
    /// The key, `token:hex`, as the token's certificates name it.
    pub key: String,
    /// The token's PIN, now; omit to use the signing session already open
    /// on the token (or its saved PIN). Never stored unless `save_pin`.
    #[schema(value_type = Option<String>)]
    pub pin: Option<SecretString>,
    /// Seal the PIN in the vault so the bot can reopen a dropped session.
    #[serde(default)]
    pub save_pin: bool,
}

/// The body of `POST /bank-sessions`.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"company": "acme", "plugin": "mbank", "bank_user_id": "jan.nowak", "method": "mobile-confirmation", "refresh_by_bot": true}))]
pub struct OpenBody {
    /// The company.
    pub company: String,
    /// The connector.
    pub plugin: String,
    /// The user's identifier at the bank.
    pub bank_user_id: String,
    /// `signature`, `mobile-confirmation` or `stored-credentials`; omitted:
    /// the bank user's default login method (else `signature`).
    #[serde(default)]
    pub method: Option<String>,
    /// Company identifiers to cover (DIKs, ContextId); empty for the
    /// company's own.
    #[serde(default)]
    pub company_ids: Vec<String>,
    /// When the session should end, RFC 3339, if the bank lets the user
    /// choose.
    #[serde(default)]
    pub valid_until: Option<String>,
    /// Keep the session alive with the host's bot.
    #[serde(default)]
    pub refresh_by_bot: bool,
    /// The host signs the challenge; omit when the workstation signs.
    #[serde(default)]
    pub sign_with: Option<SignWith>,
    /// For a workstation signature: the signer's certificate, DER, base64.
    #[serde(default)]
    pub certificate: Option<String>,
}

/// Opens a bank session. The answer is `active`, `pending-confirmation`
/// (the bot polls until the user confirms in the bank's app), or
/// `awaiting-signature` with the `challenge` to sign at the workstation
/// and post to `/bank-sessions/{id}/signature`.
#[utoipa::path(
    post,
    path = "/bank-sessions",
    tag = "bank-sessions",
    request_body = OpenBody,
    responses(
        (status = 201, description = "The session", body = Object),
        (status = 400, description = "Malformed request", body = ApiError),
        (status = 401, description = "Wrong PIN (`wrong_pin`)", body = ApiError),
        (status = 403, description = "The user may not open sessions of this plugin for this company", body = ApiError),
        (status = 423, description = "The token's PIN is locked", body = ApiError),
        (status = 502, description = "The connector failed (permanent)", body = ApiError),
        (status = 503, description = "The connector failed (retryable)", body = ApiError),
    ),
    security(("bearer" = []))
)]
async fn open(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    Json(body): Json<OpenBody>,
) -> Result<(StatusCode, Json<BankSession>), ApiError> {
    state
        .admin
        .authorize(
            &user.0,
            &body.company,
            Some(&body.plugin),
            &Operation::OpenSession,
        )
        .await?;
    let method = match body.method.as_deref() {
        Some(name) => method_named(name)?,
        None => {
            state
                .sessions
                .login_method_of(&body.company, &body.plugin, &body.bank_user_id)
                .await?
        }
    };
    let certificate = body
        .certificate
        .as_deref()
        .map(|c| base64_field("certificate", c))
        .transpose()?;
    let request = OpenRequest {
        plugin: body.plugin,
        company: body.company,
        bank_user_id: body.bank_user_id,
        method,
        company_ids: body.company_ids,
        valid_until: body.valid_until,
        refresh_by_bot: body.refresh_by_bot,
        host_signing: body.sign_with.map(|s| HostSigning {
            key: s.key,
            pin: s.pin,
            save_pin: s.save_pin,
        }),
        certificate,
    };
    let opened = state
        .sessions
        .open(&state.connectors, &user.0, request)
        .await?;
    Ok((StatusCode::CREATED, Json(opened)))
}

fn method_named(name: &str) -> Result<LoginMethod, ApiError> {
    login_method(name).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_input",
            format!(
                "unknown method `{name}`; one of: signature, mobile-confirmation, \
                 stored-credentials"
            ),
        )
    })
}

/// Which sessions to list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The company.
    #[param(min_length = 1)]
    pub company: String,
    /// At most this many, newest first (default 100).
    #[serde(default)]
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// The company's bank sessions, newest first. Never a secret.
#[utoipa::path(
    get,
    path = "/bank-sessions",
    tag = "bank-sessions",
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
) -> Result<Json<Vec<BankSession>>, ApiError> {
    state
        .admin
        .authorize(&user.0, &query.company, None, &Operation::CompanyData)
        .await?;
    let sessions = state
        .sessions
        .list(Some(&query.company), super::limit(query.limit, 100)?)
        .await?;
    Ok(Json(sessions))
}

/// One bank session.
#[utoipa::path(
    get,
    path = "/bank-sessions/{id}",
    tag = "bank-sessions",
    params(("id" = i64, Path, description = "Session id")),
    responses(
        (status = 200, description = "The session", body = Object),
        (status = 403, description = "No access to the session's company", body = ApiError),
        (status = 404, description = "No such session", body = ApiError),
    ),
    security(("bearer" = []))
)]
async fn show(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    Path(id): Path<i64>,
) -> Result<Json<BankSession>, ApiError> {
    Ok(Json(
        authorized(&state, &user, id, &Operation::CompanyData).await?,
    ))
}

/// The workstation's signature of the session's challenge.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"signature": "MEUCIQD...", "certificate": "MIIC..."}))]
pub struct SignatureBody {
    /// The signature, base64, in the challenge's mechanism.
    pub signature: String,
    /// The signer's certificate, DER, base64.
    pub certificate: String,
}

/// Completes a session `awaiting-signature` with the signature made at the
/// user's workstation.
#[utoipa::path(
    post,
    path = "/bank-sessions/{id}/signature",
    tag = "bank-sessions",
    params(("id" = i64, Path, description = "Session id")),
    request_body = SignatureBody,
    responses(
        (status = 200, description = "The session", body = Object),
        (status = 403, description = "The user may not open sessions of this plugin", body = ApiError),
        (status = 404, description = "No such session", body = ApiError),
        (status = 409, description = "Not awaiting a signature (`session_state`)", body = ApiError),
        (status = 502, description = "The bank refused the signature", body = ApiError),
    ),
    security(("bearer" = []))
)]
async fn sign(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    Path(id): Path<i64>,
    Json(body): Json<SignatureBody>,
) -> Result<Json<BankSession>, ApiError> {
    authorized(&state, &user, id, &Operation::OpenSession).await?;
    let signature = ChallengeSignature {
        signature: base64_field("signature", &body.signature)?,
        certificate: base64_field("certificate", &body.certificate)?,
    };
    let session = state
        .sessions
        .complete(&state.connectors, &user.0, id, signature)
        .await?;
    Ok(Json(session))
}

/// Refreshes a session now (or polls a pending confirmation).
#[utoipa::path(
    post,
    path = "/bank-sessions/{id}/refresh",
    tag = "bank-sessions",
    params(("id" = i64, Path, description = "Session id")),
    responses(
        (status = 200, description = "The session", body = Object),
        (status = 403, description = "The user may not open sessions of this plugin", body = ApiError),
        (status = 404, description = "No such session", body = ApiError),
        (status = 409, description = "Not active or pending (`session_state`)", body = ApiError),
        (status = 502, description = "The connector failed (permanent)", body = ApiError),
        (status = 503, description = "The connector failed (retryable)", body = ApiError),
    ),
    security(("bearer" = []))
)]
async fn refresh(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    Path(id): Path<i64>,
) -> Result<Json<BankSession>, ApiError> {
    authorized(&state, &user, id, &Operation::OpenSession).await?;
    let session = state
        .sessions
        .refresh(&state.connectors, id, Some(&user.0))
        .await?;
    Ok(Json(session))
}

/// Closes a session at the bank and here; its secret is forgotten.
#[utoipa::path(
    delete,
    path = "/bank-sessions/{id}",
    tag = "bank-sessions",
    params(("id" = i64, Path, description = "Session id")),
    responses(
        (status = 200, description = "The closed session (`last_error` keeps what the bank answered, if it failed)", body = Object),
        (status = 403, description = "The user may not open sessions of this plugin", body = ApiError),
        (status = 404, description = "No such session", body = ApiError),
    ),
    security(("bearer" = []))
)]
async fn close(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    Path(id): Path<i64>,
) -> Result<Json<BankSession>, ApiError> {
    authorized(&state, &user, id, &Operation::OpenSession).await?;
    let session = state
        .sessions
        .close(&state.connectors, &Actor::erp(&user.0), id)
        .await?;
    Ok(Json(session))
}

/// The body of `PUT /companies/{company}/bank-sessions/default-user`.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"plugin": "pkobp", "user": "anna"}))]
pub struct DefaultUserBody {
    /// The connector.
    pub plugin: String,
    /// The ERP user whose session scheduled work uses; they must hold the
    /// plugin's `open-session` permission too.
    pub user: String,
}

/// Names the company's default authorizing user for a connector: scheduled
/// work (statement download, batch export) runs with their session.
#[utoipa::path(
    put,
    path = "/companies/{company}/bank-sessions/default-user",
    tag = "bank-sessions",
    params(("company" = String, Path, description = "Company id")),
    request_body = DefaultUserBody,
    responses(
        (status = 204, description = "Set"),
        (status = 403, description = "The caller or the named user may not open sessions of this plugin", body = ApiError),
    ),
    security(("bearer" = []))
)]
async fn default_user(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    Path(company): Path<String>,
    Json(body): Json<DefaultUserBody>,
) -> Result<StatusCode, ApiError> {
    for who in [&user.0, &body.user] {
        state
            .admin
            .authorize(who, &company, Some(&body.plugin), &Operation::OpenSession)
            .await?;
    }
    state
        .sessions
        .set_default_user(&company, &body.plugin, &body.user)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The body of `POST /bank-sessions/{id}/shares`.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"target": "branch-db", "user": "anna", "company": "acme", "company_ids": ["DIK-1001"]}))]
pub struct ShareBody {
    /// The share target, as the admin registered it.
    pub target: String,
    /// The ERP user in the target database.
    pub user: String,
    /// The head office in the target database.
    pub company: String,
    /// The target's DIKs (company ids) the session serves there; each must
    /// be one the session covers.
    pub company_ids: Vec<String>,
}

/// Shares a session to a user and head office of another database, for
/// the DIKs given. Only from the database where it was opened, by the user
/// who opened it; the token is sealed to the target host's key.
#[utoipa::path(
    post,
    path = "/bank-sessions/{id}/shares",
    tag = "bank-sessions",
    params(("id" = i64, Path, description = "Session id")),
    request_body = ShareBody,
    responses(
        (status = 201, description = "The share", body = Object),
        (status = 400, description = "A DIK the session does not cover (`company_id_outside_session`)", body = ApiError),
        (status = 403, description = "Not the opener, or the target user may not use sessions there", body = ApiError),
        (status = 404, description = "No such session or share target", body = ApiError),
        (status = 409, description = "Shared here from another database (`session_received`), plugin not at the target, not active, already shared", body = ApiError),
        (status = 502, description = "The target database cannot be reached", body = ApiError),
    ),
    security(("bearer" = []))
)]
async fn share(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    Path(id): Path<i64>,
    Json(body): Json<ShareBody>,
) -> Result<(StatusCode, Json<SessionShare>), ApiError> {
    authorized(&state, &user, id, &Operation::OpenSession).await?;
    let origin = state.admin.installation_id().await?;
    let request = ShareRequest {
        target: body.target,
        user: body.user,
        company: body.company,
        company_ids: body.company_ids,
    };
    let shared = state.sessions.share(&user.0, &origin, id, request).await?;
    Ok((StatusCode::CREATED, Json(shared)))
}

/// The session's shares, oldest first, revoked and ended ones included.
#[utoipa::path(
    get,
    path = "/bank-sessions/{id}/shares",
    tag = "bank-sessions",
    params(("id" = i64, Path, description = "Session id")),
    responses(
        (status = 200, description = "The shares", body = Vec<Object>),
        (status = 404, description = "No such session", body = ApiError),
    ),
    security(("bearer" = []))
)]
async fn shares(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    Path(id): Path<i64>,
) -> Result<Json<Vec<SessionShare>>, ApiError> {
    authorized(&state, &user, id, &Operation::CompanyData).await?;
    Ok(Json(state.sessions.shares(id).await?))
}

/// Revokes a share: the target's copy is closed and loses its token. If
/// the target cannot be reached the share stays active (502), to retry.
#[utoipa::path(
    delete,
    path = "/bank-sessions/{id}/shares/{share}",
    tag = "bank-sessions",
    params(
        ("id" = i64, Path, description = "Session id"),
        ("share" = i64, Path, description = "Share id"),
    ),
    responses(
        (status = 200, description = "The revoked share", body = Object),
        (status = 404, description = "No such session or share", body = ApiError),
        (status = 502, description = "The target cannot be reached; still active", body = ApiError),
    ),
    security(("bearer" = []))
)]
async fn revoke_share(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    Path((id, share)): Path<(i64, i64)>,
) -> Result<Json<SessionShare>, ApiError> {
    authorized(&state, &user, id, &Operation::OpenSession).await?;
    let revoked = state
        .sessions
        .revoke_share(&Actor::erp(&user.0), id, share)
        .await?;
    Ok(Json(revoked))
}

/// The body of `PUT /companies/{company}/bank-sessions/login-methods/{bank_user_id}`.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"plugin": "mbank", "method": "mobile-confirmation"}))]
pub struct LoginMethodBody {
    /// The connector.
    pub plugin: String,
    /// `signature`, `mobile-confirmation` or `stored-credentials`.
    pub method: String,
}

/// Sets how a bank user logs in when opening a session names no method
/// (Comarch's "default login mode" on the operator's card).
#[utoipa::path(
    put,
    path = "/companies/{company}/bank-sessions/login-methods/{bank_user_id}",
    tag = "bank-sessions",
    params(
        ("company" = String, Path, description = "Company id"),
        ("bank_user_id" = String, Path, description = "The user's identifier at the bank"),
    ),
    request_body = LoginMethodBody,
    responses(
        (status = 204, description = "Set"),
        (status = 400, description = "Unknown method", body = ApiError),
        (status = 403, description = "The caller may not open sessions of this plugin", body = ApiError),
    ),
    security(("bearer" = []))
)]
async fn default_login_method(
    State(state): State<AppState>,
    Extension(user): Extension<ErpUser>,
    Path((company, bank_user_id)): Path<(String, String)>,
    Json(body): Json<LoginMethodBody>,
) -> Result<StatusCode, ApiError> {
    state
        .admin
        .authorize(
            &user.0,
            &company,
            Some(&body.plugin),
            &Operation::OpenSession,
        )
        .await?;
    let method = method_named(&body.method)?;
    state
        .sessions
        .set_login_method(
            &Actor::erp(&user.0),
            &company,
            &body.plugin,
            &bank_user_id,
            method,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
