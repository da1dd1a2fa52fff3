//! `h2h:connector/http`: outgoing requests, only to origins the manifest
//! lists and the admin granted.
//!
//! No grant can be configured yet, so every request is refused with
//! `denied`; sending (reqwest, allow-list matching, address checks) arrives
//! with the capabilities work.

use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker};

use crate::runtime::HostState;
use crate::runtime::bindings::http::{self, HttpError, Request, Response};

/// The origins a plugin may reach. No origin can be granted yet, so every
/// request is denied.
#[derive(Debug, Clone, Default)]
pub struct HttpGrant;

/// Per-call state of the HTTP capability.
#[derive(Debug)]
pub struct HttpCtx {
    plugin: Arc<str>,
    grant: HttpGrant,
}

impl HttpCtx {
    pub(crate) fn new(plugin: Arc<str>, grant: HttpGrant) -> Self {
        Self { plugin, grant }
    }
}

impl http::Host for HttpCtx {
    async fn send(&mut self, request: Request) -> wasmtime::Result<Result<Response, HttpError>> {
        let HttpGrant = self.grant;
        let reason = format!("{}: this plugin has no HTTP grant", request.url);
        tracing::warn!(plugin = %self.plugin, method = ?request.method, %reason, "HTTP request denied");
        Ok(Err(HttpError::Denied(reason)))
    }
}

pub(crate) fn add_to_linker(
    linker: &mut Linker<HostState>,
    get: fn(&mut HostState) -> &mut HttpCtx,
) -> wasmtime::Result<()> {
    http::add_to_linker::<HostState, HasSelf<HttpCtx>>(linker, get)
}
