//! `h2h:connector/log`: guest log lines into `tracing`, tagged with the
//! plugin, the company and the call, within the plugin's rate; and the
//! panic report the SDK sends before a guest aborts.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::wit::v2::log::{self, Level};

/// One plugin's allowance of log lines across its calls in this process:
/// a token bucket, so a plugin that floods its log cannot fill the host's
/// disk or drown other plugins' lines.
#[derive(Debug)]
pub struct LogBudget {
    per_second: f64,
    burst: f64,
    /// Tokens left, and when they were counted.
    state: Mutex<(f64, Instant)>,
}

impl LogBudget {
    /// `per_second` lines a second after a burst of ten seconds' worth.
    pub fn new(per_second: u32) -> Self {
        let per_second = f64::from(per_second);
        let burst = per_second * 10.0;
        Self {
            per_second,
            burst,
            state: Mutex::new((burst, Instant::now())),
        }
    }

    /// Takes one line's allowance; false when there is none left.
    fn take(&self) -> bool {
        let Ok(mut state) = self.state.lock() else {
            return false;
        };
        let now = Instant::now();
        let (tokens, counted) = *state;
        let tokens =
            (tokens + now.duration_since(counted).as_secs_f64() * self.per_second).min(self.burst);
        if tokens >= 1.0 {
            *state = (tokens - 1.0, now);
            true
        } else {
            *state = (tokens, now);
            false
        }
    }
}

/// Per-call state of the log capability.
#[derive(Debug)]
pub struct LogCtx {
    plugin: Arc<str>,
    company: Option<String>,
    call: &'static str,
    max_line_bytes: usize,
    budget: Arc<LogBudget>,
    /// Lines this call wrote beyond the budget.
    dropped: u64,
    pub(crate) panic_message: Option<String>,
}

impl LogCtx {
    pub(crate) fn new(
        plugin: Arc<str>,
        company: Option<String>,
        call: &'static str,
        max_line_bytes: usize,
        budget: Arc<LogBudget>,
    ) -> Self {
        Self {
            plugin,
            company,
            call,
            max_line_bytes,
            budget,
            dropped: 0,
            panic_message: None,
        }
    }
}

impl Drop for LogCtx {
    /// One line for all a call dropped, so the flood is visible but costs
    /// one line.
    fn drop(&mut self) {
        if self.dropped > 0 {
            tracing::warn!(
                target: "h2h::plugin",
                plugin = &*self.plugin,
                company = self.company.as_deref(),
                call = self.call,
                dropped = self.dropped,
                "{} guest log lines dropped: over the plugin's rate of log lines",
                self.dropped
            );
        }
    }
}

/// Cuts `line` to at most `max` bytes on a character boundary.
pub(crate) fn truncate(mut line: String, max: usize) -> String {
    if line.len() > max {
        let mut end = max;
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        line.truncate(end);
        line.push_str(" [truncated]");
    }
    line
}

impl log::Host for LogCtx {
    async fn write(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        if !self.budget.take() {
            self.dropped += 1;
            return Ok(());
        }
        let message = truncate(message, self.max_line_bytes);
        let (plugin, company, call) = (&*self.plugin, self.company.as_deref(), self.call);
        macro_rules! emit {
            ($level:expr) => {
                tracing::event!(target: "h2h::plugin", $level, plugin, company, call, "{message}")
            };
        }
        match level {
            Level::Trace => emit!(tracing::Level::TRACE),
            Level::Debug => emit!(tracing::Level::DEBUG),
            Level::Info => emit!(tracing::Level::INFO),
            Level::Warn => emit!(tracing::Level::WARN),
            Level::Error => emit!(tracing::Level::ERROR),
        }
        Ok(())
    }

    async fn report_panic(&mut self, message: String) -> wasmtime::Result<()> {
        self.panic_message = Some(truncate(message, self.max_line_bytes));
        Ok(())
    }
}
