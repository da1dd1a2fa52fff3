//! Registered tokens and signing grants in the host database.

use serde::Serialize;
use sqlx::Row;

use super::TokenError;
use super::module::SlotSelector;
use crate::db::{Database, format_millis, now_millis};

/// A token an admin registered.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TokenRecord {
    /// The name plugins' key ids and the ERP use.
    pub name: String,
    /// Absolute path of the PKCS#11 module.
    pub module_path: String,
    /// The slot id it is bound to, if bound by slot.
    pub slot: Option<u64>,
    /// The token label it is bound to, if bound by label.
    pub token_label: Option<String>,
    /// When it was registered, RFC 3339 UTC.
    pub added_at: String,
    /// Who registered it.
    pub added_by: String,
}

impl TokenRecord {
    /// Which token of the module this is.
    pub fn selector(&self) -> SlotSelector {
        match (&self.token_label, self.slot) {
            (Some(label), _) => SlotSelector::Label(label.clone()),
            (None, Some(slot)) => SlotSelector::Id(slot),
            // The schema is only ever written with one of them.
            (None, None) => SlotSelector::Label(String::new()),
        }
    }
}

/// Stores a new registration.
pub(crate) async fn insert(
    db: &Database,
    name: &str,
    module_path: &str,
    selector: &SlotSelector,
    actor: &str,
) -> Result<TokenRecord, TokenError> {
    let (slot, label) = match selector {
        SlotSelector::Label(label) => (None, Some(label.as_str())),
        SlotSelector::Id(id) => (Some(to_i64(*id)), None),
    };
    let inserted = sqlx::query(
        "INSERT INTO signing_tokens (name, module_path, slot, token_label, added_at, added_by) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(module_path)
    .bind(slot)
    .bind(label)
    .bind(now_millis())
    .bind(actor)
    .execute(db.pool())
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(TokenError::TokenExists(name.to_owned()));
    }
    get(db, name).await
}

/// The registration of `name`.
pub(crate) async fn get(db: &Database, name: &str) -> Result<TokenRecord, TokenError> {
    let row = sqlx::query(
        "SELECT name, module_path, slot, token_label, added_at, added_by \
         FROM signing_tokens WHERE name = $1",
    )
    .bind(name)
    .fetch_optional(db.pool())
    .await?
    .ok_or_else(|| TokenError::UnknownToken(name.to_owned()))?;
    Ok(record(&row)?)
}

/// Every registration, by name.
pub(crate) async fn list(db: &Database) -> Result<Vec<TokenRecord>, TokenError> {
    let rows = sqlx::query(
        "SELECT name, module_path, slot, token_label, added_at, added_by \
         FROM signing_tokens ORDER BY name",
    )
    .fetch_all(db.pool())
    .await?;
    Ok(rows.iter().map(record).collect::<Result<_, _>>()?)
}

fn record(row: &sqlx::any::AnyRow) -> Result<TokenRecord, sqlx::Error> {
    let slot: Option<i64> = row.try_get("slot")?;
    Ok(TokenRecord {
        name: row.try_get("name")?,
        module_path: row.try_get("module_path")?,
        slot: slot.map(|s| u64::from_ne_bytes(s.to_ne_bytes())),
        token_label: row.try_get("token_label")?,
        added_at: format_millis(row.try_get("added_at")?),
        added_by: row.try_get("added_by")?,
    })
}

/// Grants `plugin` signing with `token`; false if it already had it.
pub(crate) async fn grant(
    db: &Database,
    token: &str,
    plugin: &str,
    actor: &str,
) -> Result<bool, TokenError> {
    let done = sqlx::query(
        "INSERT INTO signing_grants (plugin_id, token_name, granted_at, granted_by) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (plugin_id, token_name) DO NOTHING",
    )
    .bind(plugin)
    .bind(token)
    .bind(now_millis())
    .bind(actor)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Revokes it; false if there was nothing to revoke.
pub(crate) async fn revoke(db: &Database, token: &str, plugin: &str) -> Result<bool, TokenError> {
    let done = sqlx::query("DELETE FROM signing_grants WHERE plugin_id = $1 AND token_name = $2")
        .bind(plugin)
        .bind(token)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected() > 0)
}

/// The tokens `plugin` may sign with, by name.
pub(crate) async fn granted_tokens(db: &Database, plugin: &str) -> Result<Vec<String>, TokenError> {
    let rows = sqlx::query(
        "SELECT token_name FROM signing_grants WHERE plugin_id = $1 ORDER BY token_name",
    )
    .bind(plugin)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|row| row.try_get("token_name"))
        .collect::<Result<_, _>>()?)
}

/// The plugins granted `token`, by id.
pub(crate) async fn grantees(db: &Database, token: &str) -> Result<Vec<String>, TokenError> {
    let rows = sqlx::query(
        "SELECT plugin_id FROM signing_grants WHERE token_name = $1 ORDER BY plugin_id",
    )
    .bind(token)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|row| row.try_get("plugin_id"))
        .collect::<Result<_, _>>()?)
}

/// Whether company `id` exists.
pub(crate) async fn company_exists(db: &Database, id: &str) -> Result<bool, TokenError> {
    let row = sqlx::query("SELECT id FROM companies WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    Ok(row.is_some())
}

fn to_i64(slot: u64) -> i64 {
    // Slot ids are small in practice; a huge one still round-trips as bits.
    i64::from_ne_bytes(slot.to_ne_bytes())
}

/// Wrong PINs in a row on `token`.
pub(crate) async fn wrong_pins(db: &Database, token: &str) -> Result<i64, TokenError> {
    let row = sqlx::query("SELECT wrong_pins FROM signing_tokens WHERE name = $1")
        .bind(token)
        .fetch_optional(db.pool())
        .await?
        .ok_or_else(|| TokenError::UnknownToken(token.to_owned()))?;
    Ok(row.try_get("wrong_pins")?)
}

/// One more wrong PIN on `token` (`wrong`), or a right one that ends the
/// run (`!wrong`).
pub(crate) async fn count_pin(db: &Database, token: &str, wrong: bool) -> Result<(), TokenError> {
    let sql = if wrong {
        "UPDATE signing_tokens SET wrong_pins = wrong_pins + 1 WHERE name = $1"
    } else {
        "UPDATE signing_tokens SET wrong_pins = 0 WHERE name = $1"
    };
    sqlx::query(sql).bind(token).execute(db.pool()).await?;
    Ok(())
}
