//! The error every connector operation returns.

use crate::bindings::imports::types::{Busy, Rejection};

/// Why a connector operation failed: the contract's `error` variant.
///
/// `Unavailable`, `Timeout` and `Busy` are retryable (the host retries them
/// later); every other case is permanent.
pub use crate::bindings::imports::types::Error;

/// `Result` with [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;

impl Error {
    /// The provider is down or answered 5xx (retryable).
    pub fn unavailable(message: impl Into<String>) -> Self {
        Error::Unavailable(message.into())
    }

    /// The provider did not answer in time (retryable).
    pub fn timeout(message: impl Into<String>) -> Self {
        Error::Timeout(message.into())
    }

    /// Rate-limited or device busy (retryable), optionally with how long to wait.
    pub fn busy(message: impl Into<String>, retry_after_seconds: Option<u32>) -> Self {
        Error::Busy(Busy {
            message: message.into(),
            retry_after_seconds,
        })
    }

    /// The provider refused, with its own error code when it has one.
    pub fn rejected(code: Option<&str>, message: impl Into<String>) -> Self {
        Error::Rejected(Rejection {
            code: code.map(str::to_owned),
            message: message.into(),
        })
    }

    /// The request is invalid (missing setting, bad account number).
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Error::InvalidInput(message.into())
    }

    /// A bank session must be opened first.
    pub fn session_required(message: impl Into<String>) -> Self {
        Error::SessionRequired(message.into())
    }

    /// The provider refused the credentials.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Error::Unauthorized(message.into())
    }

    /// The provider answered something this connector cannot understand.
    pub fn protocol(message: impl Into<String>) -> Self {
        Error::Protocol(message.into())
    }

    /// This connector does not offer the operation.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Error::Unsupported(message.into())
    }

    /// True if the same call may succeed later.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::Unavailable(_) | Error::Timeout(_) | Error::Busy(_)
        )
    }
}

impl From<serde_json::Error> for Error {
    fn from(error: serde_json::Error) -> Self {
        Error::protocol(format!("malformed JSON: {error}"))
    }
}
