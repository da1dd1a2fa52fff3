//! Starting and stopping a simulator's server: binding, the background
//! task, and a graceful stop that gives up after two seconds.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::lock;

/// How long [`ServerControl::stop`] waits before cutting connections off.
pub const STOP_GRACE: Duration = Duration::from_secs(2);

/// Binds `addr` (`127.0.0.1:0` for any free port); the listener and the
/// address it got.
pub async fn bind(addr: &str) -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

struct Task {
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

/// The stop switch of a server running in the background; clones share
/// it. [`ServerControl::idle`] (also the default) has no server.
#[derive(Clone, Default)]
pub struct ServerControl(Arc<Mutex<Option<Task>>>);

impl ServerControl {
    /// No server: [`ServerControl::stop`] does nothing (a handle made
    /// before the server starts).
    pub fn idle() -> Self {
        Self::default()
    }

    /// A server `task` that ends when `shutdown` fires.
    pub fn new(shutdown: oneshot::Sender<()>, task: JoinHandle<()>) -> Self {
        ServerControl(Arc::new(Mutex::new(Some(Task { shutdown, task }))))
    }

    /// Stops serving: signals the server, waits up to [`STOP_GRACE`] for
    /// it to finish, then aborts it (cutting open connections). Does
    /// nothing when idle or after a first call.
    pub async fn stop(&self) {
        let task = lock(&self.0).take();
        let Some(Task { shutdown, task }) = task else {
            return;
        };
        let _ = shutdown.send(());
        let abort = task.abort_handle();
        if tokio::time::timeout(STOP_GRACE, task).await.is_err() {
            abort.abort();
        }
    }
}

/// Serves `app` over plain HTTP in the background (axum's server with a
/// graceful shutdown: answers in flight may finish). `name` prefixes a
/// server error on stderr.
pub fn serve_plain(listener: TcpListener, app: axum::Router, name: &'static str) -> ServerControl {
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let shutdown = async {
            let _ = rx.await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            eprintln!("{name}: server error: {e}");
        }
    });
    ServerControl::new(tx, task)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn plain_server_serves_until_stopped() {
        let (listener, addr) = bind("127.0.0.1:0").await.unwrap();
        let app = axum::Router::new().route("/", axum::routing::get(|| async { "hi" }));
        let server = serve_plain(listener, app, "test");
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        assert!(out.starts_with("HTTP/1.1 200"), "{out}");
        assert!(out.ends_with("hi"), "{out}");
        server.stop().await;
        server.stop().await; // a second call does nothing
        ServerControl::idle().stop().await;
        assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    }
}
