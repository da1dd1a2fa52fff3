//! `h2h:connector/config`: the call's context, the company settings the
//! manifest declares, and the company's named secrets.

use std::collections::BTreeMap;

use crate::wit::v2::config::{self, Invocation};
use secrecy::{ExposeSecret, SecretString};

/// Per-call state of the config capability.
#[derive(Debug)]
pub struct ConfigCtx {
    invocation: Invocation,
    settings: BTreeMap<String, String>,
    secrets: BTreeMap<String, SecretString>,
}

impl ConfigCtx {
    pub(crate) fn new(
        invocation: Invocation,
        settings: BTreeMap<String, String>,
        secrets: BTreeMap<String, SecretString>,
    ) -> Self {
        Self {
            invocation,
            settings,
            secrets,
        }
    }
}

impl config::Host for ConfigCtx {
    async fn current(&mut self) -> wasmtime::Result<Invocation> {
        Ok(self.invocation.clone())
    }

    async fn setting(&mut self, name: String) -> wasmtime::Result<Option<String>> {
        Ok(self.settings.get(&name).cloned())
    }

    async fn secret(&mut self, name: String) -> wasmtime::Result<Option<String>> {
        Ok(self
            .secrets
            .get(&name)
            .map(|secret| secret.expose_secret().to_owned()))
    }
}
