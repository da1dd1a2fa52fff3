//! The linker every plugin is pre-linked with: WASI (inert) and each
//! capability under every contract version this host serves. A capability
//! is listed once here; its context implements the newest version, and
//! `v1` adapts the older one onto it.

use wasmtime::Engine;
use wasmtime::component::{HasSelf, Linker};

use super::HostState;
use crate::capabilities::{
    config::ConfigCtx, http::HttpCtx, log::LogCtx, signing::SigningCtx, storage::StorageCtx,
};

/// Links every capability of `$version` (a module of `crate::wit`).
macro_rules! link_capabilities {
    ($linker:ident, $version:ident) => {{
        use crate::wit::$version as wit;
        wit::http::add_to_linker::<HostState, HasSelf<HttpCtx>>($linker, |s| &mut s.http)?;
        wit::storage::add_to_linker::<HostState, HasSelf<StorageCtx>>($linker, |s| &mut s.storage)?;
        wit::config::add_to_linker::<HostState, HasSelf<ConfigCtx>>($linker, |s| &mut s.config)?;
        wit::signing::add_to_linker::<HostState, HasSelf<SigningCtx>>($linker, |s| &mut s.signing)?;
        wit::log::add_to_linker::<HostState, HasSelf<LogCtx>>($linker, |s| &mut s.log)?;
    }};
}

pub(crate) fn new_linker(engine: &Engine) -> wasmtime::Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    let l = &mut linker;
    link_capabilities!(l, v1);
    link_capabilities!(l, v2);
    Ok(linker)
}
