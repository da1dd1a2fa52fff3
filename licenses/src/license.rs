//! The license document: a readable payload and the vendor's signature over
//! it, stored as TOML.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::canonical;
use crate::error::{LicenseError, TextPosition};
use crate::field::{VersionRange, checked, date_text};

/// The format this code writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// The first line of every file written by [`SignedLicense::to_toml`].
/// Comments are not signed; this one is only for whoever opens the file.
const HEADER: &str =
    "# h2h plugin license. Any change to the [license] table invalidates the signature.\n";

/// What a license grants. Field meanings and rules are in the README; the
/// TOML keys are the field names in kebab-case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct License {
    /// Format version, always [`FORMAT_VERSION`].
    pub format: u32,
    /// Unique id of this license (128 random bits in hex unless the vendor
    /// chose one).
    #[serde(deserialize_with = "checked::id")]
    pub id: String,
    /// The licensed plugin's id (a lowercase slug).
    #[serde(deserialize_with = "checked::plugin")]
    pub plugin: String,
    /// Plugin versions covered, a semver range such as `^1.2`.
    pub versions: VersionRange,
    /// Who holds the license (a company name).
    #[serde(deserialize_with = "checked::licensee")]
    pub licensee: String,
    /// The host installation the license is bound to (`h2h installation-id`).
    #[serde(deserialize_with = "checked::installation")]
    pub installation: String,
    /// First valid day.
    #[serde(with = "date_text")]
    pub not_before: NaiveDate,
    /// Last valid day: the license is valid through it.
    #[serde(with = "date_text")]
    pub expires: NaiveDate,
    /// The day the vendor issued it; informational.
    #[serde(with = "date_text")]
    pub issued_at: NaiveDate,
    /// Key id of the vendor key that signed it (see
    /// [`crate::VendorPublicKey::key_id`]).
    #[serde(deserialize_with = "checked::key_id")]
    pub vendor_key: String,
    /// Optional caps; absent means unlimited.
    #[serde(default, skip_serializing_if = "Limits::is_unlimited")]
    pub limits: Limits,
}

impl License {
    /// The exact bytes the vendor's signature covers (see the README).
    pub fn signing_bytes(&self) -> Vec<u8> {
        canonical::signing_bytes(self)
    }
}

/// Optional caps a license may set; `None` is unlimited. The host enforces
/// them; the license only carries them, signed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Limits {
    /// Companies the plugin may serve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_companies: Option<u32>,
    /// Terminals the plugin may drive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_terminals: Option<u32>,
}

impl Limits {
    /// Whether no cap is set.
    pub fn is_unlimited(&self) -> bool {
        self.max_companies.is_none() && self.max_terminals.is_none()
    }
}

/// The signature algorithms a license may name. Only one exists; naming it
/// in the file lets a later format add another without guessing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignatureAlgorithm {
    /// Ed25519 (RFC 8032).
    #[serde(rename = "ed25519")]
    Ed25519,
}

/// The `[signature]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Signature {
    /// How it was made.
    pub algorithm: SignatureAlgorithm,
    /// Key id of the signing vendor key; how a host finds the key to check
    /// with. Not itself signed, so it must equal the payload's `vendor-key`.
    #[serde(deserialize_with = "checked::key_id")]
    pub key_id: String,
    /// The 64-byte signature, base64 (standard alphabet, padded) in the file.
    #[serde(with = "signature_base64")]
    pub value: [u8; 64],
}

/// A license with its signature, as stored in a license file. Only
/// [`SignedLicense::from_toml`] and [`crate::issue`] make one (it has no
/// `Deserialize` of its own), so its payload always has a supported format;
/// whether the signature is good is for [`crate::verify`] to say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignedLicense {
    license: License,
    signature: Signature,
}

/// The file's two tables, read only after the format version was checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LicenseFile {
    license: License,
    signature: Signature,
}

impl SignedLicense {
    pub(crate) fn new(license: License, signature: Signature) -> Self {
        Self { license, signature }
    }

    /// The payload, not yet verified.
    pub fn license(&self) -> &License {
        &self.license
    }

    /// The signature block, not yet verified.
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// The license file text. Deterministic: the same license always gives
    /// the same text.
    pub fn to_toml(&self) -> String {
        // Every field is a string, an integer or a table of them, and every
        // `Option` is skipped when `None`: nothing toml cannot represent.
        let body = toml::to_string(self).expect("a license always serialises to TOML");
        format!("{HEADER}{body}")
    }

    /// Parses a license file. Reports the format version before anything
    /// else, so a newer file gets `UnsupportedFormatVersion` rather than
    /// complaints about fields this code has never heard of.
    pub fn from_toml(text: &str) -> Result<Self, LicenseError> {
        #[derive(Deserialize)]
        struct FormatOnly {
            license: FormatField,
        }
        #[derive(Deserialize)]
        struct FormatField {
            format: u32,
        }
        let probe: FormatOnly = toml::from_str(text).map_err(|e| malformed(text, &e))?;
        if probe.license.format != FORMAT_VERSION {
            return Err(LicenseError::UnsupportedFormatVersion {
                found: probe.license.format,
                supported: FORMAT_VERSION,
            });
        }
        let file: LicenseFile = toml::from_str(text).map_err(|e| malformed(text, &e))?;
        Ok(Self::new(file.license, file.signature))
    }
}

fn malformed(text: &str, error: &toml::de::Error) -> LicenseError {
    LicenseError::Malformed {
        at: error.span().map(|span| position(text, span.start)),
        // Some toml messages span lines ("invalid table header\nexpected
        // ..."); one line reads better in a log and in an API response.
        reason: error
            .message()
            .trim_end()
            .lines()
            .collect::<Vec<_>>()
            .join("; "),
    }
}

fn position(text: &str, offset: usize) -> TextPosition {
    let before = text.get(..offset).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line_text = text[line_start..].lines().next().unwrap_or_default();
    let key = line_text
        .split_once('=')
        .map(|(key, _)| key.trim().trim_matches('"').to_owned())
        .filter(|key| !key.is_empty() && !key.starts_with('#'));
    TextPosition {
        line: before.matches('\n').count() + 1,
        column: before[line_start..].chars().count() + 1,
        key,
    }
}

mod signature_base64 {
    use super::*;

    pub(super) fn serialize<S: Serializer>(
        value: &[u8; 64],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(value))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<[u8; 64], D::Error> {
        let text = String::deserialize(deserializer)?;
        let bytes = STANDARD.decode(&text).map_err(|e| {
            serde::de::Error::custom(format!("the signature value is not base64: {e}"))
        })?;
        let length = bytes.len();
        bytes.try_into().map_err(|_| {
            serde::de::Error::custom(format!(
                "the signature value is {length} bytes, an Ed25519 signature is 64"
            ))
        })
    }
}
