//! Errors as JSON: `{"code": "...", "message": "..."}` with a stable code.

use std::borrow::Cow;

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::openapi::{RefOr, schema::Schema};

use crate::admin::AdminError;
use crate::connectors::UnavailableError;
use crate::runtime::CallError;

/// The JSON body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable, snake_case.
    pub code: String,
    /// For people.
    pub message: String,
}

/// The longest error message answered.
pub const MAX_MESSAGE_BYTES: usize = 1024;

/// `message` cut to [`MAX_MESSAGE_BYTES`] on a character boundary.
fn cut(mut message: String) -> String {
    if message.len() > MAX_MESSAGE_BYTES {
        let mut end = MAX_MESSAGE_BYTES;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
        message.push_str(" [cut]");
    }
    message
}

/// Middleware: an error answered without a JSON body (axum's own 404, 405,
/// and extractor rejections, which are text) becomes `{code, message}`
/// with the same status, so every error reads the same.
pub async fn json_errors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 << 10)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let code = match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => "invalid_input",
        s if s.is_server_error() => "internal_error",
        _ => "request_refused",
    };
    let message = if text.trim().is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    let mut answer = ApiError::new(status, code, message).into_response();
    // Keep what the layer below said beside the body (`Allow`, `Retry-After`).
    for (name, value) in parts.headers.iter() {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            answer.headers_mut().insert(name.clone(), value.clone());
        }
    }
    answer
}

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
}

impl ApiError {
    /// An error with `status`, `code` and `message` (cut to
    /// [`MAX_MESSAGE_BYTES`]: a message quoting what the caller sent must
    /// not send a huge value back).
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody {
                code: code.to_owned(),
                message: cut(message.into()),
            },
        }
    }

    /// 400 `invalid_input`: the request is malformed or a value invalid.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_input", message)
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable code.
    pub fn code(&self) -> &str {
        &self.body.code
    }
}

/// In the OpenAPI document an error is its JSON body, [`ErrorBody`].
impl utoipa::PartialSchema for ApiError {
    fn schema() -> RefOr<Schema> {
        <ErrorBody as utoipa::PartialSchema>::schema()
    }
}

impl utoipa::ToSchema for ApiError {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ErrorBody")
    }
}

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> Self {
        match e.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "the request body is larger than this route takes",
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                e.body_text(),
            ),
            _ => ApiError::invalid_input(e.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> Self {
        ApiError::invalid_input(e.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(e: PathRejection) -> Self {
        ApiError::invalid_input(e.body_text())
    }
}

impl From<crate::settlements::SettlementsError> for ApiError {
    fn from(e: crate::settlements::SettlementsError) -> Self {
        use crate::settlements::SettlementsError as E;
        let status = match &e {
            E::InvalidInput(_) => StatusCode::BAD_REQUEST,
            E::UnknownAccount(_) | E::UnknownCompany(_) | E::UnknownDocument(_) => {
                StatusCode::NOT_FOUND
            }
            E::Exists(_) => StatusCode::CONFLICT,
            E::CompanyCap(_) => StatusCode::FORBIDDEN,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() {
            tracing::error!(error = %e, "settlements operation failed");
        }
        ApiError::new(status, e.kind(), e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> Self {
        let status = match &e {
            AdminError::NotInstalled(_)
            | AdminError::NotUploaded { .. }
            | AdminError::UnknownCompany(_)
            | AdminError::UnknownApiKey(_)
            | AdminError::UnknownSetting { .. }
            | AdminError::UnknownErpUser(_)
            | AdminError::UnknownPermission { .. }
            | AdminError::NoWebhook(_) => StatusCode::NOT_FOUND,
            AdminError::ConflictingUpload { .. }
            | AdminError::PublisherMismatch { .. }
            | AdminError::AlreadyInstalled { .. }
            | AdminError::Busy { .. }
            | AdminError::SameVersion { .. }
            | AdminError::Downgrade { .. }
            | AdminError::CompanyExists(_)
            | AdminError::Installation(_)
            | AdminError::ErpUserExists(_) => StatusCode::CONFLICT,
            AdminError::Unlicensed { .. }
            | AdminError::CompanyCap(_)
            | AdminError::UnsignedPackage { .. }
            | AdminError::ErpUserRefused(_)
            | AdminError::NoCompanyAccess { .. }
            | AdminError::PermissionRequired { .. }
            | AdminError::Unguarded { .. } => StatusCode::FORBIDDEN,
            AdminError::DrainTimeout { .. } => StatusCode::SERVICE_UNAVAILABLE,
            e if e.is_client_error() => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() {
            tracing::error!(error = %e, "admin operation failed");
        }
        ApiError::new(status, e.kind(), e.to_string())
    }
}

impl From<crate::catalog::CatalogError> for ApiError {
    fn from(e: crate::catalog::CatalogError) -> Self {
        AdminError::from(e).into()
    }
}

impl From<UnavailableError> for ApiError {
    fn from(e: UnavailableError) -> Self {
        match e {
            UnavailableError::NotInstalled(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "not_installed", e.to_string())
            }
            UnavailableError::Disabled(_) => {
                ApiError::new(StatusCode::CONFLICT, "plugin_disabled", e.to_string())
            }
            UnavailableError::Catalog(e) => AdminError::from(e).into(),
            UnavailableError::Grants(e) => AdminError::from(e).into(),
            UnavailableError::Load(e) => AdminError::Load(e).into(),
        }
    }
}

impl From<crate::terminals::TerminalError> for ApiError {
    fn from(e: crate::terminals::TerminalError) -> Self {
        use crate::runtime::model::ConnectorError as C;
        use crate::terminals::TerminalError as E;
        let status = match &e {
            E::Unavailable(_) | E::Call(_) | E::Admin(_) | E::Context(_) => {
                return match e {
                    // The provider refused what the ERP sent (a wrong or
                    // used pairing code): the caller's to fix.
                    E::Call(CallError::Connector {
                        error: C::Rejected(_) | C::InvalidInput(_),
                        ..
                    }) => {
                        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "rejected", e.to_string())
                    }
                    E::Unavailable(e) => e.into(),
                    E::Call(e) => e.into(),
                    E::Admin(e) => e.into(),
                    E::Context(e) => e.into(),
                    _ => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.kind(), e.to_string()),
                };
            }
            E::CapReached { .. } | E::Unpaired(_) => StatusCode::CONFLICT,
            E::UnknownTerminal(_) | E::UnknownIntent(_) => StatusCode::NOT_FOUND,
            E::ReferenceTaken(_) | E::NotVoidable(_) | E::NotRefundable(_) => StatusCode::CONFLICT,
            E::RefundWithoutSale | E::InvalidInput(_) => StatusCode::BAD_REQUEST,
            E::NoTerminals => StatusCode::BAD_GATEWAY,
            E::NotOneReplacement { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            E::Vault(_) | E::Database(_) | E::Randomness(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() {
            tracing::error!(error = %e, "terminal operation failed");
        }
        ApiError::new(status, e.kind(), e.to_string())
    }
}

impl From<CallError> for ApiError {
    fn from(e: CallError) -> Self {
        // The caller named a plugin of the other world (a bank connector
        // for a terminal): theirs to fix, not the plugin's failure.
        if matches!(e, CallError::WrongWorld { .. }) {
            return ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "wrong_world",
                e.to_string(),
            );
        }
        let status = if e.is_retryable() {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::BAD_GATEWAY
        };
        ApiError::new(status, "plugin_call_failed", e.to_string())
    }
}

impl From<crate::scheduler::SchedulerError> for ApiError {
    fn from(e: crate::scheduler::SchedulerError) -> Self {
        use crate::scheduler::SchedulerError as E;
        match e {
            E::Context(e) => e.into(),
            E::UnknownTask { .. } => ApiError::new(StatusCode::NOT_FOUND, e.kind(), e.to_string()),
            E::AlreadyRunning(_) => ApiError::new(StatusCode::CONFLICT, e.kind(), e.to_string()),
            E::ServiceMode => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.kind(), e.to_string())
            }
            E::Cron { .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.kind(), e.to_string())
            }
            E::Database(_) => {
                tracing::error!(error = %e, "scheduler failed");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.kind(), e.to_string())
            }
        }
    }
}

/// A token error with a fitting status: 401 wrong PIN, 423 locked, ...
impl From<crate::pkcs11::TokenError> for ApiError {
    fn from(e: crate::pkcs11::TokenError) -> Self {
        use crate::pkcs11::TokenError;
        let status = match &e {
            TokenError::WrongPin { .. } => StatusCode::UNAUTHORIZED,
            TokenError::PinLocked { .. } | TokenError::PinAttemptsExhausted { .. } => {
                StatusCode::LOCKED
            }
            TokenError::SessionOpen { .. } => StatusCode::CONFLICT,
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
}
