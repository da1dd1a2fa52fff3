//! Host-side bindings generated from `wit/`.
//!
//! The imports (what the host lends) are generated once, from the `host`
//! world, and both connector worlds reuse them so a capability is implemented
//! once whatever the plugin's world.

/// The host interfaces every plugin may import.
pub mod host {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "host",
        imports: { default: async | trappable },
        additional_derives: [serde::Serialize],
    });
}

/// The `bank-connector` world.
pub mod bank {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "bank-connector",
        imports: { default: async | trappable },
        exports: { default: async },
        additional_derives: [serde::Serialize],
        with: {
            "h2h:connector/types": super::host::h2h::connector::types,
            "h2h:connector/http": super::host::h2h::connector::http,
            "h2h:connector/storage": super::host::h2h::connector::storage,
            "h2h:connector/config": super::host::h2h::connector::config,
            "h2h:connector/signing": super::host::h2h::connector::signing,
            "h2h:connector/log": super::host::h2h::connector::log,
        },
    });
}

/// The `pos-connector` world.
pub mod pos {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "pos-connector",
        imports: { default: async | trappable },
        exports: { default: async },
        additional_derives: [serde::Serialize],
        with: {
            "h2h:connector/types": super::host::h2h::connector::types,
            "h2h:connector/http": super::host::h2h::connector::http,
            "h2h:connector/storage": super::host::h2h::connector::storage,
            "h2h:connector/config": super::host::h2h::connector::config,
            "h2h:connector/signing": super::host::h2h::connector::signing,
            "h2h:connector/log": super::host::h2h::connector::log,
            "h2h:connector/lifecycle": super::bank::exports::h2h::connector::lifecycle,
        },
    });
}

pub use host::h2h::connector::{config, http, log, signing, storage, types};
