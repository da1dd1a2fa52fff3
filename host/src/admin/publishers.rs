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
