//! The scheduler: runs the tasks plugins declare on their cron schedules.
//!
//! - `schedule`: cron parsing and the next occurrence;
//! - `claim`: the `task_state` row that decides who runs an occurrence;
//! - `history`: `task_runs`.
//!
//! Rules: an occurrence runs once, even with several host processes on one
//! database (the claim is a conditional UPDATE); a task never overlaps
//! itself (the claim also requires that no live run holds it; an occurrence
//! that comes while it runs waits and runs once after); after downtime the
//! missed occurrences run once, not once each (the claim moves `next_due`
//! past now); nothing runs while the host is in service mode or the task is
//! paused. A task runs for each company that configured the plugin (set
//! one of its settings), or once plugin-wide if the plugin declares no
//! settings.
//!
//! Load: each company's occurrence is shifted by a fixed offset of its own
//! (up to [`MAX_SPREAD`], at most a quarter of the task's period), so a
//! thousand companies' daily syncs do not start in the same second; at most
//! `max_concurrent_runs` runs of this process go at once, and a due
//! occurrence beyond that waits, still due, for a later tick. A run the host
//! had no instance for never reached the plugin: it is recorded
//! `not-taken` and runs again after [`BUSY_RETRY`].

mod claim;
pub mod history;
pub mod schedule;

pub use history::{TaskRun, Trigger};

use std::sync::Arc;
use std::time::Duration;

use sqlx::Row;

use crate::catalog::{self, CatalogError};
use crate::connectors::{Connectors, UnavailableError};
use crate::db::Database;
use crate::db::now_millis;
use crate::runtime::CallError;

/// What lets a run start: the serving process counts it in flight (so an
/// install waits for it) and refuses it in service mode. Implemented by
/// the layer that serves (`serve::Gate`), so the scheduler names none.
pub trait RunGate: Send + Sync {
    /// A pass held for the run's length; none while service mode is on.
    fn enter(&self) -> Option<Box<dyn Send>>;
}

/// A task the host runs itself, for the plugins that declare it with
/// runner `host` (the statement sync of bank connectors). The domain module
/// that owns it registers it with [`Scheduler::with_host_task`], so the
/// scheduler names no domain and reads none of its tables.
#[async_trait::async_trait]
pub trait HostTask: Send + Sync {
    /// The task's name, as `plugin_tasks` declares it.
    fn name(&self) -> &str;

    /// The companies it runs for, for `plugin`.
    async fn companies(&self, plugin: &str) -> Result<Vec<String>, String>;

    /// Runs it for `plugin` and `company` on behalf of `user` (none: on
    /// schedule).
    async fn run(&self, plugin: &str, company: &str, user: Option<&str>) -> Result<(), RunError>;
}

/// Why a run did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunError {
    /// The host had no free instance: the plugin never ran, so the run is
    /// not a failure and is tried again soon.
    NotTaken(String),
    /// It ran and failed.
    Failed(String),
}

impl RunError {
    /// What happened, in words.
    pub fn message(&self) -> &str {
        match self {
            RunError::NotTaken(m) | RunError::Failed(m) => m,
        }
    }
}

impl From<String> for RunError {
    fn from(message: String) -> Self {
        RunError::Failed(message)
    }
}

/// The longest an occurrence is shifted to spread companies' runs.
pub const MAX_SPREAD: Duration = Duration::from_secs(600);

/// How soon a run the host was too busy to take is tried again.
pub const BUSY_RETRY: Duration = Duration::from_secs(15);

/// Runs of one process at once unless [`Scheduler::with_max_concurrent_runs`]
/// says otherwise.
pub const DEFAULT_MAX_CONCURRENT_RUNS: usize = 16;

/// How often a serving host looks for due tasks; cron's finest unit is a
/// second.
pub const TICK: Duration = Duration::from_millis(500);

/// Why the scheduler could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    /// The plugin declares no such task.
    #[error("{plugin} has no task `{task}`")]
    UnknownTask {
        /// The plugin.
        plugin: String,
        /// The task.
        task: String,
    },
    /// Another run holds the task.
    #[error("{0} is already running; a task never overlaps itself")]
    AlreadyRunning(String),
    /// The host is in service mode.
    #[error("the host is in service mode; tasks wait until it ends")]
    ServiceMode,
    /// The cron expression is invalid.
    #[error("cron `{expr}`: {reason}")]
    Cron {
        /// The expression.
        expr: String,
        /// Why.
        reason: String,
    },
    /// Settings or vault could not give the call context.
    #[error(transparent)]
    Context(#[from] CatalogError),
    /// The database failed.
    #[error("scheduler database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl SchedulerError {
    /// Stable code for APIs and `--json`.
    pub fn kind(&self) -> &'static str {
        match self {
            SchedulerError::UnknownTask { .. } => "unknown_task",
            SchedulerError::AlreadyRunning(_) => "task_running",
            SchedulerError::ServiceMode => "service_mode",
            SchedulerError::Cron { .. } => "bad_cron",
            SchedulerError::Context(e) => e.kind(),
            SchedulerError::Database(_) => "database_error",
        }
    }
}

/// One task for one company ('' for plugin-wide).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskKey {
    /// The plugin.
    pub plugin: String,
    /// The task.
    pub task: String,
    /// The company, or empty.
    pub company: String,
}

impl std::fmt::Display for TaskKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.plugin, self.task)?;
        if !self.company.is_empty() {
            write!(f, " for {}", self.company)?;
        }
        Ok(())
    }
}

/// A declared task as the scheduler reads it each tick.
struct Declared {
    plugin: String,
    task: String,
    cron: String,
    paused: bool,
    /// `host` for the statement sync the host runs itself.
    runner: String,
}

/// Runs tasks of one host process. Cheap to clone.
#[derive(Clone)]
pub struct Scheduler {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    connectors: Arc<Connectors>,
    gate: Option<Arc<dyn RunGate>>,
    host_tasks: Vec<Arc<dyn HostTask>>,
    owner: String,
    stale_after_ms: i64,
    runs: Arc<tokio::sync::Semaphore>,
    spread: Duration,
}

impl Scheduler {
    /// A scheduler over `db` calling plugins through `connectors`. Runs count in `gate`'s
    /// in-flight calls, so installs wait for them. `owner` names this
    /// process; a run held longer than `stale_after` (longer than any call
    /// may last) is taken to be dead.
    pub fn new(
        db: Database,
        connectors: Arc<Connectors>,
        gate: Option<Arc<dyn RunGate>>,
        owner: String,
        stale_after: Duration,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                connectors,
                gate,
                host_tasks: Vec::new(),
                owner,
                stale_after_ms: i64::try_from(stale_after.as_millis()).unwrap_or(i64::MAX),
                runs: Arc::new(tokio::sync::Semaphore::new(DEFAULT_MAX_CONCURRENT_RUNS)),
                spread: Duration::ZERO,
            }),
        }
    }

    fn rebuilt(self, change: impl FnOnce(&mut Inner)) -> Self {
        let inner = &self.inner;
        let mut next = Inner {
            db: inner.db.clone(),
            connectors: inner.connectors.clone(),
            gate: inner.gate.clone(),
            host_tasks: inner.host_tasks.clone(),
            owner: inner.owner.clone(),
            stale_after_ms: inner.stale_after_ms,
            runs: inner.runs.clone(),
            spread: inner.spread,
        };
        change(&mut next);
        Self {
            inner: Arc::new(next),
        }
    }

    /// Runs `task` for the plugins that declare it with runner `host`.
    pub fn with_host_task(self, task: Arc<dyn HostTask>) -> Self {
        self.rebuilt(|inner| inner.host_tasks.push(task))
    }

    /// At most `runs` scheduled and manual runs of this process at once
    /// (at least one).
    pub fn with_max_concurrent_runs(self, runs: usize) -> Self {
        self.rebuilt(|inner| inner.runs = Arc::new(tokio::sync::Semaphore::new(runs.max(1))))
    }

    /// Shifts each company's occurrences by an offset of its own, up to
    /// `spread` (capped by [`MAX_SPREAD`] and a quarter of the period).
    pub fn with_spread(self, spread: Duration) -> Self {
        self.rebuilt(|inner| inner.spread = spread.min(MAX_SPREAD))
    }

    fn host_task(&self, name: &str) -> Result<&Arc<dyn HostTask>, String> {
        self.inner
            .host_tasks
            .iter()
            .find(|t| t.name() == name)
            .ok_or_else(|| format!("no host task `{name}` is registered in this process"))
    }

    /// Ticks every `interval` until aborted.
    pub fn spawn(self, interval: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                if let Err(e) = self.tick(now_millis()).await {
                    tracing::warn!(error = %e, "scheduler tick failed");
                }
                tokio::time::sleep(interval).await;
            }
        })
    }

    /// Starts every occurrence due at `now` that this process wins; returns
    /// the started runs (tests await them).
    pub async fn tick(&self, now: i64) -> Result<Vec<tokio::task::JoinHandle<()>>, SchedulerError> {
        let mut started = Vec::new();
        if catalog::service_mode::status(&self.inner.db).await?.active {
            return Ok(started);
        }
        for declared in self.declared().await? {
            if declared.paused {
                continue;
            }
            let cron = match schedule::parse(&declared.cron) {
                Ok(cron) => cron,
                Err(reason) => {
                    tracing::error!(plugin = %declared.plugin, task = %declared.task, %reason, "task has a bad cron");
                    continue;
                }
            };
            let spread = self.spread_of(&cron, now);
            for company in self.companies(&declared).await? {
                let key = TaskKey {
                    plugin: declared.plugin.clone(),
                    task: declared.task.clone(),
                    company,
                };
                let offset = schedule::offset(&key.to_string(), spread);
                let next = schedule::next_shifted(&cron, now, offset).unwrap_or(i64::MAX);
                let state = claim::load_or_create(self.db(), &key, &declared.cron, next).await?;
                if state.cron != declared.cron {
                    claim::reschedule(self.db(), &key, &state.cron, &declared.cron, next).await?;
                    continue;
                }
                if now < state.next_due {
                    continue;
                }
                // Beyond the bound the occurrence stays due for a later tick.
                let Ok(permit) = self.inner.runs.clone().try_acquire_owned() else {
                    tracing::debug!(task = %key, "at the bound of concurrent runs; it waits");
                    return Ok(started);
                };
                // Counted in flight before the claim, so a drain that
                // starts now waits for this run.
                let pass = match &self.inner.gate {
                    Some(gate) => match gate.enter() {
                        Some(pass) => Some(pass),
                        None => return Ok(started),
                    },
                    None => None,
                };
                let stale_before = now - self.inner.stale_after_ms;
                let won = claim::occurrence(
                    self.db(),
                    &key,
                    state.next_due,
                    next,
                    now,
                    stale_before,
                    &self.inner.owner,
                )
                .await?;
                if !won {
                    continue;
                }
                if let Some(dead) = state
                    .running_owner
                    .filter(|_| state.running_since.is_some())
                {
                    history::abandon(self.db(), &key, &dead).await?;
                }
                let this = self.clone();
                let due = state.next_due;
                let runner = declared.runner.clone();
                started.push(tokio::spawn(async move {
                    let _pass = pass;
                    let _permit = permit;
                    if let Err(e) = this
                        .execute(&key, &runner, Trigger::Schedule, Some(due), now, None)
                        .await
                    {
                        tracing::error!(task = %key, error = %e, "recording a task run failed");
                    }
                }));
            }
        }
        Ok(started)
    }

    /// Runs `plugin/task` now for `company` (none: plugin-wide) on behalf of
    /// `user`, unless a run holds it. Its schedule is unchanged.
    pub async fn run_now(
        &self,
        plugin: &str,
        task: &str,
        company: Option<&str>,
        user: Option<&str>,
    ) -> Result<TaskRun, SchedulerError> {
        if catalog::service_mode::status(&self.inner.db).await?.active {
            return Err(SchedulerError::ServiceMode);
        }
        let declared = self
            .declared()
            .await?
            .into_iter()
            .find(|d| d.plugin == plugin && d.task == task)
            .ok_or_else(|| SchedulerError::UnknownTask {
                plugin: plugin.to_owned(),
                task: task.to_owned(),
            })?;
        let key = TaskKey {
            plugin: plugin.to_owned(),
            task: task.to_owned(),
            company: company.unwrap_or_default().to_owned(),
        };
        let now = now_millis();
        let next = schedule::parse(&declared.cron)
            .ok()
            .and_then(|cron| {
                let offset = schedule::offset(&key.to_string(), self.spread_of(&cron, now));
                schedule::next_shifted(&cron, now, offset)
            })
            .unwrap_or(i64::MAX);
        claim::load_or_create(self.db(), &key, &declared.cron, next).await?;
        let _pass = match &self.inner.gate {
            Some(gate) => Some(gate.enter().ok_or(SchedulerError::ServiceMode)?),
            None => None,
        };
        let _permit = self.inner.runs.clone().acquire_owned().await;
        let stale_before = now - self.inner.stale_after_ms;
        if !claim::manual(self.db(), &key, now, stale_before, &self.inner.owner).await? {
            return Err(SchedulerError::AlreadyRunning(key.to_string()));
        }
        let id = self
            .execute(&key, &declared.runner, Trigger::Manual, None, now, user)
            .await?;
        history::get(self.db(), id).await
    }

    /// Runs a claimed task, records it, and lets go of the claim.
    async fn execute(
        &self,
        key: &TaskKey,
        runner: &str,
        trigger: Trigger,
        scheduled_for: Option<i64>,
        claimed_at: i64,
        user: Option<&str>,
    ) -> Result<i64, SchedulerError> {
        let owner = &self.inner.owner;
        let id = match history::start(self.db(), key, trigger, scheduled_for, owner).await {
            Ok(id) => id,
            Err(e) => {
                claim::release(self.db(), key, owner, claimed_at).await?;
                return Err(e);
            }
        };
        let error = if runner == "host" {
            match self.host_task(&key.task) {
                Ok(task) => task.run(&key.plugin, &key.company, user).await.err(),
                Err(e) => Some(RunError::Failed(e)),
            }
        } else {
            self.call(key, user).await.err()
        };
        match &error {
            None => tracing::info!(task = %key, trigger = ?trigger, "task ran"),
            Some(RunError::NotTaken(e)) => {
                tracing::warn!(task = %key, trigger = ?trigger, error = %e, "task not taken; it runs again shortly");
                let retry_at =
                    claimed_at.saturating_add(i64::try_from(BUSY_RETRY.as_millis()).unwrap_or(0));
                claim::due_by(self.db(), key, retry_at).await?;
            }
            Some(RunError::Failed(e)) => {
                tracing::warn!(task = %key, trigger = ?trigger, error = %e, "task failed");
            }
        }
        let finished = history::finish(self.db(), id, error.as_ref()).await;
        self.inner.connectors.metrics().record_task_run(
            &key.plugin,
            &key.task,
            history::outcome(error.as_ref()),
        );
        claim::release(self.db(), key, owner, claimed_at).await?;
        finished.map(|()| id)
    }

    async fn call(&self, key: &TaskKey, user: Option<&str>) -> Result<(), RunError> {
        let connectors = &self.inner.connectors;
        let loaded = connectors
            .get(&key.plugin)
            .await
            .map_err(|e: UnavailableError| e.to_string())?;
        let company = Some(key.company.as_str()).filter(|c| !c.is_empty());
        let ctx = connectors
            .context(&loaded, company, user)
            .await
            .map_err(|e| e.to_string())?;
        loaded
            .plugin
            .run_task(ctx, &key.task)
            .await
            .map_err(|e| match e {
                CallError::Busy { .. } => RunError::NotTaken(e.to_string()),
                e => RunError::Failed(e.to_string()),
            })
    }

    /// How far this task's occurrences may be shifted: the configured
    /// spread, at most a quarter of the period seen from `now`.
    fn spread_of(&self, cron: &croner::Cron, now: i64) -> Duration {
        let period = schedule::next_after(cron, now)
            .and_then(|first| Some(schedule::next_after(cron, first)? - first))
            .and_then(|ms| u64::try_from(ms / 4).ok())
            .map_or(Duration::ZERO, Duration::from_millis);
        self.inner.spread.min(period)
    }

    /// Tasks of installed, enabled plugins.
    async fn declared(&self) -> Result<Vec<Declared>, SchedulerError> {
        let rows = sqlx::query(
            "SELECT t.plugin_id, t.name, t.cron, t.paused, t.runner FROM plugin_tasks t \
             JOIN installations i ON i.plugin_id = t.plugin_id \
             WHERE i.enabled = 1 ORDER BY t.plugin_id, t.name",
        )
        .fetch_all(self.db().pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Declared {
                    plugin: row.try_get("plugin_id")?,
                    task: row.try_get("name")?,
                    cron: row.try_get("cron")?,
                    paused: row.try_get::<i64, _>("paused")? != 0,
                    runner: row.try_get("runner")?,
                })
            })
            .collect()
    }

    /// The companies a task runs for: a host task says (the statement sync:
    /// those with an account the plugin serves; one not registered here,
    /// none); otherwise those that set one of the plugin's settings, or
    /// `['']` (plugin-wide) if it declares none.
    async fn companies(&self, declared: &Declared) -> Result<Vec<String>, SchedulerError> {
        let plugin = declared.plugin.as_str();
        if declared.runner == "host" {
            let Ok(task) = self.host_task(&declared.task) else {
                return Ok(Vec::new());
            };
            return task.companies(plugin).await.or_else(|reason| {
                tracing::warn!(plugin, task = %declared.task, %reason, "cannot list the companies of a host task");
                Ok(Vec::new())
            });
        }
        let declares = sqlx::query("SELECT name FROM plugin_settings WHERE plugin_id = $1")
            .bind(plugin)
            .fetch_optional(self.db().pool())
            .await?;
        if declares.is_none() {
            return Ok(vec![String::new()]);
        }
        let rows = sqlx::query(
            "SELECT company_id FROM company_settings WHERE plugin_id = $1 \
             UNION SELECT company_id FROM vault_entries WHERE owner = $1 AND kind = 'secret' \
             ORDER BY company_id",
        )
        .bind(plugin)
        .fetch_all(self.db().pool())
        .await?;
        rows.iter()
            .map(|row| Ok(row.try_get("company_id")?))
            .collect()
    }

    fn db(&self) -> &Database {
        &self.inner.db
    }
}
