//! Guest bindings generated from `wit/v2`, one module per world the crate's
//! features ask for. Hidden: authors use the traits and helpers of this
//! crate.
//!
//! `wit/v2` here is a copy of the repository's `wit/v2`, the contract's one
//! source: the crate must carry its WIT to build outside the repository
//! (from crates.io or a git dependency). `tests/wit_copy.rs` fails when the
//! copy differs from the original.
//!
//! A plugin enables one world (`bank` or `pos`): wit-bindgen embeds the
//! world's type in the component, so a component linked with both would
//! have to export both. A build of several plugins at once (the
//! workspace's tests and lints) unifies the features and gets both
//! modules; the pos world then reuses the bank world's import bindings, so
//! the SDK's shared types (`Money`, `Error`, ...) are one type whichever
//! world a plugin exports.

#[cfg(not(any(feature = "bank", feature = "pos")))]
compile_error!("h2h-sdk: enable the feature `bank` (bank connector) or `pos` (card terminals)");

#[cfg(feature = "bank")]
#[allow(missing_docs)] // generated; items carry the WIT docs where WIT has them
pub mod world {
    wit_bindgen::generate!({
        path: "wit/v2",
        world: "bank-connector",
        runtime_path: "::h2h_sdk::__private::wit_bindgen::rt",
        pub_export_macro: true,
        export_macro_name: "__export_world",
        default_bindings_module: "h2h_sdk::__private::world",
        generate_all,
    });
}

#[cfg(all(feature = "pos", not(feature = "bank")))]
#[allow(missing_docs)] // generated; items carry the WIT docs where WIT has them
pub mod pos_world {
    wit_bindgen::generate!({
        path: "wit/v2",
        world: "pos-connector",
        runtime_path: "::h2h_sdk::__private::wit_bindgen::rt",
        pub_export_macro: true,
        export_macro_name: "__export_pos_world",
        default_bindings_module: "h2h_sdk::__private::pos_world",
        generate_all,
    });
}

// Both worlds in one build happen only when several plugins build together
// (the workspace's tests and lints), never for a component: the pos world
// then shares the bank world's imports and makes no export macros, whose
// crate-level names would collide with the bank world's.
#[cfg(all(feature = "pos", feature = "bank"))]
#[allow(missing_docs, unused_macros, unused_imports)] // generated
pub mod pos_world {
    wit_bindgen::generate!({
        path: "wit/v2",
        world: "pos-connector",
        runtime_path: "::h2h_sdk::__private::wit_bindgen::rt",
        default_bindings_module: "h2h_sdk::__private::pos_world",
        with: {
            "h2h:connector/types@2.0.0": crate::bindings::world::h2h::connector::types,
            "h2h:connector/http@2.0.0": crate::bindings::world::h2h::connector::http,
            "h2h:connector/storage@2.0.0": crate::bindings::world::h2h::connector::storage,
            "h2h:connector/config@2.0.0": crate::bindings::world::h2h::connector::config,
            "h2h:connector/signing@2.0.0": crate::bindings::world::h2h::connector::signing,
            "h2h:connector/log@2.0.0": crate::bindings::world::h2h::connector::log,
        },
        generate_all,
    });
}

#[cfg(not(feature = "bank"))]
pub(crate) use pos_world::h2h::connector as imports;
#[cfg(feature = "bank")]
pub(crate) use world::h2h::connector as imports;
