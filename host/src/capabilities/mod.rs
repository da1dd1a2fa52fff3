//! What the host lends plugins: one module per WIT interface, each the same
//! shape: a per-call context implementing the generated `Host` trait, the
//! grant it checks, and an `add_to_linker`. Adding a capability means adding a
//! module here and a field to [`crate::runtime::HostState`].

pub mod config;
pub mod http;
pub mod log;
pub mod signing;
pub mod storage;

use wasmtime::component::Linker;

use crate::runtime::HostState;

/// What the manifest declares and the admin granted one plugin.
#[derive(Debug, Clone, Default)]
pub struct Grants {
    /// Outgoing HTTP.
    pub http: http::HttpGrant,
    /// Key-value storage.
    pub storage: storage::StorageGrant,
    /// PKCS#11 signing.
    pub signing: signing::SigningGrant,
}

pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    http::add_to_linker(linker, |state| &mut state.http)?;
    storage::add_to_linker(linker, |state| &mut state.storage)?;
    config::add_to_linker(linker, |state| &mut state.config)?;
    signing::add_to_linker(linker, |state| &mut state.signing)?;
    log::add_to_linker(linker, |state| &mut state.log)?;
    Ok(())
}
