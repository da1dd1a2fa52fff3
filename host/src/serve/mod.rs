//! `h2h serve`: open the host, start the heartbeat, the scheduler and the
//! webhook delivery, serve HTTP until Ctrl-C or SIGTERM.

mod gate;
mod heartbeat;
mod open;

pub use gate::{Gate, GatePass};
pub use open::{Host, HostConfig, OpenError};

use std::net::SocketAddr;
use std::sync::Arc;

use crate::admin::processes;
use crate::api::{self, AppState};
use crate::scheduler::{self, RunGate};
use crate::settlements::webhooks::{WebhookConfig, WebhookWorker};

/// How long after a call's deadline a task run still counts as alive: a
/// run held longer belongs to a process that died.
const TASK_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// Why the host could not start or stopped serving.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Opening the host failed.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// Binding or serving the socket failed.
    #[error("cannot serve on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// A started host: its address, and the server task.
pub struct Running {
    /// Where it listens (useful with port 0).
    pub addr: SocketAddr,
    /// Resolves when the server stops.
    pub server: tokio::task::JoinHandle<Result<(), ServeError>>,
}

/// Opens everything and starts serving; returns once the socket is bound.
pub async fn start(
    config: HostConfig,
    listen: SocketAddr,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<Running, ServeError> {
    let host = Host::open(&config).await?;
    let gate = Arc::new(Gate::default());
    let process_id = format!(
        "{}-{}-{}",
        processes::hostname(),
        std::process::id(),
        crate::db::now_millis()
    );
    let beat = tokio::spawn(heartbeat::run(
        host.admin.clone(),
        gate.clone(),
        process_id.clone(),
    ));
    let connectors = host.connectors();
    let run_gate: Arc<dyn RunGate> = Arc::new(gate.clone());
    let scheduler = host
        .scheduler(
            connectors.clone(),
            Some(run_gate),
            process_id.clone(),
            config.limits.deadline + TASK_GRACE,
        )
        // Companies' occurrences spread over up to ten minutes (a quarter of
        // the period at most), so a thousand daily syncs do not start at once.
        .with_spread(scheduler::MAX_SPREAD);
    let ticking = scheduler.clone().spawn(scheduler::TICK);
    let delivering =
        match WebhookWorker::new(host.admin.clone(), &process_id, WebhookConfig::default()) {
            Ok(worker) => Some(worker.spawn()),
            Err(e) => {
                tracing::error!(error = %e, "webhooks cannot be delivered by this process");
                None
            }
        };
    let state = AppState {
        db: host.db.clone(),
        runtime: host.runtime.clone(),
        admin: host.admin.clone(),
        connectors,
        gate,
        scheduler,
        tokens: host.tokens.clone(),
        sessions: host.sessions(),
        terminals: host.terminals(),
    };
    let app = api::router(state);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| ServeError::Listen {
            addr: listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Listen {
        addr: listen,
        source,
    })?;
    tracing::info!(%addr, database = host.db.backend(), "h2h serving");
    let server = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|source| ServeError::Listen { addr, source });
        beat.abort();
        ticking.abort();
        if let Some(delivering) = delivering {
            delivering.abort();
        }
        if let Err(e) = processes::leave(&host.db, &process_id).await {
            tracing::warn!(error = %e, "cannot remove this process from host_processes");
        }
        served
    });
    Ok(Running { addr, server })
}
