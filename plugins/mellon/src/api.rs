//! Requests to Mellon WebECR: the company's URLs and account, the JWT on
//! every call (logging in and refreshing as needed), the device's API key,
//! paging, and the service's errors mapped to the contract's. Mellon
//! publishes no specification; every path, header and error shape here is
//! the one `tests/webecr-sim/README.md` documents (and says where it comes
//! from), so adapting the connector to the real service touches this module
//! and the field names in `intent.rs`.

use std::time::Duration;

use h2h_sdk::http::{HttpError, Request, Response};
use h2h_sdk::{Error, Result, config};
use serde::Deserialize;
use serde_json::Value;

use crate::auth::{self, Tokens};

/// The token URL is the acquirer's base URL plus this (the seed's
/// `POS_url_Token`).
pub const TOKEN_SUFFIX: &str = "/api";
/// The post URL is the acquirer's base URL plus this (the seed's
/// `POS_url_Post`).
pub const POST_SUFFIX: &str = "/api/v2.1";
/// Time allowed for one request. Intents are started without waiting for
/// the device (`Timeout: 0`), so every answer is quick.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// Pages followed at most in one list (100 entries each).
const MAX_PAGES: usize = 50;

/// How a failure without an answer is reported: for a call that may start
/// a payment, a lost answer means "it may have been taken".
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Call {
    /// Reads and pairing: a lost answer changed nothing.
    Read,
    /// `txninit` / `txnvoid`: a lost answer may hide an intent the service
    /// registered.
    Start,
}

/// The service's error body: `{"code": "...", "detail": "..."}`.
#[derive(Deserialize, Default)]
struct ServiceError {
    code: Option<String>,
    detail: Option<String>,
}

/// The company's WebECR endpoints and account.
pub struct Client {
    token_url: String,
    post_url: String,
    username: String,
    password: config::Secret,
}

/// Where the service is, from the company's settings: `token-url` and
/// `post-url` when set, else derived from `base-url` as the seed does.
pub fn endpoints(
    base_url: Option<&str>,
    token_url: Option<&str>,
    post_url: Option<&str>,
) -> Result<(String, String)> {
    let clean = |v: Option<&str>| {
        v.map(|u| u.trim().trim_end_matches('/').to_owned())
            .filter(|u| !u.is_empty())
    };
    let base = clean(base_url);
    let derive = |explicit: Option<String>, suffix: &str, name: &str| {
        explicit
            .or_else(|| base.as_ref().map(|b| format!("{b}{suffix}")))
            .ok_or_else(|| {
                Error::invalid_input(format!(
                    "company setting `base-url` is not set (nor `{name}`): the acquirer's WebECR address, e.g. https://gbl.mreceipts.com"
                ))
            })
    };
    let token = derive(clean(token_url), TOKEN_SUFFIX, "token-url")?;
    let post = derive(clean(post_url), POST_SUFFIX, "post-url")?;
    for url in [&token, &post] {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(Error::invalid_input(format!(
                "WebECR URL `{url}` is not an http(s) URL"
            )));
        }
    }
    Ok((token, post))
}

/// `scheme://host[:port]` of an absolute URL.
pub fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

/// The URL of a paging link: WebECR sends paths (`/api/v2.1/...?offset=`)
/// or absolute URLs.
pub fn next_url(post_url: &str, next: &str) -> String {
    if next.starts_with("https://") || next.starts_with("http://") {
        next.to_owned()
    } else if next.starts_with('/') {
        format!("{}{next}", origin(post_url))
    } else {
        format!("{post_url}/{next}")
    }
}

/// `url?k=v&...`, each key and value percent-encoded.
pub fn with_query(url: &str, pairs: &[(&str, &str)]) -> String {
    let encode = |s: &str| {
        let mut out = String::with_capacity(s.len());
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    };
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    if query.is_empty() {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{}", query.join("&"))
}

/// The contract error for a non-2xx answer (a 401 is only final once a
/// fresh token was refused too).
pub fn status_error(status: u16, body: &[u8], retry_after: Option<&str>) -> Error {
    let parsed: ServiceError = serde_json::from_slice(body).unwrap_or_default();
    let detail = parsed.detail.unwrap_or_else(|| {
        String::from_utf8_lossy(body)
            .chars()
            .take(200)
            .collect::<String>()
    });
    let code = parsed.code;
    let named = |what: &str| match &code {
        Some(code) => format!("WebECR {what} ({code}): {detail}"),
        None => format!("WebECR {what} (HTTP {status}): {detail}"),
    };
    match status {
        401 => Error::unauthorized(named(
            "refused the account's token even after logging in again",
        )),
        403 => Error::unauthorized(named(
            "refused the device's API key; pair the terminal again",
        )),
        408 | 504 => Error::timeout(named("timed out")),
        429 => Error::busy(
            named("asks to slow down"),
            retry_after.and_then(|v| v.trim().parse().ok()),
        ),
        500.. => Error::unavailable(named("is unavailable")),
        _ => Error::rejected(Some(code.as_deref().unwrap_or(&status.to_string())), detail),
    }
}

/// The contract error when no answer came. For [`Call::Start`] a lost
/// answer is a `timeout` saying the intent may have been registered: the
/// host must look it up by reference (`find-intent`) before anything else.
pub fn transport_error(error: HttpError, call: Call) -> Error {
    match (error, call) {
        (HttpError::Timeout, Call::Start) => Error::timeout(
            "WebECR did not answer in time; the intent may have been registered: look it up by its reference",
        ),
        (HttpError::Connection(why), Call::Start) => Error::timeout(format!(
            "the connection to WebECR broke before its answer ({why}); the intent may have been registered: look it up by its reference"
        )),
        (HttpError::Timeout, Call::Read) => Error::timeout("WebECR did not answer in time"),
        (error, _) => Error::from(error),
    }
}

impl Client {
    /// From the company's settings `base-url` (or `token-url`/`post-url`),
    /// `username` and secret `password`.
    pub fn from_config() -> Result<Self> {
        let (token_url, post_url) = endpoints(
            config::setting("base-url").as_deref(),
            config::setting("token-url").as_deref(),
            config::setting("post-url").as_deref(),
        )?;
        let username = config::require_setting("username")?;
        let password = config::secret("password").ok_or_else(|| {
            Error::invalid_input("company secret `password` is not set (the WebECR account's)")
        })?;
        Ok(Self {
            token_url,
            post_url,
            username,
            password,
        })
    }

    /// `{post-url}/{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.post_url)
    }

    /// A paging link as a URL.
    pub fn next(&self, next: &str) -> String {
        next_url(&self.post_url, next)
    }

    fn base(request: Request) -> Request {
        request
            .timeout(REQUEST_TIMEOUT)
            .header("Accept", "application/json")
            .header(
                "User-Agent",
                concat!("h2h-mellon/", env!("CARGO_PKG_VERSION")),
            )
    }

    /// `POST token/`: a new pair of tokens for the account.
    pub fn login(&self) -> Result<Tokens> {
        let body = serde_json::json!({
            "username": self.username,
            "password": self.password.expose(),
        });
        let response = Self::base(Request::post(format!("{}/token/", self.token_url)))
            .json(&body)
            .send()
            .map_err(|e| transport_error(e, Call::Read))?;
        match response.status() {
            200..=299 => auth::parse_login(response.body()),
            400 | 401 | 403 => {
                let error = status_error(response.status(), response.body(), None);
                Err(Error::unauthorized(format!(
                    "WebECR refused the company's username and password: {}",
                    message_of(&error)
                )))
            }
            status => Err(status_error(
                status,
                response.body(),
                response.header("Retry-After"),
            )),
        }
    }

    /// `POST token/refresh`: a new access token; `None` when the refresh
    /// token is refused too (log in again).
    pub fn refresh(&self, tokens: &Tokens) -> Result<Option<Tokens>> {
        let body = serde_json::json!({ "refresh": tokens.refresh });
        let response = Self::base(Request::post(format!("{}/token/refresh", self.token_url)))
            .json(&body)
            .send()
            .map_err(|e| transport_error(e, Call::Read))?;
        match response.status() {
            200..=299 => auth::parse_refresh(response.body(), tokens).map(Some),
            400 | 401 | 403 => Ok(None),
            status => Err(status_error(
                status,
                response.body(),
                response.header("Retry-After"),
            )),
        }
    }

    /// Sends the request `build` makes with an access token (and the device
    /// key, when given). A 401 (an expired or revoked token) gets one new
    /// token, by refresh or login, and one more try; the service refuses
    /// such a request before acting on it, so the retry is safe. Any other
    /// non-2xx answer is the contract error.
    pub fn send(
        &self,
        api_key: Option<&str>,
        call: Call,
        build: impl Fn() -> Request,
    ) -> Result<Response> {
        let mut tokens = auth::current(self)?;
        let mut renewed = false;
        loop {
            let mut request = Self::base(build()).bearer_auth(&tokens.access);
            if let Some(key) = api_key {
                request = request.header("X-Api-Key", key);
            }
            let response = request.send().map_err(|e| transport_error(e, call))?;
            let status = response.status();
            if status == 401 && !renewed {
                tokens = auth::renew(self, &tokens)?;
                renewed = true;
                continue;
            }
            if (200..300).contains(&status) {
                return Ok(response);
            }
            return Err(status_error(
                status,
                response.body(),
                response.header("Retry-After"),
            ));
        }
    }

    /// Every entry of a paged list (`{"count", "next", "results"}`) starting
    /// at `url`.
    pub fn list(&self, api_key: Option<&str>, url: String) -> Result<Vec<Value>> {
        let mut all = Vec::new();
        let mut url = Some(url);
        let mut pages = 0;
        while let Some(current) = url.take() {
            pages += 1;
            if pages > MAX_PAGES {
                return Err(Error::protocol(format!(
                    "WebECR's list goes on past {MAX_PAGES} pages"
                )));
            }
            let response = self.send(api_key, Call::Read, || Request::get(current.clone()))?;
            let page: Value = serde_json::from_slice(response.body())?;
            let results = page
                .get("results")
                .and_then(Value::as_array)
                .ok_or_else(|| Error::protocol("WebECR's list answer has no `results`"))?;
            all.extend(results.iter().cloned());
            url = page
                .get("next")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .map(|n| self.next(n));
        }
        Ok(all)
    }
}

/// The words of an error, for wrapping it in another.
fn message_of(error: &Error) -> String {
    match error {
        Error::Rejected(r) => match &r.code {
            Some(code) => format!("{code}: {}", r.message),
            None => r.message.clone(),
        },
        Error::Busy(b) => b.message.clone(),
        Error::Unavailable(m)
        | Error::Timeout(m)
        | Error::InvalidInput(m)
        | Error::SessionRequired(m)
        | Error::Unauthorized(m)
        | Error::Protocol(m)
        | Error::Unsupported(m) => m.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_derive_from_the_base_as_the_seed_says() {
        let (token, post) = endpoints(Some("https://gbl.mreceipts.com/"), None, None).unwrap();
        assert_eq!(token, "https://gbl.mreceipts.com/api");
        assert_eq!(post, "https://gbl.mreceipts.com/api/v2.1");
        let (token, post) = endpoints(
            Some("https://nexi.mreceipts.com"),
            None,
            Some("https://nexi.mreceipts.com/api/v2"),
        )
        .unwrap();
        assert_eq!(token, "https://nexi.mreceipts.com/api");
        assert_eq!(post, "https://nexi.mreceipts.com/api/v2");
        assert!(matches!(
            endpoints(None, None, None),
            Err(Error::InvalidInput(_))
        ));
        assert!(matches!(
            endpoints(Some("gbl.mreceipts.com"), None, None),
            Err(Error::InvalidInput(_))
        ));
    }

    #[test]
    fn paging_links_resolve_against_the_origin() {
        let post = "https://127.0.0.1:8444/api/v2.1";
        assert_eq!(origin(post), "https://127.0.0.1:8444");
        assert_eq!(
            origin("https://wl.mreceipts.com"),
            "https://wl.mreceipts.com"
        );
        assert_eq!(
            next_url(post, "/api/v2.1/transactionintent/?limit=100&offset=100"),
            "https://127.0.0.1:8444/api/v2.1/transactionintent/?limit=100&offset=100"
        );
        assert_eq!(
            next_url(post, "https://x.example/api/v2.1/terminal/?offset=1"),
            "https://x.example/api/v2.1/terminal/?offset=1"
        );
    }

    #[test]
    fn queries_are_encoded() {
        assert_eq!(
            with_query(
                "https://h/api/v2.1/transactionintent/",
                &[
                    ("CustomerReference", "ΑΠΥ 1/2&x"),
                    ("From", "2026-11-30T10:00:00+02:00")
                ]
            ),
            "https://h/api/v2.1/transactionintent/?CustomerReference=%CE%91%CE%A0%CE%A5%201%2F2%26x&From=2026-11-30T10%3A00%3A00%2B02%3A00"
        );
        assert_eq!(
            with_query("https://h/x?a=1", &[("b", "2")]),
            "https://h/x?a=1&b=2"
        );
        assert_eq!(with_query("https://h/x", &[]), "https://h/x");
    }

    #[test]
    fn answers_map_to_contract_errors() {
        let body = br#"{"code":"invalid_provider_signature","detail":"does not verify"}"#;
        match status_error(422, body, None) {
            Error::Rejected(r) => {
                assert_eq!(r.code.as_deref(), Some("invalid_provider_signature"));
                assert_eq!(r.message, "does not verify");
            }
            other => panic!("{other:?}"),
        }
        match status_error(409, b"not json", None) {
            Error::Rejected(r) => {
                assert_eq!(r.code.as_deref(), Some("409"));
                assert_eq!(r.message, "not json");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            status_error(503, br#"{"code":"simulated_failure"}"#, None),
            Error::Unavailable(_)
        ));
        assert!(matches!(status_error(504, b"", None), Error::Timeout(_)));
        assert!(matches!(
            status_error(401, br#"{"code":"token_not_valid"}"#, None),
            Error::Unauthorized(_)
        ));
        assert!(matches!(
            status_error(403, br#"{"code":"api_key_invalid"}"#, None),
            Error::Unauthorized(_)
        ));
        match status_error(429, b"{}", Some("7")) {
            Error::Busy(b) => assert_eq!(b.retry_after_seconds, Some(7)),
            other => panic!("{other:?}"),
        }
        assert!(status_error(500, b"", None).is_retryable());
    }

    #[test]
    fn a_lost_start_answer_says_look_it_up() {
        let lost = transport_error(HttpError::Connection("reset".into()), Call::Start);
        match &lost {
            Error::Timeout(m) => assert!(m.contains("look it up by its reference"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert!(lost.is_retryable());
        assert!(matches!(
            transport_error(HttpError::Timeout, Call::Start),
            Error::Timeout(_)
        ));
        // Surely not sent: plainly unavailable, safe to send again.
        assert!(matches!(
            transport_error(HttpError::NotSent("refused".into()), Call::Start),
            Error::Unavailable(_)
        ));
        assert!(matches!(
            transport_error(HttpError::Connection("reset".into()), Call::Read),
            Error::Unavailable(_)
        ));
        assert!(matches!(
            transport_error(HttpError::Denied("not granted".into()), Call::Read),
            Error::InvalidInput(_)
        ));
    }
}
