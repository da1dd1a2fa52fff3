//! How much a plugin may store: its manifest's quota within the host's
//! cap, unless the admin set limits of their own, and what it holds now.

use serde::Serialize;
use sqlx::Row;

use super::CatalogError;
use crate::capabilities::storage::{DEFAULT_MAX_KEYS, HOST_MAX_QUOTA_BYTES, StorageGrant};
use crate::db::{Database, format_millis};
use crate::packages::manifest::Manifest;
use crate::vault::SEALING_OVERHEAD;

/// The admin's limits for a plugin, if set.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AdminLimits {
    /// Bytes of keys and values.
    pub quota_bytes: u64,
    /// Keys.
    pub max_keys: u64,
    /// When they were set.
    pub set_at: String,
    /// By whom.
    pub set_by: String,
}

/// The limits the admin set for `plugin`.
pub async fn admin_limits(
    db: &Database,
    plugin: &str,
) -> Result<Option<AdminLimits>, CatalogError> {
    let row = sqlx::query(
        "SELECT quota_bytes, max_keys, set_at, set_by FROM plugin_storage_limits WHERE plugin_id = $1",
    )
    .bind(plugin)
    .fetch_optional(db.pool())
    .await?;
    row.map(|row| {
        Ok(AdminLimits {
            quota_bytes: u64::try_from(row.try_get::<i64, _>("quota_bytes")?).unwrap_or(0),
            max_keys: u64::try_from(row.try_get::<i64, _>("max_keys")?).unwrap_or(0),
            set_at: format_millis(row.try_get("set_at")?),
            set_by: row.try_get("set_by")?,
        })
    })
    .transpose()
}

/// The storage grant of `manifest`'s plugin: the admin's limits if set,
/// else the manifest's quota up to [`HOST_MAX_QUOTA_BYTES`] and
/// [`DEFAULT_MAX_KEYS`] keys.
pub async fn storage_grant_for(
    db: &Database,
    manifest: &Manifest,
) -> Result<StorageGrant, CatalogError> {
    Ok(match admin_limits(db, &manifest.id).await? {
        Some(limits) => StorageGrant {
            quota_bytes: limits.quota_bytes,
            max_keys: limits.max_keys,
        },
        None => StorageGrant {
            quota_bytes: manifest.storage_quota.min(HOST_MAX_QUOTA_BYTES),
            max_keys: DEFAULT_MAX_KEYS,
        },
    })
}

/// What `plugin` holds across its companies: bytes (as the quota counts
/// them) and keys.
pub async fn usage(db: &Database, plugin: &str) -> Result<(u64, u64), CatalogError> {
    let row = sqlx::query("SELECT bytes, keys FROM plugin_kv_usage WHERE plugin_id = $1")
        .bind(plugin)
        .fetch_optional(db.pool())
        .await?;
    let Some(row) = row else {
        return Ok((0, 0));
    };
    let (bytes, keys): (i64, i64) = (row.try_get("bytes")?, row.try_get("keys")?);
    let used = bytes - keys * SEALING_OVERHEAD as i64;
    Ok((
        u64::try_from(used).unwrap_or(0),
        u64::try_from(keys).unwrap_or(0),
    ))
}
