//! The service-mode gate in front of the ERP API. The heartbeat copies the
//! database's service mode here; each ERP request counts itself in flight
//! *before* looking at the flag, so an installer that saw this process
//! report the new generation with nothing in flight knows no request
//! slipped past.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

/// Seconds ERP clients are told to wait.
pub const RETRY_AFTER_SECONDS: u32 = 30;

/// This process's view of service mode and its running ERP calls.
#[derive(Debug, Default)]
pub struct Gate {
    closed: AtomicBool,
    reason: RwLock<String>,
    in_flight: AtomicUsize,
}

impl Gate {
    /// Records the database's service mode.
    pub fn set(&self, closed: bool, reason: &str) {
        if let Ok(mut current) = self.reason.write() {
            reason.clone_into(&mut current);
        }
        self.closed.store(closed, Ordering::SeqCst);
    }

    /// Calls running now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// Counts a call that does not come through the ERP API (a scheduled
    /// task) in flight, unless service mode is on; the pass ends it.
    pub fn enter(self: &Arc<Self>) -> Option<GatePass> {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let pass = GatePass(self.clone());
        if self.closed.load(Ordering::SeqCst) {
            return None;
        }
        Some(pass)
    }

    fn reason(&self) -> String {
        self.reason.read().map(|r| r.clone()).unwrap_or_default()
    }
}

/// A call counted in flight until dropped.
#[derive(Debug)]
pub struct GatePass(Arc<Gate>);

impl Drop for GatePass {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Middleware: 503 with `Retry-After` while in service mode.
pub async fn guard(State(gate): State<Arc<Gate>>, request: Request, next: Next) -> Response {
    gate.in_flight.fetch_add(1, Ordering::SeqCst);
    let in_flight = GatePass(gate.clone());
    if gate.closed.load(Ordering::SeqCst) {
        drop(in_flight);
        let mut response = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_mode",
            format!(
                "the host is in service mode ({}); retry later",
                gate.reason()
            ),
        )
        .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        return response;
    }
    let response = next.run(request).await;
    drop(in_flight);
    response
}
