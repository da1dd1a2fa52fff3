//! `h2h:connector/log`: guest log lines into `tracing`, tagged with the
//! plugin, the company and the call; and the panic report the SDK sends
//! before a guest aborts.

use std::sync::Arc;

use crate::wit::v2::log::{self, Level};

/// Per-call state of the log capability.
#[derive(Debug)]
pub struct LogCtx {
    plugin: Arc<str>,
    company: Option<String>,
    call: &'static str,
    max_line_bytes: usize,
    pub(crate) panic_message: Option<String>,
}

impl LogCtx {
    pub(crate) fn new(
        plugin: Arc<str>,
        company: Option<String>,
        call: &'static str,
        max_line_bytes: usize,
    ) -> Self {
        Self {
            plugin,
            company,
            call,
            max_line_bytes,
            panic_message: None,
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
