//! `task_runs`: what ran, when, for whom, and how it ended.

use serde::Serialize;
use sqlx::Row;

use super::{RunError, SchedulerError, TaskKey};
use crate::db::{Database, format_millis, now_millis};

/// Why a run started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// Its cron occurrence came.
    Schedule,
    /// An admin or the ERP asked for it now.
    Manual,
}

impl Trigger {
    fn as_str(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::Manual => "manual",
        }
    }
}

/// One run of a task.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TaskRun {
    /// Increasing id.
    pub id: i64,
    /// The plugin.
    pub plugin: String,
    /// The task.
    pub task: String,
    /// The company; none for a plugin-wide task.
    pub company: Option<String>,
    /// `schedule` or `manual`.
    pub trigger: String,
    /// The occurrence it ran for (scheduled runs), RFC 3339 UTC.
    pub scheduled_for: Option<String>,
    /// Start, RFC 3339 UTC.
    pub started_at: String,
    /// End, if it ended.
    pub finished_at: Option<String>,
    /// `running`, `ok`, `error`, `not-taken` (the host had no free instance;
    /// it runs again shortly) or `abandoned` (its process died).
    pub outcome: String,
    /// Why it failed.
    pub error: Option<String>,
    /// The host process that ran it.
    pub owner: String,
}

pub(super) async fn start(
    db: &Database,
    key: &TaskKey,
    trigger: Trigger,
    scheduled_for: Option<i64>,
    owner: &str,
) -> Result<i64, SchedulerError> {
    let row = sqlx::query(
        "INSERT INTO task_runs \
           (plugin_id, task, company_id, trigger_kind, scheduled_for, started_at, outcome, owner) \
         VALUES ($1, $2, $3, $4, $5, $6, 'running', $7) RETURNING id",
    )
    .bind(&key.plugin)
    .bind(&key.task)
    .bind(&key.company)
    .bind(trigger.as_str())
    .bind(scheduled_for)
    .bind(now_millis())
    .bind(owner)
    .fetch_one(db.pool())
    .await?;
    Ok(row.try_get("id")?)
}

/// How a run ended, as `task_runs.outcome` says it.
pub(crate) fn outcome(error: Option<&RunError>) -> &'static str {
    match error {
        None => "ok",
        Some(RunError::NotTaken(_)) => "not-taken",
        Some(RunError::Failed(_)) => "error",
    }
}

pub(super) async fn finish(
    db: &Database,
    id: i64,
    error: Option<&RunError>,
) -> Result<(), SchedulerError> {
    sqlx::query("UPDATE task_runs SET finished_at = $1, outcome = $2, error = $3 WHERE id = $4")
        .bind(now_millis())
        .bind(outcome(error))
        .bind(error.map(RunError::message))
        .bind(id)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Marks the runs a dead process left `running` as abandoned.
pub(super) async fn abandon(
    db: &Database,
    key: &TaskKey,
    owner: &str,
) -> Result<(), SchedulerError> {
    sqlx::query(
        "UPDATE task_runs SET outcome = 'abandoned', finished_at = $1, \
           error = 'the host process running it stopped' \
         WHERE plugin_id = $2 AND task = $3 AND company_id = $4 AND owner = $5 AND outcome = 'running'",
    )
    .bind(now_millis())
    .bind(&key.plugin)
    .bind(&key.task)
    .bind(&key.company)
    .bind(owner)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// The latest runs of a task, newest first.
pub async fn list(
    db: &Database,
    plugin: &str,
    task: &str,
    limit: i64,
) -> Result<Vec<TaskRun>, SchedulerError> {
    let rows = sqlx::query(
        "SELECT id, plugin_id, task, company_id, trigger_kind, scheduled_for, started_at, \
           finished_at, outcome, error, owner \
         FROM task_runs WHERE plugin_id = $1 AND task = $2 ORDER BY id DESC LIMIT $3",
    )
    .bind(plugin)
    .bind(task)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(read).collect()
}

pub(super) async fn get(db: &Database, id: i64) -> Result<TaskRun, SchedulerError> {
    let row = sqlx::query(
        "SELECT id, plugin_id, task, company_id, trigger_kind, scheduled_for, started_at, \
           finished_at, outcome, error, owner FROM task_runs WHERE id = $1",
    )
    .bind(id)
    .fetch_one(db.pool())
    .await?;
    read(&row)
}

fn read(row: &sqlx::any::AnyRow) -> Result<TaskRun, SchedulerError> {
    let company: String = row.try_get("company_id")?;
    Ok(TaskRun {
        id: row.try_get("id")?,
        plugin: row.try_get("plugin_id")?,
        task: row.try_get("task")?,
        company: Some(company).filter(|c| !c.is_empty()),
        trigger: row.try_get("trigger_kind")?,
        scheduled_for: row
            .try_get::<Option<i64>, _>("scheduled_for")?
            .map(format_millis),
        started_at: format_millis(row.try_get("started_at")?),
        finished_at: row
            .try_get::<Option<i64>, _>("finished_at")?
            .map(format_millis),
        outcome: row.try_get("outcome")?,
        error: row.try_get("error")?,
        owner: row.try_get("owner")?,
    })
}
