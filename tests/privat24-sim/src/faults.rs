//! Fault switches and the request log: what a test turns on to see how a
//! client copes with a misbehaving bank, and what it reads to see what the
//! client did.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::response::Response;
use h2h_sim_kit::faults::{LogRecord, is_fault_status, millis};
use serde::{Deserialize, Serialize};

use crate::SimError;
use crate::state::{Shared, lock};

/// The phase in which the bank serves statements.
pub const WORKING_PHASE: &str = "WRK";

/// The switches as they stand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultSettings {
    /// How many more API requests fail.
    pub fail_next: u32,
    /// The status they fail with.
    pub fail_status: u16,
    /// Added before every API answer.
    pub delay_ms: u64,
    /// Added after the bank has done the work and before it answers: the
    /// request takes effect (a payment is created), the answer comes late.
    #[serde(default)]
    pub answer_delay_ms: u64,
    /// API requests allowed in any one-second window; `None` is unlimited.
    pub rate_limit_per_sec: Option<u32>,
    /// `settings.phase`; statements are served only in `WRK`.
    pub phase: String,
    /// Whether every page with a successor is served twice.
    pub duplicate_pages: bool,
    /// Answer in UTF-8 even when the request names no charset. Off, the
    /// simulator does what the bank documents: without
    /// `Content-Type: application/json;charset=utf8` it answers in cp1251.
    #[serde(default)]
    pub utf8_without_charset: bool,
    /// `settings.work_balance` is `Y`: the bank asks clients not to call.
    #[serde(default)]
    pub work_balance: bool,
    /// `payment/create` with a document number the merchant has used
    /// before returns the existing payment instead of making a new one.
    /// Off by default: nothing public says the bank does this.
    #[serde(default)]
    pub deduplicate_document_numbers: bool,
}

impl Default for FaultSettings {
    fn default() -> Self {
        FaultSettings {
            fail_next: 0,
            fail_status: 500,
            delay_ms: 0,
            answer_delay_ms: 0,
            rate_limit_per_sec: None,
            phase: WORKING_PHASE.into(),
            duplicate_pages: false,
            utf8_without_charset: false,
            work_balance: false,
            deduplicate_document_numbers: false,
        }
    }
}

/// What the gate decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Pass,
    RateLimited { retry_after_secs: u64 },
    Fail(u16),
}

/// Switches plus the bookkeeping they need.
#[derive(Debug, Default)]
pub(crate) struct FaultState {
    pub(crate) settings: FaultSettings,
    /// Admission times within the last second (sliding window: a fixed
    /// window would let a test's burst straddle a boundary and pass).
    window: VecDeque<Instant>,
    /// Pages already served twice, so each is duplicated only once.
    duplicated: HashSet<String>,
}

impl FaultState {
    /// Rate limit first, so a refused request does not use up a planned
    /// failure; then planned failures.
    pub(crate) fn admit(&mut self, now: Instant) -> Verdict {
        if let Some(limit) = self.settings.rate_limit_per_sec {
            let second = Duration::from_secs(1);
            while self
                .window
                .front()
                .is_some_and(|t| now.duration_since(*t) >= second)
            {
                self.window.pop_front();
            }
            if self.window.len() >= limit as usize {
                let oldest = self.window.front().copied().unwrap_or(now);
                let wait = second.saturating_sub(now.duration_since(oldest));
                // Whole seconds, rounded up: Retry-After has no fractions.
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                return Verdict::RateLimited {
                    retry_after_secs: secs.max(1),
                };
            }
            self.window.push_back(now);
        }
        if self.settings.fail_next > 0 {
            self.settings.fail_next -= 1;
            return Verdict::Fail(self.settings.fail_status);
        }
        Verdict::Pass
    }

    /// True the first time a page key is seen while duplication is on.
    pub(crate) fn duplicate_once(&mut self, page_key: String) -> bool {
        self.settings.duplicate_pages && self.duplicated.insert(page_key)
    }

    pub(crate) fn reset(&mut self) {
        *self = FaultState::default();
    }
}

/// One API request as the simulator saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    /// Arrival order, from 0; kept across [`crate::SimHandle::clear_requests`].
    pub seq: u64,
    /// `GET`, `POST`, ….
    pub method: String,
    /// The path, e.g. `/api/statements/transactions`.
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// The answer's status; `None` while it is being answered, or if the
    /// client went away first.
    pub status: Option<u16>,
}

/// The request log (numbering and bookkeeping from `h2h-sim-kit`):
/// records go in on arrival and get their status when answered, found by
/// `seq` since the log may be cleared in between.
pub(crate) type RequestLog = h2h_sim_kit::faults::RequestLog<RequestRecord>;

impl LogRecord for RequestRecord {
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

impl RequestRecord {
    /// A query parameter, decoded.
    pub fn param(&self, name: &str) -> Option<String> {
        let query = self.query.as_deref()?;
        serde_urlencoded::from_str::<Vec<(String, String)>>(query)
            .ok()?
            .into_iter()
            .find_map(|(k, v)| (k == name).then_some(v))
    }
}

/// The fault switches of a simulator, settable while it runs.
#[derive(Clone)]
pub struct Faults {
    pub(crate) shared: Arc<Shared>,
}

impl Faults {
    fn edit(&self, f: impl FnOnce(&mut FaultSettings)) -> FaultSettings {
        let mut faults = lock(&self.shared.faults);
        f(&mut faults.settings);
        faults.settings.clone()
    }

    /// The next `n` API requests answer `status` with the bank's error
    /// JSON.
    pub fn fail_next(&self, n: u32, status: u16) -> Result<FaultSettings, SimError> {
        if !is_fault_status(status) {
            return Err(SimError::InvalidFaultStatus(status));
        }
        Ok(self.edit(|s| {
            s.fail_next = n;
            s.fail_status = status;
        }))
    }

    /// Every API answer waits this long first.
    pub fn delay(&self, delay: Duration) -> FaultSettings {
        self.edit(|s| s.delay_ms = millis(delay))
    }

    /// Every API request that passes the gate is carried out, then its
    /// answer waits this long: a client that times out meanwhile has lost
    /// the answer to a request the bank did act on.
    pub fn delay_answer(&self, delay: Duration) -> FaultSettings {
        self.edit(|s| s.answer_delay_ms = millis(delay))
    }

    /// At most `per_sec` API requests in any second; beyond it 429 with
    /// `Retry-After`. 0 turns the limit off.
    pub fn rate_limit(&self, per_sec: u32) -> FaultSettings {
        let mut faults = lock(&self.shared.faults);
        faults.settings.rate_limit_per_sec = (per_sec > 0).then_some(per_sec);
        faults.window.clear();
        faults.settings.clone()
    }

    /// The phase `settings` reports; statements answer 503 outside `WRK`.
    pub fn phase(&self, phase: impl Into<String>) -> FaultSettings {
        let phase = phase.into();
        self.edit(|s| s.phase = phase)
    }

    /// Serve every statement page that has a successor twice: its
    /// `next_page_id` points back at itself once.
    pub fn duplicate_pages(&self, on: bool) -> FaultSettings {
        let mut faults = lock(&self.shared.faults);
        faults.settings.duplicate_pages = on;
        faults.duplicated.clear();
        faults.settings.clone()
    }

    /// Answer in UTF-8 whatever the request's charset: a client written
    /// before the encoding fix (connector 1.0.0) reads its answers.
    pub fn utf8_without_charset(&self, on: bool) -> FaultSettings {
        self.edit(|s| s.utf8_without_charset = on)
    }

    /// `settings.work_balance` answers `Y` (or `N`).
    pub fn work_balance(&self, on: bool) -> FaultSettings {
        self.edit(|s| s.work_balance = on)
    }

    /// `payment/create` with a document number the merchant used before
    /// answers 201 with the existing payment (its current status) instead
    /// of creating another. Not the bank's documented behaviour: for
    /// clients that rely on it, and to test that a client does not.
    pub fn deduplicate_document_numbers(&self, on: bool) -> FaultSettings {
        self.edit(|s| s.deduplicate_document_numbers = on)
    }

    /// All switches off, phase `WRK`.
    pub fn reset(&self) -> FaultSettings {
        let mut faults = lock(&self.shared.faults);
        faults.reset();
        faults.settings.clone()
    }

    /// The switches as they stand.
    pub fn settings(&self) -> FaultSettings {
        lock(&self.shared.faults).settings.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_is_a_sliding_window() {
        let mut f = FaultState::default();
        f.settings.rate_limit_per_sec = Some(2);
        let t0 = Instant::now();
        assert_eq!(f.admit(t0), Verdict::Pass);
        assert_eq!(f.admit(t0 + Duration::from_millis(400)), Verdict::Pass);
        assert_eq!(
            f.admit(t0 + Duration::from_millis(500)),
            Verdict::RateLimited {
                retry_after_secs: 1
            }
        );
        // The first admission has left the window.
        assert_eq!(f.admit(t0 + Duration::from_millis(1000)), Verdict::Pass);
        assert!(matches!(
            f.admit(t0 + Duration::from_millis(1100)),
            Verdict::RateLimited { .. }
        ));
    }

    #[test]
    fn refused_requests_keep_planned_failures() {
        let mut f = FaultState::default();
        f.settings.rate_limit_per_sec = Some(1);
        f.settings.fail_next = 1;
        f.settings.fail_status = 503;
        let t0 = Instant::now();
        assert_eq!(f.admit(t0), Verdict::Fail(503));
        assert!(matches!(f.admit(t0), Verdict::RateLimited { .. }));
        assert_eq!(f.admit(t0 + Duration::from_secs(1)), Verdict::Pass);
    }

    #[test]
    fn record_params_are_decoded() {
        let r = RequestRecord {
            seq: 0,
            method: "GET".into(),
            path: "/api/statements/transactions".into(),
            query: Some("acc=UA21&startDate=01-11-2026&followId=P%2B1".into()),
            status: Some(200),
        };
        assert_eq!(r.param("followId").as_deref(), Some("P+1"));
        assert_eq!(r.param("limit"), None);
    }
}
