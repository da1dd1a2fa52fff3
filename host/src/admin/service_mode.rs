//! Service mode, kept in the database so every host process sees it: ERP
//! requests are refused with 503 while it is on; admin requests still work.
//! Switching it; [`crate::catalog::service_mode`] reads it.

use super::AdminError;
use crate::db::{Database, now_millis};

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
