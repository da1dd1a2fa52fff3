//! Uploaded packages, kept in the database so every host process on it can
//! install them. An upload is validated completely before anything is
//! stored.

use semver::Version;
use serde::Serialize;
use sqlx::Row;

use super::{AdminError, publishers};
use crate::catalog;
use crate::db::{Database, format_millis, now_millis};
use crate::packages::manifest::Manifest;
use crate::packages::{self, Package, PackageLimits, SignaturePolicy};

/// An uploaded package, as listed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PackageInfo {
    /// Plugin id.
    pub plugin: String,
    /// Version.
    pub version: String,
    /// Display name.
    pub name: String,
    /// Publisher named in the manifest.
    pub publisher: String,
    /// Key id of the signature, none for an unsigned development upload.
    pub signer: Option<String>,
    /// SHA-256 of the signed contents.
    pub digest: String,
    /// Size of the component in bytes.
    pub wasm_bytes: i64,
    /// When.
    pub uploaded_at: String,
    /// By whom.
    pub uploaded_by: String,
}

/// What an upload did.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Uploaded {
    /// The package.
    pub package: PackageInfo,
    /// False when the identical package was already there.
    pub stored: bool,
}

/// Validates `zip` and stores it. The same id, version and contents again is
/// accepted without change; other contents under a stored id and version
/// are refused.
pub(crate) async fn upload(
    db: &Database,
    zip: &[u8],
    policy: SignaturePolicy,
    limits: &PackageLimits,
    actor: &str,
) -> Result<Uploaded, AdminError> {
    let trusted = catalog::publisher_keys(db).await?;
    let package = packages::open(zip, &trusted, policy, limits)?;
    let plugin = package.manifest.id.clone();
    let version = package.manifest.version.to_string();
    let pinned = publishers::pinned_key(db, &plugin).await?;
    publishers::check_pin(&plugin, pinned.as_deref(), package.signer.as_deref())?;
    if let Some(stored) = digest_of(db, &plugin, &version).await? {
        if stored != package.content_digest {
            return Err(AdminError::ConflictingUpload {
                plugin,
                version,
                stored,
                new: package.content_digest,
            });
        }
        return Ok(Uploaded {
            package: info(db, &plugin, &version).await?,
            stored: false,
        });
    }
    insert(db, &package, actor).await?;
    Ok(Uploaded {
        package: info(db, &plugin, &version).await?,
        stored: true,
    })
}

/// Stores the package and, for the first signed one of its plugin, pins the
/// plugin to its signer; a concurrent upload by another key that pinned it
/// first makes this one refused.
async fn insert(db: &Database, package: &Package, actor: &str) -> Result<(), AdminError> {
    let mut tx = db.pool().begin().await?;
    if let Some(signer) = &package.signer {
        let pinned = publishers::pin_first(&mut tx, &package.manifest.id, signer, actor).await?;
        publishers::check_pin(&package.manifest.id, Some(&pinned), Some(signer))?;
    }
    sqlx::query(
        "INSERT INTO packages (plugin_id, version, content_digest, manifest, wasm, readme, icon, \
         signer, uploaded_at, uploaded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&package.manifest.id)
    .bind(package.manifest.version.to_string())
    .bind(&package.content_digest)
    .bind(&package.manifest_text)
    .bind(package.wasm.clone())
    .bind(package.readme.clone())
    .bind(package.icon.clone())
    .bind(package.signer.clone())
    .bind(now_millis())
    .bind(actor)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn digest_of(
    db: &Database,
    plugin: &str,
    version: &str,
) -> Result<Option<String>, AdminError> {
    let row =
        sqlx::query("SELECT content_digest FROM packages WHERE plugin_id = $1 AND version = $2")
            .bind(plugin)
            .bind(version)
            .fetch_optional(db.pool())
            .await?;
    Ok(row.map(|row| row.try_get("content_digest")).transpose()?)
}

const INFO_COLUMNS: &str = "plugin_id, version, manifest, signer, content_digest, \
     uploaded_at, uploaded_by, CAST(LENGTH(wasm) AS BIGINT) AS wasm_bytes";

fn info_from_row(row: &sqlx::any::AnyRow) -> Result<PackageInfo, AdminError> {
    let text: String = row.try_get("manifest")?;
    let manifest = Manifest::parse(&text).map_err(|e| AdminError::Corrupt(e.to_string()))?;
    Ok(PackageInfo {
        plugin: row.try_get("plugin_id")?,
        version: row.try_get("version")?,
        name: manifest.name,
        publisher: manifest.publisher,
        signer: row.try_get("signer")?,
        digest: row.try_get("content_digest")?,
        wasm_bytes: row.try_get::<i64, _>("wasm_bytes")?,
        uploaded_at: format_millis(row.try_get("uploaded_at")?),
        uploaded_by: row.try_get("uploaded_by")?,
    })
}

async fn info(db: &Database, plugin: &str, version: &str) -> Result<PackageInfo, AdminError> {
    let row = sqlx::query(&format!(
        "SELECT {INFO_COLUMNS} FROM packages WHERE plugin_id = $1 AND version = $2"
    ))
    .bind(plugin)
    .bind(version)
    .fetch_one(db.pool())
    .await?;
    info_from_row(&row)
}

/// Every uploaded package, by plugin then version.
pub(crate) async fn list(db: &Database) -> Result<Vec<PackageInfo>, AdminError> {
    let rows = sqlx::query(&format!("SELECT {INFO_COLUMNS} FROM packages"))
        .fetch_all(db.pool())
        .await?;
    let mut list = rows
        .iter()
        .map(info_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    list.sort_by(|a, b| {
        a.plugin
            .cmp(&b.plugin)
            .then_with(|| semver_cmp(&a.version, &b.version))
    });
    Ok(list)
}

fn semver_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    match (Version::parse(a), Version::parse(b)) {
        (Ok(a), Ok(b)) => a.cmp(&b),
        _ => a.cmp(b),
    }
}

/// Uploaded versions of `plugin`, ascending.
pub(crate) async fn versions(db: &Database, plugin: &str) -> Result<Vec<Version>, AdminError> {
    let rows = sqlx::query("SELECT version FROM packages WHERE plugin_id = $1")
        .bind(plugin)
        .fetch_all(db.pool())
        .await?;
    let mut versions = rows
        .iter()
        .map(|row| {
            let text: String = row.try_get("version")?;
            Version::parse(&text).map_err(|e| AdminError::Corrupt(format!("version {text}: {e}")))
        })
        .collect::<Result<Vec<_>, AdminError>>()?;
    versions.sort();
    Ok(versions)
}
