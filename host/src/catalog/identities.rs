//! How a company's client TLS identity is kept in the vault.

use serde::{Deserialize, Serialize};

/// A TLS identity as sealed in the vault (kind `tls-identity`): the PEM
/// certificate chain and the PEM private key.
#[derive(Serialize, Deserialize)]
pub struct StoredIdentity {
    /// Certificate chain, leaf first.
    pub chain: String,
    /// Private key.
    pub key: String,
}
