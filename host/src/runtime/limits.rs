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
    /// Guest log lines one plugin writes per second, across its calls in
    /// this process, after a burst of ten seconds' worth; lines beyond are
    /// dropped and counted.
    pub max_log_lines_per_second: u32,
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
            max_log_lines_per_second: 100,
        }
    }
}

/// Caps memory and table growth, and remembers that the cap was hit so a
/// failed call can say so instead of showing the guest's abort. The memory
/// cap is for the whole store: a component with two memories shares it.
#[derive(Debug)]
pub(crate) struct CapLimiter {
    memory_bytes: usize,
    /// Bytes of all the store's memories.
    in_use: usize,
    pub(crate) memory_cap_hit: bool,
}

/// Enough for any Rust component's function table; a guest asking for more is
/// hostile or broken.
const MAX_TABLE_ELEMENTS: usize = 100_000;

impl CapLimiter {
    pub(crate) fn new(memory_bytes: usize) -> Self {
        Self {
            memory_bytes,
            in_use: 0,
            memory_cap_hit: false,
        }
    }
}

impl wasmtime::ResourceLimiter for CapLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let in_use = self.in_use - current.min(self.in_use) + desired;
        if in_use > self.memory_bytes {
            self.memory_cap_hit = true;
            return Ok(false);
        }
        self.in_use = in_use;
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

#[cfg(test)]
mod tests {
    use wasmtime::ResourceLimiter;

    use super::CapLimiter;

    const MIB: usize = 1 << 20;

    #[test]
    fn the_memory_cap_counts_every_memory_of_the_store() {
        let mut limiter = CapLimiter::new(64 * MIB);
        assert!(limiter.memory_growing(0, 40 * MIB, None).unwrap());
        assert!(!limiter.memory_growing(0, 40 * MIB, None).unwrap());
        assert!(limiter.memory_cap_hit);
        // The first memory may still grow to the cap, not past it.
        assert!(limiter.memory_growing(40 * MIB, 64 * MIB, None).unwrap());
        assert!(!limiter.memory_growing(0, MIB, None).unwrap());
    }
}
