//! Bindings generated from each contract version under `wit/`, one module
//! per major version. The capabilities implement the newest version's host
//! traits; `runtime::v1` adapts the older ones onto them.
//!
//! Which versions exist, and which is newest, is said once, in
//! [`crate::runtime::ContractVersion`].

/// Generates the host world (imports) and both connector worlds of one
/// contract version, the connector worlds reusing the host world's imports.
macro_rules! contract_bindings {
    ($path:literal) => {
        /// The host interfaces every plugin may import.
        pub mod host {
            wasmtime::component::bindgen!({
                path: $path,
                world: "host",
                imports: { default: async | trappable },
                additional_derives: [serde::Serialize],
            });
        }

        /// The `bank-connector` world.
        pub mod bank {
            wasmtime::component::bindgen!({
                path: $path,
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
                path: $path,
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
        pub use bank::exports::h2h::connector::bank as bank_exports;
        pub use pos::exports::h2h::connector::pos as pos_exports;
    };
}

/// `h2h:connector@1.0.0`, frozen: plugins built against it keep running.
pub mod v1 {
    contract_bindings!("../wit/v1");
}

/// `h2h:connector@2.0.0`, the newest.
pub mod v2 {
    contract_bindings!("../wit/v2");
}
