//! `h2h serve`: open the host, start the heartbeat, the scheduler and the
//! webhook delivery, serve the APIs and the console until Ctrl-C or
//! SIGTERM.

mod gate;
mod heartbeat;
mod open;
pub mod transport;

pub use gate::{Gate, GatePass};
pub use open::{Host, HostConfig, OpenError};
pub use transport::{Listen, PlainHttp, TlsFiles};

use std::net::SocketAddr;
use std::sync::Arc;

use crate::admin::processes;
use crate::api::{self, AppState};
use crate::console;
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
    /// The TLS certificate or key is unusable.
    #[error(transparent)]
    Tls(#[from] transport::TlsError),
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
    listen: impl Into<Listen>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<Running, ServeError> {
    let listen: Listen = listen.into();
    // A bad certificate stops the start before anything else happens.
    let tls = listen
        .tls
        .as_ref()
        .map(transport::server_config)
        .transpose()?;
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
    let app = api::router(state.clone())
        .merge(console::router(state, listen.console))
        .layer(axum::middleware::from_fn_with_state(
            listen.plain_http,
            transport::guard,
        ));
    let listen_error = |source| ServeError::Listen {
        addr: listen.addr,
        source,
    };
    let tcp = tokio::net::TcpListener::bind(listen.addr)
        .await
        .map_err(listen_error)?;
    let addr = tcp.local_addr().map_err(listen_error)?;
    tracing::info!(%addr, tls = tls.is_some(), database = host.db.backend(), "h2h serving");
    if tls.is_none() && listen.plain_http == PlainHttp::Anywhere {
        tracing::warn!("plain HTTP answers every peer: only behind a proxy that terminates TLS");
    }
    // One task serves either transport; the service sees each peer.
    let service = app.into_make_service_with_connect_info::<transport::Peer>();
    let serving: std::pin::Pin<Box<dyn Future<Output = std::io::Result<()>> + Send>> = match tls {
        Some(tls) => {
            let listener = transport::TlsListener::new(tcp, tls).map_err(listen_error)?;
            Box::pin(
                axum::serve(listener, service)
                    .with_graceful_shutdown(shutdown)
                    .into_future(),
            )
        }
        None => Box::pin(
            axum::serve(tcp, service)
                .with_graceful_shutdown(shutdown)
                .into_future(),
        ),
    };
    let server = tokio::spawn(async move {
        let served = serving
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
