//! Plugin key-value data in the host database (table `plugin_kv`), each
//! value sealed with the vault's key and bound to its plugin, company and
//! key (a connector's tokens lie there), so the database alone reveals
//! nothing and a value moved to another row does not open.
//!
//! Every write starts with a write statement, so SQLite takes its write lock
//! first and a transaction never has to upgrade a read lock (which fails
//! instead of waiting). The quota is checked inside the same transaction
//! against `plugin_kv_usage`, which triggers keep in step with every change
//! (one row read, not a sum over the plugin's data); it counts what the
//! plugin stored, not what sealing adds.

use std::sync::Arc;

use sqlx::{Any, Row, Transaction};
use zeroize::Zeroizing;

use super::{KvError, KvStore, Quota, Scope};
use crate::db::{Backend, Database};
use crate::vault::{EntryId, SEALING_OVERHEAD, Vault};

/// Stores plugin data in `plugin_kv`, shared by every host process on the
/// database.
#[derive(Clone)]
pub struct SqlKv {
    db: Database,
    vault: Arc<Vault>,
}

impl std::fmt::Debug for SqlKv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlKv").finish_non_exhaustive()
    }
}

/// The `host_meta` key saying every stored value is sealed.
const SEALED_MARKER: &str = "plugin-kv-sealed";

impl SqlKv {
    /// A store over `db`, sealing with `vault`.
    pub fn new(db: Database, vault: Arc<Vault>) -> Self {
        Self { db, vault }
    }

    /// Seals the values a host from before sealing stored in clear (once
    /// per database: the first process to get here does it, in one
    /// transaction, with the backups of running upgrades); the number of
    /// values sealed.
    pub async fn seal_stored_values(&self) -> Result<u64, KvError> {
        let mut tx = self.db.begin().await.map_err(unavailable)?;
        let first = sqlx::query(
            "INSERT INTO host_meta (key, value) VALUES ($1, '1') ON CONFLICT (key) DO NOTHING",
        )
        .bind(SEALED_MARKER)
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?
        .rows_affected()
            == 1;
        if !first {
            return Ok(0);
        }
        let mut sealed = 0;
        for table in ["plugin_kv", "plugin_kv_backup"] {
            let rows = sqlx::query(&format!(
                "SELECT plugin_id, company_id, key, value FROM {table}"
            ))
            .fetch_all(&mut *tx)
            .await
            .map_err(unavailable)?;
            for row in rows {
                let (plugin, company, key, value): (String, String, String, Vec<u8>) = (
                    row.try_get(0).map_err(unavailable)?,
                    row.try_get(1).map_err(unavailable)?,
                    row.try_get(2).map_err(unavailable)?,
                    row.try_get(3).map_err(unavailable)?,
                );
                let entry = EntryId::plugin_data(&company, &plugin, &key);
                sqlx::query(&format!(
                    "UPDATE {table} SET value = $1 \
                     WHERE plugin_id = $2 AND company_id = $3 AND key = $4"
                ))
                .bind(self.vault.seal(&entry, &value))
                .bind(&plugin)
                .bind(&company)
                .bind(&key)
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?;
                sealed += 1;
            }
        }
        tx.commit().await.map_err(unavailable)?;
        Ok(sealed)
    }

    fn entry(scope: &Scope, key: &str) -> EntryId {
        EntryId::plugin_data(company(scope), &scope.plugin, key)
    }

    fn open(&self, scope: &Scope, key: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, KvError> {
        self.vault
            .open(&Self::entry(scope, key), sealed)
            .map_err(|e| KvError::Unavailable(format!("stored value `{key}` does not open: {e}")))
    }
}

fn unavailable(e: impl std::fmt::Display) -> KvError {
    KvError::Unavailable(e.to_string())
}

fn company(scope: &Scope) -> &str {
    scope.company.as_deref().unwrap_or("")
}

fn size(key: &str, value: &[u8]) -> i64 {
    (key.len() + value.len()) as i64
}

/// Removes the entry; its sealed value, if there was one.
async fn take(
    tx: &mut Transaction<'static, Any>,
    scope: &Scope,
    key: &str,
) -> Result<Option<Vec<u8>>, KvError> {
    let row = sqlx::query(
        "DELETE FROM plugin_kv WHERE plugin_id = $1 AND company_id = $2 AND key = $3 \
         RETURNING value",
    )
    .bind(&*scope.plugin)
    .bind(company(scope))
    .bind(key)
    .fetch_optional(&mut **tx)
    .await
    .map_err(unavailable)?;
    row.map(|row| row.try_get::<Vec<u8>, _>(0))
        .transpose()
        .map_err(unavailable)
}

/// The size a sealed value counts for in the quota: what the plugin stored.
fn stored_size(key: &str, sealed: &[u8]) -> i64 {
    size(key, sealed) - SEALING_OVERHEAD as i64
}

async fn put(
    tx: &mut Transaction<'static, Any>,
    scope: &Scope,
    key: &str,
    sealed: &[u8],
) -> Result<(), KvError> {
    sqlx::query(
        "INSERT INTO plugin_kv (plugin_id, company_id, key, value) VALUES ($1, $2, $3, $4)",
    )
    .bind(&*scope.plugin)
    .bind(company(scope))
    .bind(key)
    .bind(sealed.to_vec())
    .execute(&mut **tx)
    .await
    .map_err(unavailable)?;
    Ok(())
}

async fn exists(
    tx: &mut Transaction<'static, Any>,
    scope: &Scope,
    key: &str,
) -> Result<bool, KvError> {
    let row = sqlx::query(
        "SELECT 1 FROM plugin_kv WHERE plugin_id = $1 AND company_id = $2 AND key = $3",
    )
    .bind(&*scope.plugin)
    .bind(company(scope))
    .bind(key)
    .fetch_optional(&mut **tx)
    .await
    .map_err(unavailable)?;
    Ok(row.is_some())
}

/// Starts a write transaction. On PostgreSQL writers of one plugin take
/// turns (a transaction-scoped advisory lock): under READ COMMITTED two
/// concurrent writes would each pass the quota check without seeing the
/// other. SQLite has a single writer anyway.
async fn begin_write(db: &Database, scope: &Scope) -> Result<Transaction<'static, Any>, KvError> {
    let mut tx = db.begin().await.map_err(unavailable)?;
    if db.kind() == Backend::Postgres {
        sqlx::query(
            "SELECT 1 FROM (SELECT pg_advisory_xact_lock(hashtextextended($1, 0))) AS locked",
        )
        .bind(&*scope.plugin)
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
    }
    Ok(tx)
}

/// What a write did to the plugin's holdings.
struct Growth {
    /// More bytes than before.
    bytes: bool,
    /// A key that was not there.
    key: bool,
}

/// Refuses a write that grew the plugin's data past `quota`.
async fn check_quota(
    tx: &mut Transaction<'static, Any>,
    scope: &Scope,
    grew: Growth,
    quota: Quota,
) -> Result<(), KvError> {
    if !grew.bytes && !grew.key {
        return Ok(());
    }
    let row = sqlx::query("SELECT bytes, keys FROM plugin_kv_usage WHERE plugin_id = $1")
        .bind(&*scope.plugin)
        .fetch_optional(&mut **tx)
        .await
        .map_err(unavailable)?;
    let (bytes, keys): (i64, i64) = match row {
        Some(row) => (
            row.try_get(0).map_err(unavailable)?,
            row.try_get(1).map_err(unavailable)?,
        ),
        None => (0, 0),
    };
    let used = bytes - keys * SEALING_OVERHEAD as i64;
    if grew.bytes && used as u64 > quota.bytes {
        return Err(KvError::QuotaExceeded { quota: quota.bytes });
    }
    if grew.key && keys as u64 > quota.keys {
        return Err(KvError::TooManyKeys {
            max: quota.keys,
            quota: quota.bytes,
        });
    }
    Ok(())
}

#[async_trait::async_trait]
impl KvStore for SqlKv {
    async fn get(&self, scope: &Scope, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        let row = sqlx::query(
            "SELECT value FROM plugin_kv WHERE plugin_id = $1 AND company_id = $2 AND key = $3",
        )
        .bind(&*scope.plugin)
        .bind(company(scope))
        .bind(key)
        .fetch_optional(self.db.pool())
        .await
        .map_err(unavailable)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let sealed: Vec<u8> = row.try_get(0).map_err(unavailable)?;
        Ok(Some(self.open(scope, key, &sealed)?.to_vec()))
    }

    async fn set(
        &self,
        scope: &Scope,
        key: &str,
        value: &[u8],
        quota: Quota,
    ) -> Result<(), KvError> {
        let sealed = self.vault.seal(&Self::entry(scope, key), value);
        let mut tx = begin_write(&self.db, scope).await?;
        let old = take(&mut tx, scope, key)
            .await?
            .map(|old| stored_size(key, &old));
        put(&mut tx, scope, key, &sealed).await?;
        let grew = Growth {
            bytes: size(key, value) > old.unwrap_or(0),
            key: old.is_none(),
        };
        check_quota(&mut tx, scope, grew, quota).await?;
        tx.commit().await.map_err(unavailable)
    }

    async fn delete(&self, scope: &Scope, key: &str) -> Result<bool, KvError> {
        let result = sqlx::query(
            "DELETE FROM plugin_kv WHERE plugin_id = $1 AND company_id = $2 AND key = $3",
        )
        .bind(&*scope.plugin)
        .bind(company(scope))
        .bind(key)
        .execute(self.db.pool())
        .await
        .map_err(unavailable)?;
        Ok(result.rows_affected() > 0)
    }

    async fn list(&self, scope: &Scope, prefix: &str) -> Result<Vec<String>, KvError> {
        // Prefix matching by comparison, not LIKE: keys may hold `%` and `_`.
        let rows = sqlx::query(
            "SELECT key FROM plugin_kv WHERE plugin_id = $1 AND company_id = $2 \
             AND SUBSTR(key, 1, CAST($3 AS INTEGER)) = $4 ORDER BY key",
        )
        .bind(&*scope.plugin)
        .bind(company(scope))
        .bind(prefix.chars().count() as i64)
        .bind(prefix)
        .fetch_all(self.db.pool())
        .await
        .map_err(unavailable)?;
        rows.iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()
            .map_err(unavailable)
    }

    async fn compare_and_swap(
        &self,
        scope: &Scope,
        key: &str,
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
        quota: Quota,
    ) -> Result<bool, KvError> {
        let mut tx = begin_write(&self.db, scope).await?;
        let old = match expected {
            // Sealing is randomised, so the stored value is opened and
            // compared; a mismatch rolls the removal back.
            Some(expected) => match take(&mut tx, scope, key).await? {
                Some(old) if self.open(scope, key, &old)?.as_slice() == expected => {
                    Some(stored_size(key, &old))
                }
                _ => return Ok(false),
            },
            None => {
                // Write first (see the module note), then look.
                sqlx::query("DELETE FROM plugin_kv WHERE 1 = 0")
                    .execute(&mut *tx)
                    .await
                    .map_err(unavailable)?;
                if exists(&mut tx, scope, key).await? {
                    return Ok(false);
                }
                None
            }
        };
        if let Some(new) = new {
            let sealed = self.vault.seal(&Self::entry(scope, key), new);
            put(&mut tx, scope, key, &sealed).await?;
            let grew = Growth {
                bytes: size(key, new) > old.unwrap_or(0),
                key: old.is_none(),
            };
            check_quota(&mut tx, scope, grew, quota).await?;
        }
        tx.commit().await.map_err(unavailable)?;
        Ok(true)
    }
}
