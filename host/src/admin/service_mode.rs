//! Service mode, kept in the database so every host process sees it: ERP
//! requests are refused with 503 while it is on; admin requests still work.

use serde::Serialize;
use sqlx::Row;

use super::AdminError;
use crate::db::{Database, format_millis, now_millis};

/// Whether the host is in service mode, and why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ServiceMode {
    /// On or off.
    pub active: bool,
    /// Why it is on (empty when off).
    pub reason: String,
    /// Since when (RFC 3339), when on.
    pub since: Option<String>,
    /// Who switched it on.
    pub actor: String,
    /// Grows with every switch on; processes report the one they have seen.
    pub generation: i64,
}

/// The current state.
pub(crate) async fn status(db: &Database) -> Result<ServiceMode, AdminError> {
    let row = sqlx::query(
        "SELECT active, reason, since, actor, generation FROM service_mode WHERE id = 1",
    )
    .fetch_one(db.pool())
    .await?;
    let active = row.try_get::<i64, _>("active")? != 0;
    Ok(ServiceMode {
        active,
        reason: row.try_get("reason")?,
        since: active
            .then(|| row.try_get("since").map(format_millis))
            .transpose()?,
        actor: row.try_get("actor")?,
        generation: row.try_get("generation")?,
    })
}

/// Switches service mode on; false if it already was (then nothing
/// changes, so the one who switched it on also switches it off).
pub(crate) async fn enter(db: &Database, reason: &str, actor: &str) -> Result<bool, AdminError> {
    let changed = sqlx::query(
        "UPDATE service_mode SET active = 1, reason = $1, since = $2, actor = $3, \
         generation = generation + 1 WHERE id = 1 AND active = 0",
    )
    .bind(reason)
    .bind(now_millis())
    .bind(actor)
    .execute(db.pool())
    .await?;
    Ok(changed.rows_affected() == 1)
}

/// Switches service mode off; false if it was off.
pub(crate) async fn leave(db: &Database) -> Result<bool, AdminError> {
    let changed = sqlx::query(
        "UPDATE service_mode SET active = 0, reason = '', actor = '' WHERE id = 1 AND active = 1",
    )
    .execute(db.pool())
    .await?;
    Ok(changed.rows_affected() == 1)
}
