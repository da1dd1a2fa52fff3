//! What the host lends plugins: one module per WIT interface, each the same
//! shape: a per-call context implementing the newest contract's generated
//! `Host` trait, and the grant it checks. The runtime links each context
//! under every contract version it serves (`runtime::linker`), older
//! versions through their adapter.

pub mod config;
pub mod http;
pub mod log;
pub mod signing;
pub mod storage;

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
