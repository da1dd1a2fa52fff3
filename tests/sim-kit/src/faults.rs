//! The fault machinery every simulator shares: the request log, the
//! fail-next and delay counters, and the axum middleware ([`gate`]) that
//! logs each API request and applies them. What a request record holds,
//! which further switches exist and what a simulated failure looks like
//! stay with each simulator.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

use crate::lock;

/// Injected failures must be HTTP errors: `400..=599`.
pub fn is_fault_status(status: u16) -> bool {
    (400..=599).contains(&status)
}

/// A [`Duration`] in whole milliseconds, saturating.
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A planned failure's status, using it up: `fail_next` counts down.
pub fn take_failure(fail_next: &mut u32, fail_status: u16) -> Option<u16> {
    (*fail_next > 0).then(|| {
        *fail_next -= 1;
        fail_status
    })
}

/// Put on a response whose connection must be closed instead of answered
/// (a lost answer). The TLS server (`tls::serve`) honours it; served
/// other ways the answer goes out normally.
#[derive(Debug, Clone, Copy)]
pub struct DropConnection;

/// Whether a response is marked [`DropConnection`].
pub fn is_dropped(response: &Response) -> bool {
    response.extensions().get::<DropConnection>().is_some()
}

/// A simulator's request record, as its [`RequestLog`] keeps it.
pub trait LogRecord {
    /// Its arrival number.
    fn seq(&self) -> u64;
    /// Numbers it on arrival.
    fn set_seq(&mut self, seq: u64);
    /// Notes how it was answered (status, dropped, …).
    fn answered(&mut self, response: &Response);
}

/// The request log: records go in on arrival and are completed when
/// answered, found by `seq` since the log may be cleared in between.
/// Numbers are not reused after clearing.
#[derive(Debug)]
pub struct RequestLog<R> {
    next_seq: u64,
    records: Vec<R>,
}

impl<R> Default for RequestLog<R> {
    fn default() -> Self {
        RequestLog {
            next_seq: 0,
            records: Vec::new(),
        }
    }
}

impl<R: LogRecord> RequestLog<R> {
    /// Logs an arriving request; returns its number.
    pub fn arrive(&mut self, mut record: R) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        record.set_seq(seq);
        self.records.push(record);
        seq
    }

    /// Completes request `seq` (if still in the log) with its answer.
    pub fn answered(&mut self, seq: u64, response: &Response) {
        if let Some(r) = self.records.iter_mut().rev().find(|r| r.seq() == seq) {
            r.answered(response);
        }
    }
}

impl<R> RequestLog<R> {
    /// The records, oldest first.
    pub fn records(&self) -> &[R] {
        &self.records
    }

    /// Forgets the records (numbering goes on).
    pub fn clear(&mut self) {
        self.records.clear();
    }
}

/// What the fault switches decided for a request before it is served.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Plan {
    /// Answer with this status instead of serving it (a planned failure,
    /// already used up).
    pub failure: Option<u16>,
    /// Wait this long first.
    pub delay_ms: u64,
}

/// What a simulator's shared state gives [`gate`].
pub trait Gate: Send + Sync + 'static {
    /// Its request record.
    type Record: LogRecord + Send;
    /// Its request log.
    fn log(&self) -> &Mutex<RequestLog<Self::Record>>;
    /// The record of an arriving request (`seq` and the answer unset).
    fn record(&self, req: &Request) -> Self::Record;
    /// The switches' decision, taken under one lock.
    fn plan(&self) -> Plan;
    /// The answer to a planned failure.
    fn failure(&self, status: StatusCode) -> Response;
    /// Runs after a request was served (not after a planned failure),
    /// before its answer is logged: e.g. to mark it [`DropConnection`].
    fn served(&self, _response: &mut Response) {}
}

/// The middleware: logs every request, waits the delay, then answers a
/// planned failure or serves the request, and logs the answer. Install
/// with `axum::middleware::from_fn_with_state(shared, gate::<Shared>)`.
pub async fn gate<G: Gate>(State(g): State<Arc<G>>, req: Request, next: Next) -> Response {
    let seq = lock(g.log()).arrive(g.record(&req));
    let plan = g.plan();
    if plan.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(plan.delay_ms)).await;
    }
    let response = match plan.failure {
        Some(status) => {
            g.failure(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        }
        None => {
            let mut response = next.run(req).await;
            g.served(&mut response);
            response
        }
    };
    lock(g.log()).answered(seq, &response);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone)]
    struct Rec {
        seq: u64,
        path: String,
        status: Option<u16>,
    }

    impl LogRecord for Rec {
        fn seq(&self) -> u64 {
            self.seq
        }
        fn set_seq(&mut self, seq: u64) {
            self.seq = seq;
        }
        fn answered(&mut self, response: &Response) {
            self.status = Some(response.status().as_u16());
        }
    }

    fn rec(path: &str) -> Rec {
        Rec {
            seq: 99,
            path: path.into(),
            status: None,
        }
    }

    #[test]
    fn log_numbers_survive_clearing() {
        let mut log = RequestLog::default();
        assert_eq!(log.arrive(rec("/a")), 0);
        let b = log.arrive(rec("/b"));
        log.clear();
        let c = log.arrive(rec("/c"));
        assert_eq!(c, 2);
        let mut ok = Response::default();
        *ok.status_mut() = StatusCode::CREATED;
        log.answered(b, &ok); // cleared: nothing to complete
        log.answered(c, &ok);
        assert_eq!(log.records().len(), 1);
        assert_eq!(log.records()[0].path, "/c");
        assert_eq!(log.records()[0].seq, 2);
        assert_eq!(log.records()[0].status, Some(201));
    }

    #[test]
    fn failures_count_down() {
        let mut n = 2;
        assert_eq!(take_failure(&mut n, 503), Some(503));
        assert_eq!(take_failure(&mut n, 503), Some(503));
        assert_eq!(take_failure(&mut n, 503), None);
        assert_eq!(n, 0);
        assert!(is_fault_status(400) && is_fault_status(599));
        assert!(!is_fault_status(399) && !is_fault_status(600));
        assert_eq!(millis(Duration::MAX), u64::MAX);
    }
}
