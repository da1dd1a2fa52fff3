//! Bearer API keys: the admin API needs role `admin`, the ERP API `erp` or
//! `admin`. ERP requests also name the ERP user they act for in
//! `X-H2H-User` ([`ErpUser`]).

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;
use crate::admin::{Actor, ApiKey, Role};

/// The authenticated key, for handlers (`Extension<Caller>`).
#[derive(Debug, Clone)]
pub struct Caller(pub ApiKey);

impl Caller {
    /// The audit log's name for this caller.
    pub fn actor(&self) -> Actor {
        Actor::api(&self.0.name)
    }
}

fn unauthorized(why: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", why)
}

/// The bearer secret, copied out so no borrow of the request (whose body is
/// not `Sync`) is held across the database lookup.
fn bearer(request: &Request) -> Result<String, ApiError> {
    let header = request
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthorized("send `Authorization: Bearer <API key>`"))?;
    header
        .to_str()
        .ok()
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(|secret| secret.trim().to_owned())
        .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <API key>`"))
}

async fn authenticate(state: &AppState, secret: &str) -> Result<ApiKey, ApiError> {
    state
        .admin
        .authenticate(secret)
        .await?
        .ok_or_else(|| unauthorized("unknown API key"))
}

/// Middleware for the admin API: a key of role `admin`.
pub async fn admin(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let key = match bearer(&request) {
        Ok(secret) => authenticate(&state, &secret).await,
        Err(e) => Err(e),
    };
    let key = match key {
        Ok(key) => key,
        Err(e) => return e.into_response(),
    };
    if key.role != Role::Admin {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "API key `{}` has role erp; this needs an admin key",
                key.name
            ),
        )
        .into_response();
    }
    request.extensions_mut().insert(Caller(key));
    next.run(request).await
}

/// The header naming the ERP user a request acts for.
pub const ERP_USER_HEADER: &str = "X-H2H-User";

/// The ERP user a request acts for, for handlers (`Extension<ErpUser>`):
/// named in `X-H2H-User`, existing and enabled when the request came in.
/// Handlers still call [`crate::admin::Admin::authorize`] for the company
/// (and plugin operation) they act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErpUser(pub String);

/// Middleware for the ERP API: the key (401 `unauthorized`), then
/// `X-H2H-User` (missing → 400 `erp_user_required`; a user the key is not
/// bound to → 403 `forbidden`; unknown or disabled → 403
/// `unknown_erp_user`); the key goes into the request's extensions as
/// [`Caller`] and the user as [`ErpUser`]. Key and user are read in one
/// query: every ERP request pays for it.
pub async fn erp(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let secret = match bearer(&request) {
        Ok(secret) => secret,
        Err(e) => return e.into_response(),
    };
    let named = request
        .headers()
        .get(ERP_USER_HEADER)
        .map(|value| value.to_str().map(|v| v.trim().to_owned()));
    let id = match named {
        Some(Ok(id)) if !id.is_empty() => id,
        other => {
            // An unknown key is refused as such before the missing user.
            if let Err(e) = authenticate(&state, &secret).await {
                return e.into_response();
            }
            let message = match other {
                Some(_) => format!("`{ERP_USER_HEADER}` must name an ERP user id"),
                None => format!(
                    "send `{ERP_USER_HEADER}: <ERP user id>`: the user this request acts for"
                ),
            };
            return ApiError::new(StatusCode::BAD_REQUEST, "erp_user_required", message)
                .into_response();
        }
    };
    let (key, enabled) = match state.admin.authenticate_for(&secret, &id).await {
        Ok(Some(found)) => found,
        Ok(None) => return unauthorized("unknown API key").into_response(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    if !key.may_act_for(&id) {
        let users = key.acts_for.as_deref().unwrap_or_default().join(", ");
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "API key `{}` acts only for ERP users {users}, not for `{id}`",
                key.name
            ),
        )
        .into_response();
    }
    if !enabled {
        return ApiError::from(crate::admin::AdminError::ErpUserRefused(id)).into_response();
    }
    request.extensions_mut().insert(Caller(key));
    request.extensions_mut().insert(ErpUser(id));
    next.run(request).await
}
