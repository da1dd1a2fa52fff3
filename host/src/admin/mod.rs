//! What an admin does to the host: trust publishers, upload packages, add
//! licenses, install and upgrade plugins, service mode, the audit log. The
//! CLI and the admin REST API both call these functions; each records its
//! outcome in the audit log.

mod api_keys;
mod audit;
mod backup;
mod companies;
mod console_sessions;
mod erp_users;
mod error;
mod grants;
mod journal;
mod licenses;
mod lifecycle;
mod packages;
pub(crate) mod processes;
mod publishers;
mod service_mode;
mod settings;
mod storage;
mod tasks;
pub mod tokens;
mod webhooks;

pub use crate::catalog::EXPIRY_WARNING_DAYS;
pub use crate::catalog::ServiceMode;
pub use api_keys::{ApiKey, CreatedKey, Role};
pub(crate) use audit::record as record_audit;
pub use audit::{AuditEntry, AuditFilter};
pub use companies::Company;
pub use console_sessions::{ConsoleSession, SignInRefusal};
pub use erp_users::{ErpUserAccess, ErpUserInfo, GrantedPermission, split_permission};
pub use error::AdminError;
pub use grants::HttpGrantInfo;
pub use journal::{ORPHANED_AFTER, recover};
pub use licenses::LicenseInfo;
pub use lifecycle::{InstallReport, Installed, host_modules};
pub use packages::{PackageInfo, Uploaded};
pub use publishers::{Pin, Publisher};
pub use settings::SettingValue;
pub use storage::StorageReport;
pub use tasks::TaskInfo;
pub use webhooks::{
    MIN_SECRET_LEN, WEBHOOK_SECRET_OWNER, WebhookInfo, check_url, private_literal, redacted_url,
    webhook_secret_entry,
};

use std::sync::Arc;
use std::time::Duration;

use crate::db::Database;
use crate::packages::{PackageLimits, SignaturePolicy};
use crate::runtime::Runtime;
use crate::vault::{Vault, VaultStore};

/// Who performs an admin action, as the audit log names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(String);

impl Actor {
    /// The local command line, run by operating-system user `user`.
    pub fn cli(user: &str) -> Self {
        Self(format!("cli:{user}"))
    }

    /// A REST API key.
    pub fn api(key_name: &str) -> Self {
        Self(format!("api:{key_name}"))
    }

    /// The host itself (automatic recovery, the session bot).
    pub fn host() -> Self {
        Self("host".to_owned())
    }

    /// An ERP user, acting through the ERP API.
    pub fn erp(user: &str) -> Self {
        Self(format!("erp:{user}"))
    }

    /// The name as written to the audit log.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Host-wide admin policy.
#[derive(Debug, Clone)]
pub struct AdminSettings {
    /// Accept unsigned or untrusted packages (development only; logged
    /// loudly).
    pub allow_untrusted_packages: bool,
    /// How long install and upgrade wait for running calls to finish.
    pub drain_timeout: Duration,
    /// Size limits for uploads.
    pub package_limits: PackageLimits,
}

impl Default for AdminSettings {
    fn default() -> Self {
        Self {
            allow_untrusted_packages: false,
            // Every call ends by its 30 s deadline; a little more for slack.
            drain_timeout: Duration::from_secs(35),
            package_limits: PackageLimits::default(),
        }
    }
}

/// The admin operations over one host database.
#[derive(Clone)]
pub struct Admin {
    db: Database,
    runtime: Arc<Runtime>,
    settings: AdminSettings,
    vault: VaultStore,
}

impl Admin {
    /// Admin operations on `db`, running lifecycle steps in `runtime`,
    /// sealing secrets with `vault`.
    pub fn new(
        db: Database,
        runtime: Arc<Runtime>,
        settings: AdminSettings,
        vault: Arc<Vault>,
    ) -> Self {
        if settings.allow_untrusted_packages {
            tracing::warn!(
                "DEVELOPMENT MODE: unsigned and untrusted plugin packages are accepted; never run a production host like this"
            );
        }
        Self {
            vault: VaultStore::new(db.clone(), vault),
            db,
            runtime,
            settings,
        }
    }

    /// The vault's values.
    pub fn vault(&self) -> &VaultStore {
        &self.vault
    }

    /// The database.
    pub fn db(&self) -> &Database {
        &self.db
    }

    async fn audited<T>(
        &self,
        actor: &Actor,
        action: &str,
        target: &str,
        result: Result<T, AdminError>,
        detail: impl FnOnce(&T) -> String,
    ) -> Result<T, AdminError> {
        audit::outcome(&self.db, actor, action, target, result, detail).await
    }

    /// The id licenses for this host are bound to.
    pub async fn installation_id(&self) -> Result<String, AdminError> {
        Ok(crate::catalog::installation_id(&self.db, &self.vault).await?)
    }

    /// Gives this database a new installation id (a copy of another
    /// installation's, or one whose id was edited): licenses for the old id
    /// stop serving; audited with both ids.
    pub async fn renew_installation_id(&self, actor: &Actor) -> Result<String, AdminError> {
        let result = crate::catalog::renew_installation_id(&self.db, &self.vault, actor.as_str())
            .await
            .map_err(AdminError::from);
        let (_, new) = self
            .audited(
                actor,
                "installation.renew",
                "installation-id",
                result,
                |(old, new)| format!("{old} -> {new}"),
            )
            .await?;
        Ok(new)
    }

    /// Trusts a publisher key (armored public key text) under `name`.
    pub async fn trust_publisher(
        &self,
        actor: &Actor,
        armored: &str,
        name: &str,
    ) -> Result<Publisher, AdminError> {
        let result = publishers::trust(&self.db, armored, name, actor.as_str()).await;
        let target = result
            .as_ref()
            .map_or_else(|_| name.to_owned(), |p| p.key_id.clone());
        self.audited(actor, "publisher.trust", &target, result, |p| {
            format!("trusted {} ({})", p.name, p.key_id)
        })
        .await
    }

    /// Trusted publisher keys.
    pub async fn publishers(&self) -> Result<Vec<Publisher>, AdminError> {
        publishers::list(&self.db).await
    }

    /// Hands `plugin` to the publisher key `key_id`: from now on only
    /// packages signed by that key are uploaded, installed or upgraded to.
    pub async fn pin_publisher(
        &self,
        actor: &Actor,
        plugin: &str,
        key_id: &str,
    ) -> Result<Pin, AdminError> {
        let before = publishers::pinned_key(&self.db, plugin).await?;
        let result = publishers::repin(&self.db, plugin, key_id, actor.as_str()).await;
        self.audited(actor, "plugin.publisher-pin", plugin, result, |p| {
            format!(
                "pinned to {} (was {})",
                p.key_id,
                before.as_deref().unwrap_or("unpinned")
            )
        })
        .await
    }

    /// Which publisher key each plugin is pinned to.
    pub async fn publisher_pins(&self) -> Result<Vec<Pin>, AdminError> {
        publishers::pins(&self.db).await
    }

    /// Validates and stores a plugin package.
    pub async fn upload(&self, actor: &Actor, zip: &[u8]) -> Result<Uploaded, AdminError> {
        let policy = if self.settings.allow_untrusted_packages {
            SignaturePolicy::AllowUnsigned
        } else {
            SignaturePolicy::RequireTrusted
        };
        let result = packages::upload(
            &self.db,
            zip,
            policy,
            &self.settings.package_limits,
            actor.as_str(),
        )
        .await;
        let target = result.as_ref().map_or_else(
            |_| format!("{} bytes", zip.len()),
            |u| format!("{} {}", u.package.plugin, u.package.version),
        );
        self.audited(actor, "package.upload", &target, result, |u| {
            if u.stored {
                format!("stored, digest {}", u.package.digest)
            } else {
                "identical package already uploaded".to_owned()
            }
        })
        .await
    }

    /// Uploaded packages.
    pub async fn packages(&self) -> Result<Vec<PackageInfo>, AdminError> {
        packages::list(&self.db).await
    }

    /// Verifies and stores a license file's text.
    pub async fn add_license(&self, actor: &Actor, text: &str) -> Result<LicenseInfo, AdminError> {
        let result = licenses::add(&self.db, &self.vault, text, actor.as_str()).await;
        let target = result.as_ref().map_or_else(
            |_| "license".to_owned(),
            |l| format!("{} for {}", l.id, l.plugin),
        );
        self.audited(actor, "license.add", &target, result, |l| {
            format!("valid through {} ({})", l.expires, l.status)
        })
        .await
    }

    /// Stored licenses.
    pub async fn licenses(&self) -> Result<Vec<LicenseInfo>, AdminError> {
        licenses::list(&self.db).await
    }

    /// Installed plugins.
    pub async fn installed(&self) -> Result<Vec<Installed>, AdminError> {
        lifecycle::list(&self.db).await
    }

    /// Service mode now.
    pub async fn service_mode(&self) -> Result<ServiceMode, AdminError> {
        Ok(crate::catalog::service_mode::status(&self.db).await?)
    }

    /// Switches service mode on for planned maintenance and waits (bounded)
    /// until running calls have finished.
    pub async fn service_mode_on(
        &self,
        actor: &Actor,
        reason: &str,
    ) -> Result<ServiceMode, AdminError> {
        let result = async {
            service_mode::enter(&self.db, reason, actor.as_str()).await?;
            let generation = crate::catalog::service_mode::status(&self.db)
                .await?
                .generation;
            processes::wait_for_drain(&self.db, generation, self.settings.drain_timeout).await?;
            Ok(crate::catalog::service_mode::status(&self.db).await?)
        }
        .await;
        self.audited(actor, "service-mode.on", "host", result, |s| {
            s.reason.clone()
        })
        .await
    }

    /// Switches service mode off.
    pub async fn service_mode_off(&self, actor: &Actor) -> Result<ServiceMode, AdminError> {
        let result = async {
            service_mode::leave(&self.db).await?;
            Ok(crate::catalog::service_mode::status(&self.db).await?)
        }
        .await;
        self.audited(actor, "service-mode.off", "host", result, |_| String::new())
            .await
    }

    /// Audit entries after `after`, at most `limit`.
    pub async fn audit(&self, after: i64, limit: i64) -> Result<Vec<AuditEntry>, AdminError> {
        audit::list(&self.db, after, limit.clamp(1, 10_000)).await
    }

    /// Calls running across the live serving processes (an install waits
    /// for them), as their last heartbeats said.
    pub async fn calls_in_flight(&self) -> Result<i64, AdminError> {
        processes::calls_in_flight(&self.db).await
    }

    /// The newest audit entries `filter` lets through.
    pub async fn audit_newest(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, AdminError> {
        audit::newest(&self.db, filter).await
    }

    /// Rolls back operations whose process died (run at every start).
    pub async fn recover(&self) -> Result<Vec<String>, AdminError> {
        journal::recover(&self.db).await
    }
}
