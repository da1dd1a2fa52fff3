//! Key rotation: every value is re-sealed under a new key in one
//! transaction, then the new key takes over.
//!
//! With a key file the new key is first written to `<file>.next`; a host
//! loads both files, so values stay readable if the rotation stops at any
//! point, and running it again finishes the job with the same new key.
//! With `H2H_VAULT_KEY` the admin supplies the new key in
//! `H2H_VAULT_NEW_KEY` and switches the variable afterwards.

use serde::Serialize;
use sqlx::Row;

use super::key::{self, KeySource, NEW_KEY_ENV, VaultKey};
use super::{EntryId, EntryKind, Vault, VaultError, sealed};
use crate::db::{Backend, Database};

/// What a rotation did.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RotateReport {
    /// Vault values re-sealed.
    pub entries: u64,
    /// Plugin storage values re-sealed (with the backups of upgrades).
    pub plugin_values: u64,
    /// The key they were sealed with before.
    pub old_key_id: String,
    /// The key they are sealed with now.
    pub new_key_id: String,
    /// What the admin must do next, if anything.
    pub next_step: Option<String>,
}

/// Re-seals every vault value under a new key.
pub async fn rotate(db: &Database, source: &KeySource) -> Result<RotateReport, VaultError> {
    let (current, others) = source.load()?;
    let next = match (source, others.into_iter().next()) {
        (_, Some(next)) => next,
        (KeySource::File(path), None) => {
            let next = VaultKey::generate();
            let next_path = key::next_path(path);
            key::write_new(&next_path, &next).map_err(|e| VaultError::KeyFile {
                path: next_path.display().to_string(),
                reason: e.to_string(),
            })?;
            next
        }
        (KeySource::Env { .. }, None) => {
            return Err(VaultError::KeyFile {
                path: NEW_KEY_ENV.to_owned(),
                reason: "set it to the new key (`h2h vault generate-key` prints one) to rotate a key kept in the environment".to_owned(),
            });
        }
    };
    let old_key_id = current.id().to_owned();
    let vault = Vault::new(next.clone(), vec![current]);
    let (entries, plugin_values) = reseal_all(db, &vault).await?;
    let next_step = match source {
        KeySource::File(path) => {
            std::fs::rename(key::next_path(path), path).map_err(|e| VaultError::KeyFile {
                path: path.display().to_string(),
                reason: format!(
                    "the values are re-sealed but the new key did not replace the old one: {e}"
                ),
            })?;
            None
        }
        KeySource::Env { .. } => Some(format!(
            "set H2H_VAULT_KEY to the value of {NEW_KEY_ENV} and unset {NEW_KEY_ENV} before the next start"
        )),
    };
    Ok(RotateReport {
        entries,
        plugin_values,
        old_key_id,
        new_key_id: next.id().to_owned(),
        next_step,
    })
}

/// Re-seals, in one transaction, every vault entry and plugin storage value
/// not sealed with the current key; how many of each.
async fn reseal_all(db: &Database, vault: &Vault) -> Result<(u64, u64), VaultError> {
    let mut tx = db.pool().begin().await?;
    // No writer may slip a value in under the old key meanwhile: on
    // PostgreSQL the tables are locked against writes (reads go on); on
    // SQLite a first write takes the database's one write lock.
    let lock = match db.kind() {
        Backend::Postgres => {
            "LOCK TABLE vault_entries, plugin_kv, plugin_kv_backup IN SHARE ROW EXCLUSIVE MODE"
        }
        Backend::Sqlite => "UPDATE vault_entries SET key_id = key_id WHERE 1 = 0",
    };
    sqlx::query(lock).execute(&mut *tx).await?;
    let rows = sqlx::query(
        "SELECT kind, company_id, owner, name, sealed FROM vault_entries WHERE key_id <> $1",
    )
    .bind(vault.current_key_id())
    .fetch_all(&mut *tx)
    .await?;
    let mut count = 0;
    for row in rows {
        let kind: String = row.try_get("kind")?;
        let entry = EntryId {
            kind: EntryKind::parse(&kind).ok_or_else(|| VaultError::Tampered {
                entry: format!("unknown kind `{kind}`"),
            })?,
            company: row.try_get("company_id")?,
            owner: row.try_get("owner")?,
            name: row.try_get("name")?,
        };
        let sealed: Vec<u8> = row.try_get("sealed")?;
        // Any value that does not open stops the rotation: nothing is lost.
        let plaintext = vault.open(&entry, &sealed)?;
        sqlx::query(
            "UPDATE vault_entries SET sealed = $1, key_id = $2 \
             WHERE kind = $3 AND company_id = $4 AND owner = $5 AND name = $6",
        )
        .bind(vault.seal(&entry, &plaintext))
        .bind(vault.current_key_id())
        .bind(entry.kind.as_str())
        .bind(&entry.company)
        .bind(&entry.owner)
        .bind(&entry.name)
        .execute(&mut *tx)
        .await?;
        count += 1;
    }
    let mut plugin_values = 0;
    for table in ["plugin_kv", "plugin_kv_backup"] {
        let rows = sqlx::query(&format!(
            "SELECT plugin_id, company_id, key, value FROM {table}"
        ))
        .fetch_all(&mut *tx)
        .await?;
        for row in rows {
            let sealed: Vec<u8> = row.try_get("value")?;
            if sealed::key_id(&sealed).as_deref() == Some(vault.current_key_id()) {
                continue;
            }
            let (plugin, company, key): (String, String, String) = (
                row.try_get("plugin_id")?,
                row.try_get("company_id")?,
                row.try_get("key")?,
            );
            let entry = EntryId::plugin_data(&company, &plugin, &key);
            let plaintext = vault.open(&entry, &sealed)?;
            sqlx::query(&format!(
                "UPDATE {table} SET value = $1 \
                 WHERE plugin_id = $2 AND company_id = $3 AND key = $4"
            ))
            .bind(vault.seal(&entry, &plaintext))
            .bind(&plugin)
            .bind(&company)
            .bind(&key)
            .execute(&mut *tx)
            .await?;
            plugin_values += 1;
        }
    }
    tx.commit().await?;
    Ok((count, plugin_values))
}
