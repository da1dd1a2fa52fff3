//! Every request gets an id: the caller's `X-Request-Id` when it is a
//! plain token, else one made here. The id is answered in the response and
//! carried by a span over the whole request, so every log line the request
//! causes (the host's, the plugin's, its bank calls) names it.

use std::time::Instant;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument as _;

/// The header, both ways.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest id taken from a caller.
pub const MAX_ID_LEN: usize = 128;

/// Middleware: the id, its span, and one access line when the answer is
/// ready.
pub async fn tag(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| acceptable(id))
        .map(str::to_owned)
        .unwrap_or_else(made);
    let value = HeaderValue::from_str(&id).unwrap_or_else(|_| HeaderValue::from_static("-"));
    // Handlers below see the id that is answered, not a refused one.
    request
        .headers_mut()
        .insert(REQUEST_ID.clone(), value.clone());
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let span = tracing::info_span!("request", request_id = %id);
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let status = response.status().as_u16();
    span.in_scope(|| {
        // Probes poll; their lines would drown the rest.
        if path == "/health" || path == "/metrics" {
            tracing::debug!(target: "h2h::access", %method, %path, status, duration_ms, "request");
        } else {
            tracing::info!(target: "h2h::access", %method, %path, status, duration_ms, "request");
        }
    });
    response.headers_mut().insert(REQUEST_ID.clone(), value);
    response
}

/// A caller's id is kept when it cannot forge log structure: visible ASCII
/// without quotes or separators that log readers split on.
fn acceptable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/' | b'+' | b'=')
        })
}

/// 128 random bits in hex.
fn made() -> String {
    let mut bytes = [0u8; 16];
    // Without the system's randomness, a clock-based id still tells
    // requests apart in the log.
    if getrandom::getrandom(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        bytes = nanos.to_le_bytes();
    }
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callers_ids_are_kept_only_when_plain() {
        assert!(acceptable("3f2a-01:batch/7"));
        assert!(!acceptable(""));
        assert!(!acceptable("a b"));
        assert!(!acceptable("x\"}"));
        assert!(!acceptable("line\nbreak"));
        assert!(!acceptable(&"a".repeat(MAX_ID_LEN + 1)));
        assert_eq!(made().len(), 32);
        assert_ne!(made(), made());
    }
}
