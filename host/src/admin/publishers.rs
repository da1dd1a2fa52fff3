//! The trust store: publisher (vendor) public keys whose packages and
//! licenses this host accepts.

use h2h_license::VendorPublicKey;
use serde::Serialize;
use sqlx::Row;

use super::AdminError;
use crate::db::{Database, format_millis, now_millis};

/// A trusted publisher key.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Publisher {
    /// Key id (16 hex digits).
    pub key_id: String,
    /// Name the admin gave it.
    pub name: String,
    /// When it was trusted.
    pub added_at: String,
    /// Who trusted it.
    pub added_by: String,
}

/// Adds `armored` (a vendor public key file) under `name`; trusting the same
/// key again is a no-op that keeps the first name.
pub(crate) async fn trust(
    db: &Database,
    armored: &str,
    name: &str,
    actor: &str,
) -> Result<Publisher, AdminError> {
    let key = VendorPublicKey::from_armored(armored)?;
    if name.trim().is_empty() {
        return Err(AdminError::InvalidInput(
            "a publisher needs a name".to_owned(),
        ));
    }
    sqlx::query(
        "INSERT INTO publishers (key_id, name, public_key, added_at, added_by) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key_id) DO NOTHING",
    )
    .bind(key.key_id())
    .bind(name.trim())
    .bind(key.to_armored())
    .bind(now_millis())
    .bind(actor)
    .execute(db.pool())
    .await?;
    list(db)
        .await?
        .into_iter()
        .find(|p| p.key_id == key.key_id())
        .ok_or_else(|| AdminError::Corrupt("a trusted key vanished".to_owned()))
}

/// Every trusted key, by name.
pub(crate) async fn list(db: &Database) -> Result<Vec<Publisher>, AdminError> {
    let rows = sqlx::query(
        "SELECT key_id, name, added_at, added_by FROM publishers ORDER BY name, key_id",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Publisher {
                key_id: row.try_get("key_id")?,
                name: row.try_get("name")?,
                added_at: format_millis(row.try_get("added_at")?),
                added_by: row.try_get("added_by")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AdminError::from)
}

/// The publisher key a plugin id is pinned to.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Pin {
    /// Plugin id.
    pub plugin: String,
    /// The key that alone may sign its packages.
    pub key_id: String,
    /// When it was pinned.
    pub pinned_at: String,
    /// Who pinned it: the uploader of its first signed package, or the
    /// admin who moved it.
    pub pinned_by: String,
}

/// The key `plugin` is pinned to, if any package of it was signed.
pub(crate) async fn pinned_key(db: &Database, plugin: &str) -> Result<Option<String>, AdminError> {
    let row = sqlx::query("SELECT key_id FROM plugin_publishers WHERE plugin_id = $1")
        .bind(plugin)
        .fetch_optional(db.pool())
        .await?;
    Ok(row.map(|row| row.try_get("key_id")).transpose()?)
}

/// Refuses a package of `plugin` signed by `signer` (none: unsigned) when
/// the plugin is pinned to another key.
pub(crate) fn check_pin(
    plugin: &str,
    pinned: Option<&str>,
    signer: Option<&str>,
) -> Result<(), AdminError> {
    match pinned {
        Some(pinned) if Some(pinned) != signer => Err(AdminError::PublisherMismatch {
            plugin: plugin.to_owned(),
            pinned: pinned.to_owned(),
            signer: signer.map(str::to_owned),
        }),
        _ => Ok(()),
    }
}

/// Pins `plugin` to `key_id` unless it is pinned already, inside the
/// upload's transaction; answers the key it is pinned to afterwards.
pub(crate) async fn pin_first(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    plugin: &str,
    key_id: &str,
    actor: &str,
) -> Result<String, AdminError> {
    sqlx::query(
        "INSERT INTO plugin_publishers (plugin_id, key_id, pinned_at, pinned_by) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (plugin_id) DO NOTHING",
    )
    .bind(plugin)
    .bind(key_id)
    .bind(now_millis())
    .bind(actor)
    .execute(&mut **tx)
    .await?;
    let row = sqlx::query("SELECT key_id FROM plugin_publishers WHERE plugin_id = $1")
        .bind(plugin)
        .fetch_one(&mut **tx)
        .await?;
    Ok(row.try_get("key_id")?)
}

/// Moves `plugin` to the trusted key `key_id`: the admin's explicit act of
/// handing a plugin to another publisher.
pub(crate) async fn repin(
    db: &Database,
    plugin: &str,
    key_id: &str,
    actor: &str,
) -> Result<Pin, AdminError> {
    if !list(db).await?.iter().any(|p| p.key_id == key_id) {
        return Err(AdminError::InvalidInput(format!(
            "key {key_id} is not a trusted publisher key; trust it first"
        )));
    }
    let uploaded: i64 =
        sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM packages WHERE plugin_id = $1")
            .bind(plugin)
            .fetch_one(db.pool())
            .await?
            .try_get("n")?;
    if uploaded == 0 {
        return Err(AdminError::NotUploaded {
            plugin: plugin.to_owned(),
            version: None,
        });
    }
    sqlx::query(
        "INSERT INTO plugin_publishers (plugin_id, key_id, pinned_at, pinned_by) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (plugin_id) DO UPDATE \
         SET key_id = excluded.key_id, pinned_at = excluded.pinned_at, pinned_by = excluded.pinned_by",
    )
    .bind(plugin)
    .bind(key_id)
    .bind(now_millis())
    .bind(actor)
    .execute(db.pool())
    .await?;
    pins(db)
        .await?
        .into_iter()
        .find(|p| p.plugin == plugin)
        .ok_or_else(|| AdminError::Corrupt("a pin vanished".to_owned()))
}

/// Every pinned plugin, by id.
pub(crate) async fn pins(db: &Database) -> Result<Vec<Pin>, AdminError> {
    let rows = sqlx::query(
        "SELECT plugin_id, key_id, pinned_at, pinned_by FROM plugin_publishers ORDER BY plugin_id",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Pin {
                plugin: row.try_get("plugin_id")?,
                key_id: row.try_get("key_id")?,
                pinned_at: format_millis(row.try_get("pinned_at")?),
                pinned_by: row.try_get("pinned_by")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AdminError::from)
}
