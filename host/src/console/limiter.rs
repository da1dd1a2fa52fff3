//! Sign-in attempts per peer address: a few wrong keys a minute, then
//! 429 until the minute is over. Per process; the keys themselves are
//! 256-bit random, so this is about noise and log floods, not guessing.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Wrong keys a peer may send in one window.
pub const MAX_FAILURES: u32 = 5;

/// The window.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Failed sign-ins by peer, in the current window of each.
#[derive(Clone, Default)]
pub struct SignInLimiter {
    failures: Arc<Mutex<HashMap<IpAddr, (Instant, u32)>>>,
}

impl SignInLimiter {
    /// None when `peer` may try now, else how long until it may.
    pub fn wait(&self, peer: IpAddr) -> Option<Duration> {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        match failures.get(&peer) {
            Some((start, count)) if *count >= MAX_FAILURES => {
                Some(WINDOW.saturating_sub(now.duration_since(*start)))
            }
            _ => None,
        }
    }

    /// Counts a wrong key from `peer`.
    pub fn failed(&self, peer: IpAddr) {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let entry = failures.entry(peer).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }
}
