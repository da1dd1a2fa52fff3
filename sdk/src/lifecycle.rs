//! Install/upgrade steps and scheduled tasks, shared by both worlds.

use crate::{Error, Result};

/// Install and upgrade steps. The host runs them in service mode, once
/// plugin-wide and once per company with data; an error rolls the install
/// or upgrade back.
pub trait Lifecycle {
    /// First installation on the host's database. Default: nothing to do.
    fn install() -> Result<()> {
        Ok(())
    }

    /// Upgrade from `previous` (a semver version): rewrite stored data into
    /// this version's shape. Default: nothing to do.
    fn migrate(previous: &str) -> Result<()> {
        let _ = previous;
        Ok(())
    }
}

/// Scheduled tasks declared in the manifest.
pub trait Tasks {
    /// Runs the task `name` for the company of the call. Default: no tasks.
    fn run(name: &str) -> Result<()> {
        Err(Error::unsupported(format!("unknown task `{name}`")))
    }
}
