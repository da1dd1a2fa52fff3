//! The h2h host: runs sandboxed connector plugins (WebAssembly components
//! built against the `h2h:connector` WIT contract) and serves the ERP.

pub mod admin;
pub mod api;
pub mod capabilities;
pub mod catalog;
pub mod connectors;
pub mod console;
pub mod db;
pub mod dev;
pub mod feed;
pub mod kv;
pub mod logs;
pub mod metrics;
pub mod packages;
pub mod pkcs11;
pub mod runtime;
pub mod scheduler;
pub mod serve;
pub mod sessions;
pub mod settlements;
pub mod terminals;
pub mod values;
pub mod vault;
pub mod wit;
