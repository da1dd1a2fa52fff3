//! The install journal: one row per install or upgrade under way, written
//! before anything changes. A row whose owner died (same machine, process
//! gone; or no heartbeat for [`ORPHANED_AFTER`]) is rolled back by the next
//! host start or admin command. The final switch to the new version deletes
//! the row in the same transaction, so a row always means "not committed".

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use sqlx::{Any, Row, Transaction};

use super::processes::{hostname, pid_alive};
use super::{Actor, AdminError, audit};
use crate::db::{Database, now_millis};

/// A journal row without a heartbeat for this long belongs to nobody.
pub const ORPHANED_AFTER: Duration = Duration::from_secs(30);

/// Steps, in order. Storage is untouched before `lifecycle`.
pub(crate) const STEP_DRAINING: &str = "draining";
pub(crate) const STEP_BACKUP: &str = "backup";
pub(crate) const STEP_LIFECYCLE: &str = "lifecycle";

/// Plugins this process is installing right now (so it never mistakes its
/// own row for an orphan when its pid is reused).
static ACTIVE: Mutex<Option<HashSet<String>>> = Mutex::new(None);

fn set_active(plugin: &str, active: bool) {
    if let Ok(mut guard) = ACTIVE.lock() {
        let set = guard.get_or_insert_with(HashSet::new);
        if active {
            set.insert(plugin.to_owned());
        } else {
            set.remove(plugin);
        }
    }
}

fn is_active(plugin: &str) -> bool {
    ACTIVE
        .lock()
        .map(|guard| guard.as_ref().is_some_and(|set| set.contains(plugin)))
        .unwrap_or(false)
}

/// One journal row.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) plugin: String,
    pub(crate) operation: String,
    pub(crate) from_version: Option<String>,
    pub(crate) to_version: String,
    pub(crate) step: String,
    pub(crate) actor: String,
    pub(crate) owner_hostname: String,
    pub(crate) owner_pid: i64,
    pub(crate) heartbeat_at: i64,
}

impl Entry {
    fn is_orphan(&self) -> bool {
        let ours = self.owner_hostname == hostname();
        let stale = now_millis() - self.heartbeat_at > ORPHANED_AFTER.as_millis() as i64;
        let owner_gone = ours
            && (!pid_alive(self.owner_pid)
                || (self.owner_pid == i64::from(std::process::id()) && !is_active(&self.plugin)));
        owner_gone || stale
    }

    fn busy(&self) -> AdminError {
        AdminError::Busy {
            plugin: self.plugin.clone(),
            operation: self.operation.clone(),
            actor: self.actor.clone(),
            host: self.owner_hostname.clone(),
            pid: self.owner_pid,
        }
    }
}

fn entry_from_row(row: &sqlx::any::AnyRow) -> Result<Entry, sqlx::Error> {
    Ok(Entry {
        plugin: row.try_get("plugin_id")?,
        operation: row.try_get("operation")?,
        from_version: row.try_get("from_version")?,
        to_version: row.try_get("to_version")?,
        step: row.try_get("step")?,
        actor: row.try_get("actor")?,
        owner_hostname: row.try_get("owner_hostname")?,
        owner_pid: row.try_get("owner_pid")?,
        heartbeat_at: row.try_get("heartbeat_at")?,
    })
}

const COLUMNS: &str = "plugin_id, operation, from_version, to_version, step, service_mode_set, \
     actor, owner_hostname, owner_pid, heartbeat_at";

async fn all(db: &Database) -> Result<Vec<Entry>, AdminError> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM journal ORDER BY plugin_id"))
        .fetch_all(db.pool())
        .await?;
    Ok(rows.iter().map(entry_from_row).collect::<Result<_, _>>()?)
}

/// Writes the row that claims `plugin` for this process; refuses when a live
/// operation holds it.
pub(crate) async fn begin(
    db: &Database,
    plugin: &str,
    operation: &str,
    from_version: Option<&str>,
    to_version: &str,
    actor: &Actor,
) -> Result<(), AdminError> {
    let now = now_millis();
    let inserted = sqlx::query(&format!(
        "INSERT INTO journal ({COLUMNS}, started_at) VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $8, $9, $9) \
         ON CONFLICT (plugin_id) DO NOTHING"
    ))
    .bind(plugin)
    .bind(operation)
    .bind(from_version)
    .bind(to_version)
    .bind(STEP_DRAINING)
    .bind(actor.as_str())
    .bind(hostname())
    .bind(i64::from(std::process::id()))
    .bind(now)
    .execute(db.pool())
    .await?;
    if inserted.rows_affected() == 1 {
        set_active(plugin, true);
        return Ok(());
    }
    let holder = all(db).await?.into_iter().find(|e| e.plugin == plugin);
    Err(match holder {
        Some(entry) => entry.busy(),
        None => AdminError::Corrupt(format!("journal row of {plugin} appeared and vanished")),
    })
}

/// Records the step reached (and that the owner is alive).
pub(crate) async fn step(db: &Database, plugin: &str, step: &str) -> Result<(), AdminError> {
    sqlx::query("UPDATE journal SET step = $1, heartbeat_at = $2 WHERE plugin_id = $3")
        .bind(step)
        .bind(now_millis())
        .bind(plugin)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Notes that this operation switched service mode on, so finishing or
/// rolling back switches it off.
pub(crate) async fn service_mode_set(db: &Database, plugin: &str) -> Result<(), AdminError> {
    sqlx::query("UPDATE journal SET service_mode_set = 1 WHERE plugin_id = $1")
        .bind(plugin)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Keeps the row's heartbeat fresh while the operation runs; stops when the
/// returned guard is dropped.
pub(crate) fn keep_alive(db: &Database, plugin: &str) -> KeepAlive {
    let db = db.clone();
    let plugin = plugin.to_owned();
    let task = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(2)).await;
            let _ = sqlx::query("UPDATE journal SET heartbeat_at = $1 WHERE plugin_id = $2")
                .bind(now_millis())
                .bind(&plugin)
                .execute(db.pool())
                .await;
        }
    });
    KeepAlive(task)
}

/// Stops the heartbeat task on drop.
pub(crate) struct KeepAlive(tokio::task::JoinHandle<()>);

impl Drop for KeepAlive {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Ends this process's claim (after commit or rollback).
pub(crate) fn release(plugin: &str) {
    set_active(plugin, false);
}

/// Deletes the row, part of the commit or rollback transaction. If this
/// operation held service mode, it passes to another running operation, or
/// ends when none is left: installs of two plugins at once keep service
/// mode until the last one finishes.
pub(crate) async fn close(
    tx: &mut Transaction<'static, Any>,
    plugin: &str,
) -> Result<(), AdminError> {
    let held = sqlx::query("DELETE FROM journal WHERE plugin_id = $1 RETURNING service_mode_set")
        .bind(plugin)
        .fetch_optional(&mut **tx)
        .await?
        .map(|row| row.try_get::<i64, _>(0))
        .transpose()?
        .is_some_and(|set| set != 0);
    if held {
        // Service mode ends with the last operation: an install of another
        // plugin still running takes it over and switches it off itself.
        let passed = sqlx::query(
            "UPDATE journal SET service_mode_set = 1 \
             WHERE plugin_id = (SELECT MIN(plugin_id) FROM journal)",
        )
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if passed == 0 {
            sqlx::query("UPDATE service_mode SET active = 0, reason = '', actor = '' WHERE id = 1")
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

/// Puts the plugin's storage back as the backup holds it (only once the
/// `lifecycle` step may have changed it) and closes the row.
pub(crate) async fn roll_back(db: &Database, entry: &Entry) -> Result<(), AdminError> {
    let mut tx = db.begin().await?;
    if entry.step == STEP_LIFECYCLE {
        super::backup::restore(&mut tx, &entry.plugin).await?;
    } else {
        super::backup::discard(&mut tx, &entry.plugin).await?;
    }
    close(&mut tx, &entry.plugin).await?;
    tx.commit().await?;
    release(&entry.plugin);
    Ok(())
}

/// Rolls back every operation whose owner is gone; returns what it did.
pub async fn recover(db: &Database) -> Result<Vec<String>, AdminError> {
    let mut recovered = Vec::new();
    for entry in all(db).await? {
        if !entry.is_orphan() {
            continue;
        }
        roll_back(db, &entry).await?;
        let target = format!("{} {}", entry.plugin, entry.to_version);
        let detail = format!(
            "{} by {} (host {} pid {}) stopped at step `{}`; rolled back, {} kept",
            entry.operation,
            entry.actor,
            entry.owner_hostname,
            entry.owner_pid,
            entry.step,
            entry
                .from_version
                .as_deref()
                .map_or("nothing installed".to_owned(), |v| format!("version {v}")),
        );
        tracing::warn!(plugin = %entry.plugin, "{detail}");
        audit::record(
            db,
            &Actor::host(),
            &format!("plugin.{}.recover", entry.operation),
            &target,
            "rolled_back",
            &detail,
        )
        .await;
        recovered.push(detail);
    }
    Ok(recovered)
}

/// The row of `plugin`, if an operation holds it.
pub(crate) async fn find(db: &Database, plugin: &str) -> Result<Option<Entry>, AdminError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM journal WHERE plugin_id = $1"
    ))
    .bind(plugin)
    .fetch_optional(db.pool())
    .await?;
    Ok(row.as_ref().map(entry_from_row).transpose()?)
}
