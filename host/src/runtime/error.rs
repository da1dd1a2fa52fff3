//! Typed errors of loading and calling plugins. Each names the plugin and,
//! for calls, the export, so an operator can tell what failed where.

use std::time::Duration;

use super::model::ConnectorError;

/// Why a component could not be turned into a runnable plugin.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The bytes are not a valid WebAssembly component.
    #[error("plugin `{plugin}`: not a valid WebAssembly component: {reason}")]
    Compile {
        /// Plugin id.
        plugin: String,
        /// What wasmtime objected to.
        reason: String,
    },
    /// The component exports neither connector interface of a supported
    /// contract version.
    #[error(
        "plugin `{plugin}`: exports neither `h2h:connector/bank` nor `h2h:connector/pos` of contract 1.x (it exports: {exports})"
    )]
    UnknownWorld {
        /// Plugin id.
        plugin: String,
        /// The component's exports, comma-separated.
        exports: String,
    },
    /// The component imports something the host does not provide.
    #[error("plugin `{plugin}`: cannot be linked against the host: {reason}")]
    Link {
        /// Plugin id.
        plugin: String,
        /// What is missing or mismatched.
        reason: String,
    },
}

/// Why a call into a plugin failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The plugin ran and returned the contract's error.
    #[error("plugin `{plugin}` {call}: {error}")]
    Connector {
        /// Plugin id.
        plugin: String,
        /// Export called, e.g. `bank.fetch-statement`.
        call: &'static str,
        /// The connector's error.
        error: ConnectorError,
    },
    /// The call ran past its wall-clock deadline and was stopped.
    #[error("plugin `{plugin}` {call}: stopped after exceeding its {limit:?} deadline")]
    DeadlineExceeded {
        /// Plugin id.
        plugin: String,
        /// Export called.
        call: &'static str,
        /// The deadline.
        limit: Duration,
    },
    /// The instance tried to grow its memory past the cap.
    #[error("plugin `{plugin}` {call}: stopped at its memory limit of {limit_bytes} bytes")]
    MemoryLimit {
        /// Plugin id.
        plugin: String,
        /// Export called.
        call: &'static str,
        /// The cap.
        limit_bytes: usize,
    },
    /// The guest exhausted its stack (unbounded recursion).
    #[error("plugin `{plugin}` {call}: stack overflow")]
    StackOverflow {
        /// Plugin id.
        plugin: String,
        /// Export called.
        call: &'static str,
    },
    /// The guest panicked; the message comes from the SDK's panic hook.
    #[error("plugin `{plugin}` {call}: panicked: {message}")]
    Panic {
        /// Plugin id.
        plugin: String,
        /// Export called.
        call: &'static str,
        /// The panic message and location.
        message: String,
    },
    /// The result is larger than the host accepts.
    #[error("plugin `{plugin}` {call}: result exceeds the limit of {limit_bytes} bytes")]
    OutputTooLarge {
        /// Plugin id.
        plugin: String,
        /// Export called.
        call: &'static str,
        /// The cap.
        limit_bytes: usize,
    },
    /// The guest handed the host more than it copies in one crossing.
    #[error(
        "plugin `{plugin}` {call}: handed the host more than {limit_bytes} bytes at once \
         (a host call's arguments or the call's result)"
    )]
    TransferTooLarge {
        /// Plugin id.
        plugin: String,
        /// Export called.
        call: &'static str,
        /// The cap.
        limit_bytes: usize,
    },
    /// Any other trap (unreachable, out-of-bounds access, ...).
    #[error("plugin `{plugin}` {call}: trapped: {reason}")]
    Trap {
        /// Plugin id.
        plugin: String,
        /// Export called.
        call: &'static str,
        /// wasmtime's description of the trap.
        reason: String,
    },
    /// Every instance slot is in use; a retry later will find one.
    #[error("plugin `{plugin}` {call}: no free instance slot, the host is at capacity: {reason}")]
    Busy {
        /// Plugin id.
        plugin: String,
        /// Export called.
        call: &'static str,
        /// wasmtime's explanation.
        reason: String,
    },
    /// The export belongs to the other connector world.
    #[error("plugin `{plugin}` is a {world} connector and has no `{call}`")]
    WrongWorld {
        /// Plugin id.
        plugin: String,
        /// Export asked for.
        call: &'static str,
        /// The plugin's world.
        world: super::plugin::World,
    },
}

impl CallError {
    /// A short name of how the call ended, for metrics.
    pub fn outcome(&self) -> &'static str {
        match self {
            CallError::Connector { .. } => "connector_error",
            CallError::DeadlineExceeded { .. } => "deadline",
            CallError::MemoryLimit { .. } => "memory_limit",
            CallError::StackOverflow { .. } => "stack_overflow",
            CallError::Panic { .. } => "panic",
            CallError::OutputTooLarge { .. } => "output_too_large",
            CallError::TransferTooLarge { .. } => "transfer_too_large",
            CallError::Trap { .. } => "trap",
            CallError::Busy { .. } => "busy",
            CallError::WrongWorld { .. } => "wrong_world",
        }
    }

    /// True when the same call may succeed later: the bank was down, slow or
    /// busy, the call hit its deadline, or the host was at capacity.
    pub fn is_retryable(&self) -> bool {
        match self {
            CallError::Connector { error, .. } => error.is_retryable(),
            CallError::DeadlineExceeded { .. } | CallError::Busy { .. } => true,
            _ => false,
        }
    }
}
