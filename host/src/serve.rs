//! `h2h serve`: open the database, start the runtime, serve HTTP until
//! Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use crate::api::{self, AppState};
use crate::db::{Database, DbError};
use crate::kv::MemoryKv;
use crate::runtime::{Limits, Runtime, RuntimeConfig, StartError};

/// How to run the host.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Directory for the SQLite database and the component cache.
    pub data_dir: PathBuf,
    /// Database URL; defaults to SQLite in `data_dir`.
    pub database_url: Option<String>,
}

/// Why the host could not start or stopped serving.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The data directory could not be created.
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The database failed.
    #[error(transparent)]
    Database(#[from] DbError),
    /// The runtime failed to start.
    #[error(transparent)]
    Runtime(#[from] StartError),
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
    config: ServeConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<Running, ServeError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| ServeError::DataDir {
        path: config.data_dir.clone(),
        source,
    })?;
    let url = config.database_url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rwc",
            config.data_dir.join("h2h.db").display()
        )
    });
    let db = Database::connect(&url).await?;
    let runtime = Runtime::new(
        RuntimeConfig {
            cache_dir: Some(config.data_dir.join("cache")),
            limits: Limits::default(),
        },
        Arc::new(MemoryKv::default()),
    )?;
    let app = api::router(AppState {
        db: db.clone(),
        runtime: Arc::new(runtime),
    });
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Listen {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Listen {
        addr: config.listen,
        source,
    })?;
    tracing::info!(%addr, database = db.backend(), "h2h serving");
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|source| ServeError::Listen { addr, source })
    });
    Ok(Running { addr, server })
}
