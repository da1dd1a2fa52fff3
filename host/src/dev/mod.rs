//! Development tooling shared by `h2h dev up` and the demo: a directory in
//! the data dir keeping a development publisher key and an ERP key's
//! secret (owner-only files), and a connector crate delivered the way an
//! admin delivers one (pack and sign, upload, license, install or upgrade),
//! each step looking at what is there first so a second run reuses it.
//! Never for production hosts: the key is made on the spot and trusted.
//! And the conformance suite a connector author runs against their bank.

pub mod conformance;
mod deliver;
mod dir;

pub use deliver::{Delivered, Delivery, deliver, ensure_key, key_file};
pub use dir::DevDir;

use std::path::PathBuf;

use crate::admin::AdminError;

/// Why a development step failed.
#[derive(Debug, thiserror::Error)]
pub enum DevError {
    /// A file of the development directory.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The development key.
    #[error("the development key: {0}")]
    Key(#[from] h2h_license::KeyError),
    /// Issuing the development license.
    #[error("issuing the development license: {0}")]
    License(#[from] h2h_license::IssueError),
    /// Building or packing the crate.
    #[error(transparent)]
    Pack(#[from] crate::packages::pack::PackError),
    /// An admin step (upload, install, ...).
    #[error(transparent)]
    Admin(#[from] AdminError),
    /// The upload is refused: another build already holds this version.
    #[error(
        "{0}\n\nThe connector's code or manifest changed since this data directory got \
         that version (the bank's address is part of the package too). The host never \
         replaces an uploaded version: bump `version` in h2h.toml, or start afresh with \
         another --data-dir."
    )]
    VersionTaken(AdminError),
}
