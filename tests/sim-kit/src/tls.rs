//! HTTPS serving: the accept loop behind every TLS simulator. Each
//! connection's client certificate subject (if any) goes on its requests
//! as [`ClientSubject`]; a response marked
//! [`DropConnection`](crate::faults::DropConnection) closes the connection
//! instead of being sent.

use std::sync::Arc;

use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::faults::is_dropped;
use crate::pki::subject_of;
use crate::server::ServerControl;

/// The subject of the client certificate of the connection a request came
/// over (`None`: none was presented). Absent on requests not served by
/// [`serve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSubject(pub Option<String>);

impl ClientSubject {
    /// The client subject a request carries, if any.
    pub fn of<B>(req: &axum::http::Request<B>) -> Option<String> {
        req.extensions()
            .get::<ClientSubject>()
            .and_then(|s| s.0.clone())
    }
}

/// Serves `app` over TLS with `config` in the background, HTTP/1.1.
/// `on_handshake_failure` runs for each failed handshake (no or a foreign
/// client certificate, not TLS at all, …). Stopping ends the accept loop;
/// open connections end with it.
pub fn serve<F>(
    listener: TcpListener,
    app: axum::Router,
    config: Arc<rustls::ServerConfig>,
    on_handshake_failure: F,
) -> ServerControl
where
    F: Fn() + Clone + Send + Sync + 'static,
{
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let (tx, mut rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        // Dropped with the task: every open connection ends with it.
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                _ = &mut rx => break,
                accepted = listener.accept() => {
                    let Ok((tcp, _)) = accepted else { continue };
                    let (acceptor, app) = (acceptor.clone(), app.clone());
                    let on_failure = on_handshake_failure.clone();
                    connections.spawn(async move {
                        let Ok(tls) = acceptor.accept(tcp).await else {
                            on_failure();
                            return;
                        };
                        let subject = ClientSubject(
                            tls.get_ref()
                                .1
                                .peer_certificates()
                                .and_then(|c| c.first())
                                .and_then(|c| subject_of(c.as_ref())),
                        );
                        let service = hyper::service::service_fn(
                            move |mut req: hyper::Request<hyper::body::Incoming>| {
                                req.extensions_mut().insert(subject.clone());
                                let app = app.clone();
                                async move {
                                    let Ok(resp) = app.oneshot(req).await;
                                    if is_dropped(&resp) {
                                        // No answer: hyper closes the connection.
                                        return Err(std::io::Error::other(
                                            "connection dropped by the simulator",
                                        ));
                                    }
                                    Ok(resp)
                                }
                            },
                        );
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(tls), service)
                            .await;
                    });
                }
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
    });
    ServerControl::new(tx, task)
}
