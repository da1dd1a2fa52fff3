//! The data of one store: one call's sandbox.

use std::collections::BTreeMap;
use std::time::Instant;

use secrecy::SecretString;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::limits::CapLimiter;
use super::model::bank::SessionContext;
use crate::capabilities::http::ClientIdentity;
use crate::capabilities::{
    config::ConfigCtx, http::HttpCtx, log::LogCtx, signing::SigningCtx, storage::StorageCtx,
};

/// Who a call runs for, and the company data it may read.
#[derive(Debug, Clone, Default)]
pub struct CallContext {
    /// The company; none for plugin-wide calls.
    pub company_id: Option<String>,
    /// The ERP user the call acts for; none for scheduled tasks.
    pub user: Option<String>,
    /// Company settings the manifest declares, by name.
    pub settings: BTreeMap<String, String>,
    /// Company secrets, by name, decrypted for this call.
    pub secrets: BTreeMap<String, SecretString>,
    /// The company's client TLS identities for this plugin, by name.
    pub tls_identities: BTreeMap<String, ClientIdentity>,
    /// The bank session the call runs with, if any.
    pub session: Option<SessionContext>,
}

/// The store data of one call: WASI (inert), the capabilities, the limits.
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: CapLimiter,
    pub(crate) deadline: Instant,
    pub(crate) deadline_hit: bool,
    pub(crate) http: HttpCtx,
    pub(crate) storage: StorageCtx,
    pub(crate) config: ConfigCtx,
    pub(crate) signing: SigningCtx,
    pub(crate) log: LogCtx,
}

/// The capabilities of one call, ready to be placed in its store.
pub(crate) struct Capabilities {
    pub(crate) http: HttpCtx,
    pub(crate) storage: StorageCtx,
    pub(crate) config: ConfigCtx,
    pub(crate) signing: SigningCtx,
    pub(crate) log: LogCtx,
}

impl HostState {
    pub(crate) fn new(caps: Capabilities, limiter: CapLimiter, deadline: Instant) -> Self {
        Self {
            wasi: inert_wasi(),
            table: ResourceTable::new(),
            limiter,
            deadline,
            deadline_hit: false,
            http: caps.http,
            storage: caps.storage,
            config: caps.config,
            signing: caps.signing,
            log: caps.log,
        }
    }
}

/// WASI with nothing behind it: no preopened directories, no environment or
/// arguments, empty stdin and discarded stdout/stderr, no sockets or name
/// lookups. Rust's std imports these interfaces, so they must link, but they
/// give the guest nothing; clocks and random stay real.
fn inert_wasi() -> WasiCtx {
    WasiCtxBuilder::new()
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .build()
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}
