//! The audit log: who did what to the host, when, and how it ended.

use serde::Serialize;
use sqlx::Row;

use super::{Actor, AdminError};
use crate::db::{Database, format_millis, now_millis};

/// One audit entry.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AuditEntry {
    /// Increasing id; list with `after` to page.
    pub id: i64,
    /// When, RFC 3339 UTC.
    pub at: String,
    /// Who: `cli:<user>`, `api:<key name>` or `host` for automatic recovery.
    pub actor: String,
    /// What, e.g. `plugin.install`.
    pub action: String,
    /// On what, e.g. `pkobp 1.1.0`.
    pub target: String,
    /// `ok` or the error kind.
    pub outcome: String,
    /// The error message, or details of success.
    pub detail: String,
}

/// Appends an entry. Failures are logged, not returned: the operation itself
/// already happened and must be reported as it went.
pub(crate) async fn record(
    db: &Database,
    actor: &Actor,
    action: &str,
    target: &str,
    outcome: &str,
    detail: &str,
) {
    let written = sqlx::query(
        "INSERT INTO audit_log (at, actor, action, target, outcome, detail) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(now_millis())
    .bind(actor.as_str())
    .bind(action)
    .bind(target)
    .bind(outcome)
    .bind(detail)
    .execute(db.pool())
    .await;
    if let Err(e) = written {
        tracing::error!(%action, %target, error = %e, "cannot write the audit log");
    }
}

/// Records how `result` ended and passes it through.
pub(crate) async fn outcome<T>(
    db: &Database,
    actor: &Actor,
    action: &str,
    target: &str,
    result: Result<T, AdminError>,
    success_detail: impl FnOnce(&T) -> String,
) -> Result<T, AdminError> {
    match &result {
        Ok(value) => record(db, actor, action, target, "ok", &success_detail(value)).await,
        Err(e) => record(db, actor, action, target, e.kind(), &e.to_string()).await,
    }
    result
}

/// Entries after `after` (exclusive), oldest first, at most `limit`.
pub(crate) async fn list(
    db: &Database,
    after: i64,
    limit: i64,
) -> Result<Vec<AuditEntry>, AdminError> {
    let rows = sqlx::query(
        "SELECT id, at, actor, action, target, outcome, detail FROM audit_log \
         WHERE id > $1 ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(AuditEntry {
                id: row.try_get("id")?,
                at: format_millis(row.try_get("at")?),
                actor: row.try_get("actor")?,
                action: row.try_get("action")?,
                target: row.try_get("target")?,
                outcome: row.try_get("outcome")?,
                detail: row.try_get("detail")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AdminError::from)
}
