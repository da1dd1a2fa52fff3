//! What every simulator's `/__control` API shares: the error shape
//! `{"error": "..."}`, body parsing that answers a malformed body with
//! that shape, and the bodies of the common switches. The routes stay in
//! each simulator (their answers differ).

use axum::Json;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

/// `{"error": "..."}` with a status. A simulator maps its own error type
/// into it (`impl From<SimError> for ControlError`).
#[derive(Debug)]
pub struct ControlError(pub StatusCode, pub String);

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

/// 400 with this message.
pub fn bad(message: impl Into<String>) -> ControlError {
    ControlError(StatusCode::BAD_REQUEST, message.into())
}

/// A JSON body, parsed by hand so that a malformed one gets a JSON error
/// (400 `malformed body: …`) rather than axum's plain-text rejection.
pub fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ControlError> {
    serde_json::from_slice(bytes).map_err(|e| bad(format!("malformed body: {e}")))
}

/// `{"count": n, "status": 503}` for `faults/fail_next` (status default
/// 500).
#[derive(Debug, Deserialize)]
pub struct FailNext {
    /// How many requests fail.
    pub count: u32,
    /// With this status.
    #[serde(default = "default_fail_status")]
    pub status: u16,
}

fn default_fail_status() -> u16 {
    500
}

/// `{"ms": n}` for delays.
#[derive(Debug, Deserialize)]
pub struct Millis {
    /// Milliseconds.
    pub ms: u64,
}

/// `{"on": bool}` for on/off switches.
#[derive(Debug, Deserialize)]
pub struct On {
    /// Whether the switch is on.
    pub on: bool,
}

/// `{"count": n}`.
#[derive(Debug, Deserialize)]
pub struct Count {
    /// How many.
    pub count: u32,
}

/// `{"seconds": n}` for `clock/advance`.
#[derive(Debug, Deserialize)]
pub struct Seconds {
    /// Seconds.
    pub seconds: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_bodies_are_400_with_the_reason() {
        let e = body::<FailNext>(&Bytes::from_static(b"{")).unwrap_err();
        assert_eq!(e.0, StatusCode::BAD_REQUEST);
        assert!(e.1.starts_with("malformed body: "), "{}", e.1);
        let f: FailNext = body(&Bytes::from_static(br#"{"count":2}"#)).unwrap();
        assert_eq!((f.count, f.status), (2, 500));
    }
}
