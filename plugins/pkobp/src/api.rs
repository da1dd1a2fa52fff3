//! Requests to PKO BP Integra: the base URL, the transport certificate, the
//! session's token and ContextId on every call, and the bank's errors mapped
//! to the contract's. Every path and field name here is assumed (PKO BP
//! publishes no protocol; the README says what each one is modelled on), so
//! they live in this one module.

use std::time::Duration;

use h2h_sdk::config;
use h2h_sdk::http::{Request, Response};
use h2h_sdk::{Error, Result};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// The service's address when the company sets no `api-url` (assumed).
pub const DEFAULT_API_URL: &str = "https://integra.pkobp.pl";
/// The TLS identity's name when `transport-certificate` is not set.
pub const DEFAULT_TRANSPORT: &str = "transport";
/// Every path lives under this prefix.
const PREFIX: &str = "/integra/v1/";
/// Time allowed for one request; the host also stops at the call's deadline.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// The bank's error body: `{"code": "...", "message": "..."}`.
#[derive(Deserialize)]
struct BankError {
    code: Option<String>,
    message: Option<String>,
}

/// What a refusal means depends on the call: for a login, 401 is "the card
/// or certificate was refused"; for everything a session covers, it is
/// "log in again".
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Call {
    /// `session/challenge` and `session/login`.
    Login,
    /// Calls made with a session's token.
    Session,
}

/// The service of the call's company: address and transport certificate.
pub struct Client {
    base: String,
    transport: String,
}

/// A session's token and the company it acts for.
pub struct Auth<'a> {
    /// The bank's token.
    pub token: &'a str,
    /// `X-Context-Id`; none for calls about the session itself.
    pub context_id: Option<&'a str>,
}

impl Client {
    /// From the company's `api-url` and `transport-certificate` settings.
    pub fn from_config() -> Result<Self> {
        let base = config::setting("api-url")
            .map(|url| url.trim().trim_end_matches('/').to_owned())
            .filter(|url| !url.is_empty())
            .unwrap_or_else(|| DEFAULT_API_URL.to_owned());
        let transport = config::setting("transport-certificate")
            .map(|name| name.trim().to_owned())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| DEFAULT_TRANSPORT.to_owned());
        Ok(Self { base, transport })
    }

    fn request(&self, request: Request, auth: Option<&Auth<'_>>) -> Request {
        let mut request = request
            .client_certificate(self.transport.clone())
            .timeout(REQUEST_TIMEOUT)
            .header("accept", "application/json")
            .header(
                "user-agent",
                concat!("h2h-pkobp/", env!("CARGO_PKG_VERSION")),
            );
        if let Some(auth) = auth {
            request = request.bearer_auth(auth.token);
            if let Some(context_id) = auth.context_id {
                request = request.header("x-context-id", context_id);
            }
        }
        request
    }

    fn url(&self, path: &str) -> String {
        format!("{}{PREFIX}{path}", self.base)
    }

    /// `GET path?query`: the answer when 2xx, else the bank's error.
    pub fn get(
        &self,
        path: &str,
        query: &[(&str, &str)],
        auth: &Auth<'_>,
        call: Call,
    ) -> Result<Response> {
        let request = self.request(Request::get(self.url(path)).query(query), Some(auth));
        checked(request.send()?, call)
    }

    /// `POST path` with a JSON body: the answer when 2xx, else the bank's
    /// error.
    pub fn post<T: serde::Serialize + ?Sized>(
        &self,
        path: &str,
        body: &T,
        auth: Option<&Auth<'_>>,
        call: Call,
    ) -> Result<Response> {
        let request = self.request(Request::post(self.url(path)).json(body), auth);
        checked(request.send()?, call)
    }
}

/// A 2xx answer's JSON.
pub fn json<T: DeserializeOwned>(response: &Response, what: &str) -> Result<T> {
    serde_json::from_slice(response.body())
        .map_err(|e| Error::protocol(format!("PKO BP answered {what} with unexpected JSON: {e}")))
}

fn checked(response: Response, call: Call) -> Result<Response> {
    if (200..300).contains(&response.status()) {
        return Ok(response);
    }
    Err(failure(
        response.status(),
        response.body(),
        response.header("retry-after"),
        call,
    ))
}

/// The contract's error for a refusal: the bank's code and words kept.
pub fn failure(status: u16, body: &[u8], retry_after: Option<&str>, call: Call) -> Error {
    let parsed: Option<BankError> = serde_json::from_slice(body).ok();
    let code = parsed.as_ref().and_then(|e| e.code.clone());
    let message = parsed
        .and_then(|e| e.message)
        .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(200).collect());
    let said = match &code {
        Some(code) => format!("PKO BP answered {status} {code}: {message}"),
        None => format!("PKO BP answered {status}: {message}"),
    };
    match (status, call) {
        (401, Call::Session) => Error::session_required(said),
        (401 | 403, Call::Login) => Error::unauthorized(said),
        (403, Call::Session) => Error::unauthorized(said),
        (429, _) => Error::busy(said, retry_after.and_then(|s| s.trim().parse().ok())),
        (500..=599, _) => Error::unavailable(said),
        (400..=499, _) => Error::rejected(code.as_deref(), message),
        _ => Error::protocol(said),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(error: &Error) -> &'static str {
        match error {
            Error::Unavailable(_) => "unavailable",
            Error::Timeout(_) => "timeout",
            Error::Busy(_) => "busy",
            Error::Rejected(_) => "rejected",
            Error::InvalidInput(_) => "invalid-input",
            Error::SessionRequired(_) => "session-required",
            Error::Unauthorized(_) => "unauthorized",
            Error::Protocol(_) => "protocol",
            Error::Unsupported(_) => "unsupported",
        }
    }

    #[test]
    fn refusals_map_by_status_and_call() {
        let body = br#"{"code":"SESSION_EXPIRED","message":"token expired"}"#;
        let expired = failure(401, body, None, Call::Session);
        assert_eq!(kind(&expired), "session-required");
        assert!(
            format!("{expired:?}").contains("SESSION_EXPIRED"),
            "{expired:?}"
        );
        let bad = failure(
            401,
            br#"{"code":"BAD_SIGNATURE","message":"no"}"#,
            None,
            Call::Login,
        );
        assert_eq!(kind(&bad), "unauthorized");
        let rule = failure(
            422,
            br#"{"code":"CTRL_SUM_MISMATCH","message":"sum"}"#,
            None,
            Call::Session,
        );
        let Error::Rejected(rejection) = &rule else {
            panic!("{rule:?}");
        };
        assert_eq!(rejection.code.as_deref(), Some("CTRL_SUM_MISMATCH"));
        assert_eq!(
            kind(&failure(503, b"down", None, Call::Session)),
            "unavailable"
        );
        let Error::Busy(busy) = failure(429, b"{}", Some("30"), Call::Session) else {
            panic!("busy");
        };
        assert_eq!(busy.retry_after_seconds, Some(30));
        assert_eq!(kind(&failure(302, b"", None, Call::Session)), "protocol");
    }
}
