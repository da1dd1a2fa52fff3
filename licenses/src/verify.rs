//! Does a license let this plugin version run on this host today?

use time::Date;

use crate::error::LicenseError;
use crate::key::VendorPublicKey;
use crate::license::SignedLicense;

/// What a license is checked against.
#[derive(Debug, Clone)]
pub struct VerifyContext<'a> {
    /// This host's installation id.
    pub installation: &'a str,
    /// The plugin to run.
    pub plugin: &'a str,
    /// Its version.
    pub version: &'a semver::Version,
    /// Today's date.
    pub today: Date,
}

/// A license that passed every check.
#[derive(Debug, Clone)]
pub struct VerifiedLicense {
    /// The verified license.
    pub license: SignedLicense,
}

impl VerifiedLicense {
    /// Days from `today` through the last valid day (0 on the last day).
    pub fn days_left(&self, today: Date) -> i64 {
        (self.license.license.expires - today).whole_days()
    }

    /// True if the license ends within `days` days of `today`: time to warn.
    pub fn expires_within(&self, days: i64, today: Date) -> bool {
        self.days_left(today) < days
    }
}

/// Checks, in order: the vendor key is trusted, the signature matches, the
/// plugin, the installation, the dates (both ends inclusive), the version.
pub fn verify(
    signed: &SignedLicense,
    trusted: &[VendorPublicKey],
    ctx: &VerifyContext<'_>,
) -> Result<VerifiedLicense, LicenseError> {
    let key_id = &signed.signature.key_id;
    let key = trusted
        .iter()
        .find(|k| &k.key_id() == key_id)
        .ok_or_else(|| LicenseError::UnknownVendorKey {
            key_id: key_id.clone(),
        })?;
    let signature = signed.signature_bytes()?;
    let license = &signed.license;
    if license.vendor_key != *key_id || !key.verifies(&license.signing_bytes(), &signature) {
        return Err(LicenseError::BadSignature {
            key_id: key_id.clone(),
        });
    }
    if license.plugin != ctx.plugin {
        return Err(LicenseError::OtherPlugin {
            licensed: license.plugin.clone(),
            this: ctx.plugin.to_owned(),
        });
    }
    if license.installation != ctx.installation {
        return Err(LicenseError::OtherInstallation {
            licensed: license.installation.clone(),
            this: ctx.installation.to_owned(),
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
    if !license.versions.matches(ctx.version) {
        return Err(LicenseError::VersionOutsideRange {
            version: ctx.version.clone(),
            range: license.versions.clone(),
        });
    }
    Ok(VerifiedLicense {
        license: signed.clone(),
    })
}
