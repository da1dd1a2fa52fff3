//! The plugins a serving host calls: the installed, enabled version of each,
//! loaded once (compiled component from the cache, pre-linked) and reloaded
//! when an admin installs another version. A plugin is only handed out with
//! a license valid today.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{NaiveDate, Utc};
use semver::Version;
use sqlx::Row;

use crate::admin::{self, AdminError};
use crate::capabilities::Grants;
use crate::capabilities::storage::StorageGrant;
use crate::db::Database;
use crate::packages::manifest::Manifest;
use crate::runtime::{Plugin, Runtime};

/// What the host lends a plugin: what its manifest declares. (Admin
/// narrowing of grants comes with the capabilities work.)
pub fn grants_for(manifest: &Manifest) -> Grants {
    Grants {
        storage: StorageGrant {
            quota_bytes: manifest.storage_quota,
        },
        ..Grants::default()
    }
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
    /// Installed, but with no valid license today, or not loadable.
    #[error(transparent)]
    Admin(#[from] AdminError),
}

impl From<sqlx::Error> for UnavailableError {
    fn from(e: sqlx::Error) -> Self {
        UnavailableError::Admin(e.into())
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
}

/// Loaded plugins of this process.
pub struct Registry {
    db: Database,
    runtime: Arc<Runtime>,
    loaded: Mutex<HashMap<String, Loaded>>,
}

impl Registry {
    /// An empty registry over `db`.
    pub fn new(db: Database, runtime: Arc<Runtime>) -> Self {
        Self {
            db,
            runtime,
            loaded: Mutex::new(HashMap::new()),
        }
    }

    fn cached(&self, plugin: &str) -> Option<Loaded> {
        self.loaded.lock().ok()?.get(plugin).cloned()
    }

    /// The installed, enabled, licensed version of `plugin`, ready to call.
    pub async fn get(&self, plugin: &str) -> Result<Loaded, UnavailableError> {
        let row = sqlx::query("SELECT version, enabled FROM installations WHERE plugin_id = $1")
            .bind(plugin)
            .fetch_optional(self.db.pool())
            .await?
            .ok_or_else(|| UnavailableError::NotInstalled(plugin.to_owned()))?;
        if row.try_get::<i64, _>("enabled")? == 0 {
            return Err(UnavailableError::Disabled(plugin.to_owned()));
        }
        let text: String = row.try_get("version")?;
        let version = Version::parse(&text)
            .map_err(|e| AdminError::Corrupt(format!("{plugin} version {text}: {e}")))?;
        let today = Utc::now().date_naive();
        if let Some(loaded) = self.cached(plugin)
            && loaded.version == version
            && loaded.licensed_on == today
        {
            return Ok(loaded);
        }
        admin::require_license(&self.db, plugin, &version).await?;
        let loaded = match self.cached(plugin).filter(|l| l.version == version) {
            Some(loaded) => Loaded {
                licensed_on: today,
                ..loaded
            },
            None => {
                let package = admin::load_package(&self.db, plugin, &version).await?;
                let component = self
                    .runtime
                    .load(plugin, &package.wasm, grants_for(&package.manifest))
                    .map_err(AdminError::from)?;
                Loaded {
                    version,
                    manifest: Arc::new(package.manifest),
                    plugin: component,
                    licensed_on: today,
                }
            }
        };
        if let Ok(mut map) = self.loaded.lock() {
            map.insert(plugin.to_owned(), loaded.clone());
        }
        Ok(loaded)
    }
}
