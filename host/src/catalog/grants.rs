//! What an admin changed in a plugin's HTTP grant, applied to what its
//! manifest declares.

use sqlx::Row;

use super::CatalogError;
use crate::capabilities::http::HttpGrant;
use crate::db::Database;
use crate::packages::manifest::Manifest;

/// A declared origin the admin took away.
pub const REVOKED_ORIGIN: &str = "revoked-origin";
/// A `host:port` allowed to resolve to a loopback or private address.
pub const PRIVATE_HOST: &str = "private-host";
/// A PEM bundle the plugin's TLS also trusts.
pub const EXTRA_CA: &str = "extra-ca";

/// The HTTP grant of `manifest`'s plugin: its declared origins less the
/// revoked ones, with the private hosts and extra CA the admin added.
pub async fn http_grant_for(db: &Database, manifest: &Manifest) -> Result<HttpGrant, CatalogError> {
    let rows = rows(db, &manifest.id).await?;
    let revoked: Vec<&str> = rows
        .iter()
        .filter(|(k, _)| k == REVOKED_ORIGIN)
        .map(|(_, v)| v.as_str())
        .collect();
    let origins = manifest
        .http
        .iter()
        .filter(|o| !revoked.contains(&o.to_string().as_str()))
        .cloned()
        .collect();
    let mut grant = HttpGrant::new(origins);
    for (kind, value) in &rows {
        grant = match kind.as_str() {
            PRIVATE_HOST => grant.with_private_host(value),
            EXTRA_CA => grant.with_extra_ca(value.as_bytes()),
            _ => Ok(grant),
        }
        .map_err(|e| CatalogError::Corrupt(format!("{} grant: {e}", manifest.id)))?;
    }
    Ok(grant)
}

/// The grant changes of `plugin`, as (kind, value), ordered.
pub async fn rows(db: &Database, plugin: &str) -> Result<Vec<(String, String)>, CatalogError> {
    let rows = sqlx::query(
        "SELECT kind, value FROM plugin_grants WHERE plugin_id = $1 ORDER BY kind, value",
    )
    .bind(plugin)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("kind")?, row.try_get("value")?)))
        .collect()
}
