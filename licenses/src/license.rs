//! The license document: a readable payload and the vendor's signature.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use semver::VersionReq;
use serde::{Deserialize, Serialize};
use time::Date;

use crate::error::LicenseError;
use crate::key::VendorKeyPair;

/// The format this code writes and reads.
pub const FORMAT_VERSION: u32 = 1;

time::serde::format_description!(iso_date, Date, "[year]-[month]-[day]");

/// Optional caps a license may set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Companies the plugin may serve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_companies: Option<u32>,
    /// Card terminals the plugin may drive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_terminals: Option<u32>,
}

/// What a license grants. Field order is the signing order (see README).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct License {
    /// Format version, [`FORMAT_VERSION`].
    pub format: u32,
    /// Unique id of this license.
    pub id: String,
    /// The licensed plugin's id.
    pub plugin: String,
    /// Plugin versions covered, a semver range such as `^1.2`.
    pub versions: VersionReq,
    /// Who holds the license.
    pub licensee: String,
    /// The host installation the license is bound to (`h2h installation-id`).
    pub installation: String,
    /// First valid day.
    #[serde(with = "iso_date")]
    pub not_before: Date,
    /// Last valid day (the license is valid through it).
    #[serde(with = "iso_date")]
    pub expires: Date,
    /// When it was issued.
    #[serde(with = "iso_date")]
    pub issued: Date,
    /// Key id of the vendor key that signs it.
    pub vendor_key: String,
    /// Optional caps.
    #[serde(default)]
    pub limits: Limits,
}

impl License {
    /// The bytes the signature covers: the payload as compact JSON, fields in
    /// declaration order. Deterministic, so anyone can recompute it.
    pub fn signing_bytes(&self) -> Vec<u8> {
        // Serialising plain strings, numbers and dates cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// The signature block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Signature {
    /// Always `ed25519`.
    pub algorithm: String,
    /// Key id of the signing vendor key.
    pub key_id: String,
    /// Base64 of the 64-byte signature.
    pub value: String,
}

/// A license with its signature, as stored in a `.license` TOML file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedLicense {
    /// The payload.
    pub license: License,
    /// The vendor's signature over [`License::signing_bytes`].
    pub signature: Signature,
}

impl SignedLicense {
    /// Signs `license` with `key` (its `vendor-key` is set to the key's id).
    pub fn issue(mut license: License, key: &VendorKeyPair) -> Self {
        license.vendor_key = key.public().key_id();
        let value = STANDARD.encode(key.sign(&license.signing_bytes()));
        Self {
            signature: Signature {
                algorithm: "ed25519".into(),
                key_id: license.vendor_key.clone(),
                value,
            },
            license,
        }
    }

    /// The license file text.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    /// Parses a license file; the error names the line and field at fault.
    pub fn from_toml(text: &str) -> Result<Self, LicenseError> {
        let parsed: Self = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|span| text[..span.start.min(text.len())].lines().count().max(1));
            let message = e.message().to_owned();
            LicenseError::Malformed(match line {
                Some(line) => format!("line {line}: {message}"),
                None => message,
            })
        })?;
        if parsed.license.format != FORMAT_VERSION {
            return Err(LicenseError::UnsupportedFormatVersion {
                found: parsed.license.format,
                supported: FORMAT_VERSION,
            });
        }
        Ok(parsed)
    }

    pub(crate) fn signature_bytes(&self) -> Result<[u8; 64], LicenseError> {
        let bad = || LicenseError::BadSignature {
            key_id: self.signature.key_id.clone(),
        };
        if self.signature.algorithm != "ed25519" {
            return Err(LicenseError::Malformed(format!(
                "signature algorithm `{}` is not supported (only ed25519)",
                self.signature.algorithm
            )));
        }
        let bytes = STANDARD.decode(&self.signature.value).map_err(|_| bad())?;
        bytes.try_into().map_err(|_| bad())
    }
}
