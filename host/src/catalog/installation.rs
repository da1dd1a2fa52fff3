//! The installation id: a random id made once per host database, which
//! licenses are bound to. Every host process on the database shares it.

use sqlx::Row;

use super::CatalogError;
use crate::db::Database;

const KEY: &str = "installation-id";

/// This installation's id, created on first use.
pub async fn id(db: &Database) -> Result<String, CatalogError> {
    let mut random = [0u8; 16];
    getrandom::getrandom(&mut random).map_err(|e| {
        CatalogError::Corrupt(format!("no randomness for the installation id: {e}"))
    })?;
    let candidate = format!("h2h-{}", hex::encode(random));
    // Two first starts racing: the first insert wins, both read its value.
    sqlx::query("INSERT INTO host_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
        .bind(KEY)
        .bind(&candidate)
        .execute(db.pool())
        .await?;
    let row = sqlx::query("SELECT value FROM host_meta WHERE key = $1")
        .bind(KEY)
        .fetch_one(db.pool())
        .await?;
    Ok(row.try_get("value")?)
}
