//! Sealed values in the host database (`vault_entries`). Values only leave
//! here decrypted into `Zeroizing` buffers or `SecretString`s; listings
//! carry names, never values.

use std::collections::BTreeMap;
use std::sync::Arc;

use secrecy::SecretString;
use serde::Serialize;
use sqlx::Row;
use zeroize::Zeroizing;

use super::{EntryId, EntryKind, Vault, VaultError};
use crate::db::{Database, format_millis, now_millis};

/// A stored entry, without its value.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct EntryInfo {
    /// `secret`, `tls-identity` or `pin`.
    pub kind: String,
    /// The company.
    pub company: String,
    /// The plugin or token.
    pub owner: String,
    /// The name.
    pub name: String,
    /// When it was last set, RFC 3339 UTC.
    pub updated_at: String,
    /// Who set it.
    pub updated_by: String,
}

/// The vault's values in the host database.
#[derive(Debug, Clone)]
pub struct VaultStore {
    db: Database,
    vault: Arc<Vault>,
}

/// Removes one entry by its id.
const DELETE_ENTRY: &str =
    "DELETE FROM vault_entries WHERE kind = $1 AND company_id = $2 AND owner = $3 AND name = $4";

impl VaultStore {
    /// Values in `db`, sealed with `vault`.
    pub fn new(db: Database, vault: Arc<Vault>) -> Self {
        Self { db, vault }
    }

    /// The keys.
    pub fn vault(&self) -> &Arc<Vault> {
        &self.vault
    }

    /// Seals and stores `plaintext` as `entry`, replacing any value.
    pub async fn put(
        &self,
        entry: &EntryId,
        plaintext: &[u8],
        actor: &str,
    ) -> Result<(), VaultError> {
        let sealed = self.vault.seal(entry, plaintext);
        sqlx::query(
            "INSERT INTO vault_entries \
               (kind, company_id, owner, name, sealed, key_id, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (kind, company_id, owner, name) DO UPDATE SET \
               sealed = excluded.sealed, key_id = excluded.key_id, \
               updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(entry.kind.as_str())
        .bind(&entry.company)
        .bind(&entry.owner)
        .bind(&entry.name)
        .bind(sealed)
        .bind(self.vault.current_key_id())
        .bind(now_millis())
        .bind(actor)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Seals and stores `plaintext` as `entry` inside `tx` unless a value
    /// is there already; true if this stored it.
    pub async fn put_new(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        entry: &EntryId,
        plaintext: &[u8],
        actor: &str,
    ) -> Result<bool, VaultError> {
        let done = sqlx::query(
            "INSERT INTO vault_entries \
               (kind, company_id, owner, name, sealed, key_id, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (kind, company_id, owner, name) DO NOTHING",
        )
        .bind(entry.kind.as_str())
        .bind(&entry.company)
        .bind(&entry.owner)
        .bind(&entry.name)
        .bind(self.vault.seal(entry, plaintext))
        .bind(self.vault.current_key_id())
        .bind(now_millis())
        .bind(actor)
        .execute(&mut **tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The value of `entry`, decrypted, if stored.
    pub async fn get(&self, entry: &EntryId) -> Result<Option<Zeroizing<Vec<u8>>>, VaultError> {
        let row = sqlx::query(
            "SELECT sealed FROM vault_entries \
             WHERE kind = $1 AND company_id = $2 AND owner = $3 AND name = $4",
        )
        .bind(entry.kind.as_str())
        .bind(&entry.company)
        .bind(&entry.owner)
        .bind(&entry.name)
        .fetch_optional(self.db.pool())
        .await?;
        match row {
            Some(row) => {
                let sealed: Vec<u8> = row.try_get("sealed")?;
                self.vault.open(entry, &sealed).map(Some)
            }
            None => Ok(None),
        }
    }

    /// Removes `entry` inside `tx`.
    pub async fn delete_in(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        entry: &EntryId,
    ) -> Result<(), VaultError> {
        sqlx::query(DELETE_ENTRY)
            .bind(entry.kind.as_str())
            .bind(&entry.company)
            .bind(&entry.owner)
            .bind(&entry.name)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Removes `entry`; true if it existed.
    pub async fn delete(&self, entry: &EntryId) -> Result<bool, VaultError> {
        let done = sqlx::query(DELETE_ENTRY)
            .bind(entry.kind.as_str())
            .bind(&entry.company)
            .bind(&entry.owner)
            .bind(&entry.name)
            .execute(self.db.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Entries of one kind for a company and owner, names only.
    pub async fn list(
        &self,
        kind: EntryKind,
        company: &str,
        owner: &str,
    ) -> Result<Vec<EntryInfo>, VaultError> {
        let rows = sqlx::query(
            "SELECT kind, company_id, owner, name, updated_at, updated_by FROM vault_entries \
             WHERE kind = $1 AND company_id = $2 AND owner = $3 ORDER BY name",
        )
        .bind(kind.as_str())
        .bind(company)
        .bind(owner)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(EntryInfo {
                    kind: row.try_get("kind")?,
                    company: row.try_get("company_id")?,
                    owner: row.try_get("owner")?,
                    name: row.try_get("name")?,
                    updated_at: format_millis(row.try_get("updated_at")?),
                    updated_by: row.try_get("updated_by")?,
                })
            })
            .collect()
    }

    /// Every entry of `kind` a plugin has for a company, decrypted for one
    /// call. A value that no longer opens is left out and logged, so one
    /// damaged secret does not stop the others.
    pub async fn open_all(
        &self,
        kind: EntryKind,
        company: &str,
        plugin: &str,
    ) -> Result<BTreeMap<String, Zeroizing<Vec<u8>>>, VaultError> {
        let rows = sqlx::query(
            "SELECT name, sealed FROM vault_entries \
             WHERE kind = $1 AND company_id = $2 AND owner = $3",
        )
        .bind(kind.as_str())
        .bind(company)
        .bind(plugin)
        .fetch_all(self.db.pool())
        .await?;
        let mut out = BTreeMap::new();
        for row in rows {
            let name: String = row.try_get("name")?;
            let sealed: Vec<u8> = row.try_get("sealed")?;
            let entry = EntryId {
                kind,
                company: company.to_owned(),
                owner: plugin.to_owned(),
                name: name.clone(),
            };
            match self.vault.open(&entry, &sealed) {
                Ok(value) => {
                    out.insert(name, value);
                }
                Err(e) => tracing::error!(error = %e, "vault entry left out"),
            }
        }
        Ok(out)
    }

    /// A plugin's secret settings for a company, for one call.
    pub async fn secrets_for(
        &self,
        company: &str,
        plugin: &str,
    ) -> Result<BTreeMap<String, SecretString>, VaultError> {
        let opened = self.open_all(EntryKind::Secret, company, plugin).await?;
        Ok(opened
            .into_iter()
            .map(|(name, value)| {
                let text = String::from_utf8_lossy(&value).into_owned();
                (name, SecretString::from(text))
            })
            .collect())
    }
}
