//! Opening a host: data directory, database (migrated), runtime over the
//! database's plugin storage, admin operations. `h2h serve` and every admin
//! command start here.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::admin::{Admin, AdminError, AdminSettings};
use crate::connectors::Connectors;
use crate::db::{Database, DbError};
use crate::kv::SqlKv;
use crate::runtime::{Limits, Runtime, RuntimeConfig, StartError};
use crate::scheduler::{RunGate, Scheduler};
use crate::sessions::{BankSessions, SessionBot};
use crate::settlements::sync::StatementSync;
use crate::vault::{KeySource, Vault, VaultError};

/// Where the host keeps its state.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// Directory for the SQLite database and the component cache.
    pub data_dir: PathBuf,
    /// Database URL; defaults to SQLite in `data_dir`.
    pub database_url: Option<String>,
    /// Admin policy.
    pub admin: AdminSettings,
    /// Per-call limits.
    pub limits: Limits,
    /// Where the vault key comes from.
    pub vault_key: KeySource,
}

impl HostConfig {
    /// Defaults for `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        let data_dir = data_dir.into();
        Self {
            vault_key: KeySource::from_env_or_file(data_dir.join("vault.key")),
            data_dir,
            database_url: None,
            admin: AdminSettings::default(),
            limits: Limits::default(),
        }
    }

    /// The database URL in effect.
    pub fn url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("h2h.db").display()
            )
        })
    }
}

/// Why the host could not open.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The data directory could not be created.
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The database failed.
    #[error(transparent)]
    Database(#[from] DbError),
    /// The runtime failed to start.
    #[error(transparent)]
    Runtime(#[from] StartError),
    /// The vault key could not be loaded.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// Plugin data stored in clear by an older host could not be sealed.
    #[error("sealing stored plugin data: {0}")]
    SealPluginData(#[from] crate::kv::KvError),
    /// Recovering an interrupted install failed.
    #[error("recovering an interrupted install: {0}")]
    Recover(#[from] AdminError),
    /// The key other databases seal shared sessions to could not be made.
    #[error("publishing this host's session share key: {0}")]
    ShareKey(#[from] crate::sessions::ShareError),
}

/// An opened host.
#[derive(Clone)]
pub struct Host {
    /// The database.
    pub db: Database,
    /// The plugin runtime.
    pub runtime: Arc<Runtime>,
    /// Admin operations.
    pub admin: Admin,
    /// Signing tokens and sessions.
    pub tokens: Arc<crate::pkcs11::TokenService>,
}

impl Host {
    /// Opens everything and rolls back installs whose process died.
    pub async fn open(config: &HostConfig) -> Result<Self, OpenError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| OpenError::DataDir {
            path: config.data_dir.clone(),
            source,
        })?;
        let db = Database::connect(&config.url()).await?;
        let vault = Arc::new(Vault::load(&config.vault_key)?);
        let kv = SqlKv::new(db.clone(), vault.clone());
        kv.seal_stored_values().await?;
        let runtime = Arc::new(Runtime::new(
            RuntimeConfig {
                cache_dir: Some(config.data_dir.join("cache")),
                limits: config.limits.clone(),
            },
            Arc::new(kv),
        )?);
        let tokens = Arc::new(crate::pkcs11::TokenService::new(
            db.clone(),
            Some(vault.clone()),
        ));
        let admin = Admin::new(db.clone(), runtime.clone(), config.admin.clone(), vault);
        admin.recover().await?;
        crate::sessions::ensure_share_key(&db, admin.vault()).await?;
        Ok(Self {
            db,
            runtime,
            admin,
            tokens,
        })
    }

    /// This host's installed plugins and their calls' contexts, lending
    /// the plugins its tokens. A process makes one and shares it, so its
    /// loaded plugins and kept contexts serve every caller.
    pub fn connectors(&self) -> Arc<Connectors> {
        Arc::new(
            Connectors::new(
                self.db.clone(),
                self.runtime.clone(),
                self.admin.vault().clone(),
            )
            .with_tokens(self.tokens.clone()),
        )
    }

    /// A scheduler calling plugins through `connectors`, with the domain's host
    /// tasks registered (the statement sync, the session bot), as `h2h
    /// serve` runs one.
    /// `owner` names the process; see [`Scheduler::new`].
    pub fn scheduler(
        &self,
        connectors: Arc<Connectors>,
        gate: Option<Arc<dyn RunGate>>,
        owner: String,
        stale_after: Duration,
    ) -> Scheduler {
        let sync = StatementSync::new(self.db.clone(), connectors.clone());
        let bot = SessionBot::new(self.sessions(), connectors.clone());
        let payments = crate::terminals::PaymentRefresh::new(self.terminals(), connectors.clone());
        // Half the instance pool for background runs: the ERP's calls keep
        // the other half.
        let runs = usize::try_from(self.runtime.limits().max_concurrent_instances / 2).unwrap_or(1);
        Scheduler::new(self.db.clone(), connectors, gate, owner, stale_after)
            .with_max_concurrent_runs(runs)
            .with_host_task(Arc::new(sync))
            .with_host_task(Arc::new(bot))
            .with_host_task(Arc::new(payments))
    }

    /// The card terminals of this host's database.
    pub fn terminals(&self) -> crate::terminals::Terminals {
        crate::terminals::Terminals::new(self.db.clone(), self.admin.vault().clone())
    }

    /// The bank sessions of this host's database.
    pub fn sessions(&self) -> BankSessions {
        BankSessions::new(
            self.db.clone(),
            self.admin.vault().clone(),
            self.tokens.clone(),
        )
    }
}
