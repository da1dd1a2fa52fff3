//! `h2h:connector/http`: outgoing requests, only to origins the manifest
//! lists and the admin granted, and only to public addresses unless the
//! admin allowed that exact `host:port`.
//!
//! - `origin`: one entry of an allow-list, `scheme://host[:port]`;
//! - `grant`: what a plugin may reach, and the clients and permits its
//!   calls share;
//! - `address`: which IPs are off limits, checked on the resolved address;
//! - `client`: one reqwest client per client identity, redirects off;
//! - `exchange`: one request: checks, time limit, redirects, size cap;
//! - `pkcs12`: `.p12` identities turned into PEM;
//! - `redact`: what of a request may be logged.

mod address;
mod client;
mod exchange;
mod grant;
pub mod origin;
mod pkcs12;
mod redact;

pub(crate) use address::GuardedResolver;
pub use address::{AddressKind, forbidden};
pub use grant::{ClientIdentity, GrantError, HttpGrant, HttpLimits};
pub use origin::AllowedOrigin;
pub use pkcs12::pkcs12_to_pem;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use crate::metrics::{Metrics, UNSENT_HOST};
use crate::wit::v2::http::{self, HttpError, Request, Response};

/// Per-call state of the HTTP capability.
#[derive(Debug)]
pub struct HttpCtx {
    plugin: Arc<str>,
    grant: HttpGrant,
    /// The company's client TLS identities, by the name requests use.
    identities: BTreeMap<String, ClientIdentity>,
    /// The call's deadline: no request waits beyond it.
    deadline: Instant,
    metrics: Arc<Metrics>,
}

impl HttpCtx {
    pub(crate) fn new(
        plugin: Arc<str>,
        grant: HttpGrant,
        identities: BTreeMap<String, ClientIdentity>,
        deadline: Instant,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            plugin,
            grant,
            identities,
            deadline,
            metrics,
        }
    }
}

impl http::Host for HttpCtx {
    async fn send(&mut self, request: Request) -> wasmtime::Result<Result<Response, HttpError>> {
        let started = Instant::now();
        let method = exchange::method(request.method);
        let host = reqwest::Url::parse(&request.url)
            .ok()
            .and_then(|url| url.host_str().map(str::to_owned))
            .unwrap_or_default();
        if tracing::enabled!(target: "h2h::http", tracing::Level::DEBUG) {
            let headers: Vec<String> = request
                .headers
                .iter()
                .map(|(name, value)| format!("{name}: {}", redact::header_value(name, value)))
                .collect();
            tracing::debug!(target: "h2h::http", plugin = %self.plugin, %method, %host, ?headers, "HTTP request headers");
        }
        let outcome = exchange::send(&self.grant, &self.identities, request, self.deadline).await;
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let url = outcome.last_url.unwrap_or_default();
        match &outcome.result {
            Ok(response) => tracing::info!(
                target: "h2h::http",
                plugin = %self.plugin,
                %method,
                %host,
                %url,
                status = response.status,
                bytes = response.body.len(),
                redirects = outcome.redirects,
                duration_ms,
                "HTTP request"
            ),
            Err(error) => tracing::warn!(
                target: "h2h::http",
                plugin = %self.plugin,
                %method,
                %host,
                %url,
                error = %describe(error),
                redirects = outcome.redirects,
                duration_ms,
                "HTTP request failed"
            ),
        }
        // Only requests that went out name their host, which the allow-list
        // bounds; the others could name anything.
        let (host_label, status) = match &outcome.result {
            Ok(response) => (host.as_str(), response.status.to_string()),
            Err(
                error @ (HttpError::Timeout | HttpError::Connection(_) | HttpError::TooLarge(_)),
            ) => (host.as_str(), error_kind(error).to_owned()),
            Err(error) => (UNSENT_HOST, error_kind(error).to_owned()),
        };
        self.metrics.record_http(&self.plugin, host_label, &status);
        Ok(outcome.result)
    }
}

/// An error's name as a metric's status label.
fn error_kind(error: &HttpError) -> &'static str {
    match error {
        HttpError::Denied(_) => "denied",
        HttpError::Timeout => "timeout",
        HttpError::NotSent(_) => "not_sent",
        HttpError::Connection(_) => "connection",
        HttpError::TooLarge(_) => "too_large",
        HttpError::InvalidRequest(_) => "invalid_request",
        HttpError::UnknownCertificate(_) => "unknown_certificate",
    }
}

/// An error as one log field.
fn describe(error: &HttpError) -> String {
    match error {
        HttpError::Denied(why) => format!("denied: {why}"),
        HttpError::Timeout => "timeout".to_owned(),
        HttpError::NotSent(why) => format!("not sent: {why}"),
        HttpError::Connection(why) => format!("connection: {why}"),
        HttpError::TooLarge(cap) => format!("too large: over {cap} bytes"),
        HttpError::InvalidRequest(why) => format!("invalid request: {why}"),
        HttpError::UnknownCertificate(name) => format!("unknown certificate `{name}`"),
    }
}
