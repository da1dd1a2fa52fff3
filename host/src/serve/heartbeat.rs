//! The serving process's heartbeat: copies service mode from the database
//! into the ERP gate, reports calls in flight (so installers can wait for
//! them), and rolls back installs whose process died.

use std::sync::Arc;
use std::time::Duration;

use super::Gate;
use crate::admin::{Admin, processes};
use crate::db::now_millis;

/// How often.
pub const INTERVAL: Duration = Duration::from_millis(250);

/// Runs until the task is aborted.
pub async fn run(admin: Admin, gate: Arc<Gate>, process_id: String) {
    let started_at = now_millis();
    let mut beats: u64 = 0;
    loop {
        match admin.service_mode().await {
            Ok(mode) => {
                gate.set(mode.active, &mode.reason);
                // Read after the gate is set: see `serve::gate`.
                let in_flight = gate.in_flight();
                if let Err(e) = processes::beat(
                    admin.db(),
                    &process_id,
                    started_at,
                    in_flight,
                    mode.generation,
                )
                .await
                {
                    tracing::warn!(error = %e, "heartbeat not written");
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot read service mode"),
        }
        // Orphaned installs: check every few seconds, not every beat.
        if beats.is_multiple_of(20)
            && let Err(e) = admin.recover().await
        {
            tracing::warn!(error = %e, "recovery check failed");
        }
        beats += 1;
        tokio::time::sleep(INTERVAL).await;
    }
}
