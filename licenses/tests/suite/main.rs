//! The license crate's integration tests, one binary: the file format, the
//! ordered verification, and the vendor CLI.

mod common;

mod cli;
mod format;
mod verify;
