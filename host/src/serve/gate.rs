//! This process's view of service mode and of the calls it is running. The
//! heartbeat copies the database's service mode here; every call (an ERP
//! request, a scheduled run) counts itself in flight *before* looking at
//! the flag, so an installer that saw this process report the new
//! generation with nothing in flight knows no call slipped past.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use crate::scheduler::RunGate;

/// Service mode as this process last saw it, and its calls in flight.
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

    /// Counts a call in flight; the pass ends it. `Err` carries the pass
    /// back with service mode's reason when the gate is closed: the caller
    /// drops it after answering.
    pub fn enter(self: &Arc<Self>) -> Result<GatePass, (GatePass, String)> {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let pass = GatePass(self.clone());
        if self.closed.load(Ordering::SeqCst) {
            return Err((pass, self.reason()));
        }
        Ok(pass)
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

/// Scheduled runs count in flight too, and do not start in service mode.
impl RunGate for Arc<Gate> {
    fn enter(&self) -> Option<Box<dyn Send>> {
        Gate::enter(self)
            .ok()
            .map(|pass| Box::new(pass) as Box<dyn Send>)
    }
}
