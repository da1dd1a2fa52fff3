//! The ERP API's service-mode guard over the serving process's
//! [`Gate`](crate::serve::Gate).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::serve::Gate;

/// Seconds ERP clients are told to wait.
pub const RETRY_AFTER_SECONDS: u32 = 30;

/// Middleware: 503 with `Retry-After` while in service mode.
pub async fn guard(State(gate): State<Arc<Gate>>, request: Request, next: Next) -> Response {
    match gate.enter() {
        Ok(in_flight) => {
            let response = next.run(request).await;
            drop(in_flight);
            response
        }
        Err((in_flight, reason)) => {
            drop(in_flight);
            let mut response = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "service_mode",
                format!("the host is in service mode ({reason}); retry later"),
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
            response
        }
    }
}
