//! Why a key, a license request or a license is not usable. Every message
//! names the values involved, so an admin can act on it without reading code.

use std::fmt;
use std::path::PathBuf;

use chrono::NaiveDate;

use crate::field::{VersionRange, format_date};

/// A key could not be made, read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The text is not the expected armored key.
    #[error("not an h2h {expected} file: {reason}")]
    Format {
        /// `vendor secret key` or `vendor public key`.
        expected: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A key file is never replaced: losing a vendor key orphans every
    /// license it signed.
    #[error("{} already exists; refusing to overwrite a key file", path.display())]
    AlreadyExists {
        /// The existing file.
        path: PathBuf,
    },
    /// Reading or writing a key file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The operating system's random generator failed.
    #[error("no randomness available for a new key: {0}")]
    Random(String),
}

/// A license request that must not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssueError {
    /// A field breaks its rule (see the README's field table).
    #[error("invalid {field}: {reason}")]
    InvalidField {
        /// The field's key in the license file.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The validity period is empty.
    #[error(
        "the license would expire ({}) before it becomes valid ({})",
        format_date(*expires),
        format_date(*not_before)
    )]
    ExpiresBeforeNotBefore {
        /// First valid day requested.
        not_before: NaiveDate,
        /// Last valid day requested.
        expires: NaiveDate,
    },
    /// The operating system's random generator failed.
    #[error("no randomness available for a license id: {0}")]
    Random(String),
}

/// Where in a license file a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextPosition {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The key on that line, when the line is `key = value`.
    pub key: Option<String>,
}

impl fmt::Display for TextPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)?;
        match &self.key {
            Some(key) => write!(f, " (`{key}`)"),
            None => Ok(()),
        }
    }
}

/// Why a license does not allow a plugin to run. [`crate::verify`] checks in
/// this order and reports the first failure: parse (`Malformed`,
/// `UnsupportedFormatVersion`), vendor key, signature, plugin, installation,
/// dates, version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LicenseError {
    /// The file is not a well-formed license document.
    #[error("malformed license{}: {reason}", at_position(.at))]
    Malformed {
        /// Where, when the parser could tell.
        at: Option<TextPosition>,
        /// What is wrong, as the TOML parser or a field rule put it.
        reason: String,
    },
    /// The file is in a format this code does not read.
    #[error("license format version {found} is not supported; this host reads version {supported}")]
    UnsupportedFormatVersion {
        /// The file's `format`.
        found: u32,
        /// The one this code reads.
        supported: u32,
    },
    /// No trusted vendor key has the license's key id.
    #[error("license is signed by vendor key {key_id}, which this host does not trust")]
    UnknownVendorKey {
        /// The key id named in the license's signature.
        key_id: String,
    },
    /// The signature does not match the payload: altered after signing, or
    /// signed by a key other than the one it names.
    #[error(
        "license signature does not verify with vendor key {key_id}: \
         the license was altered after signing or was not signed by that key"
    )]
    BadSignature {
        /// The key id named in the license's signature.
        key_id: String,
    },
    /// The license is for another plugin.
    #[error("license is for plugin `{licensed}`, not `{this}`")]
    OtherPlugin {
        /// The licensed plugin.
        licensed: String,
        /// The plugin being checked.
        this: String,
    },
    /// The license is bound to another host installation.
    #[error("license is bound to installation {licensed}, but this host is installation {this}")]
    OtherInstallation {
        /// The licensed installation id.
        licensed: String,
        /// This host's installation id.
        this: String,
    },
    /// The validity period has not started.
    #[error("license is not valid before {}", format_date(*valid_from))]
    NotYetValid {
        /// The first valid day.
        valid_from: NaiveDate,
    },
    /// The validity period is over.
    #[error("license expired: its last valid day was {}", format_date(*expired_on))]
    Expired {
        /// The last valid day.
        expired_on: NaiveDate,
    },
    /// The plugin version is outside the licensed range.
    #[error("plugin version {version} is outside the licensed range {range}")]
    VersionOutsideRange {
        /// The version being checked.
        version: semver::Version,
        /// The licensed range.
        range: VersionRange,
    },
}

impl LicenseError {
    /// A stable, machine-readable name for the reason (used in `--json`
    /// output and safe to match on in API clients).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Malformed { .. } => "malformed",
            Self::UnsupportedFormatVersion { .. } => "unsupported-format-version",
            Self::UnknownVendorKey { .. } => "unknown-vendor-key",
            Self::BadSignature { .. } => "bad-signature",
            Self::OtherPlugin { .. } => "other-plugin",
            Self::OtherInstallation { .. } => "other-installation",
            Self::NotYetValid { .. } => "not-yet-valid",
            Self::Expired { .. } => "expired",
            Self::VersionOutsideRange { .. } => "version-outside-range",
        }
    }
}

fn at_position(at: &Option<TextPosition>) -> String {
    at.as_ref()
        .map(|at| format!(" at {at}"))
        .unwrap_or_default()
}
