//! `h2h:connector/signing`: signatures by keys on a PKCS#11 token, made by
//! the host so the PIN and keys never enter the plugin.
//!
//! No token can be registered yet, so every call answers `not-granted`;
//! cryptoki-backed sessions arrive with the capabilities work.

use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker};

use crate::runtime::HostState;
use crate::runtime::bindings::signing::{self, Certificate, Mechanism, SigningError};

/// Whether a plugin may sign. Nothing can be granted yet.
#[derive(Debug, Clone, Default)]
pub struct SigningGrant;

/// Per-call state of the signing capability.
#[derive(Debug)]
pub struct SigningCtx {
    plugin: Arc<str>,
    grant: SigningGrant,
}

impl SigningCtx {
    pub(crate) fn new(plugin: Arc<str>, grant: SigningGrant) -> Self {
        Self { plugin, grant }
    }

    fn denied<T>(&self, what: &str) -> Result<T, SigningError> {
        let SigningGrant = self.grant;
        tracing::warn!(plugin = %self.plugin, what, "signing denied: no grant");
        Err(SigningError::NotGranted)
    }
}

impl signing::Host for SigningCtx {
    async fn list_certificates(
        &mut self,
    ) -> wasmtime::Result<Result<Vec<Certificate>, SigningError>> {
        Ok(self.denied("list-certificates"))
    }

    async fn sign(
        &mut self,
        _key_id: String,
        _mechanism: Mechanism,
        _data: Vec<u8>,
    ) -> wasmtime::Result<Result<Vec<u8>, SigningError>> {
        Ok(self.denied("sign"))
    }
}

pub(crate) fn add_to_linker(
    linker: &mut Linker<HostState>,
    get: fn(&mut HostState) -> &mut SigningCtx,
) -> wasmtime::Result<()> {
    signing::add_to_linker::<HostState, HasSelf<SigningCtx>>(linker, get)
}
