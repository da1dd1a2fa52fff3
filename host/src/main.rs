//! `h2h`: the host's command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use h2h_host::serve::{self, ServeConfig};

/// h2h: a host for sandboxed ERP connectors (banks, card terminals).
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the REST API and run plugins until Ctrl-C.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "H2H_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Directory for the embedded database and the component cache.
        #[arg(long, env = "H2H_DATA_DIR", default_value = "h2h-data")]
        data_dir: PathBuf,
        /// Database URL (sqlite://PATH or postgres://...); defaults to
        /// SQLite in the data directory.
        #[arg(long, env = "H2H_DATABASE_URL")]
        database_url: Option<String>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    match Cli::parse().command {
        Command::Serve {
            listen,
            data_dir,
            database_url,
        } => {
            let running = serve::start(
                ServeConfig {
                    listen,
                    data_dir,
                    database_url,
                },
                shutdown_signal(),
            )
            .await
            .context("starting the host")?;
            println!(
                "h2h is serving on http://{}  (health: http://{}/health)",
                running.addr, running.addr
            );
            running.server.await.context("server task")??;
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down");
}
