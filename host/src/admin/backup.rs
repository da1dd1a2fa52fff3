//! A copy of one plugin's storage taken before its install or migrate step
//! runs, so a failed or interrupted step leaves the data as it was.

use sqlx::{Any, Transaction};

use super::AdminError;

/// Replaces the plugin's backup by a copy of its current storage.
pub(crate) async fn take(
    tx: &mut Transaction<'static, Any>,
    plugin: &str,
) -> Result<(), AdminError> {
    discard(tx, plugin).await?;
    sqlx::query(
        "INSERT INTO plugin_kv_backup (plugin_id, company_id, key, value) \
         SELECT plugin_id, company_id, key, value FROM plugin_kv WHERE plugin_id = $1",
    )
    .bind(plugin)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Puts the backup back in place of the plugin's storage, then drops it.
pub(crate) async fn restore(
    tx: &mut Transaction<'static, Any>,
    plugin: &str,
) -> Result<(), AdminError> {
    sqlx::query("DELETE FROM plugin_kv WHERE plugin_id = $1")
        .bind(plugin)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO plugin_kv (plugin_id, company_id, key, value) \
         SELECT plugin_id, company_id, key, value FROM plugin_kv_backup WHERE plugin_id = $1",
    )
    .bind(plugin)
    .execute(&mut **tx)
    .await?;
    discard(tx, plugin).await
}

/// Drops the backup.
pub(crate) async fn discard(
    tx: &mut Transaction<'static, Any>,
    plugin: &str,
) -> Result<(), AdminError> {
    sqlx::query("DELETE FROM plugin_kv_backup WHERE plugin_id = $1")
        .bind(plugin)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
