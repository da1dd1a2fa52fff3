//! h2h plugin licenses: a readable TOML payload signed with the vendor's
//! Ed25519 key, bound to one plugin, a range of its versions and one host
//! installation, for a period of days. See `licenses/README.md` for the
//! file format, the signed bytes and the order of checks.
//!
//! The vendor side is [`VendorKeyPair`] and [`issue`]; the host side is
//! [`SignedLicense::from_toml`] and [`verify`].
//!
//! ```
//! use h2h_license::{
//!     LicenseRequest, Limits, SignedLicense, VendorKeyPair, VerifyContext, VersionRange,
//!     issue, verify,
//! };
//! let day = h2h_license::parse_date;
//!
//! // Vendor: sign a license for one host installation.
//! let vendor = VendorKeyPair::generate()?;
//! let signed = issue(&vendor, LicenseRequest {
//!     id: None,
//!     plugin: "pkobp".into(),
//!     versions: VersionRange::parse("^1.2")?,
//!     licensee: "ACME Sp. z o.o.".into(),
//!     installation: "inst-7f3a".into(),
//!     not_before: day("2026-01-01")?,
//!     expires: day("2026-12-31")?,
//!     issued_at: day("2025-12-15")?,
//!     limits: Limits { max_companies: Some(3), max_terminals: None },
//! })?;
//! let file = signed.to_toml();
//!
//! // Host: read the uploaded file and check it before installing.
//! let uploaded = SignedLicense::from_toml(&file)?;
//! let mut context = VerifyContext {
//!     installation_id: "inst-7f3a".into(),
//!     plugin_id: "pkobp".into(),
//!     plugin_version: semver::Version::new(1, 4, 0),
//!     today: day("2026-12-10")?,
//! };
//! let verified = verify(&uploaded, &[vendor.public()], &context)?;
//! assert!(verified.expires_within(30)); // time to warn the admin
//!
//! context.plugin_version = semver::Version::new(2, 0, 0);
//! assert_eq!(
//!     verify(&uploaded, &[vendor.public()], &context).unwrap_err().to_string(),
//!     "plugin version 2.0.0 is outside the licensed range ^1.2",
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod canonical;
mod error;
mod field;
mod issue;
mod key;
mod license;
mod verify;

pub use error::{IssueError, KeyError, LicenseError, TextPosition};
pub use field::{InvalidDate, VersionRange, format_date, is_slug, parse_date};
pub use issue::{LicenseRequest, issue};
pub use key::{VendorKeyPair, VendorPublicKey};
pub use license::{FORMAT_VERSION, License, Limits, Signature, SignatureAlgorithm, SignedLicense};
pub use verify::{VerifiedLicense, VerifyContext, verify};
