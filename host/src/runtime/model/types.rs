//! Money, documents and the connector error.

use std::fmt;

use serde::Serialize;

/// An amount: a decimal string and an ISO 4217 code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Money {
    /// Decimal string, `.` as the separator.
    pub amount: String,
    /// ISO 4217 alphabetic code.
    pub currency: String,
}

/// A file exactly as the provider sent or took it.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Document {
    /// File name.
    pub name: String,
    /// IANA media type.
    pub media_type: String,
    /// The bytes, unchanged.
    pub content: Vec<u8>,
}

impl fmt::Debug for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Document")
            .field("name", &self.name)
            .field("media_type", &self.media_type)
            .field("bytes", &self.content.len())
            .finish()
    }
}

/// The provider asks the caller to slow down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Busy {
    /// What the provider said.
    pub message: String,
    /// How long to wait, when the provider said so.
    pub retry_after_seconds: Option<u32>,
}

/// The provider refused for a business reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// The provider's own code.
    pub code: Option<String>,
    /// The provider's words.
    pub message: String,
}

/// Why a connector operation failed, as the contract's `error` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "kebab-case")]
pub enum ConnectorError {
    /// Retryable: the provider is down or answered 5xx.
    Unavailable(String),
    /// Retryable: the provider did not answer in time.
    Timeout(String),
    /// Retryable: rate-limited or the device is busy.
    Busy(Busy),
    /// Permanent: the provider rejected the operation.
    Rejected(Rejection),
    /// Permanent: the request is invalid.
    InvalidInput(String),
    /// Permanent until a user opens a bank session.
    SessionRequired(String),
    /// Permanent until credentials change.
    Unauthorized(String),
    /// Permanent: an answer the connector cannot understand.
    Protocol(String),
    /// Permanent: the connector does not offer the operation.
    Unsupported(String),
}

impl ConnectorError {
    /// Whether the same call may succeed later.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ConnectorError::Unavailable(_) | ConnectorError::Timeout(_) | ConnectorError::Busy(_)
        )
    }
}

impl fmt::Display for ConnectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectorError::Unavailable(m) => write!(f, "provider unavailable: {m}"),
            ConnectorError::Timeout(m) => write!(f, "provider timed out: {m}"),
            ConnectorError::Busy(b) => match b.retry_after_seconds {
                Some(s) => write!(f, "provider busy (retry after {s} s): {}", b.message),
                None => write!(f, "provider busy: {}", b.message),
            },
            ConnectorError::Rejected(r) => match &r.code {
                Some(code) => write!(f, "rejected by the provider ({code}): {}", r.message),
                None => write!(f, "rejected by the provider: {}", r.message),
            },
            ConnectorError::InvalidInput(m) => write!(f, "invalid input: {m}"),
            ConnectorError::SessionRequired(m) => write!(f, "bank session required: {m}"),
            ConnectorError::Unauthorized(m) => write!(f, "unauthorized: {m}"),
            ConnectorError::Protocol(m) => write!(f, "unexpected answer from the provider: {m}"),
            ConnectorError::Unsupported(m) => write!(f, "not supported by this connector: {m}"),
        }
    }
}

impl std::error::Error for ConnectorError {}
