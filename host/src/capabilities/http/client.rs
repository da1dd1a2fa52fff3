//! Building the reqwest clients a grant shares. A client is built once per
//! (client identity, address policy) and reused for every call of the
//! plugin, so connections and TLS sessions are pooled.

use std::sync::Arc;
use std::time::Duration;

use reqwest::redirect::Policy;

use super::address::GuardedResolver;
use super::grant::{ClientIdentity, chain};

/// Which client a request needs. The grant's extra CAs are the same for all
/// its clients, so they are not part of the key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct ClientKey {
    /// The client identity's fingerprint; none sends no certificate.
    pub(super) identity: Option<[u8; 32]>,
    /// True for the client that serves only `host:port`s the admin allowed
    /// to be non-public: its resolver accepts any address.
    pub(super) private_ok: bool,
}

/// How long an idle pooled connection is kept.
const POOL_IDLE: Duration = Duration::from_secs(30);

/// A client that follows no redirects (the capability re-checks each one),
/// ignores proxy environment variables (a proxy would hide the address
/// actually reached), resolves through [`GuardedResolver`], and trusts the
/// built-in web roots plus `extra_ca`.
pub(super) fn build(
    identity: Option<&ClientIdentity>,
    extra_ca: Option<&[u8]>,
    private_ok: bool,
) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .redirect(Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(GuardedResolver {
            allow_private: private_ok,
        }))
        .pool_idle_timeout(POOL_IDLE)
        .user_agent(concat!("h2h/", env!("CARGO_PKG_VERSION")));
    if let Some(pem) = extra_ca {
        let certificates = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| format!("the extra CA certificates are unusable: {}", chain(&e)))?;
        for certificate in certificates {
            builder = builder.add_root_certificate(certificate);
        }
    }
    if let Some(identity) = identity {
        let identity = identity
            .to_reqwest()
            .map_err(|e| format!("the client identity is unusable: {}", chain(&e)))?;
        builder = builder.identity(identity);
    }
    builder
        .build()
        .map_err(|e| format!("cannot set up the HTTP client: {}", chain(&e)))
}
