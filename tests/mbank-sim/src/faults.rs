//! Fault switches and the request log.

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
    /// How many more API requests fail.
    pub fail_next: u32,
    /// With this status.
    pub fail_status: u16,
    /// Wait before answering every API request (client timeouts).
    pub delay_ms: u64,
    /// Serve every statement's first line twice, same TNR (MT940 and MT942).
    pub duplicate_lines: bool,
}

impl Default for FaultSettings {
    fn default() -> Self {
        FaultSettings {
            fail_next: 0,
            fail_status: 500,
            delay_ms: 0,
            duplicate_lines: false,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct FaultState {
    pub(crate) settings: FaultSettings,
}

/// One API request as the bank saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestRecord {
    /// Arrival order from 0 (not reset by clearing the log).
    pub seq: u64,
    /// `GET`, `POST`, ….
    pub method: String,
    /// E.g. `/companynet/ws/v1/statements/mt940`.
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// The client transport certificate's subject, if one was presented.
    pub client_subject: Option<String>,
    /// The `X-DIK` header, if sent.
    pub dik: Option<String>,
    /// The answer's status (`None` while answering).
    pub status: Option<u16>,
}

/// The log of API requests (numbering and bookkeeping from `h2h-sim-kit`).
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

/// The fault switches, settable while the simulator runs.
#[derive(Clone)]
pub struct Faults {
    pub(crate) shared: Arc<Shared>,
}

impl Faults {
    fn edit(&self, f: impl FnOnce(&mut FaultSettings)) -> FaultSettings {
        let mut state = lock(&self.shared.faults);
        f(&mut state.settings);
        state.settings.clone()
    }

    /// The next `n` API requests answer `status` (400–599) with
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

    /// Every API answer waits this long first (a client's timeout fires).
    pub fn delay(&self, d: Duration) -> FaultSettings {
        self.edit(|s| s.delay_ms = millis(d))
    }

    /// Serve each statement's first line twice, with the same TNR.
    pub fn duplicate_lines(&self, on: bool) -> FaultSettings {
        self.edit(|s| s.duplicate_lines = on)
    }

    /// The bank ends sessions: all, or one user's. Their tokens answer 401
    /// `SESSION_REVOKED` from now on. Returns how many were active.
    pub fn revoke_sessions(&self, user_id: Option<&str>) -> usize {
        let mut bank = self.shared.bank();
        let now = bank.now();
        let mut n = 0;
        for s in bank.sessions.values_mut() {
            if user_id.is_none_or(|u| u == s.user_id) && !s.revoked {
                if s.state(now) == crate::model::SessionState::Active {
                    n += 1;
                }
                s.revoked = true;
            }
        }
        n
    }

    /// All switches off (sessions stay as they are).
    pub fn reset(&self) -> FaultSettings {
        self.edit(|s| *s = FaultSettings::default())
    }

    /// The switches as they stand.
    pub fn settings(&self) -> FaultSettings {
        lock(&self.shared.faults).settings.clone()
    }
}
