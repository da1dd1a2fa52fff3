//! Who the call runs for, company settings and secrets.

use crate::bindings::imports::config as wit;
use crate::{Error, Result};

/// The context of the call in progress: company, ERP user, export called,
/// and the bank session the host chose for it.
pub use wit::{Invocation, SessionContext};

/// The context of the call in progress.
pub fn invocation() -> Invocation {
    wit::current()
}

/// A company setting the manifest declares, if the admin set it.
pub fn setting(name: &str) -> Option<String> {
    wit::setting(name)
}

/// A company setting that must be set: an [`Error::InvalidInput`] naming it
/// otherwise.
pub fn require_setting(name: &str) -> Result<String> {
    setting(name)
        .ok_or_else(|| Error::invalid_input(format!("company setting `{name}` is not set")))
}

/// A named secret of the company (an API token, say), if the admin stored it.
pub fn secret(name: &str) -> Option<Secret> {
    wit::secret(name).map(Secret)
}

/// A secret value. Its `Debug` never shows it, so it cannot leak into logs
/// by accident.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// The value, for the one place that needs it (a request header).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl core::fmt::Debug for Secret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Secret(***)")
    }
}
