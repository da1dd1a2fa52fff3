//! Fault switches and the request log: what a test turns on to see how a
//! client copes with a misbehaving bank, and what it reads to see what the
//! client did.

use std::sync::Arc;
use std::time::Duration;

use axum::response::Response;
use h2h_sim_kit::faults::{LogRecord, is_fault_status, millis};
use serde::{Deserialize, Serialize};

use crate::SimError;
use crate::state::{Shared, lock};

/// The switches as they stand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultSettings {
    /// How many more `/integra/` requests fail.
    pub fail_next: u32,
    /// The status they fail with (500–599 typically).
    pub fail_status: u16,
    /// Added before every `/integra/` answer (for client timeouts).
    pub delay_ms: u64,
    /// Every statement day's first line is served twice.
    pub duplicate_lines: bool,
    /// MT940 files are cut in half (a broken download).
    pub truncate_mt940: bool,
}

impl Default for FaultSettings {
    fn default() -> Self {
        FaultSettings {
            fail_next: 0,
            fail_status: 500,
            delay_ms: 0,
            duplicate_lines: false,
            truncate_mt940: false,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct FaultState {
    pub(crate) settings: FaultSettings,
}

/// One request as the simulator saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestRecord {
    /// Arrival order, from 0; kept across [`crate::SimHandle::clear_requests`].
    pub seq: u64,
    /// `GET`, `POST`, ….
    pub method: String,
    /// E.g. `/integra/v1/statements/mt940`.
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// The subject of the client's transport certificate, e.g.
    /// `CN=erp-transport,O=h2h test client`.
    pub client_subject: Option<String>,
    /// The `X-Context-Id` header, if sent.
    pub context_id: Option<String>,
    /// The answer's status; `None` while it is being answered.
    pub status: Option<u16>,
}

/// The log of `/integra/` requests (numbering and bookkeeping from
/// `h2h-sim-kit`).
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

    /// The next `n` `/integra/` requests answer `status` with
    /// `{"code":"SIMULATED_FAILURE"}`.
    pub fn fail_next(&self, n: u32, status: u16) -> Result<FaultSettings, SimError> {
        if !is_fault_status(status) {
            return Err(SimError::InvalidFaultStatus(status));
        }
        Ok(self.edit(|s| {
            s.fail_next = n;
            s.fail_status = status;
        }))
    }

    /// Every `/integra/` answer waits this long first.
    pub fn delay(&self, delay: Duration) -> FaultSettings {
        self.edit(|s| s.delay_ms = millis(delay))
    }

    /// Serve every statement day's first line twice (same bank reference).
    pub fn duplicate_lines(&self, on: bool) -> FaultSettings {
        self.edit(|s| s.duplicate_lines = on)
    }

    /// Cut MT940 files in half.
    pub fn truncate_mt940(&self, on: bool) -> FaultSettings {
        self.edit(|s| s.truncate_mt940 = on)
    }

    /// Ends every session at once: their tokens answer 401
    /// `INVALID_TOKEN` from now on. Returns how many were ended.
    pub fn drop_sessions(&self) -> usize {
        let mut bank = self.shared.bank();
        let n = bank.sessions.len();
        bank.sessions.clear();
        n
    }

    /// All switches off.
    pub fn reset(&self) -> FaultSettings {
        self.edit(|s| *s = FaultSettings::default())
    }

    /// The switches as they stand.
    pub fn settings(&self) -> FaultSettings {
        lock(&self.shared.faults).settings.clone()
    }
}
