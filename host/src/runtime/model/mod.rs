//! What connector calls say, in plain Rust and independent of any contract
//! version: the host's domain speaks only these types, and each version's
//! adapter (`runtime::v1`, `runtime::v2`) turns its generated types into
//! them and back. They follow the newest contract; where an older version
//! cannot say something, its adapter refuses the call with a clear error
//! rather than drop it.

pub mod bank;
pub mod pos;
mod types;

pub use types::{Busy, ConnectorError, Document, Money, Rejection};
