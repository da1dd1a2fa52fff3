//! Errors as JSON: `{"code": "...", "message": "..."}` with a stable code.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::admin::AdminError;
use crate::registry::UnavailableError;
use crate::runtime::CallError;

/// The JSON body of every error response.
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    /// Stable, snake_case.
    pub code: String,
    /// For people.
    pub message: String,
}

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
}

impl ApiError {
    /// An error with `status`, `code` and `message`.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody {
                code: code.to_owned(),
                message: message.into(),
            },
        }
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
            | AdminError::UnknownSetting { .. } => StatusCode::NOT_FOUND,
            AdminError::ConflictingUpload { .. }
            | AdminError::AlreadyInstalled { .. }
            | AdminError::Busy { .. }
            | AdminError::SameVersion { .. }
            | AdminError::Downgrade { .. }
            | AdminError::CompanyExists(_) => StatusCode::CONFLICT,
            AdminError::Unlicensed { .. } => StatusCode::FORBIDDEN,
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

impl From<UnavailableError> for ApiError {
    fn from(e: UnavailableError) -> Self {
        match e {
            UnavailableError::NotInstalled(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "not_installed", e.to_string())
            }
            UnavailableError::Disabled(_) => {
                ApiError::new(StatusCode::CONFLICT, "plugin_disabled", e.to_string())
            }
            UnavailableError::Admin(e) => e.into(),
        }
    }
}

impl From<CallError> for ApiError {
    fn from(e: CallError) -> Self {
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
            E::Admin(e) => e.into(),
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
