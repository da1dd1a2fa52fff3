//! The test plugins and the shipped connectors, built for wasm32-wasip2 by
//! this crate's build script. Tests read the components from these paths.

/// A well-behaved bank connector using storage, config, log and HTTP.
pub const WELL_BEHAVED: &str = env!("H2H_TEST_PLUGIN_WELL_BEHAVED");

/// A bank connector whose tasks attack the sandbox (loop, memory bomb,
/// panic, recursion, escapes) and whose statement is huge.
pub const HOSTILE: &str = env!("H2H_TEST_PLUGIN_HOSTILE");

/// The SDK README's minimal connector.
pub const MINIMAL: &str = env!("H2H_TEST_PLUGIN_MINIMAL");

/// The minimal connector's source, which `sdk/README.md` must show verbatim.
pub const MINIMAL_SOURCE: &str = include_str!("../../minimal/src/lib.rs");

/// `sdk/README.md`.
pub const SDK_README: &str = include_str!("../../../../sdk/README.md");

/// The SDK README's minimal card-terminal connector.
pub const MINIMAL_POS: &str = env!("H2H_TEST_PLUGIN_MINIMAL_POS");

/// The minimal card-terminal connector's source, which `sdk/README.md` must
/// show verbatim.
pub const MINIMAL_POS_SOURCE: &str = include_str!("../../minimal-pos/src/lib.rs");

/// The versioned connector as 1.0: install stores `format` 1 and `greeting`.
pub const VERSIONED: &str = env!("H2H_TEST_PLUGIN_VERSIONED");

/// The versioned connector as 1.1: migrate upper-cases the greeting.
pub const VERSIONED_V2: &str = env!("H2H_TEST_PLUGIN_VERSIONED_V2");

/// A 1.1 whose migrate changes data, then fails.
pub const VERSIONED_BROKEN: &str = env!("H2H_TEST_PLUGIN_VERSIONED_BROKEN");

/// A 1.1 whose migrate changes data, then never returns.
pub const VERSIONED_SLOW: &str = env!("H2H_TEST_PLUGIN_VERSIONED_SLOW");

/// A connector for scheduler and settings tests: `tick` counts runs,
/// `slow` spins ~1.2 s and counts overlaps, `fail` fails, `report` stores
/// the settings and secret it saw.
pub const TICKER: &str = env!("H2H_TEST_PLUGIN_TICKER");

/// The shipped PrivatBank Privat24 connector (`plugins/privat24`), built
/// with the `plugin` profile like the test plugins.
pub const PRIVAT24: &str = env!("H2H_TEST_PLUGIN_PRIVAT24");

/// The Privat24 connector's manifest (`plugins/privat24/h2h.toml`), to pack
/// [`PRIVAT24`] into a package.
pub const PRIVAT24_MANIFEST: &str = include_str!("../../../../plugins/privat24/h2h.toml");

/// The Privat24 connector's crate directory (`plugins/privat24`).
pub const PRIVAT24_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../plugins/privat24");

/// The shipped PKO BP Integra connector (`plugins/pkobp`).
pub const PKOBP: &str = env!("H2H_TEST_PLUGIN_PKOBP");

/// The shipped mBank CompanyNet connector (`plugins/mbank`).
pub const MBANK: &str = env!("H2H_TEST_PLUGIN_MBANK");

/// The shipped Mellon WebECR card-terminal connector (`plugins/mellon`).
pub const MELLON: &str = env!("H2H_TEST_PLUGIN_MELLON");
