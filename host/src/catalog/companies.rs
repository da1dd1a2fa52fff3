//! Companies, as calls name them, and their plain settings.

use std::collections::BTreeMap;

use sqlx::Row;

use super::CatalogError;
use crate::db::Database;

/// Fails unless company `id` exists.
pub async fn require(db: &Database, id: &str) -> Result<(), CatalogError> {
    let found = sqlx::query("SELECT id FROM companies WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(CatalogError::UnknownCompany(id.to_owned())),
    }
}

/// The plain (not secret) settings `company` set for `plugin`, by name.
pub async fn settings(
    db: &Database,
    company: &str,
    plugin: &str,
) -> Result<BTreeMap<String, String>, CatalogError> {
    let rows = sqlx::query(
        "SELECT name, value FROM company_settings WHERE company_id = $1 AND plugin_id = $2",
    )
    .bind(company)
    .bind(plugin)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("name")?, row.try_get("value")?)))
        .collect()
}
