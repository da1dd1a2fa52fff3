//! The company part of a call's context: the plain settings, secrets and
//! client TLS identities a company gave a plugin. Building it opens sealed
//! values (about 180 µs), so it is kept per company and plugin while the
//! database's call-context generation stands. Every change to what it is
//! built from moves the generation (triggers, migration 0024) and every
//! plugin lookup reads it, so a change made by any process, another host or
//! the CLI, is seen on the next call.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use secrecy::SecretString;

use crate::capabilities::http::ClientIdentity;
use crate::catalog::{self, CatalogError, StoredIdentity};
use crate::db::Database;
use crate::runtime::CallContext;
use crate::vault::{EntryKind, VaultStore};

/// What a company gave a plugin, opened.
struct CompanyPart {
    settings: BTreeMap<String, String>,
    secrets: BTreeMap<String, SecretString>,
    tls_identities: BTreeMap<String, ClientIdentity>,
}

struct Kept {
    generation: i64,
    part: Arc<CompanyPart>,
}

/// Company parts built in this process, by (company, plugin).
pub(super) struct Contexts {
    db: Database,
    vault: VaultStore,
    kept: Mutex<HashMap<(String, String), Kept>>,
}

impl Contexts {
    pub(super) fn new(db: Database, vault: VaultStore) -> Self {
        Self {
            db,
            vault,
            kept: Mutex::new(HashMap::new()),
        }
    }

    pub(super) fn vault(&self) -> &VaultStore {
        &self.vault
    }

    /// The context of a call of `plugin` for `company` (none: plugin-wide)
    /// on behalf of `user`, as of call-context generation `generation`.
    pub(super) async fn of(
        &self,
        generation: i64,
        company: Option<&str>,
        plugin: &str,
        user: Option<&str>,
    ) -> Result<CallContext, CatalogError> {
        let mut ctx = CallContext {
            company_id: company.map(str::to_owned),
            user: user.map(str::to_owned),
            ..CallContext::default()
        };
        let Some(company) = company else {
            return Ok(ctx);
        };
        let part = match self.kept(generation, company, plugin) {
            Some(part) => part,
            None => {
                let part = Arc::new(self.build(company, plugin).await?);
                self.keep(generation, company, plugin, part.clone());
                part
            }
        };
        ctx.settings = part.settings.clone();
        ctx.secrets = part.secrets.clone();
        ctx.tls_identities = part.tls_identities.clone();
        Ok(ctx)
    }

    fn kept(&self, generation: i64, company: &str, plugin: &str) -> Option<Arc<CompanyPart>> {
        let kept = self.kept.lock().ok()?;
        kept.get(&(company.to_owned(), plugin.to_owned()))
            .filter(|k| k.generation == generation)
            .map(|k| k.part.clone())
    }

    fn keep(&self, generation: i64, company: &str, plugin: &str, part: Arc<CompanyPart>) {
        let Ok(mut kept) = self.kept.lock() else {
            return;
        };
        // Parts of older generations are never handed out again: drop them,
        // so secrets do not linger in memory.
        if kept.values().any(|k| k.generation < generation) {
            kept.retain(|_, k| k.generation >= generation);
        }
        kept.insert(
            (company.to_owned(), plugin.to_owned()),
            Kept { generation, part },
        );
    }

    async fn build(&self, company: &str, plugin: &str) -> Result<CompanyPart, CatalogError> {
        catalog::require_company(&self.db, company).await?;
        let settings = catalog::company_settings(&self.db, company, plugin).await?;
        let secrets = self.vault.secrets_for(company, plugin).await?;
        let mut tls_identities = BTreeMap::new();
        for (name, stored) in self
            .vault
            .open_all(EntryKind::TlsIdentity, company, plugin)
            .await?
        {
            let identity = serde_json::from_slice::<StoredIdentity>(&stored)
                .ok()
                .and_then(|s| ClientIdentity::from_pem(s.chain.as_bytes(), s.key.as_bytes()).ok());
            match identity {
                Some(identity) => {
                    tls_identities.insert(name, identity);
                }
                None => tracing::error!(company, plugin, name, "a stored TLS identity is unusable"),
            }
        }
        Ok(CompanyPart {
            settings,
            secrets,
            tls_identities,
        })
    }
}
