//! h2h plugin licenses: a readable payload signed with the vendor's Ed25519
//! key, bound to one host installation.
//!
//! This crate is a placeholder in the workspace layout; the format, issuing
//! and verification arrive with the licensing work.
