//! Plugin packages: a zip holding the manifest `h2h.toml`, the component
//! `plugin.wasm`, optional README.md and icon.png, and the publisher's
//! detached Ed25519 signature `signature.toml`. Format: host/docs/package.md.

pub mod archive;
pub mod component;
mod error;
pub mod host_tasks;
pub mod manifest;
mod operation;
pub mod pack;
mod package;
pub mod signature;

/// Allow-list entries, as the HTTP capability checks them.
pub use crate::capabilities::http::origin;
pub use archive::PackageLimits;
pub use error::PackageError;
pub use operation::Operation;
pub use package::{Package, SignaturePolicy, open};
