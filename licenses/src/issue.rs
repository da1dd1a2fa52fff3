//! Signing a new license: the vendor's side.

use chrono::NaiveDate;

use crate::error::IssueError;
use crate::field::{TextField, VersionRange, is_writable_date};
use crate::key::VendorKeyPair;
use crate::license::{
    FORMAT_VERSION, License, Limits, Signature, SignatureAlgorithm, SignedLicense,
};

/// What a vendor asks to license.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenseRequest {
    /// The license id; `None` draws 128 random bits (32 hex digits).
    pub id: Option<String>,
    /// The plugin id (a lowercase slug).
    pub plugin: String,
    /// Plugin versions covered.
    pub versions: VersionRange,
    /// Who holds the license.
    pub licensee: String,
    /// The host installation to bind to (`h2h installation-id` on that host).
    pub installation: String,
    /// First valid day.
    pub not_before: NaiveDate,
    /// Last valid day; may equal `not_before` for a one-day license.
    pub expires: NaiveDate,
    /// The issuing day, recorded in the license.
    pub issued_at: NaiveDate,
    /// Optional caps.
    pub limits: Limits,
}

/// Checks `request` against the rules a host reads licenses by, then signs
/// it with `key`. The payload's `vendor-key` is `key`'s id.
pub fn issue(key: &VendorKeyPair, request: LicenseRequest) -> Result<SignedLicense, IssueError> {
    let id = match request.id {
        Some(id) => id,
        None => random_id()?,
    };
    let license = License {
        format: FORMAT_VERSION,
        id,
        plugin: request.plugin,
        versions: request.versions,
        licensee: request.licensee,
        installation: request.installation,
        not_before: request.not_before,
        expires: request.expires,
        issued_at: request.issued_at,
        vendor_key: key.public().key_id(),
        limits: request.limits,
    };
    check(&license)?;
    let signature = Signature {
        algorithm: SignatureAlgorithm::Ed25519,
        key_id: license.vendor_key.clone(),
        value: key.sign(&license.signing_bytes()),
    };
    Ok(SignedLicense::new(license, signature))
}

fn check(license: &License) -> Result<(), IssueError> {
    let texts = [
        (TextField::Id, &license.id),
        (TextField::Plugin, &license.plugin),
        (TextField::Licensee, &license.licensee),
        (TextField::Installation, &license.installation),
    ];
    for (field, value) in texts {
        field
            .check(value)
            .map_err(|reason| IssueError::InvalidField {
                field: field.key(),
                reason,
            })?;
    }
    let dates = [
        ("not-before", license.not_before),
        ("expires", license.expires),
        ("issued-at", license.issued_at),
    ];
    for (field, date) in dates {
        if !is_writable_date(date) {
            return Err(IssueError::InvalidField {
                field,
                reason: format!("{date} is outside the years 0000 to 9999"),
            });
        }
    }
    if license.expires < license.not_before {
        return Err(IssueError::ExpiresBeforeNotBefore {
            not_before: license.not_before,
            expires: license.expires,
        });
    }
    let limits = [
        ("max-companies", license.limits.max_companies),
        ("max-terminals", license.limits.max_terminals),
    ];
    for (field, limit) in limits {
        if limit == Some(0) {
            return Err(IssueError::InvalidField {
                field,
                reason: "a limit of 0 would license nothing; omit it for no limit".into(),
            });
        }
    }
    Ok(())
}

fn random_id() -> Result<String, IssueError> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).map_err(|e| IssueError::Random(e.to_string()))?;
    Ok(hex::encode(bytes))
}
