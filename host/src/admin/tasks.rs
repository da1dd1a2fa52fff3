//! Scheduled tasks as the admin sees them: their cron, pause state and
//! next occurrence, changed through the audit log.

use serde::Serialize;
use sqlx::Row;

use super::{Actor, Admin, AdminError};
use crate::db::format_millis;
use crate::scheduler::schedule;

/// A declared task.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TaskInfo {
    /// The plugin.
    pub plugin: String,
    /// The task.
    pub task: String,
    /// The cron in effect.
    pub cron: String,
    /// The manifest's default.
    pub default_cron: String,
    /// Whether it is paused.
    pub paused: bool,
    /// What it does.
    pub description: String,
    /// The earliest occurrence due for any company, RFC 3339 UTC.
    pub next_due: Option<String>,
    /// Whether a run holds it for some company now.
    pub running: bool,
}

impl Admin {
    /// Every task of the installed plugins.
    pub async fn tasks(&self) -> Result<Vec<TaskInfo>, AdminError> {
        let rows = sqlx::query(
            "SELECT t.plugin_id, t.name, t.cron, t.default_cron, t.paused, t.description, \
               (SELECT MIN(s.next_due) FROM task_state s \
                 WHERE s.plugin_id = t.plugin_id AND s.task = t.name AND s.cron = t.cron) AS next_due, \
               (SELECT COUNT(*) FROM task_state s \
                 WHERE s.plugin_id = t.plugin_id AND s.task = t.name \
                   AND s.running_since IS NOT NULL) AS running \
             FROM plugin_tasks t ORDER BY t.plugin_id, t.name",
        )
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(TaskInfo {
                    plugin: row.try_get("plugin_id")?,
                    task: row.try_get("name")?,
                    cron: row.try_get("cron")?,
                    default_cron: row.try_get("default_cron")?,
                    paused: row.try_get::<i64, _>("paused")? != 0,
                    description: row.try_get("description")?,
                    next_due: row
                        .try_get::<Option<i64>, _>("next_due")?
                        .filter(|due| *due < i64::MAX)
                        .map(format_millis),
                    running: row.try_get::<i64, _>("running")? > 0,
                })
            })
            .collect()
    }

    /// Sets the cron of `plugin/task`; none restores the manifest default.
    pub async fn set_task_cron(
        &self,
        actor: &Actor,
        plugin: &str,
        task: &str,
        cron: Option<&str>,
    ) -> Result<TaskInfo, AdminError> {
        let result = async {
            let current = self.task(plugin, task).await?;
            let cron = cron.unwrap_or(&current.default_cron).trim().to_owned();
            schedule::parse(&cron)
                .map_err(|reason| AdminError::InvalidInput(format!("cron `{cron}`: {reason}")))?;
            sqlx::query("UPDATE plugin_tasks SET cron = $1 WHERE plugin_id = $2 AND name = $3")
                .bind(&cron)
                .bind(plugin)
                .bind(task)
                .execute(self.db.pool())
                .await?;
            self.task(plugin, task).await
        }
        .await;
        self.audited(
            actor,
            "task.set",
            &format!("{plugin}/{task}"),
            result,
            |t| format!("cron {}", t.cron),
        )
        .await
    }

    /// Pauses or resumes `plugin/task`.
    pub async fn pause_task(
        &self,
        actor: &Actor,
        plugin: &str,
        task: &str,
        paused: bool,
    ) -> Result<TaskInfo, AdminError> {
        let result = async {
            self.task(plugin, task).await?;
            sqlx::query("UPDATE plugin_tasks SET paused = $1 WHERE plugin_id = $2 AND name = $3")
                .bind(i64::from(paused))
                .bind(plugin)
                .bind(task)
                .execute(self.db.pool())
                .await?;
            self.task(plugin, task).await
        }
        .await;
        let action = if paused { "task.pause" } else { "task.resume" };
        self.audited(actor, action, &format!("{plugin}/{task}"), result, |t| {
            if t.paused { "paused" } else { "resumed" }.to_owned()
        })
        .await
    }

    async fn task(&self, plugin: &str, task: &str) -> Result<TaskInfo, AdminError> {
        self.tasks()
            .await?
            .into_iter()
            .find(|t| t.plugin == plugin && t.task == task)
            .ok_or_else(|| {
                AdminError::InvalidInput(format!("{plugin} has no task `{task}` installed"))
            })
    }
}
