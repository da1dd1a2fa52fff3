//! The serving path to connectors: the installed version of each plugin,
//! loaded once ([`Registry`]), and the context of each call, built once per
//! company and kept until the database says it changed. The domain
//! (settlements, sessions, terminals) and the scheduler reach plugins only
//! through [`Connectors`].

mod context;
mod registry;

use std::sync::Arc;

pub use registry::{GrantsError, Loaded, Registry, UnavailableError, grants_for};

use crate::catalog::CatalogError;
use crate::db::Database;
use crate::pkcs11::TokenService;
use crate::runtime::{CallContext, Runtime};
use crate::vault::VaultStore;
use context::Contexts;

/// Installed plugins and their calls' contexts, for one host process.
pub struct Connectors {
    registry: Registry,
    contexts: Contexts,
}

impl std::fmt::Debug for Connectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connectors").finish_non_exhaustive()
    }
}

impl Connectors {
    /// The plugins installed in `db`, run by `runtime`, their companies'
    /// secrets opened with `vault`.
    pub fn new(db: Database, runtime: Arc<Runtime>, vault: VaultStore) -> Self {
        Self {
            registry: Registry::new(db.clone(), vault.clone(), runtime),
            contexts: Contexts::new(db, vault),
        }
    }

    /// Lends plugins that declare signing the tokens an admin granted them.
    pub fn with_tokens(mut self, tokens: Arc<TokenService>) -> Self {
        self.registry = self.registry.with_tokens(tokens);
        self
    }

    /// The installed, enabled, licensed version of `plugin`, ready to call.
    pub async fn get(&self, plugin: &str) -> Result<Loaded, UnavailableError> {
        self.registry.get(plugin).await
    }

    /// What this process's plugin calls counted.
    pub fn metrics(&self) -> &Arc<crate::metrics::Metrics> {
        self.registry.runtime().metrics()
    }

    /// The vault companies' secrets are opened with.
    pub fn vault(&self) -> &VaultStore {
        self.contexts.vault()
    }

    /// The context of a call of `loaded` for `company` (none: plugin-wide)
    /// on behalf of `user`: the company's settings, secrets and TLS
    /// identities for the plugin, as of the lookup that gave `loaded`.
    pub async fn context(
        &self,
        loaded: &Loaded,
        company: Option<&str>,
        user: Option<&str>,
    ) -> Result<CallContext, CatalogError> {
        self.contexts
            .of(
                loaded.context_generation(),
                company,
                &loaded.manifest.id,
                user,
            )
            .await
    }
}
