//! The host's integration tests, one binary: every test module links
//! wasmtime, sqlx and reqwest once instead of once per file. Shared set-up
//! lives in `admin` (a host on a fresh database, with its macros), `common`
//! (a bare runtime), `served` (a host serving HTTP with ERP and admin
//! keys) and `softhsm` (a SoftHSM2 token).

/// The name libtest knows `$test` of the calling module by
/// (`http_capability::log_probe`), for tests that run one test of this
/// binary in a child process.
macro_rules! probe_name {
    ($test:literal) => {
        format!(
            "{}::{}",
            module_path!().split_once("::").map_or("", |(_, m)| m),
            $test
        )
    };
}

#[macro_use]
mod admin;
mod common;
mod conformance;
mod served;
mod softhsm;

mod admin_config_api;
mod bank_sessions;
mod cache;
mod console;
mod console_browser;
mod erp_api;
mod first_connector;
mod fuzz_corpora;
mod grants;
mod http_capability;
mod layers;
mod lifecycle;
mod manifest;
mod mbank_e2e;
mod mbank_sharing;
mod mellon_connector;
mod migrations;
mod operations;
mod packages;
mod pkobp_e2e;
mod plugin_calls;
mod privat24_e2e;
mod privat24_payments;
mod sandbox;
mod scaffold;
mod scheduler;
mod serve;
mod service_mode;
mod settlements;
mod shipped;
mod signing_capability;
mod storage;
mod terminals;
mod transfers;
mod two_hosts;
mod webhooks;
