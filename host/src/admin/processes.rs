//! Host processes that serve ERP calls report themselves here (heartbeat,
//! calls in flight, the service-mode generation they have seen), so an
//! installer in any process can wait until every call has finished.

use std::time::{Duration, Instant};

use sqlx::Row;

use super::AdminError;
use crate::db::{Database, now_millis};

/// A process whose heartbeat is older than this is gone.
pub const STALE_AFTER: Duration = Duration::from_secs(5);

/// This machine's name, for journal ownership and reports.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// Whether process `pid` runs on this machine (Linux: `/proc/<pid>`; other
/// systems cannot tell and answer true, leaving it to heartbeats).
pub fn pid_alive(pid: i64) -> bool {
    if cfg!(target_os = "linux") {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

/// Writes this process's heartbeat.
pub(crate) async fn beat(
    db: &Database,
    id: &str,
    started_at: i64,
    in_flight: usize,
    seen_generation: i64,
) -> Result<(), AdminError> {
    sqlx::query(
        "INSERT INTO host_processes (id, hostname, pid, started_at, heartbeat_at, in_flight, seen_generation) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET \
         heartbeat_at = excluded.heartbeat_at, in_flight = excluded.in_flight, \
         seen_generation = excluded.seen_generation",
    )
    .bind(id)
    .bind(hostname())
    .bind(i64::from(std::process::id()))
    .bind(started_at)
    .bind(now_millis())
    .bind(in_flight as i64)
    .bind(seen_generation)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Removes this process's row on a clean stop.
pub(crate) async fn leave(db: &Database, id: &str) -> Result<(), AdminError> {
    sqlx::query("DELETE FROM host_processes WHERE id = $1")
        .bind(id)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Heartbeats after this instant are live.
fn fresh_after() -> i64 {
    now_millis() - STALE_AFTER.as_millis() as i64
}

/// ERP calls and task runs in flight across the live serving processes,
/// as their last heartbeats said.
pub(crate) async fn calls_in_flight(db: &Database) -> Result<i64, AdminError> {
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(in_flight), 0) AS BIGINT) AS n FROM host_processes \
         WHERE heartbeat_at >= $1",
    )
    .bind(fresh_after())
    .fetch_one(db.pool())
    .await?;
    Ok(row.try_get("n")?)
}

/// Serving processes whose heartbeat is fresh, described for a message.
pub(crate) async fn live(db: &Database) -> Result<Vec<String>, AdminError> {
    let fresh = fresh_after();
    let rows =
        sqlx::query("SELECT hostname, pid FROM host_processes WHERE heartbeat_at > $1 ORDER BY id")
            .bind(fresh)
            .fetch_all(db.pool())
            .await?;
    rows.iter()
        .map(|row| {
            let host: String = row.try_get("hostname")?;
            let pid: i64 = row.try_get("pid")?;
            Ok(format!("{host} pid {pid}"))
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AdminError::from)
}

/// Live processes that have not yet seen `generation` or still run calls,
/// described for a message.
async fn busy(db: &Database, generation: i64) -> Result<Vec<String>, AdminError> {
    let fresh = fresh_after();
    let rows = sqlx::query(
        "SELECT hostname, pid, in_flight, seen_generation FROM host_processes \
         WHERE heartbeat_at > $1 AND (seen_generation < $2 OR in_flight > 0) ORDER BY id",
    )
    .bind(fresh)
    .bind(generation)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            let host: String = row.try_get("hostname")?;
            let pid: i64 = row.try_get("pid")?;
            let in_flight: i64 = row.try_get("in_flight")?;
            let seen: i64 = row.try_get("seen_generation")?;
            Ok(if seen < generation {
                format!("{host} pid {pid} has not yet seen service mode")
            } else {
                format!("{host} pid {pid} has {in_flight} call(s) running")
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AdminError::from)
}

/// Waits until every live process has seen service mode `generation` and
/// has no call running, for at most `timeout`.
pub(crate) async fn wait_for_drain(
    db: &Database,
    generation: i64,
    timeout: Duration,
) -> Result<(), AdminError> {
    let started = Instant::now();
    loop {
        let busy = busy(db, generation).await?;
        if busy.is_empty() {
            return Ok(());
        }
        if started.elapsed() >= timeout {
            return Err(AdminError::DrainTimeout {
                waited: timeout,
                processes: busy.join("; "),
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
