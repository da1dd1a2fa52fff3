//! What the workspace's bank and terminal simulators (`privat24-sim`,
//! `pkobp-sim`, `mbank-sim`, `webecr-sim`) have in common, so that each of
//! them keeps only its own bank's protocol:
//!
//! - [`server`]: binding, the background server task and its graceful
//!   stop, plain HTTP serving;
//! - `tls` (feature `tls`): HTTPS serving with an optional client
//!   certificate whose subject every request carries;
//! - `pki` (feature `tls`): the throw-away test PKI (CA, server
//!   certificate for `127.0.0.1`/`localhost`, client identities);
//! - [`faults`]: the request log, the fail-next/delay counters and the
//!   axum middleware that applies them;
//! - [`control`]: the `/__control` error shape and request bodies;
//! - [`clock`]: a clock tests can move forward;
//! - [`iban`]: ISO 13616 mod-97 and Polish IBAN/NRB helpers;
//! - [`random`]: OS random bytes;
//! - [`lock`]: a mutex lock that survives poisoning.
//!
//! Nothing here is bank-specific: error bodies, routes, fault settings and
//! request records stay in each simulator.

#![warn(missing_docs)]

pub mod clock;
pub mod control;
pub mod faults;
pub mod iban;
#[cfg(feature = "tls")]
pub mod pki;
pub mod random;
pub mod server;
#[cfg(feature = "tls")]
pub mod tls;

use std::sync::{Mutex, MutexGuard};

/// Locks `m`. A poisoned lock still holds usable data: a panicking handler
/// must not take the whole simulator down.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
