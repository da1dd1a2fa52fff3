//! The plugins a serving host calls: the installed, enabled version of each,
//! loaded once (compiled component from the cache, pre-linked) and reloaded
//! when an admin installs another version. A plugin is only handed out with
//! a license valid today.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{NaiveDate, Utc};
use semver::Version;
use sqlx::Row;

use crate::capabilities::Grants;
use crate::capabilities::signing::SigningGrant;
use crate::catalog::{self, CatalogError};
use crate::db::Database;
use crate::packages::manifest::Manifest;
use crate::pkcs11::TokenService;
use crate::runtime::{Plugin, Runtime};
use crate::vault::VaultStore;

/// What the host lends a plugin: what its manifest declares, as the admin
/// narrowed or completed it. Signing needs the host's tokens; without them
/// (lifecycle steps) it is denied.
pub async fn grants_for(
    db: &Database,
    manifest: &Manifest,
    tokens: Option<&Arc<TokenService>>,
) -> Result<Grants, GrantsError> {
    let signing = match tokens {
        Some(tokens) if manifest.signing => {
            SigningGrant::new(tokens.clone(), tokens.granted_tokens(&manifest.id).await?)
        }
        _ => SigningGrant::default(),
    };
    Ok(Grants {
        http: catalog::http_grant_for(db, manifest).await?,
        storage: catalog::storage_grant_for(db, manifest).await?,
        signing,
    })
}

/// Why a plugin's grants cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum GrantsError {
    /// Its HTTP grant cannot be read.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// The PKCS#11 tokens granted to it cannot be read.
    #[error(transparent)]
    Token(#[from] crate::pkcs11::TokenError),
}

/// Why a plugin cannot be called.
#[derive(Debug, thiserror::Error)]
pub enum UnavailableError {
    /// Not installed on this host.
    #[error("plugin `{0}` is not installed")]
    NotInstalled(String),
    /// Disabled by an admin.
    #[error("plugin `{0}` is disabled")]
    Disabled(String),
    /// Installed, but with no valid license today, or its package or
    /// grants cannot be read.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// Its grants cannot be read.
    #[error(transparent)]
    Grants(#[from] GrantsError),
    /// Its component does not load.
    #[error(transparent)]
    Load(#[from] crate::runtime::LoadError),
}

impl From<sqlx::Error> for UnavailableError {
    fn from(e: sqlx::Error) -> Self {
        UnavailableError::Catalog(e.into())
    }
}

/// One loaded plugin version.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The version.
    pub version: Version,
    /// Its manifest.
    pub manifest: Arc<Manifest>,
    /// Ready to call.
    pub plugin: Plugin,
    licensed_on: NaiveDate,
    /// The installation's change stamp: grants changed when it moves.
    changed_at: i64,
    /// The call-context generation read with the installation, so a
    /// context built for this call matches the database as of this call.
    context_generation: i64,
}

impl Loaded {
    /// The call-context generation at the lookup that handed this out.
    pub fn context_generation(&self) -> i64 {
        self.context_generation
    }
}

/// Loaded plugins of this process.
pub struct Registry {
    db: Database,
    vault: VaultStore,
    runtime: Arc<Runtime>,
    tokens: Option<Arc<TokenService>>,
    loaded: Mutex<HashMap<String, Loaded>>,
}

impl Registry {
    /// An empty registry over `db`.
    pub fn new(db: Database, vault: VaultStore, runtime: Arc<Runtime>) -> Self {
        Self {
            db,
            vault,
            runtime,
            tokens: None,
            loaded: Mutex::new(HashMap::new()),
        }
    }

    /// The runtime plugins are loaded into.
    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    /// Lends plugins that declare signing the tokens an admin granted them.
    pub fn with_tokens(mut self, tokens: Arc<TokenService>) -> Self {
        self.tokens = Some(tokens);
        self
    }

    fn cached(&self, plugin: &str) -> Option<Loaded> {
        self.loaded.lock().ok()?.get(plugin).cloned()
    }

    /// The installed, enabled, licensed version of `plugin`, ready to call.
    pub async fn get(&self, plugin: &str) -> Result<Loaded, UnavailableError> {
        let row = sqlx::query(
            "SELECT version, enabled, updated_at, \
             (SELECT value FROM call_context_generation WHERE id = 1) AS context_generation \
             FROM installations WHERE plugin_id = $1",
        )
        .bind(plugin)
        .fetch_optional(self.db.pool())
        .await?
        .ok_or_else(|| UnavailableError::NotInstalled(plugin.to_owned()))?;
        if row.try_get::<i64, _>("enabled")? == 0 {
            return Err(UnavailableError::Disabled(plugin.to_owned()));
        }
        let changed_at: i64 = row.try_get("updated_at")?;
        let context_generation: i64 = row.try_get("context_generation")?;
        let text: String = row.try_get("version")?;
        let version = Version::parse(&text)
            .map_err(|e| CatalogError::Corrupt(format!("{plugin} version {text}: {e}")))?;
        let today = Utc::now().date_naive();
        if let Some(loaded) = self.cached(plugin)
            && loaded.version == version
            && loaded.changed_at == changed_at
            && loaded.licensed_on == today
        {
            return Ok(Loaded {
                context_generation,
                ..loaded
            });
        }
        catalog::require_license(&self.db, &self.vault, plugin, &version).await?;
        let loaded = match self
            .cached(plugin)
            .filter(|l| l.version == version && l.changed_at == changed_at)
        {
            Some(loaded) => Loaded {
                licensed_on: today,
                context_generation,
                ..loaded
            },
            None => {
                let package = catalog::load_package(&self.db, plugin, &version).await?;
                let grants = grants_for(&self.db, &package.manifest, self.tokens.as_ref()).await?;
                let component = self.runtime.load(plugin, &package.wasm, grants)?;
                Loaded {
                    version,
                    manifest: Arc::new(package.manifest),
                    plugin: component,
                    licensed_on: today,
                    changed_at,
                    context_generation,
                }
            }
        };
        if let Ok(mut map) = self.loaded.lock() {
            map.insert(plugin.to_owned(), loaded.clone());
        }
        Ok(loaded)
    }
}
