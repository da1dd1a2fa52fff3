//! This database's side of sharing: the targets an admin registered (their
//! connection strings sealed in the vault) and the shares made from here.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{SessionShare, ShareError, ShareTarget};
use crate::db::{Database, now_millis};

const COLUMNS: &str = "id, session_id, target, target_user, target_company, company_ids, \
    remote_session_id, origin, state, created_by, created_at, updated_at, last_sync_at, last_error";

pub(super) async fn upsert_target(db: &Database, name: &str, by: &str) -> Result<(), ShareError> {
    sqlx::query(
        "INSERT INTO share_targets (name, created_at, created_by) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET created_at = excluded.created_at, \
           created_by = excluded.created_by",
    )
    .bind(name)
    .bind(now_millis())
    .bind(by)
    .execute(db.pool())
    .await?;
    Ok(())
}

pub(super) async fn targets(db: &Database) -> Result<Vec<ShareTarget>, ShareError> {
    let rows = sqlx::query(
        "SELECT t.name, t.created_at, t.created_by, \
           (SELECT COUNT(*) FROM bank_session_shares s \
             WHERE s.target = t.name AND s.state = 'active') AS active_shares \
         FROM share_targets t ORDER BY t.name",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(ShareTarget {
                name: row.try_get("name")?,
                created_at: row.try_get("created_at")?,
                created_by: row.try_get("created_by")?,
                active_shares: row.try_get("active_shares")?,
            })
        })
        .collect()
}

pub(super) async fn delete_target(db: &Database, name: &str) -> Result<bool, ShareError> {
    // Ended shares keep their history; the target's name stays readable in
    // them, so only a target nothing names is removed.
    let named = sqlx::query("SELECT COUNT(*) AS n FROM bank_session_shares WHERE target = $1")
        .bind(name)
        .fetch_one(db.pool())
        .await?
        .try_get::<i64, _>("n")?;
    if named > 0 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM share_targets WHERE name = $1")
        .bind(name)
        .execute(db.pool())
        .await?;
    Ok(true)
}

fn share_from(row: &AnyRow) -> Result<SessionShare, ShareError> {
    let ids: String = row.try_get("company_ids")?;
    Ok(SessionShare {
        id: row.try_get("id")?,
        session: row.try_get("session_id")?,
        target: row.try_get("target")?,
        target_user: row.try_get("target_user")?,
        target_company: row.try_get("target_company")?,
        company_ids: serde_json::from_str(&ids)
            .map_err(|e| ShareError::Crypto(format!("stored company ids: {e}")))?,
        remote_session_id: row.try_get("remote_session_id")?,
        origin: row.try_get("origin")?,
        state: row.try_get("state")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        last_sync_at: row.try_get("last_sync_at")?,
        last_error: row.try_get("last_error")?,
    })
}

pub(super) async fn of_session(
    db: &Database,
    session: i64,
    only_active: bool,
) -> Result<Vec<SessionShare>, ShareError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM bank_session_shares WHERE session_id = $1 \
           AND ($2 = 0 OR state = 'active') ORDER BY id"
    ))
    .bind(session)
    .bind(i64::from(only_active))
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(share_from).collect()
}

pub(super) async fn get(db: &Database, session: i64, id: i64) -> Result<SessionShare, ShareError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM bank_session_shares WHERE id = $1 AND session_id = $2"
    ))
    .bind(id)
    .bind(session)
    .fetch_optional(db.pool())
    .await?
    .ok_or(ShareError::UnknownShare { session, id })?;
    share_from(&row)
}

/// What a new share row holds.
pub(super) struct NewShare<'a> {
    pub session: i64,
    pub target: &'a str,
    pub user: &'a str,
    pub company: &'a str,
    pub company_ids: &'a str,
    pub remote_id: i64,
    pub origin: &'a str,
    pub by: &'a str,
}

pub(super) async fn insert(db: &Database, new: &NewShare<'_>) -> Result<i64, ShareError> {
    let now = now_millis();
    let row = sqlx::query(
        "INSERT INTO bank_session_shares (session_id, target, target_user, target_company, \
           company_ids, remote_session_id, origin, state, created_by, created_at, updated_at, \
           last_sync_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8, $9, $9, $9) RETURNING id",
    )
    .bind(new.session)
    .bind(new.target)
    .bind(new.user)
    .bind(new.company)
    .bind(new.company_ids)
    .bind(new.remote_id)
    .bind(new.origin)
    .bind(new.by)
    .bind(now)
    .fetch_one(db.pool())
    .await?;
    Ok(row.try_get("id")?)
}

/// Records how the last write to the target went; `state` moves the share
/// on (`revoked`, `ended`) when given.
pub(super) async fn record(
    db: &Database,
    id: i64,
    state: Option<&str>,
    error: Option<&str>,
) -> Result<(), ShareError> {
    let now = now_millis();
    sqlx::query(
        "UPDATE bank_session_shares SET state = COALESCE($2, state), updated_at = $3, \
           last_sync_at = CASE WHEN $4 IS NULL THEN $3 ELSE last_sync_at END, last_error = $4 \
         WHERE id = $1",
    )
    .bind(id)
    .bind(state)
    .bind(now)
    .bind(error)
    .execute(db.pool())
    .await?;
    Ok(())
}
