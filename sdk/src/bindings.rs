//! Guest bindings generated from `wit/` for the world the plugin chose with
//! a Cargo feature. Hidden: authors use the traits and helpers of this crate.
//!
//! One world per build, because wit-bindgen embeds the world's type in the
//! component: with both, every plugin would have to export both.

#[cfg(all(feature = "bank", feature = "pos"))]
compile_error!("h2h-sdk: enable exactly one of the features `bank` and `pos`, not both");
#[cfg(not(any(feature = "bank", feature = "pos")))]
compile_error!("h2h-sdk: enable the feature `bank` (bank connector) or `pos` (card terminals)");

#[cfg(feature = "bank")]
#[allow(missing_docs)] // generated; items carry the WIT docs where WIT has them
pub mod world {
    wit_bindgen::generate!({
        path: "../wit/v2",
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
pub mod world {
    wit_bindgen::generate!({
        path: "../wit/v2",
        world: "pos-connector",
        runtime_path: "::h2h_sdk::__private::wit_bindgen::rt",
        pub_export_macro: true,
        export_macro_name: "__export_world",
        default_bindings_module: "h2h_sdk::__private::world",
        generate_all,
    });
}

pub(crate) use world::h2h::connector as imports;
