//! Install, upgrade, uninstall, enable, disable.
//!
//! Install and upgrade run in service mode, journaled: claim the plugin in
//! the journal, switch service mode on and wait for calls to drain, back up
//! the plugin's storage, run its `install` or `migrate` export, then switch
//! everything over in one transaction. Any failure, or a crash, restores the
//! backup and keeps the previous version serving.

use semver::Version;
use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use super::{Actor, Admin, AdminError, backup, journal, packages, publishers, service_mode};
use crate::db::{Database, format_millis, now_millis};
use crate::packages::host_tasks;
use crate::packages::manifest::Manifest;
use crate::runtime::CallContext;

/// Modules of the host itself that a manifest may `require`.
pub fn host_modules() -> Vec<(&'static str, Version)> {
    let host = Version::parse(env!("CARGO_PKG_VERSION")).unwrap_or_else(|_| Version::new(0, 0, 0));
    let settlements =
        Version::parse(crate::settlements::VERSION).unwrap_or_else(|_| Version::new(0, 0, 0));
    vec![("h2h", host), ("settlements", settlements)]
}

/// An installed plugin, as listed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Installed {
    /// Plugin id.
    pub plugin: String,
    /// Installed version.
    pub version: String,
    /// Whether calls reach it.
    pub enabled: bool,
    /// When it was first installed.
    pub installed_at: String,
    /// When its version or state last changed.
    pub updated_at: String,
    /// The newest uploaded version, if newer than the installed one.
    pub upgrade_available: Option<String>,
}

/// What an install or upgrade did.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct InstallReport {
    /// Plugin id.
    pub plugin: String,
    /// The version before (upgrade), none for an install.
    pub from: Option<String>,
    /// The version now installed.
    pub to: String,
    /// Company settings the plugin declares.
    pub settings: Vec<String>,
    /// Permissions it defines for ERP users.
    pub permissions: Vec<String>,
    /// Its scheduled tasks with their cron expressions.
    pub tasks: Vec<String>,
    /// Last valid day of the license it runs under.
    pub license_expires: String,
}

/// The installed version of `plugin`, if any.
pub(crate) async fn installed_version(
    db: &Database,
    plugin: &str,
) -> Result<Option<Version>, AdminError> {
    let row = sqlx::query("SELECT version FROM installations WHERE plugin_id = $1")
        .bind(plugin)
        .fetch_optional(db.pool())
        .await?;
    row.map(|row| {
        let text: String = row.try_get("version")?;
        Version::parse(&text)
            .map_err(|e| AdminError::Corrupt(format!("{plugin} version {text}: {e}")))
    })
    .transpose()
}

/// Every installed plugin.
pub(crate) async fn list(db: &Database) -> Result<Vec<Installed>, AdminError> {
    let rows = sqlx::query(
        "SELECT plugin_id, version, enabled, installed_at, updated_at FROM installations ORDER BY plugin_id",
    )
    .fetch_all(db.pool())
    .await?;
    let mut list = Vec::with_capacity(rows.len());
    for row in &rows {
        let plugin: String = row.try_get("plugin_id")?;
        let version: String = row.try_get("version")?;
        let newest = packages::versions(db, &plugin).await?.pop();
        let upgrade_available = match (newest, Version::parse(&version)) {
            (Some(newest), Ok(current)) if newest > current => Some(newest.to_string()),
            _ => None,
        };
        list.push(Installed {
            plugin,
            version,
            enabled: row.try_get::<i64, _>("enabled")? != 0,
            installed_at: format_millis(row.try_get("installed_at")?),
            updated_at: format_millis(row.try_get("updated_at")?),
            upgrade_available,
        });
    }
    Ok(list)
}

/// Checks each `requires` entry against installed plugins and host modules.
async fn check_requires(db: &Database, manifest: &Manifest) -> Result<(), AdminError> {
    let modules = host_modules();
    for (name, range) in &manifest.requires {
        let found = match modules.iter().find(|(module, _)| module == name) {
            Some((_, version)) => Some(version.clone()),
            None => installed_version(db, name).await?,
        };
        match found {
            Some(version) if range.matches(&version) => {}
            other => {
                return Err(AdminError::Requirement {
                    plugin: manifest.id.clone(),
                    requirement: format!("{name} {range}"),
                    found: other.map_or_else(
                        || format!("{name} is not installed"),
                        |v| format!("{name} {v} is installed"),
                    ),
                });
            }
        }
    }
    Ok(())
}

/// Which operation, and from which version.
#[derive(Debug, Clone)]
enum Operation {
    Install,
    Upgrade { from: Version },
}

impl Operation {
    fn name(&self) -> &'static str {
        match self {
            Operation::Install => "install",
            Operation::Upgrade { .. } => "upgrade",
        }
    }
}

impl Admin {
    /// Installs `plugin` (the newest uploaded version unless `version`).
    pub async fn install(
        &self,
        actor: &Actor,
        plugin: &str,
        version: Option<Version>,
    ) -> Result<InstallReport, AdminError> {
        let result = self.install_inner(actor, plugin, version).await;
        let target = match &result {
            Ok(report) => format!("{plugin} {}", report.to),
            Err(_) => plugin.to_owned(),
        };
        self.audited(actor, "plugin.install", &target, result, |r| {
            format!("installed {} {}", r.plugin, r.to)
        })
        .await
    }

    async fn install_inner(
        &self,
        actor: &Actor,
        plugin: &str,
        version: Option<Version>,
    ) -> Result<InstallReport, AdminError> {
        journal::recover(&self.db).await?;
        if let Some(installed) = installed_version(&self.db, plugin).await? {
            return Err(AdminError::AlreadyInstalled {
                plugin: plugin.to_owned(),
                version: installed.to_string(),
            });
        }
        let version = self.pick_version(plugin, version).await?;
        self.apply(actor, plugin, version, Operation::Install).await
    }

    /// Upgrades `plugin` to `version` (default: the newest uploaded). A lower
    /// version is refused unless `force`.
    pub async fn upgrade(
        &self,
        actor: &Actor,
        plugin: &str,
        version: Option<Version>,
        force: bool,
    ) -> Result<InstallReport, AdminError> {
        let result = self.upgrade_inner(actor, plugin, version, force).await;
        let target = match &result {
            Ok(report) => format!("{plugin} {}", report.to),
            Err(_) => plugin.to_owned(),
        };
        self.audited(actor, "plugin.upgrade", &target, result, |r| {
            format!(
                "upgraded {} from {} to {}",
                r.plugin,
                r.from.as_deref().unwrap_or("?"),
                r.to
            )
        })
        .await
    }

    async fn upgrade_inner(
        &self,
        actor: &Actor,
        plugin: &str,
        version: Option<Version>,
        force: bool,
    ) -> Result<InstallReport, AdminError> {
        journal::recover(&self.db).await?;
        let from = installed_version(&self.db, plugin)
            .await?
            .ok_or_else(|| AdminError::NotInstalled(plugin.to_owned()))?;
        let to = self.pick_version(plugin, version).await?;
        if to == from {
            return Err(AdminError::SameVersion {
                plugin: plugin.to_owned(),
                version: to.to_string(),
            });
        }
        if to < from && !force {
            return Err(AdminError::Downgrade {
                plugin: plugin.to_owned(),
                from: from.to_string(),
                to: to.to_string(),
            });
        }
        self.apply(actor, plugin, to, Operation::Upgrade { from })
            .await
    }

    async fn pick_version(
        &self,
        plugin: &str,
        version: Option<Version>,
    ) -> Result<Version, AdminError> {
        let uploaded = packages::versions(&self.db, plugin).await?;
        match version {
            Some(wanted) if uploaded.contains(&wanted) => Ok(wanted),
            Some(wanted) => Err(AdminError::NotUploaded {
                plugin: plugin.to_owned(),
                version: Some(wanted.to_string()),
            }),
            None => uploaded
                .last()
                .cloned()
                .ok_or_else(|| AdminError::NotUploaded {
                    plugin: plugin.to_owned(),
                    version: None,
                }),
        }
    }

    /// A package runs only if its signer is the plugin's pinned publisher
    /// (uploads check that too; this catches packages stored before pinning
    /// or before a re-pin), and unsigned only on a development host.
    async fn check_signer(
        &self,
        plugin: &str,
        version: &Version,
        signer: Option<&str>,
    ) -> Result<(), AdminError> {
        if signer.is_none() && !self.settings.allow_untrusted_packages {
            return Err(AdminError::UnsignedPackage {
                plugin: plugin.to_owned(),
                version: version.to_string(),
            });
        }
        let pinned = publishers::pinned_key(&self.db, plugin).await?;
        publishers::check_pin(plugin, pinned.as_deref(), signer)
    }

    /// The journaled part shared by install and upgrade.
    async fn apply(
        &self,
        actor: &Actor,
        plugin: &str,
        to: Version,
        operation: Operation,
    ) -> Result<InstallReport, AdminError> {
        let package = crate::catalog::load_package(&self.db, plugin, &to).await?;
        self.check_signer(plugin, &to, package.signer.as_deref())
            .await?;
        let license = crate::catalog::require_license(&self.db, &self.vault, plugin, &to).await?;
        check_requires(&self.db, &package.manifest).await?;
        let from = match &operation {
            Operation::Install => None,
            Operation::Upgrade { from } => Some(from.to_string()),
        };
        journal::begin(
            &self.db,
            plugin,
            operation.name(),
            from.as_deref(),
            &to.to_string(),
            actor,
        )
        .await?;
        let _alive = journal::keep_alive(&self.db, plugin);
        match self
            .run_steps(actor, plugin, &to, &operation, &package)
            .await
        {
            Ok(()) => {
                let report = InstallReport {
                    plugin: plugin.to_owned(),
                    from,
                    to: to.to_string(),
                    settings: package
                        .manifest
                        .settings
                        .iter()
                        .map(|s| s.name.clone())
                        .collect(),
                    permissions: package
                        .manifest
                        .permissions
                        .iter()
                        .map(|p| p.name.clone())
                        .collect(),
                    tasks: package
                        .manifest
                        .tasks
                        .iter()
                        .map(|t| format!("{} ({})", t.name, t.cron))
                        .collect(),
                    license_expires: h2h_license::format_date(license.license().expires),
                };
                journal::release(plugin);
                Ok(report)
            }
            Err(error) => {
                if let Err(rollback) = self.roll_back(plugin).await {
                    // The journal row stays; the next start finishes the job.
                    tracing::error!(%plugin, error = %rollback, "rollback failed; the next start retries it");
                }
                journal::release(plugin);
                Err(error)
            }
        }
    }

    async fn roll_back(&self, plugin: &str) -> Result<(), AdminError> {
        let entry = journal_entry(&self.db, plugin).await?;
        journal::roll_back(&self.db, &entry).await
    }

    async fn run_steps(
        &self,
        actor: &Actor,
        plugin: &str,
        to: &Version,
        operation: &Operation,
        package: &crate::catalog::StoredPackage,
    ) -> Result<(), AdminError> {
        let reason = format!("{} {plugin} {to}", operation.name());
        if service_mode::enter(&self.db, &reason, actor.as_str()).await? {
            journal::service_mode_set(&self.db, plugin).await?;
        }
        let generation = crate::catalog::service_mode::status(&self.db)
            .await?
            .generation;
        super::processes::wait_for_drain(&self.db, generation, self.settings.drain_timeout).await?;

        journal::step(&self.db, plugin, journal::STEP_BACKUP).await?;
        let mut tx = self.db.begin().await?;
        backup::take(&mut tx, plugin).await?;
        tx.commit().await?;
        journal::step(&self.db, plugin, journal::STEP_LIFECYCLE).await?;

        let grants = crate::connectors::grants_for(&self.db, &package.manifest, None).await?;
        let loaded = self.runtime.load(plugin, &package.wasm, grants)?;
        let ctx = CallContext::default();
        let (step, result) = match operation {
            Operation::Install => ("install", loaded.install(ctx).await),
            Operation::Upgrade { from } => {
                ("migrate", loaded.migrate(ctx, &from.to_string()).await)
            }
        };
        result.map_err(|error| AdminError::Lifecycle {
            plugin: plugin.to_owned(),
            version: to.to_string(),
            step,
            error: Box::new(error),
        })?;
        self.commit(plugin, to, &package.manifest).await
    }

    /// Switches to the new version in one transaction.
    async fn commit(
        &self,
        plugin: &str,
        to: &Version,
        manifest: &Manifest,
    ) -> Result<(), AdminError> {
        // The row must still be ours: recovery elsewhere may have closed it.
        journal_entry(&self.db, plugin).await?;
        let now = now_millis();
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO installations (plugin_id, version, enabled, installed_at, updated_at) \
             VALUES ($1, $2, 1, $3, $3) ON CONFLICT (plugin_id) DO UPDATE SET \
             version = excluded.version, updated_at = excluded.updated_at",
        )
        .bind(plugin)
        .bind(to.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        declare(&mut tx, manifest).await?;
        backup::discard(&mut tx, plugin).await?;
        journal::close(&mut tx, plugin).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes `plugin`; its stored data stays unless `purge`.
    pub async fn uninstall(
        &self,
        actor: &Actor,
        plugin: &str,
        purge: bool,
    ) -> Result<(), AdminError> {
        let result = self.uninstall_inner(plugin, purge).await;
        let detail = if purge {
            "uninstalled, data purged"
        } else {
            "uninstalled, data kept"
        };
        self.audited(actor, "plugin.uninstall", plugin, result, |()| {
            detail.to_owned()
        })
        .await
    }

    async fn uninstall_inner(&self, plugin: &str, purge: bool) -> Result<(), AdminError> {
        journal::recover(&self.db).await?;
        if installed_version(&self.db, plugin).await?.is_none() {
            return Err(AdminError::NotInstalled(plugin.to_owned()));
        }
        for other in list(&self.db).await? {
            if other.plugin == plugin {
                continue;
            }
            let Ok(version) = Version::parse(&other.version) else {
                continue;
            };
            let manifest = crate::catalog::load_package(&self.db, &other.plugin, &version)
                .await?
                .manifest;
            if let Some(range) = manifest.requires.get(plugin) {
                return Err(AdminError::Requirement {
                    plugin: other.plugin.clone(),
                    requirement: format!("{plugin} {range}"),
                    found: format!(
                        "uninstalling {plugin} would break it; uninstall {} first",
                        other.plugin
                    ),
                });
            }
        }
        let mut tx = self.db.begin().await?;
        for table in [
            "installations",
            "plugin_settings",
            "plugin_permissions",
            "plugin_tasks",
        ] {
            sqlx::query(&format!("DELETE FROM {table} WHERE plugin_id = $1"))
                .bind(plugin)
                .execute(&mut *tx)
                .await?;
        }
        if purge {
            for query in [
                "DELETE FROM plugin_kv WHERE plugin_id = $1",
                "DELETE FROM company_settings WHERE plugin_id = $1",
                "DELETE FROM plugin_grants WHERE plugin_id = $1",
                "DELETE FROM vault_entries WHERE owner = $1 AND kind <> 'pin'",
            ] {
                sqlx::query(query).bind(plugin).execute(&mut *tx).await?;
            }
            backup::discard(&mut tx, plugin).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Lets calls reach `plugin` again.
    pub async fn enable(&self, actor: &Actor, plugin: &str) -> Result<(), AdminError> {
        let result = self.set_enabled(plugin, true).await;
        self.audited(actor, "plugin.enable", plugin, result, |()| {
            "enabled".to_owned()
        })
        .await
    }

    /// Stops calls from reaching `plugin`; its data and settings stay.
    pub async fn disable(&self, actor: &Actor, plugin: &str) -> Result<(), AdminError> {
        let result = self.set_enabled(plugin, false).await;
        self.audited(actor, "plugin.disable", plugin, result, |()| {
            "disabled".to_owned()
        })
        .await
    }

    async fn set_enabled(&self, plugin: &str, enabled: bool) -> Result<(), AdminError> {
        let changed = sqlx::query(
            "UPDATE installations SET enabled = $1, updated_at = $2 WHERE plugin_id = $3",
        )
        .bind(i64::from(enabled))
        .bind(now_millis())
        .bind(plugin)
        .execute(self.db.pool())
        .await?;
        if changed.rows_affected() == 0 {
            return Err(AdminError::NotInstalled(plugin.to_owned()));
        }
        Ok(())
    }
}

async fn journal_entry(db: &Database, plugin: &str) -> Result<journal::Entry, AdminError> {
    journal::find(db, plugin)
        .await?
        .ok_or_else(|| AdminError::Corrupt(format!("the journal row of {plugin} is missing")))
}

/// Replaces what the plugin declares (settings, permissions, tasks). A task
/// keeps the cron and pause state the admin gave it while its default is
/// unchanged.
async fn declare(
    tx: &mut Transaction<'static, Any>,
    manifest: &Manifest,
) -> Result<(), AdminError> {
    let plugin = &manifest.id;
    for table in ["plugin_settings", "plugin_permissions"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE plugin_id = $1"))
            .bind(plugin)
            .execute(&mut **tx)
            .await?;
    }
    for setting in &manifest.settings {
        sqlx::query(
            "INSERT INTO plugin_settings (plugin_id, name, kind, description, required) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(plugin)
        .bind(&setting.name)
        .bind(setting.kind.to_string())
        .bind(&setting.description)
        .bind(i64::from(setting.required))
        .execute(&mut **tx)
        .await?;
    }
    for permission in &manifest.permissions {
        sqlx::query(
            "INSERT INTO plugin_permissions (plugin_id, name, description, operations) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(plugin)
        .bind(&permission.name)
        .bind(&permission.description)
        .bind(permission.operations.join(" "))
        .execute(&mut **tx)
        .await?;
    }
    let mut tasks: Vec<(&str, &str, &str, &str)> = manifest
        .tasks
        .iter()
        .map(|t| {
            (
                t.name.as_str(),
                t.cron.as_str(),
                t.description.as_str(),
                "plugin",
            )
        })
        .collect();
    tasks.extend(host_tasks::for_world(manifest.world).map(|t| {
        let cron = manifest
            .host_task_crons
            .get(t.name)
            .map_or(t.default_cron, String::as_str);
        (t.name, cron, t.description, "host")
    }));
    let names: Vec<&str> = tasks.iter().map(|t| t.0).collect();
    let existing = sqlx::query("SELECT name FROM plugin_tasks WHERE plugin_id = $1")
        .bind(plugin)
        .fetch_all(&mut **tx)
        .await?;
    for row in &existing {
        let name: String = row.try_get("name")?;
        if !names.contains(&name.as_str()) {
            sqlx::query("DELETE FROM plugin_tasks WHERE plugin_id = $1 AND name = $2")
                .bind(plugin)
                .bind(&name)
                .execute(&mut **tx)
                .await?;
        }
    }
    for (name, cron, description, runner) in tasks {
        sqlx::query(
            "INSERT INTO plugin_tasks (plugin_id, name, cron, default_cron, description, paused, runner) \
             VALUES ($1, $2, $3, $3, $4, 0, $5) ON CONFLICT (plugin_id, name) DO UPDATE SET \
             cron = CASE WHEN plugin_tasks.default_cron = excluded.default_cron THEN plugin_tasks.cron ELSE excluded.cron END, \
             default_cron = excluded.default_cron, description = excluded.description, runner = excluded.runner",
        )
        .bind(plugin)
        .bind(name)
        .bind(cron)
        .bind(description)
        .bind(runner)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
