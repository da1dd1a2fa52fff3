//! Service mode, kept in the database so every host process sees it: while
//! an install or upgrade runs, ERP requests and task runs wait.

use serde::Serialize;
use sqlx::Row;

use super::CatalogError;
use crate::db::{Database, format_millis};

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
pub async fn status(db: &Database) -> Result<ServiceMode, CatalogError> {
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
