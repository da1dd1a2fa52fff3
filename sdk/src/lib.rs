//! # h2h-sdk
//!
//! Write connectors for the h2h host in plain Rust. Enable the Cargo feature
//! of your plugin's world (`bank` or `pos`), implement
//! [`BankConnector`] (or [`PosConnector`]) plus [`Lifecycle`] and [`Tasks`]
//! on a type, and call [`export_bank_connector!`] (or
//! [`export_pos_connector!`]) once. Build with
//! `cargo build --release --target wasm32-wasip2`; the result is a
//! WebAssembly component implementing the `h2h:connector@2.0.0` contract.
//!
//! Everything outside the plugin goes through the host: [`http`] requests
//! (only to hosts the manifest and admin allow), [`storage`] (scoped to the
//! plugin and the company of the call), [`config`] (settings and secrets),
//! [`signing`] (keys on a smart card; the PIN never reaches the plugin) and
//! logging ([`info!`] and friends).
#![deny(missing_docs)]

// Generated code names the runtime by an absolute path that must also
// resolve inside this crate.
extern crate self as h2h_sdk;

mod bindings;
mod error;
mod export;
mod lifecycle;
mod log;

#[cfg(feature = "bank")]
pub mod bank;
pub mod config;
pub mod http;
#[cfg(feature = "pos")]
pub mod pos;
pub mod signing;
pub mod storage;
pub mod time;

pub use error::{Error, Result};
pub use lifecycle::{Lifecycle, Tasks};
pub use log::Level;

#[cfg(feature = "bank")]
pub use bank::BankConnector;
/// MT940/MT942 statement parser (the `mt940` feature): see [`h2h_mt940`].
#[cfg(feature = "mt940")]
pub use h2h_mt940 as mt940;
#[cfg(all(feature = "bank", feature = "mt940"))]
pub mod from_mt940;
#[cfg(feature = "pos")]
pub use pos::PosConnector;

/// Details of an [`Error::Busy`].
pub use bindings::imports::types::Busy;
/// A date, ISO 8601 `YYYY-MM-DD`.
pub use bindings::imports::types::Date;
/// A file exactly as the provider sent or took it (an MT940 statement, a
/// pain.001 batch), kept by the host beside what was parsed from it.
pub use bindings::imports::types::Document;
/// An amount of money: a decimal string and an ISO 4217 currency. Never a
/// float. Unsigned, and greater than zero in a transaction, transfer or
/// payment intent; only a balance may be zero or negative: the contract's
/// sign rule (on `money` in `wit/v2/types.wit`; the README's "Amounts and
/// currency").
pub use bindings::imports::types::Money;
/// Details of an [`Error::Rejected`].
pub use bindings::imports::types::Rejection;
/// An instant, RFC 3339.
pub use bindings::imports::types::Timestamp;

impl Money {
    /// `Money::new("1234.50", "PLN")`.
    pub fn new(amount: impl Into<String>, currency: impl Into<String>) -> Self {
        Self {
            amount: amount.into(),
            currency: currency.into(),
        }
    }
}

#[doc(hidden)]
pub mod __private {
    #[cfg(feature = "pos")]
    pub use crate::bindings::pos_world;
    #[cfg(feature = "bank")]
    pub use crate::bindings::world;
    pub use crate::export::enter;
    pub use crate::log::write as log_write;
    pub use wit_bindgen;
}
