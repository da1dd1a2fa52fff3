//! Why a key or a license is not usable. Every message names the values
//! involved, so an admin can act on it without reading code.

use time::Date;

/// A key file could not be read or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file is not the expected armored key.
    #[error("not an h2h {expected} file: {reason}")]
    Format {
        /// `vendor secret key` or `vendor public key`.
        expected: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// Reading or writing the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The system random generator failed.
    #[error("no randomness for a new key: {0}")]
    Random(String),
}

/// Why a license does not allow a plugin to run. Checked in this order:
/// format, vendor key, signature, plugin, installation, dates, version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LicenseError {
    /// The file is not a license document.
    #[error("malformed license: {0}")]
    Malformed(String),
    /// The license was written by a newer format.
    #[error("license format {found} is not supported (this host reads format {supported})")]
    UnsupportedFormatVersion {
        /// The file's format.
        found: u32,
        /// The one this code reads.
        supported: u32,
    },
    /// No trusted vendor key has the license's key id.
    #[error("license is signed by unknown vendor key {key_id}")]
    UnknownVendorKey {
        /// The key id named in the license.
        key_id: String,
    },
    /// The signature does not match the payload: tampered or forged.
    #[error(
        "license signature is invalid: the license was altered or not signed by vendor key {key_id}"
    )]
    BadSignature {
        /// The key id named in the license.
        key_id: String,
    },
    /// The license is for another plugin.
    #[error("license is for plugin `{licensed}`, not `{this}`")]
    OtherPlugin {
        /// Licensed plugin.
        licensed: String,
        /// The plugin being checked.
        this: String,
    },
    /// The license is bound to another host installation.
    #[error("license is bound to installation {licensed}, this host is {this}")]
    OtherInstallation {
        /// Licensed installation id.
        licensed: String,
        /// This host's installation id.
        this: String,
    },
    /// The validity period has not started.
    #[error("license is not valid before {valid_from}")]
    NotYetValid {
        /// First valid day.
        valid_from: Date,
    },
    /// The validity period is over.
    #[error("license expired on {expired_on}")]
    Expired {
        /// Last valid day.
        expired_on: Date,
    },
    /// The plugin version is outside the licensed range.
    #[error("license covers versions {range} of the plugin, not {version}")]
    VersionOutsideRange {
        /// The version being checked.
        version: semver::Version,
        /// The licensed range.
        range: semver::VersionReq,
    },
}
