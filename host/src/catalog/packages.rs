//! Uploaded packages, read back for installing and serving.

use semver::Version;
use sqlx::Row;

use super::CatalogError;
use crate::db::Database;
use crate::packages::manifest::Manifest;

/// A package as stored: its manifest and component.
#[derive(Debug)]
pub struct StoredPackage {
    /// The manifest.
    pub manifest: Manifest,
    /// The component's bytes.
    pub wasm: Vec<u8>,
    /// Key id of its signature; none for an unsigned development upload.
    pub signer: Option<String>,
}

/// Loads the stored package `plugin` `version`.
pub async fn load(
    db: &Database,
    plugin: &str,
    version: &Version,
) -> Result<StoredPackage, CatalogError> {
    let row = sqlx::query(
        "SELECT manifest, wasm, signer FROM packages WHERE plugin_id = $1 AND version = $2",
    )
    .bind(plugin)
    .bind(version.to_string())
    .fetch_optional(db.pool())
    .await?
    .ok_or_else(|| CatalogError::NotUploaded {
        plugin: plugin.to_owned(),
        version: version.to_string(),
    })?;
    let text: String = row.try_get("manifest")?;
    let manifest = Manifest::parse(&text).map_err(|e| CatalogError::Corrupt(e.to_string()))?;
    Ok(StoredPackage {
        manifest,
        wasm: row.try_get("wasm")?,
        signer: row.try_get("signer")?,
    })
}

/// The enabled installations, as `(plugin, version)` by plugin id: one
/// query, for the ERP's list of what it may call.
pub async fn enabled(db: &Database) -> Result<Vec<(String, String)>, CatalogError> {
    let rows = sqlx::query(
        "SELECT plugin_id, version FROM installations WHERE enabled = 1 ORDER BY plugin_id",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("plugin_id")?, row.try_get("version")?)))
        .collect()
}
