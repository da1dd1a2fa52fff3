//! A plugin's storage: what it holds, the limits in force, and the admin's
//! own limits, which take the place of its manifest's quota.

use serde::Serialize;

use super::grants::{installed_manifest, touch};
use super::{Actor, Admin, AdminError};
use crate::catalog::{self, AdminLimits};
use crate::db::now_millis;

/// A plugin's storage, as `h2h plugin storage` shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StorageReport {
    /// Plugin id.
    pub plugin: String,
    /// Bytes it holds (keys and values, as the quota counts them).
    pub used_bytes: u64,
    /// Keys it holds.
    pub used_keys: u64,
    /// The byte quota in force.
    pub quota_bytes: u64,
    /// The key cap in force.
    pub max_keys: u64,
    /// What its manifest asks for.
    pub manifest_quota_bytes: u64,
    /// The admin's limits, if set; they replace the manifest's.
    pub admin_limits: Option<AdminLimits>,
}

impl Admin {
    /// `plugin`'s storage: usage and the limits in force.
    pub async fn storage(&self, plugin: &str) -> Result<StorageReport, AdminError> {
        let manifest = installed_manifest(&self.db, plugin).await?;
        let grant = catalog::storage_grant_for(&self.db, &manifest).await?;
        let (used_bytes, used_keys) = catalog::storage_usage(&self.db, plugin).await?;
        Ok(StorageReport {
            plugin: plugin.to_owned(),
            used_bytes,
            used_keys,
            quota_bytes: grant.quota_bytes,
            max_keys: grant.max_keys,
            manifest_quota_bytes: manifest.storage_quota,
            admin_limits: catalog::admin_limits(&self.db, plugin).await?,
        })
    }

    /// Sets `plugin`'s storage limits (none: back to its manifest's quota
    /// within the host's cap). Serving hosts reload the plugin with them;
    /// data already over a lower limit stays, and only shrinking writes
    /// pass until it is under.
    pub async fn set_storage_limits(
        &self,
        actor: &Actor,
        plugin: &str,
        limits: Option<(u64, u64)>,
    ) -> Result<StorageReport, AdminError> {
        let result = async {
            installed_manifest(&self.db, plugin).await?;
            match limits {
                Some((quota_bytes, max_keys)) => {
                    let (Ok(bytes), Ok(keys)) =
                        (i64::try_from(quota_bytes), i64::try_from(max_keys))
                    else {
                        return Err(AdminError::InvalidInput(
                            "storage limits are at most 2^63 - 1".to_owned(),
                        ));
                    };
                    sqlx::query(
                        "INSERT INTO plugin_storage_limits \
                           (plugin_id, quota_bytes, max_keys, set_at, set_by) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (plugin_id) DO UPDATE SET \
                           quota_bytes = excluded.quota_bytes, max_keys = excluded.max_keys, \
                           set_at = excluded.set_at, set_by = excluded.set_by",
                    )
                    .bind(plugin)
                    .bind(bytes)
                    .bind(keys)
                    .bind(now_millis())
                    .bind(actor.as_str())
                    .execute(self.db.pool())
                    .await?;
                }
                None => {
                    sqlx::query("DELETE FROM plugin_storage_limits WHERE plugin_id = $1")
                        .bind(plugin)
                        .execute(self.db.pool())
                        .await?;
                }
            }
            touch(&self.db, plugin).await?;
            self.storage(plugin).await
        }
        .await;
        self.audited(
            actor,
            "plugin.storage-limits",
            plugin,
            result,
            |r| match &r.admin_limits {
                Some(l) => format!("{} bytes, {} keys", l.quota_bytes, l.max_keys),
                None => format!("manifest quota, {} bytes", r.quota_bytes),
            },
        )
        .await
    }
}
