//! h2h plugin licenses: a readable TOML payload signed with the vendor's
//! Ed25519 key, bound to one plugin, a range of its versions, and one host
//! installation. See `licenses/README.md` for the format.
#![deny(missing_docs)]

mod error;
mod key;
mod license;
mod verify;

pub use error::{KeyError, LicenseError};
pub use key::{VendorKeyPair, VendorPublicKey};
pub use license::{FORMAT_VERSION, License, Limits, Signature, SignedLicense};
pub use verify::{VerifiedLicense, VerifyContext, verify};
