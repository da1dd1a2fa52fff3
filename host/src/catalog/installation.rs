//! The installation id: a random id made once per host database, which
//! licenses are bound to. Every host process on the database shares it.
//!
//! The id is kept twice: in clear in `host_meta` (for people and other
//! tools) and sealed in the vault, which is its truth. So an id edited in
//! `host_meta` (to borrow another installation's license) no longer matches
//! its sealed copy, and a database opened under another vault key (copied
//! to a second host) cannot open it: either is refused with what to do,
//! and the licenses bound to the id stop serving until an admin acts.
//! A copy made together with its vault key is the same installation as
//! far as anything inside the host can tell; the README says so.

use sqlx::Row;

use super::CatalogError;
use crate::db::Database;
use crate::vault::{EntryId, VaultError, VaultStore};

const KEY: &str = "installation-id";
/// Set by migration 0029 on a database that had an id before ids were
/// sealed: that id is adopted once. Any other unsealed id is not trusted.
const LEGACY: &str = "installation-id-unsealed";

/// This installation's id, made and sealed on first use.
pub async fn id(db: &Database, vault: &VaultStore) -> Result<String, CatalogError> {
    match vault.get(&EntryId::installation()).await {
        Ok(Some(sealed)) => {
            let sealed = String::from_utf8_lossy(&sealed).into_owned();
            match stored(db).await? {
                Some(row) if row == sealed => Ok(sealed),
                row => Err(CatalogError::InstallationEdited {
                    row: row.unwrap_or_default(),
                    sealed,
                }),
            }
        }
        Ok(None) => first_use(db, vault).await,
        Err(VaultError::UnknownKey { key_id, .. }) => {
            Err(CatalogError::InstallationCopied { key_id })
        }
        Err(VaultError::Tampered { .. }) => Err(CatalogError::InstallationEdited {
            row: stored(db).await?.unwrap_or_default(),
            sealed: "(damaged)".to_owned(),
        }),
        Err(e) => Err(e.into()),
    }
}

/// A new id for this database, replacing one it cannot use (a copy's, an
/// edited one): licenses issued for the old id no longer match.
/// Answers the id it replaced (empty if none) and the new one.
pub async fn renew(
    db: &Database,
    vault: &VaultStore,
    actor: &str,
) -> Result<(String, String), CatalogError> {
    let old = stored(db).await?.unwrap_or_default();
    let fresh = random_id()?;
    let mut tx = db.begin_write().await?;
    vault.delete_in(&mut tx, &EntryId::installation()).await?;
    vault
        .put_new(&mut tx, &EntryId::installation(), fresh.as_bytes(), actor)
        .await?;
    set_row(&mut tx, &fresh).await?;
    tx.commit().await?;
    Ok((old, fresh))
}

/// No sealed id yet: a new database makes one; a database from before
/// sealing keeps the id its licenses name; an unsealed id anywhere else
/// (written by hand) is replaced.
async fn first_use(db: &Database, vault: &VaultStore) -> Result<String, CatalogError> {
    let legacy = sqlx::query("SELECT value FROM host_meta WHERE key = $1")
        .bind(LEGACY)
        .fetch_optional(db.pool())
        .await?
        .is_some();
    let id = match stored(db).await? {
        Some(existing) if legacy => existing,
        _ => random_id()?,
    };
    // Two first starts racing: the first seal wins and both read it back.
    let mut tx = db.begin_write().await?;
    if vault
        .put_new(&mut tx, &EntryId::installation(), id.as_bytes(), "h2h")
        .await?
    {
        set_row(&mut tx, &id).await?;
    }
    tx.commit().await?;
    Box::pin(self::id(db, vault)).await
}

/// Writes the clear copy and drops the legacy mark, in the sealing's
/// transaction.
async fn set_row(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    id: &str,
) -> Result<(), CatalogError> {
    sqlx::query(
        "INSERT INTO host_meta (key, value) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(KEY)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM host_meta WHERE key = $1")
        .bind(LEGACY)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn stored(db: &Database) -> Result<Option<String>, CatalogError> {
    let row = sqlx::query("SELECT value FROM host_meta WHERE key = $1")
        .bind(KEY)
        .fetch_optional(db.pool())
        .await?;
    Ok(row.map(|r| r.try_get("value")).transpose()?)
}

fn random_id() -> Result<String, CatalogError> {
    let mut random = [0u8; 16];
    getrandom::getrandom(&mut random).map_err(|e| {
        CatalogError::Corrupt(format!("no randomness for the installation id: {e}"))
    })?;
    Ok(format!("h2h-{}", hex::encode(random)))
}
