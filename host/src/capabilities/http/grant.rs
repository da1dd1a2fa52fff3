//! What the admin lets one plugin reach: allowed origins, private hosts,
//! client TLS identities, extra trusted CAs, and limits; plus the state the
//! plugin's calls share (HTTP clients, the concurrency permits).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretBox};
use sha2::Digest;
use tokio::sync::Semaphore;

use super::client::{self, ClientKey};
use super::origin::AllowedOrigin;

/// Limits on one plugin's outgoing HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpLimits {
    /// Time allowed for a request that names none (never beyond the call's
    /// deadline).
    pub default_timeout: Duration,
    /// Largest response body accepted, in bytes; more is `too-large`.
    pub max_response_bytes: u64,
    /// Requests of one plugin in flight at once; more wait for a slot.
    pub max_concurrent: usize,
    /// Redirects followed for one request.
    pub max_redirects: u32,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            default_timeout: Duration::from_secs(30),
            max_response_bytes: 16 << 20,
            max_concurrent: 8,
            max_redirects: 5,
        }
    }
}

/// Why a grant could not be configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    /// A client identity's PEM holds no usable certificate and key.
    #[error("client identity: {0}")]
    Identity(String),
    /// The extra CA bundle holds no usable certificate.
    #[error("extra CA certificates: {0}")]
    ExtraCa(String),
    /// A private host is not written `host:port`.
    #[error("private host `{0}` must be written host:port (port 1-65535)")]
    PrivateHost(String),
}

/// A client TLS identity: a certificate chain and its private key, both
/// PEM. The key stays in a [`SecretBox`] (wiped on drop) and never prints.
#[derive(Clone)]
pub struct ClientIdentity {
    pem: Arc<SecretBox<Vec<u8>>>,
    certificates: usize,
    /// SHA-256 of the PEM: which pooled client serves this identity.
    fingerprint: [u8; 32],
}

impl ClientIdentity {
    /// An identity from a PEM certificate chain (leaf first) and a PEM
    /// private key (PKCS#8, PKCS#1 or SEC1). Checked here, so a broken
    /// identity is refused when configured, not on a plugin's first request.
    pub fn from_pem(cert_chain: &[u8], key: &[u8]) -> Result<Self, GrantError> {
        let invalid = |reason: String| GrantError::Identity(reason);
        let certificates = reqwest::Certificate::from_pem_bundle(cert_chain)
            .map_err(|e| invalid(format!("the certificate chain is not PEM: {}", chain(&e))))?
            .len();
        if certificates == 0 {
            return Err(invalid(
                "the certificate chain holds no certificate".to_owned(),
            ));
        }
        let mut pem = Vec::with_capacity(cert_chain.len() + key.len() + 1);
        pem.extend_from_slice(key);
        pem.push(b'\n');
        pem.extend_from_slice(cert_chain);
        let pem = SecretBox::new(Box::new(pem));
        reqwest::Identity::from_pem(pem.expose_secret())
            .map_err(|e| invalid(format!("no usable private key: {}", chain(&e))))?;
        let fingerprint = sha2::Sha256::digest(pem.expose_secret()).into();
        Ok(Self {
            pem: Arc::new(pem),
            certificates,
            fingerprint,
        })
    }

    pub(super) fn fingerprint(&self) -> [u8; 32] {
        self.fingerprint
    }

    pub(super) fn to_reqwest(&self) -> Result<reqwest::Identity, reqwest::Error> {
        reqwest::Identity::from_pem(self.pem.expose_secret())
    }
}

impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("certificates", &self.certificates)
            .field("key", &"[REDACTED]")
            .finish()
    }
}

/// What one plugin may reach over HTTP. The default denies everything.
///
/// Cheap to clone: clones share the plugin's HTTP clients (one per client
/// identity, built on first use) and its concurrency permits, so give each
/// plugin its own grant. Every setter starts that shared state afresh.
#[derive(Clone)]
pub struct HttpGrant {
    origins: Vec<AllowedOrigin>,
    private_hosts: Vec<String>,
    identities: HashMap<String, ClientIdentity>,
    extra_ca: Option<Arc<[u8]>>,
    limits: HttpLimits,
    shared: Arc<Shared>,
}

/// What the calls of one plugin share.
struct Shared {
    permits: Arc<Semaphore>,
    clients: Mutex<HashMap<ClientKey, reqwest::Client>>,
}

impl Shared {
    fn new(limits: &HttpLimits) -> Arc<Self> {
        Arc::new(Self {
            permits: Arc::new(Semaphore::new(limits.max_concurrent)),
            clients: Mutex::new(HashMap::new()),
        })
    }
}

impl Default for HttpGrant {
    fn default() -> Self {
        Self::new(Vec::new())
    }
}

impl fmt::Debug for HttpGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut identities: Vec<&String> = self.identities.keys().collect();
        identities.sort();
        f.debug_struct("HttpGrant")
            .field("origins", &self.origins_text())
            .field("private_hosts", &self.private_hosts)
            .field("identities", &identities)
            .field("extra_ca", &self.extra_ca.is_some())
            .field("limits", &self.limits)
            .finish()
    }
}

impl HttpGrant {
    /// A grant for `origins`: the manifest's allow-list intersected with
    /// what the admin granted (the caller computes it). No private hosts,
    /// identities or extra CAs; default limits.
    pub fn new(origins: Vec<AllowedOrigin>) -> Self {
        let limits = HttpLimits::default();
        Self {
            origins,
            private_hosts: Vec::new(),
            identities: HashMap::new(),
            extra_ca: None,
            shared: Shared::new(&limits),
            limits,
        }
    }

    /// Also lets `host:port` (exactly; `[::1]:8443` for IPv6) resolve to
    /// loopback, private or link-local addresses: a test server, or a bank's
    /// on-premise gateway. It must still be in the allow-list.
    pub fn with_private_host(mut self, host_port: &str) -> Result<Self, GrantError> {
        let valid = host_port.rsplit_once(':').is_some_and(|(host, port)| {
            !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p != 0)
        });
        if !valid {
            return Err(GrantError::PrivateHost(host_port.to_owned()));
        }
        self.private_hosts.push(host_port.to_ascii_lowercase());
        Ok(self.fresh())
    }

    /// Adds the client TLS identity a request selects with
    /// `client-certificate: name`.
    pub fn with_identity(mut self, name: impl Into<String>, identity: ClientIdentity) -> Self {
        self.identities.insert(name.into(), identity);
        self.fresh()
    }

    /// Also trusts the CA certificates of a PEM bundle (a bank's own CA),
    /// besides the built-in web roots.
    pub fn with_extra_ca(mut self, pem: &[u8]) -> Result<Self, GrantError> {
        let found = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| GrantError::ExtraCa(chain(&e)))?;
        if found.is_empty() {
            return Err(GrantError::ExtraCa("no certificate in the PEM".to_owned()));
        }
        self.extra_ca = Some(pem.into());
        Ok(self.fresh())
    }

    /// Replaces the limits.
    pub fn with_limits(mut self, limits: HttpLimits) -> Self {
        self.limits = limits;
        self.fresh()
    }

    /// The allowed origins.
    pub fn origins(&self) -> &[AllowedOrigin] {
        &self.origins
    }

    /// The `host:port`s allowed to resolve to non-public addresses.
    pub fn private_hosts(&self) -> &[String] {
        &self.private_hosts
    }

    /// The identity of that name the grant itself holds.
    pub(super) fn identity(&self, name: &str) -> Option<&ClientIdentity> {
        self.identities.get(name)
    }

    /// The limits.
    pub fn limits(&self) -> &HttpLimits {
        &self.limits
    }

    fn fresh(mut self) -> Self {
        self.shared = Shared::new(&self.limits);
        self
    }

    /// The allow-list as people write it: `https://bank.example,
    /// https://*.bank.example:8443` (default ports left out).
    pub(super) fn origins_text(&self) -> String {
        let shown: Vec<String> = self
            .origins
            .iter()
            .map(|o| {
                let default = if o.scheme == "https" { 443 } else { 80 };
                let wildcard = if o.any_subdomain { "*." } else { "" };
                if o.port == default {
                    format!("{}://{wildcard}{}", o.scheme, o.host)
                } else {
                    format!("{}://{wildcard}{}:{}", o.scheme, o.host, o.port)
                }
            })
            .collect();
        shown.join(", ")
    }

    /// Whether `scheme://host:port` is in the allow-list.
    pub(super) fn admits(&self, scheme: &str, host: &str, port: u16) -> bool {
        self.origins.iter().any(|o| o.admits(scheme, host, port))
    }

    /// Whether `host_port` (lowercase `host:port`) may be non-public.
    pub(super) fn is_private_host(&self, host_port: &str) -> bool {
        self.private_hosts.iter().any(|h| h == host_port)
    }

    pub(super) fn permits(&self) -> Arc<Semaphore> {
        self.shared.permits.clone()
    }

    /// The client for an identity (none: no client certificate) and address
    /// policy, built on first use and kept for the plugin's later calls.
    pub(super) fn client(
        &self,
        identity: Option<&ClientIdentity>,
        private_ok: bool,
    ) -> Result<reqwest::Client, String> {
        let key = ClientKey {
            identity: identity.map(ClientIdentity::fingerprint),
            private_ok,
        };
        let mut clients = self
            .shared
            .clients
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(client) = clients.get(&key) {
            return Ok(client.clone());
        }
        let client = client::build(identity, self.extra_ca.as_deref(), private_ok)?;
        clients.insert(key, client.clone());
        Ok(client)
    }
}

/// An error and its causes, `: `-separated.
pub(super) fn chain(error: &dyn std::error::Error) -> String {
    with_causes(error.to_string(), error.source())
}

/// `text`, then each cause in `source`'s chain that `text` does not
/// already end with, `: `-separated.
pub(super) fn with_causes(
    mut text: String,
    mut source: Option<&(dyn std::error::Error + 'static)>,
) -> String {
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
