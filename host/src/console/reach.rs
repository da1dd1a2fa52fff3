//! Whom the console answers, and what every answer of it carries.

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::serve::transport::Peer;

/// Whom the console answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reach {
    /// Browsers on this machine only (the default): an admin elsewhere
    /// reaches it through an SSH tunnel.
    #[default]
    LoopbackOnly,
    /// Every peer the API answers (`--console-anywhere`).
    Anywhere,
}

/// Middleware: a peer off this machine gets 403 unless the console was
/// opened to every peer.
pub async fn guard(State(reach): State<Reach>, request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<Peer>>().map(|c| c.0);
    let allowed = reach == Reach::Anywhere
        || peer.is_none_or(|peer| peer.addr.ip().to_canonical().is_loopback());
    if allowed {
        return next.run(request).await;
    }
    (
        StatusCode::FORBIDDEN,
        "The h2h console answers this machine only; start the host with \
         --console-anywhere to open it to the network (over TLS).",
    )
        .into_response()
}

/// Only our own stylesheet, script and forms; never inside a frame.
const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Middleware: the security headers of every console answer.
pub async fn headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    // Pages show the host's state; a back button must not show a stale one
    // after sign-out.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    response
}
