//! One request of a plugin, start to finish: checks, the concurrency slot,
//! the time limit, redirects (each re-checked), and the size-capped body.

use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, LOCATION};
use reqwest::{Method as ReqMethod, StatusCode, Url};

use super::address::{AddressRefused, forbidden};
use std::collections::BTreeMap;

use super::grant::{ClientIdentity, HttpGrant, with_causes};
use super::redact;
use crate::wit::v2::http::{HttpError, Method, Request, Response};

/// Headers the host sets itself: a plugin writing them could confuse the
/// server about which host or how much body it is talking about.
const HOST_OWNED_HEADERS: &[&str] = &["host", "content-length", "transfer-encoding", "connection"];

/// Headers that carry credentials, dropped when a redirect leaves the origin.
const CREDENTIAL_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
];

/// What the request log line reports about an exchange.
pub(super) struct Outcome {
    pub(super) result: Result<Response, HttpError>,
    /// Redirects followed.
    pub(super) redirects: u32,
    /// The last URL asked, redacted.
    pub(super) last_url: Option<String>,
}

/// One request as the capability sends it.
struct Hop {
    method: ReqMethod,
    url: Url,
    headers: HeaderMap,
    body: Option<Vec<u8>>,
}

/// Sends `request` for a plugin under `grant`, finishing by `deadline`.
/// `identities` are the call's company's TLS identities.
pub(super) async fn send(
    grant: &HttpGrant,
    identities: &BTreeMap<String, ClientIdentity>,
    request: Request,
    deadline: Instant,
) -> Outcome {
    let mut redirects = 0;
    let mut last_url = None;
    let result = run(
        grant,
        identities,
        request,
        deadline,
        &mut redirects,
        &mut last_url,
    )
    .await;
    Outcome {
        result,
        redirects,
        last_url,
    }
}

async fn run(
    grant: &HttpGrant,
    identities: &BTreeMap<String, ClientIdentity>,
    request: Request,
    deadline: Instant,
    redirects: &mut u32,
    last_url: &mut Option<String>,
) -> Result<Response, HttpError> {
    let url = Url::parse(&request.url)
        .map_err(|e| HttpError::InvalidRequest(format!("not an absolute URL: {e}")))?;
    *last_url = Some(redact::url(&url));
    check_target(grant, &url, None)?;
    let identity = match &request.client_certificate {
        Some(name) => Some(
            identities
                .get(name)
                .or_else(|| grant.identity(name))
                .ok_or_else(|| HttpError::UnknownCertificate(name.clone()))?,
        ),
        None => None,
    };
    let hop = Hop {
        method: method(request.method),
        headers: headers(&request.headers)?,
        url,
        body: request.body,
    };

    // Wait for a slot, but not past the call's deadline.
    let permits = grant.permits();
    let _permit = match tokio::time::timeout_at(deadline.into(), permits.acquire_owned()).await {
        Ok(Ok(permit)) => permit,
        Ok(Err(_closed)) => {
            return Err(HttpError::NotSent(
                "the plugin's HTTP slots are closed".to_owned(),
            ));
        }
        Err(_elapsed) => return Err(HttpError::Timeout),
    };

    let wanted = request
        .timeout_ms
        .map(|ms| Duration::from_millis(ms.into()))
        .unwrap_or(grant.limits().default_timeout);
    let allowed = wanted.min(deadline.saturating_duration_since(Instant::now()));
    match tokio::time::timeout(allowed, follow(grant, identity, hop, redirects, last_url)).await {
        Ok(result) => result,
        Err(_elapsed) => Err(HttpError::Timeout),
    }
}

/// Sends `hop` and follows its redirects, each checked like the first URL.
async fn follow(
    grant: &HttpGrant,
    identity: Option<&ClientIdentity>,
    mut hop: Hop,
    redirects: &mut u32,
    last_url: &mut Option<String>,
) -> Result<Response, HttpError> {
    loop {
        let private_ok = grant.is_private_host(&host_port(&hop.url));
        let client = grant
            .client(identity, private_ok)
            .map_err(HttpError::Connection)?;
        let mut builder = client
            .request(hop.method.clone(), hop.url.clone())
            .headers(hop.headers.clone());
        if let Some(body) = &hop.body {
            builder = builder.body(body.clone());
        }
        let response = builder
            .send()
            .await
            .map_err(|e| request_error(&hop.url, &e))?;

        let Some(next) = redirect_target(&hop.url, &response)? else {
            return read(grant, &hop, response).await;
        };
        if *redirects >= grant.limits().max_redirects {
            return Err(HttpError::Connection(format!(
                "{}: stopped after {} redirects",
                redact::url(&hop.url),
                grant.limits().max_redirects
            )));
        }
        *redirects += 1;
        check_target(grant, &next, Some(&hop.url))?;
        tracing::debug!(
            target: "h2h::http",
            from = %redact::url(&hop.url),
            to = %redact::url(&next),
            status = response.status().as_u16(),
            "following redirect"
        );
        *last_url = Some(redact::url(&next));
        hop = redirected(hop, response.status(), next);
    }
}

/// The next request after a redirect to `next`: 303 (and 301/302 after a
/// POST, as browsers do) become a GET without body; 307/308 keep method and
/// body. Credentials do not follow a redirect to another origin.
fn redirected(mut hop: Hop, status: StatusCode, next: Url) -> Hop {
    let to_get = match status {
        StatusCode::SEE_OTHER => hop.method != ReqMethod::HEAD,
        StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND => hop.method == ReqMethod::POST,
        _ => false,
    };
    if to_get {
        hop.method = ReqMethod::GET;
        hop.body = None;
        hop.headers.remove(reqwest::header::CONTENT_TYPE);
    }
    if next.origin() != hop.url.origin() {
        for name in CREDENTIAL_HEADERS {
            hop.headers.remove(*name);
        }
    }
    hop.url = next;
    hop
}

/// Where a redirect response points, if it is one to follow.
fn redirect_target(url: &Url, response: &reqwest::Response) -> Result<Option<Url>, HttpError> {
    let follows = matches!(
        response.status(),
        StatusCode::MOVED_PERMANENTLY
            | StatusCode::FOUND
            | StatusCode::SEE_OTHER
            | StatusCode::TEMPORARY_REDIRECT
            | StatusCode::PERMANENT_REDIRECT
    );
    let Some(location) = response.headers().get(LOCATION).filter(|_| follows) else {
        return Ok(None);
    };
    let bad = |why: String| {
        HttpError::Connection(format!(
            "{}: redirect with an unusable Location: {why}",
            redact::url(url)
        ))
    };
    let location = location.to_str().map_err(|e| bad(e.to_string()))?;
    url.join(location).map(Some).map_err(|e| bad(e.to_string()))
}

/// The whole body, refusing more than the cap whatever `Content-Length`
/// claims. (A `HEAD` answer's length describes a body that does not come.)
async fn read(
    grant: &HttpGrant,
    hop: &Hop,
    mut response: reqwest::Response,
) -> Result<Response, HttpError> {
    let url = &hop.url;
    let cap = grant.limits().max_response_bytes;
    let announced = match hop.method {
        ReqMethod::HEAD => None,
        _ => response.content_length(),
    };
    if announced.is_some_and(|length| length > cap) {
        return Err(HttpError::TooLarge(cap));
    }
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| request_error(url, &e))? {
        if body.len() as u64 + chunk.len() as u64 > cap {
            return Err(HttpError::TooLarge(cap));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// Refuses a URL outside the allow-list, or naming a non-public IP the
/// admin did not allow. Names are checked again on the resolved address.
fn check_target(grant: &HttpGrant, url: &Url, from: Option<&Url>) -> Result<(), HttpError> {
    let shown = match from {
        Some(from) => format!(
            "{} (redirected from {})",
            redact::url(url),
            redact::url(from)
        ),
        None => redact::url(url),
    };
    let scheme = url.scheme();
    if scheme != "http" && scheme != "https" {
        let why = format!("{shown}: scheme `{scheme}` is not http or https");
        // A server's redirect is refused; a plugin's own URL is malformed.
        return Err(match from {
            Some(_) => HttpError::Denied(why),
            None => HttpError::InvalidRequest(why),
        });
    }
    let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
        return Err(HttpError::InvalidRequest(format!("{shown}: no host")));
    };
    if grant.origins().is_empty() {
        return Err(HttpError::Denied(format!(
            "{shown}: this plugin has no HTTP grant"
        )));
    }
    if !grant.admits(scheme, host, port) {
        return Err(HttpError::Denied(format!(
            "{shown}: not in this plugin's allow-list ({})",
            grant.origins_text()
        )));
    }
    // A literal IP never reaches the resolver, so it is checked here.
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    let ip = literal.parse::<std::net::IpAddr>().ok();
    let host_port = host_port(url);
    if let Some(ip) = ip
        && let Some(kind) = forbidden(ip)
        && !grant.is_private_host(&host_port)
    {
        return Err(HttpError::Denied(format!(
            "{shown}: {ip} is {kind}; the admin has not allowed {host_port} for this plugin"
        )));
    }
    Ok(())
}

/// `host:port` of a URL, lowercase, as private hosts are written.
fn host_port(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let port = url.port_or_known_default().unwrap_or_default();
    format!("{host}:{port}")
}

/// The typed error for a failed exchange: a refused address is `denied`,
/// lack of time `timeout`, a connection never made `not-sent`, anything
/// else `connection`. The URL is redacted.
fn request_error(url: &Url, error: &reqwest::Error) -> HttpError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<AddressRefused>() {
            return HttpError::Denied(format!(
                "{}: {refused}; the admin has not allowed {} for this plugin",
                redact::url(url),
                host_port(url)
            ));
        }
        source = cause.source();
    }
    if error.is_timeout() {
        return HttpError::Timeout;
    }
    let without_url = reqwest_error_without_url(error);
    let message = format!("{}: {without_url}", redact::url(url));
    // reqwest says `is_connect` only for DNS, TCP connect and the TLS
    // handshake: no byte of the request left the host.
    if error.is_connect() {
        HttpError::NotSent(message)
    } else {
        HttpError::Connection(message)
    }
}

/// reqwest's message and causes, without the URL it embeds (it may carry
/// credentials in its query).
fn reqwest_error_without_url(error: &reqwest::Error) -> String {
    let head = if error.is_connect() {
        "cannot connect"
    } else if error.is_body() || error.is_decode() {
        "cannot read the response"
    } else {
        "the exchange failed"
    };
    with_causes(head.to_owned(), std::error::Error::source(error))
}

/// The reqwest method of a WIT method.
pub(super) fn method(method: Method) -> ReqMethod {
    match method {
        Method::Get => ReqMethod::GET,
        Method::Head => ReqMethod::HEAD,
        Method::Post => ReqMethod::POST,
        Method::Put => ReqMethod::PUT,
        Method::Patch => ReqMethod::PATCH,
        Method::Delete => ReqMethod::DELETE,
        Method::Options => ReqMethod::OPTIONS,
    }
}

/// The plugin's headers, in order. Values never appear in errors.
fn headers(pairs: &[(String, String)]) -> Result<HeaderMap, HttpError> {
    let mut headers = HeaderMap::with_capacity(pairs.len());
    for (name, value) in pairs {
        let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            HttpError::InvalidRequest(format!("`{name}` is not a valid header name"))
        })?;
        if HOST_OWNED_HEADERS.contains(&header.as_str()) {
            return Err(HttpError::InvalidRequest(format!(
                "header `{name}` is set by the host"
            )));
        }
        let value = HeaderValue::from_str(value).map_err(|_| {
            HttpError::InvalidRequest(format!("the value of header `{name}` is not valid"))
        })?;
        headers.append(header, value);
    }
    Ok(headers)
}
