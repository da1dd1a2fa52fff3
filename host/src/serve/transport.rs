//! How requests reach the host: HTTPS from a configured certificate, or
//! plain HTTP. Over plain HTTP every request's API key (and any secret or
//! PIN in it) crosses the network in clear, so plain HTTP answers only
//! loopback peers unless the operator says a TLS proxy sits in front.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::serve::{IncomingStream, Listener};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;

use crate::api::error::ApiError;

/// A handshake that takes longer is dropped, so a slow client holds no
/// more than a task for this long.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The certificate chain and key `h2h serve` answers TLS with (PEM files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The server certificate, then its intermediates.
    pub cert: PathBuf,
    /// Its private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Whom plain HTTP answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PlainHttp {
    /// Loopback peers only (the default): nothing secret crosses a network
    /// in clear.
    #[default]
    LoopbackOnly,
    /// Any peer: a proxy in front terminates TLS.
    Anywhere,
}

/// Where and how `h2h serve` listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listen {
    /// The socket address.
    pub addr: SocketAddr,
    /// Serve HTTPS with these; none: plain HTTP.
    pub tls: Option<TlsFiles>,
    /// Whom plain HTTP answers.
    pub plain_http: PlainHttp,
    /// Whom the admin console answers.
    pub console: crate::console::Reach,
}

impl From<SocketAddr> for Listen {
    fn from(addr: SocketAddr) -> Self {
        Self {
            addr,
            tls: None,
            plain_http: PlainHttp::default(),
            console: crate::console::Reach::default(),
        }
    }
}

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file could not be read or holds nothing usable.
    #[error("{}: {reason}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// rustls refused the certificate and key together.
    #[error("the TLS certificate and key do not make a server identity: {0}")]
    Identity(#[from] rustls::Error),
}

/// The rustls server configuration for `files` (ring, TLS 1.2 and 1.3,
/// HTTP/1.1).
pub fn server_config(files: &TlsFiles) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let file_error = |path: &Path, reason: String| TlsError::File {
        path: path.to_owned(),
        reason,
    };
    let chain = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| file_error(&files.cert, e.to_string()))?;
    if chain.is_empty() {
        return Err(file_error(&files.cert, "no certificate in it".to_owned()));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| file_error(&files.key, e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Accepts TCP connections and hands axum those whose TLS handshake
/// completed; handshakes run side by side, so a slow client delays no one.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
    accepting: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    /// Starts accepting on `tcp` with `config`.
    pub fn new(tcp: TcpListener, config: Arc<rustls::ServerConfig>) -> std::io::Result<Self> {
        let local = tcp.local_addr()?;
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        let (sender, ready) = mpsc::channel(64);
        let accepting = tokio::spawn(async move {
            loop {
                let (stream, peer) = match tcp.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        tracing::warn!(error = %e, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let (acceptor, sender) = (acceptor.clone(), sender.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = sender.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(Self {
            ready,
            local,
            accepting,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(ready) => ready,
            // The accept loop is gone only when this listener is dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

/// The peer of a request and whether it came over TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    /// Its address.
    pub addr: SocketAddr,
    /// Over TLS.
    pub tls: bool,
}

impl axum::extract::connect_info::Connected<IncomingStream<'_, TcpListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TcpListener>) -> Self {
        Peer {
            addr: *stream.remote_addr(),
            tls: false,
        }
    }
}

impl axum::extract::connect_info::Connected<IncomingStream<'_, TlsListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        Peer {
            addr: *stream.remote_addr(),
            tls: true,
        }
    }
}

/// Requests that carry nothing secret, answered to anyone.
const PUBLIC_PATHS: [&str; 2] = ["/health", "/openapi.json"];

/// Middleware: over plain HTTP, only loopback peers (or anyone, with
/// [`PlainHttp::Anywhere`]) reach more than the public paths; others get
/// 403 `tls_required` before their request is read.
pub async fn guard(State(policy): State<PlainHttp>, request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<Peer>>().map(|c| c.0);
    let allowed = match peer {
        Some(peer) => {
            peer.tls
                || policy == PlainHttp::Anywhere
                || peer.addr.ip().to_canonical().is_loopback()
                || PUBLIC_PATHS.contains(&request.uri().path())
        }
        // Served without connection info (in-process tests): nothing to check.
        None => true,
    };
    if allowed {
        return next.run(request).await;
    }
    ApiError::new(
        StatusCode::FORBIDDEN,
        "tls_required",
        "this host serves plain HTTP to loopback only: an API key, secret or PIN sent from \
         another machine would cross the network in clear; connect over HTTPS (h2h serve \
         --tls-cert --tls-key), or, behind a proxy that terminates TLS, start it with \
         --plain-http-anywhere",
    )
    .into_response()
}
