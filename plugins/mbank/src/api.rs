//! Requests to mBank's CompanyNet web service: the base URL, the transport
//! certificate, the session's token and the DIK on every call, and the
//! bank's errors mapped to the contract's. mBank publishes no protocol for
//! this service: every path, header and field name here is assumed (the
//! simulator's model, `tests/mbank-sim/README.md`), so they live in this
//! one module and the request/answer types beside their use.

use std::time::Duration;

use h2h_sdk::config;
use h2h_sdk::http::{Request, Response};
use h2h_sdk::{Error, Result};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// The service's address when the company sets no `api-url` (assumed).
pub const DEFAULT_API_URL: &str = "https://companynet.mbank.pl";
/// The TLS identity's name when `transport-certificate` is not set.
pub const DEFAULT_TRANSPORT: &str = "transport";
/// Every path lives under this prefix (assumed).
const PREFIX: &str = "/companynet/ws/v1/";
/// The header naming the DIK a request acts for (assumed).
const DIK_HEADER: &str = "x-dik";
/// Time allowed for one request; the host also stops at the call's deadline.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// The paths (assumed).
pub mod path {
    /// Signature login, step 1: the challenge.
    pub const CHALLENGE: &str = "session/challenge";
    /// Signature login, step 2: the signed challenge.
    pub const LOGIN: &str = "session/login";
    /// Mobile-token login; `session/mobile/{loginId}` polls it.
    pub const MOBILE: &str = "session/mobile";
    /// Keeps a session alive (and says what it is).
    pub const KEEPALIVE: &str = "session/keepalive";
    /// Ends a session.
    pub const LOGOUT: &str = "session/logout";
    /// The DIK's accounts.
    pub const ACCOUNTS: &str = "accounts";
    /// Closed days, MT940.
    pub const MT940: &str = "statements/mt940";
    /// The open business day, MT942.
    pub const MT942: &str = "statements/mt942";
    /// Elixir-O batches; `batches/{id}` reads one back.
    pub const BATCHES: &str = "batches";
}

/// The bank's error body: `{"code": "...", "message": "..."}`.
#[derive(Deserialize)]
struct BankError {
    code: Option<String>,
    message: Option<String>,
    errors: Option<Vec<LineError>>,
}

/// A refused Elixir-O line in an error body.
#[derive(Deserialize)]
struct LineError {
    line: Option<u64>,
    code: Option<String>,
    message: Option<String>,
}

/// What a refusal means depends on the call: for a login, 401/403 is "the
/// certificate, signature or user was refused"; for everything a session
/// covers, 401 is "log in again".
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Call {
    /// `session/challenge`, `session/login`, `session/mobile`.
    Login,
    /// Calls made with a session's token.
    Session,
}

/// The service of the call's company: address and transport certificate.
pub struct Client {
    base: String,
    transport: String,
}

/// A session's token and the DIK it acts for.
pub struct Auth<'a> {
    /// The bank's token.
    pub token: &'a str,
    /// `X-DIK`; none for calls about the session itself.
    pub dik: Option<&'a str>,
}

impl Client {
    /// From the company's `api-url` and `transport-certificate` settings.
    pub fn from_config() -> Self {
        let base = config::setting("api-url")
            .map(|url| url.trim().trim_end_matches('/').to_owned())
            .filter(|url| !url.is_empty())
            .unwrap_or_else(|| DEFAULT_API_URL.to_owned());
        let transport = config::setting("transport-certificate")
            .map(|name| name.trim().to_owned())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| DEFAULT_TRANSPORT.to_owned());
        Self { base, transport }
    }

    fn request(&self, request: Request, auth: Option<&Auth<'_>>) -> Request {
        let mut request = request
            .client_certificate(self.transport.clone())
            .timeout(REQUEST_TIMEOUT)
            .header("accept", "application/json")
            .header(
                "user-agent",
                concat!("h2h-mbank/", env!("CARGO_PKG_VERSION")),
            );
        if let Some(auth) = auth {
            request = request.bearer_auth(auth.token);
            if let Some(dik) = auth.dik {
                request = request.header(DIK_HEADER, dik);
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
        auth: Option<&Auth<'_>>,
        call: Call,
    ) -> Result<Response> {
        let request = self.request(Request::get(self.url(path)).query(query), auth);
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
        .map_err(|e| Error::protocol(format!("mBank answered {what} with unexpected JSON: {e}")))
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

/// The contract's error for a refusal: the bank's code and words kept
/// (and, for a refused file, its lines).
pub fn failure(status: u16, body: &[u8], retry_after: Option<&str>, call: Call) -> Error {
    let parsed: Option<BankError> = serde_json::from_slice(body).ok();
    let code = parsed.as_ref().and_then(|e| e.code.clone());
    let lines: Vec<String> = parsed
        .as_ref()
        .and_then(|e| e.errors.as_ref())
        .map(|errors| {
            errors
                .iter()
                .map(|l| {
                    format!(
                        "line {}: {} {}",
                        l.line.unwrap_or_default(),
                        l.code.as_deref().unwrap_or("?"),
                        l.message.as_deref().unwrap_or_default()
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let mut message = parsed
        .and_then(|e| e.message)
        .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(200).collect());
    if !lines.is_empty() {
        message = format!("{message} ({})", lines.join("; "));
    }
    let said = match &code {
        Some(code) => format!("mBank answered {status} {code}: {message}"),
        None => format!("mBank answered {status}: {message}"),
    };
    match (status, call) {
        (401, Call::Session) => Error::session_required(said),
        (401 | 403, Call::Login) => Error::unauthorized(said),
        (403, Call::Session) => Error::unauthorized(said),
        (429, _) => Error::busy(said, retry_after.and_then(|s| s.trim().parse().ok())),
        (500..=599, _) => Error::unavailable(said),
        (400..=499, _) => Error::rejected(code.as_deref(), said),
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
        let idle = failure(
            401,
            br#"{"code":"SESSION_IDLE_TIMEOUT","message":"idle"}"#,
            None,
            Call::Session,
        );
        assert_eq!(kind(&idle), "session-required");
        assert!(format!("{idle:?}").contains("SESSION_IDLE_TIMEOUT"));
        let stranger = failure(
            403,
            br#"{"code":"CERTIFICATE_MISMATCH","message":"not registered"}"#,
            None,
            Call::Login,
        );
        assert_eq!(kind(&stranger), "unauthorized");
        assert_eq!(
            kind(&failure(
                403,
                br#"{"code":"DIK_NOT_IN_SESSION"}"#,
                None,
                Call::Session
            )),
            "unauthorized"
        );
        let refused = failure(
            422,
            br#"{"code":"NO_VALID_LINES","message":"none","errors":[{"line":1,"field":7,"code":"BAD_NRB","message":"check digits"}]}"#,
            None,
            Call::Session,
        );
        let Error::Rejected(rejection) = &refused else {
            panic!("{refused:?}");
        };
        assert_eq!(rejection.code.as_deref(), Some("NO_VALID_LINES"));
        assert!(rejection.message.contains("line 1: BAD_NRB"), "{refused:?}");
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
