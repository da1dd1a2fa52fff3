//! Does a license let this plugin version run on this host today? The
//! host's side.

use chrono::NaiveDate;
use semver::Version;

use crate::error::LicenseError;
use crate::key::VendorPublicKey;
use crate::license::{License, SignedLicense};

/// What a license is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyContext {
    /// This host's installation id.
    pub installation_id: String,
    /// The plugin about to be installed or invoked.
    pub plugin_id: String,
    /// Its version.
    pub plugin_version: Version,
    /// The day to check the validity period against (the host uses the UTC
    /// date).
    pub today: NaiveDate,
}

/// A license that passed every check of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedLicense {
    license: License,
    verified_on: NaiveDate,
}

impl VerifiedLicense {
    /// The verified payload.
    pub fn license(&self) -> &License {
        &self.license
    }

    /// The day it was verified for ([`VerifyContext::today`]).
    pub fn verified_on(&self) -> NaiveDate {
        self.verified_on
    }

    /// Whole days from `today` to the last valid day: 0 on the last valid
    /// day, negative once expired.
    pub fn days_left(&self, today: NaiveDate) -> i64 {
        self.license.expires.signed_duration_since(today).num_days()
    }

    /// Whether the license will no longer be valid `days` days after the day
    /// it was verified for: `expires_within(30)` is the host's cue to warn.
    /// With `expires = 2026-12-31`, it is false on 2026-12-01 (the license
    /// still covers 2026-12-31) and true from 2026-12-02 (it does not cover
    /// 2027-01-01).
    pub fn expires_within(&self, days: u32) -> bool {
        self.days_left(self.verified_on) < i64::from(days)
    }
}

/// Checks `signed` in this order and returns the first failure: the
/// signing key is one of `trusted`, the signature matches the payload, the
/// plugin, the installation, the validity period (both end days included),
/// the plugin version. (Parsing, and with it the format version, comes
/// before: see [`SignedLicense::from_toml`].)
pub fn verify(
    signed: &SignedLicense,
    trusted: &[VendorPublicKey],
    ctx: &VerifyContext,
) -> Result<VerifiedLicense, LicenseError> {
    let license = signed.license();
    let signature = signed.signature();
    let key_id = &signature.key_id;
    let candidates: Vec<&VendorPublicKey> =
        trusted.iter().filter(|k| &k.key_id() == key_id).collect();
    if candidates.is_empty() {
        return Err(LicenseError::UnknownVendorKey {
            key_id: key_id.clone(),
        });
    }
    let message = license.signing_bytes();
    // The signature table's key id is not signed; the payload's is. If they
    // differ, the signer never vouched for the key the host looked up.
    let signed_by_named_key = license.vendor_key == *key_id
        && candidates
            .iter()
            .any(|key| key.verifies(&message, &signature.value));
    if !signed_by_named_key {
        return Err(LicenseError::BadSignature {
            key_id: key_id.clone(),
        });
    }
    if license.plugin != ctx.plugin_id {
        return Err(LicenseError::OtherPlugin {
            licensed: license.plugin.clone(),
            this: ctx.plugin_id.clone(),
        });
    }
    if license.installation != ctx.installation_id {
        return Err(LicenseError::OtherInstallation {
            licensed: license.installation.clone(),
            this: ctx.installation_id.clone(),
        });
    }
    if ctx.today < license.not_before {
        return Err(LicenseError::NotYetValid {
            valid_from: license.not_before,
        });
    }
    if ctx.today > license.expires {
        return Err(LicenseError::Expired {
            expired_on: license.expires,
        });
    }
    if !license.versions.matches(&ctx.plugin_version) {
        return Err(LicenseError::VersionOutsideRange {
            version: ctx.plugin_version.clone(),
            range: license.versions.clone(),
        });
    }
    Ok(VerifiedLicense {
        license: license.clone(),
        verified_on: ctx.today,
    })
}
