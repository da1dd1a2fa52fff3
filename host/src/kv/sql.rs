//! Plugin key-value data in the host database (table `plugin_kv`).
//!
//! Every write starts with a write statement, so SQLite takes its write lock
//! first and a transaction never has to upgrade a read lock (which fails
//! instead of waiting). The quota is checked inside the same transaction.

use sqlx::{Any, Row, Transaction};

use super::{KvError, KvStore, Scope};
use crate::db::{Backend, Database};

/// Stores plugin data in `plugin_kv`, shared by every host process on the
/// database.
#[derive(Debug, Clone)]
pub struct SqlKv {
    db: Database,
}

impl SqlKv {
    /// A store over `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
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

/// Removes the entry, only if it holds `expected` when given; the removed
/// entry's size, or none if nothing matched.
async fn take(
    tx: &mut Transaction<'static, Any>,
    scope: &Scope,
    key: &str,
    expected: Option<&[u8]>,
) -> Result<Option<i64>, KvError> {
    let row = match expected {
        Some(expected) => sqlx::query(
            "DELETE FROM plugin_kv WHERE plugin_id = $1 AND company_id = $2 AND key = $3 \
             AND value = $4 RETURNING value",
        )
        .bind(&*scope.plugin)
        .bind(company(scope))
        .bind(key)
        .bind(expected.to_vec()),
        None => sqlx::query(
            "DELETE FROM plugin_kv WHERE plugin_id = $1 AND company_id = $2 AND key = $3 \
             RETURNING value",
        )
        .bind(&*scope.plugin)
        .bind(company(scope))
        .bind(key),
    }
    .fetch_optional(&mut **tx)
    .await
    .map_err(unavailable)?;
    row.map(|row| row.try_get::<Vec<u8>, _>(0).map(|old| size(key, &old)))
        .transpose()
        .map_err(unavailable)
}

async fn put(
    tx: &mut Transaction<'static, Any>,
    scope: &Scope,
    key: &str,
    value: &[u8],
) -> Result<(), KvError> {
    sqlx::query(
        "INSERT INTO plugin_kv (plugin_id, company_id, key, value) VALUES ($1, $2, $3, $4)",
    )
    .bind(&*scope.plugin)
    .bind(company(scope))
    .bind(key)
    .bind(value.to_vec())
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

/// Refuses a write that grew the plugin's data past `quota`.
async fn check_quota(
    tx: &mut Transaction<'static, Any>,
    scope: &Scope,
    grew: bool,
    quota: u64,
) -> Result<(), KvError> {
    if !grew {
        return Ok(());
    }
    let used: i64 = sqlx::query(
        "SELECT CAST(COALESCE(SUM(OCTET_LENGTH(key) + OCTET_LENGTH(value)), 0) AS BIGINT) \
         FROM plugin_kv WHERE plugin_id = $1",
    )
    .bind(&*scope.plugin)
    .fetch_one(&mut **tx)
    .await
    .and_then(|row| row.try_get(0))
    .map_err(unavailable)?;
    if used as u64 > quota {
        return Err(KvError::QuotaExceeded { quota });
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
        row.map(|row| row.try_get(0))
            .transpose()
            .map_err(unavailable)
    }

    async fn set(&self, scope: &Scope, key: &str, value: &[u8], quota: u64) -> Result<(), KvError> {
        let mut tx = begin_write(&self.db, scope).await?;
        let old = take(&mut tx, scope, key, None).await?.unwrap_or(0);
        put(&mut tx, scope, key, value).await?;
        check_quota(&mut tx, scope, size(key, value) > old, quota).await?;
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
        quota: u64,
    ) -> Result<bool, KvError> {
        let mut tx = begin_write(&self.db, scope).await?;
        let old = match expected {
            Some(expected) => match take(&mut tx, scope, key, Some(expected)).await? {
                Some(old) => old,
                None => return Ok(false),
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
                0
            }
        };
        if let Some(new) = new {
            put(&mut tx, scope, key, new).await?;
            check_quota(&mut tx, scope, size(key, new) > old, quota).await?;
        }
        tx.commit().await.map_err(unavailable)?;
        Ok(true)
    }
}
