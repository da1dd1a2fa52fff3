//! Fault switches and the request log.

use std::sync::Arc;
use std::time::Duration;

use axum::response::Response;
use h2h_sim_kit::faults::{LogRecord, is_dropped, is_fault_status, millis};
use serde::{Deserialize, Serialize};

use crate::SimError;
use crate::state::{Shared, lock};

/// The switches as they stand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultSettings {
    /// How many more `/api/` requests fail (not processed).
    pub fail_next: u32,
    /// The status they fail with.
    pub fail_status: u16,
    /// Added before every `/api/` answer (client timeouts).
    pub delay_ms: u64,
    /// How many more `/api/` requests are processed but get no answer:
    /// their connection is closed instead.
    pub drop_next: u32,
}

impl Default for FaultSettings {
    fn default() -> Self {
        FaultSettings {
            fail_next: 0,
            fail_status: 500,
            delay_ms: 0,
            drop_next: 0,
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
    /// Arrival order, from 0.
    pub seq: u64,
    /// `GET`, `POST`, ….
    pub method: String,
    /// E.g. `/api/v2/terminal/1/txninit/`.
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// The `X-Api-Key` header, if sent.
    pub api_key: Option<String>,
    /// The answer's status; `None` while being answered or if dropped.
    pub status: Option<u16>,
    /// The connection was closed instead of answering.
    pub dropped: bool,
}

/// The log of `/api/` requests (numbering and bookkeeping from
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
        let dropped = is_dropped(response);
        self.status = (!dropped).then_some(response.status().as_u16());
        self.dropped = dropped;
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

    /// The next `n` `/api/` requests answer `status` (400–599) with
    /// `{"code":"simulated_failure"}`, without being processed.
    pub fn fail_next(&self, n: u32, status: u16) -> Result<FaultSettings, SimError> {
        if !is_fault_status(status) {
            return Err(SimError::InvalidFaultStatus(status));
        }
        Ok(self.edit(|s| {
            s.fail_next = n;
            s.fail_status = status;
        }))
    }

    /// Every `/api/` answer waits this long (real time) first.
    pub fn delay(&self, delay: Duration) -> FaultSettings {
        self.edit(|s| s.delay_ms = millis(delay))
    }

    /// The next `n` `/api/` requests are processed, then their connection
    /// is closed without an answer (a lost answer).
    pub fn drop_next(&self, n: u32) -> FaultSettings {
        self.edit(|s| s.drop_next = n)
    }

    /// Expires every access token issued so far (and, with
    /// `refresh_too`, every refresh token): they answer 401
    /// `token_not_valid` / "Token is expired".
    pub fn expire_jwts(&self, refresh_too: bool) {
        let mut w = self.shared.world();
        w.access_generation += 1;
        if refresh_too {
            w.refresh_generation += 1;
        }
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
