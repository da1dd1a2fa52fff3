//! Per-call resource limits and the limiter that enforces the memory cap.

use std::time::Duration;

/// What one plugin call may use. The defaults suit bank connectors: a
/// statement page is kilobytes, a call waits on a bank for seconds.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Linear memory of one instance, in bytes.
    pub memory_bytes: usize,
    /// Wall-clock time of one call, including the host calls it makes.
    pub deadline: Duration,
    /// Size of a call's result, measured as JSON.
    pub max_output_bytes: usize,
    /// Bytes the host copies out of the sandbox in one crossing (a host
    /// call's arguments, or the call's result), counted while copying: a
    /// guest that names one buffer many times cannot make the host allocate
    /// more than this on its behalf.
    pub max_transfer_bytes: usize,
    /// Instances alive at once across the host; one more is refused as busy.
    pub max_concurrent_instances: u32,
    /// Longest guest log line kept; the rest is cut.
    pub max_log_line_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_bytes: 64 << 20,
            deadline: Duration::from_secs(30),
            max_output_bytes: 16 << 20,
            max_transfer_bytes: 16 << 20,
            max_concurrent_instances: 256,
            max_log_line_bytes: 8 << 10,
        }
    }
}

/// Caps memory and table growth, and remembers that the cap was hit so a
/// failed call can say so instead of showing the guest's abort.
#[derive(Debug)]
pub(crate) struct CapLimiter {
    memory_bytes: usize,
    pub(crate) memory_cap_hit: bool,
}

/// Enough for any Rust component's function table; a guest asking for more is
/// hostile or broken.
const MAX_TABLE_ELEMENTS: usize = 100_000;

impl CapLimiter {
    pub(crate) fn new(memory_bytes: usize) -> Self {
        Self {
            memory_bytes,
            memory_cap_hit: false,
        }
    }
}

impl wasmtime::ResourceLimiter for CapLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            self.memory_cap_hit = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}
