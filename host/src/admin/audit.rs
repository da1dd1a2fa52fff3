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
    rows.iter().map(entry).collect()
}

fn entry(row: &sqlx::any::AnyRow) -> Result<AuditEntry, AdminError> {
    Ok(AuditEntry {
        id: row.try_get("id")?,
        at: format_millis(row.try_get("at")?),
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        target: row.try_get("target")?,
        outcome: row.try_get("outcome")?,
        detail: row.try_get("detail")?,
    })
}

/// Which audit entries to show, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this actor (`api:ops`, `cli:anna`, `host`).
    pub actor: Option<String>,
    /// Only actions starting with this (`plugin.`, `console.sign-in`).
    pub action: Option<String>,
    /// Only entries older than this id (the next page).
    pub before: Option<i64>,
    /// At most this many (1 to 1000).
    pub limit: i64,
}

/// The newest entries `filter` lets through.
pub(crate) async fn newest(
    db: &Database,
    filter: &AuditFilter,
) -> Result<Vec<AuditEntry>, AdminError> {
    let actor = filter.actor.clone().unwrap_or_default();
    let action = filter.action.clone().unwrap_or_default();
    // The prefix is compared as a substring, so `%` and `_` mean themselves.
    let rows = sqlx::query(
        "SELECT id, at, actor, action, target, outcome, detail FROM audit_log \
         WHERE ($1 = '' OR actor = $1) \
           AND ($2 = '' OR substr(action, 1, length($2)) = $2) \
           AND ($3 = 0 OR id < $3) \
         ORDER BY id DESC LIMIT $4",
    )
    .bind(&actor)
    .bind(&action)
    .bind(filter.before.unwrap_or(0))
    .bind(filter.limit.clamp(1, 1000))
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(entry).collect()
}
