//! Signing sessions over the ERP API: an ERP user opens one with the
//! token's PIN (optionally saved, sealed, for the host to reopen later),
//! lists the open ones, closes one. No answer ever carries a PIN.
//!
//! - `POST /signing/sessions` `{company, token, pin, save, user}` → 201
//! - `GET /signing/sessions?company=` → the open sessions
//! - `DELETE /signing/sessions/{company}/{token}` → closed, PIN forgotten

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::ApiError;
use crate::pkcs11::{Closed, TokenError};

/// The signing routes, merged into the ERP API.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/signing/sessions", get(list).post(open))
        .route("/signing/sessions/{company}/{token}", delete(close))
}

/// The body of `POST /signing/sessions`. `Debug` shows no PIN.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenRequest {
    company: String,
    token: String,
    /// Held as a secret from the moment it is parsed.
    pin: SecretString,
    #[serde(default)]
    save: bool,
    user: String,
}

/// What `POST /signing/sessions` answers.
#[derive(Debug, Serialize)]
struct Opened {
    company: String,
    token: String,
    slot: u64,
    token_label: String,
    saved: bool,
}

async fn open(
    State(state): State<AppState>,
    Json(request): Json<OpenRequest>,
) -> Result<(StatusCode, Json<Opened>), ApiError> {
    let OpenRequest {
        company,
        token,
        pin,
        save,
        user,
    } = request;
    if user.trim().is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "name the ERP user who opens the session (`user`)",
        ));
    }
    let info = state
        .tokens
        .open_session(&company, &token, pin, save, user.trim())
        .await
        .map_err(token_error)?;
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

#[derive(Debug, Deserialize)]
struct ListQuery {
    company: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Json<Vec<crate::pkcs11::SessionInfo>> {
    Json(state.tokens.sessions(query.company.as_deref()))
}

async fn close(
    State(state): State<AppState>,
    Path((company, token)): Path<(String, String)>,
) -> Result<Json<Closed>, ApiError> {
    let closed = state
        .tokens
        .close_session(&company, &token)
        .await
        .map_err(token_error)?;
    Ok(Json(closed))
}

/// A token error as JSON with a fitting status.
fn token_error(e: TokenError) -> ApiError {
    let status = match &e {
        TokenError::WrongPin { .. } => StatusCode::UNAUTHORIZED,
        TokenError::PinLocked { .. } => StatusCode::LOCKED,
        TokenError::UnknownToken(_) | TokenError::UnknownCompany(_) => StatusCode::NOT_FOUND,
        TokenError::TokenBusy { .. } => StatusCode::CONFLICT,
        TokenError::TokenNotPresent { .. } | TokenError::SlotNotFound { .. } => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        e if e.is_client_error() => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    if status.is_server_error() {
        tracing::error!(error = %e, "signing session operation failed");
    }
    ApiError::new(status, e.kind(), e.to_string())
}
