//! `task_state`: who holds a task and which occurrence is due. Every change
//! is one conditional UPDATE, atomic on SQLite and PostgreSQL alike, so two
//! processes can race for an occurrence and exactly one wins.

use sqlx::Row;

use super::{SchedulerError, TaskKey};
use crate::db::Database;

/// A task's row as read.
#[derive(Debug, Clone)]
pub(super) struct State {
    pub(super) cron: String,
    pub(super) next_due: i64,
    pub(super) running_since: Option<i64>,
    pub(super) running_owner: Option<String>,
}

/// The row of `key`, created with `next_due` if missing.
pub(super) async fn load_or_create(
    db: &Database,
    key: &TaskKey,
    cron: &str,
    next_due: i64,
) -> Result<State, SchedulerError> {
    sqlx::query(
        "INSERT INTO task_state (plugin_id, task, company_id, cron, next_due) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (plugin_id, task, company_id) DO NOTHING",
    )
    .bind(&key.plugin)
    .bind(&key.task)
    .bind(&key.company)
    .bind(cron)
    .bind(next_due)
    .execute(db.pool())
    .await?;
    let row = sqlx::query(
        "SELECT cron, next_due, running_since, running_owner FROM task_state \
         WHERE plugin_id = $1 AND task = $2 AND company_id = $3",
    )
    .bind(&key.plugin)
    .bind(&key.task)
    .bind(&key.company)
    .fetch_one(db.pool())
    .await?;
    Ok(State {
        cron: row.try_get("cron")?,
        next_due: row.try_get("next_due")?,
        running_since: row.try_get("running_since")?,
        running_owner: row.try_get("running_owner")?,
    })
}

/// Moves the task to a new cron expression (the admin changed it).
pub(super) async fn reschedule(
    db: &Database,
    key: &TaskKey,
    old_cron: &str,
    new_cron: &str,
    next_due: i64,
) -> Result<(), SchedulerError> {
    sqlx::query(
        "UPDATE task_state SET cron = $1, next_due = $2 \
         WHERE plugin_id = $3 AND task = $4 AND company_id = $5 AND cron = $6",
    )
    .bind(new_cron)
    .bind(next_due)
    .bind(&key.plugin)
    .bind(&key.task)
    .bind(&key.company)
    .bind(old_cron)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Takes the occurrence `due` (still the row's `next_due`) and schedules
/// `next`, if no live run holds the task. True if this process won.
pub(super) async fn occurrence(
    db: &Database,
    key: &TaskKey,
    due: i64,
    next: i64,
    now: i64,
    stale_before: i64,
    owner: &str,
) -> Result<bool, SchedulerError> {
    let done = sqlx::query(
        "UPDATE task_state SET next_due = $1, running_since = $2, running_owner = $3 \
         WHERE plugin_id = $4 AND task = $5 AND company_id = $6 AND next_due = $7 \
           AND (running_since IS NULL OR running_since < $8)",
    )
    .bind(next)
    .bind(now)
    .bind(owner)
    .bind(&key.plugin)
    .bind(&key.task)
    .bind(&key.company)
    .bind(due)
    .bind(stale_before)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Takes the task for a run outside its schedule, if no live run holds it.
pub(super) async fn manual(
    db: &Database,
    key: &TaskKey,
    now: i64,
    stale_before: i64,
    owner: &str,
) -> Result<bool, SchedulerError> {
    let done = sqlx::query(
        "UPDATE task_state SET running_since = $1, running_owner = $2 \
         WHERE plugin_id = $3 AND task = $4 AND company_id = $5 \
           AND (running_since IS NULL OR running_since < $6)",
    )
    .bind(now)
    .bind(owner)
    .bind(&key.plugin)
    .bind(&key.task)
    .bind(&key.company)
    .bind(stale_before)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Lets go of the task, if this run still holds it.
pub(super) async fn release(
    db: &Database,
    key: &TaskKey,
    owner: &str,
    since: i64,
) -> Result<(), SchedulerError> {
    sqlx::query(
        "UPDATE task_state SET running_since = NULL, running_owner = NULL \
         WHERE plugin_id = $1 AND task = $2 AND company_id = $3 \
           AND running_owner = $4 AND running_since = $5",
    )
    .bind(&key.plugin)
    .bind(&key.task)
    .bind(&key.company)
    .bind(owner)
    .bind(since)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Brings the task's next occurrence forward to `at` (a run the host was
/// too busy to take is tried again then), never later than it was.
pub(super) async fn due_by(db: &Database, key: &TaskKey, at: i64) -> Result<(), SchedulerError> {
    sqlx::query(
        "UPDATE task_state SET next_due = $1 \
         WHERE plugin_id = $2 AND task = $3 AND company_id = $4 AND next_due > $1",
    )
    .bind(at)
    .bind(&key.plugin)
    .bind(&key.task)
    .bind(&key.company)
    .execute(db.pool())
    .await?;
    Ok(())
}
