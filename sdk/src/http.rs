//! Outgoing HTTP through the host. The host sends a request only to hosts
//! the manifest lists and the admin granted.
//!
//! ```ignore
//! let statement: Page = http::Request::get("https://bank.example/api/statements")
//!     .query(&[("from", "2026-11-01")])
//!     .bearer_auth(token.expose())
//!     .send()?
//!     .error_for_status()?
//!     .json()?;
//! ```

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::bindings::imports::http as wit;
use crate::{Error, Result};

/// Why the host could not get a response.
pub use wit::HttpError;
/// Request method.
pub use wit::Method;

impl From<HttpError> for Error {
    fn from(error: HttpError) -> Self {
        match error {
            HttpError::Denied(reason) => {
                Error::invalid_input(format!("request refused by the host: {reason}"))
            }
            HttpError::InvalidRequest(reason) => {
                Error::invalid_input(format!("invalid request: {reason}"))
            }
            HttpError::UnknownCertificate(name) => Error::invalid_input(format!(
                "no client certificate named `{name}` is stored for this company"
            )),
            HttpError::Timeout => Error::timeout("no answer in time"),
            HttpError::NotSent(reason) => {
                Error::unavailable(format!("could not reach the server: {reason}"))
            }
            HttpError::Connection(reason) => {
                Error::unavailable(format!("connection failed: {reason}"))
            }
            HttpError::TooLarge(bytes) => Error::protocol(format!(
                "response larger than the host's cap of {bytes} bytes"
            )),
        }
    }
}

/// An HTTP request under construction.
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send`"]
pub struct Request {
    inner: wit::Request,
    /// An invalid part (bad JSON), reported at `send`.
    invalid: Option<String>,
}

impl Request {
    /// A request with `method` to `url`.
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Self {
            inner: wit::Request {
                method,
                url: url.into(),
                headers: Vec::new(),
                body: None,
                timeout_ms: None,
                client_certificate: None,
            },
            invalid: None,
        }
    }

    /// `GET url`.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new(Method::Get, url)
    }

    /// `POST url`.
    pub fn post(url: impl Into<String>) -> Self {
        Self::new(Method::Post, url)
    }

    /// `PUT url`.
    pub fn put(url: impl Into<String>) -> Self {
        Self::new(Method::Put, url)
    }

    /// `DELETE url`.
    pub fn delete(url: impl Into<String>) -> Self {
        Self::new(Method::Delete, url)
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.inner.headers.push((name.into(), value.into()));
        self
    }

    /// Adds `Authorization: Bearer <token>`.
    pub fn bearer_auth(self, token: &str) -> Self {
        self.header("Authorization", format!("Bearer {token}"))
    }

    /// Appends URL-encoded query parameters.
    pub fn query(mut self, pairs: &[(&str, &str)]) -> Self {
        let encoded = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        if !encoded.is_empty() {
            let separator = if self.inner.url.contains('?') {
                '&'
            } else {
                '?'
            };
            self.inner.url.push(separator);
            self.inner.url.push_str(&encoded);
        }
        self
    }

    /// Sends `value` as a JSON body.
    pub fn json<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => {
                self.inner.body = Some(body);
                self.header("Content-Type", "application/json")
            }
            Err(error) => {
                self.invalid = Some(format!("cannot encode the JSON body: {error}"));
                self
            }
        }
    }

    /// Sends raw bytes as the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.inner.body = Some(body.into());
        self
    }

    /// Time allowed for the exchange (the host never waits past the call's
    /// own deadline).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.inner.timeout_ms = Some(u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX));
        self
    }

    /// Presents the company's client TLS identity stored under `name`.
    pub fn client_certificate(mut self, name: impl Into<String>) -> Self {
        self.inner.client_certificate = Some(name.into());
        self
    }

    /// Sends the request and waits for the whole response.
    pub fn send(self) -> Result<Response, HttpError> {
        if let Some(reason) = self.invalid {
            return Err(HttpError::InvalidRequest(reason));
        }
        wit::send(&self.inner).map(Response)
    }
}

/// A complete response, whatever its status.
#[derive(Debug, Clone)]
pub struct Response(wit::Response);

impl Response {
    /// Status code.
    pub fn status(&self) -> u16 {
        self.0.status
    }

    /// The first header named `name`, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.0
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body bytes.
    pub fn body(&self) -> &[u8] {
        &self.0.body
    }

    /// The body as UTF-8 text.
    pub fn text(&self) -> Result<&str> {
        std::str::from_utf8(&self.0.body)
            .map_err(|e| Error::protocol(format!("response is not UTF-8: {e}")))
    }

    /// The body decoded from JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        Ok(serde_json::from_slice(&self.0.body)?)
    }

    /// The response if 2xx; otherwise the matching [`Error`]: 5xx
    /// unavailable, 429 busy (with `Retry-After`), 401/403 unauthorized,
    /// other 4xx rejected.
    pub fn error_for_status(self) -> Result<Self> {
        let status = self.status();
        if (200..300).contains(&status) {
            return Ok(self);
        }
        let snippet: String = String::from_utf8_lossy(&self.0.body)
            .chars()
            .take(200)
            .collect();
        let message = format!("HTTP {status}: {snippet}");
        Err(match status {
            429 => Error::busy(
                message,
                self.header("Retry-After")
                    .and_then(|v| v.trim().parse().ok()),
            ),
            401 | 403 => Error::unauthorized(message),
            500.. => Error::unavailable(message),
            _ => Error::rejected(Some(&status.to_string()), message),
        })
    }
}
