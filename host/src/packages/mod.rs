//! Plugin packages: the manifest (`h2h.toml`) now; zip reading, signatures
//! and component checks join it with the packages work.

pub mod manifest;
pub mod origin;
