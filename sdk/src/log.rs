//! Logging through the host, which tags lines with the plugin, company and
//! call. Never log secrets.

use crate::bindings::imports::log as wit;

/// Log severity.
pub use wit::Level;

#[doc(hidden)]
pub fn write(level: Level, message: &str) {
    wit::write(level, message);
}

pub(crate) fn report_panic(message: &str) {
    wit::report_panic(message);
}

/// Logs at `trace` level: `trace!("raw answer: {body}")`.
#[macro_export]
macro_rules! trace {
    ($($arg:tt)+) => { $crate::__private::log_write($crate::Level::Trace, &::std::format!($($arg)+)) };
}

/// Logs at `debug` level.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)+) => { $crate::__private::log_write($crate::Level::Debug, &::std::format!($($arg)+)) };
}

/// Logs at `info` level: `info!("fetched {n} transactions")`.
#[macro_export]
macro_rules! info {
    ($($arg:tt)+) => { $crate::__private::log_write($crate::Level::Info, &::std::format!($($arg)+)) };
}

/// Logs at `warn` level.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)+) => { $crate::__private::log_write($crate::Level::Warn, &::std::format!($($arg)+)) };
}

/// Logs at `error` level.
#[macro_export]
macro_rules! error {
    ($($arg:tt)+) => { $crate::__private::log_write($crate::Level::Error, &::std::format!($($arg)+)) };
}
