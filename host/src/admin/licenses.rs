//! Licenses on the host: added after full verification, checked again
//! before every install and invocation, warned about 30 days before expiry.

use h2h_license::{LicenseError, SignedLicense, VerifyContext};
use semver::Version;
use serde::Serialize;

use super::{AdminError, packages};
use crate::catalog::{self, EXPIRY_WARNING_DAYS, today};
use crate::db::{Database, format_millis, now_millis};

/// A stored license, as listed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LicenseInfo {
    /// License id.
    pub id: String,
    /// Plugin it licenses.
    pub plugin: String,
    /// Semver range of plugin versions.
    pub versions: String,
    /// Licensee.
    pub licensee: String,
    /// First valid day.
    pub not_before: String,
    /// Last valid day.
    pub expires: String,
    /// Whole days left today (negative once expired).
    pub days_left: i64,
    /// `valid`, `expiring` (within 30 days), `expired` or `not-yet-valid`.
    pub status: &'static str,
    /// Maximum companies, if capped.
    pub max_companies: Option<u32>,
    /// Maximum terminals, if capped.
    pub max_terminals: Option<u32>,
    /// When it was added.
    pub added_at: String,
}

/// The version a new license is checked against: the installed one, else
/// the newest uploaded one; none when the plugin is not on the host yet.
async fn version_to_check(db: &Database, plugin: &str) -> Result<Option<Version>, AdminError> {
    if let Some(installed) = super::lifecycle::installed_version(db, plugin).await? {
        return Ok(Some(installed));
    }
    Ok(packages::versions(db, plugin).await?.pop())
}

/// Verifies `text` completely and stores it. Every refusal (bad signature,
/// unknown vendor key, other installation, expired, not yet valid, version
/// outside the range of the plugin on this host) stores nothing.
pub(crate) async fn add(
    db: &Database,
    vault: &crate::vault::VaultStore,
    text: &str,
    actor: &str,
) -> Result<LicenseInfo, AdminError> {
    let signed = SignedLicense::from_toml(text)?;
    let trusted = catalog::publisher_keys(db).await?;
    let license = signed.license();
    let version = version_to_check(db, &license.plugin).await?;
    let ctx = VerifyContext {
        installation_id: catalog::installation_id(db, vault).await?,
        plugin_id: license.plugin.clone(),
        // A plugin that is not here yet: check everything but the range.
        plugin_version: version.clone().unwrap_or_else(|| Version::new(0, 0, 0)),
        today: today(),
    };
    match h2h_license::verify(&signed, &trusted, &ctx) {
        Ok(_) => {}
        Err(LicenseError::VersionOutsideRange { .. }) if version.is_none() => {}
        Err(e) => return Err(e.into()),
    }
    sqlx::query(
        "INSERT INTO licenses (id, plugin_id, document, expires, added_at, added_by) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (id) DO UPDATE SET document = excluded.document, expires = excluded.expires, \
         added_at = excluded.added_at, added_by = excluded.added_by",
    )
    .bind(&license.id)
    .bind(&license.plugin)
    .bind(text)
    .bind(h2h_license::format_date(license.expires))
    .bind(now_millis())
    .bind(actor)
    .execute(db.pool())
    .await?;
    let info = describe(&signed, now_millis());
    if info.status == "expiring" {
        tracing::warn!(license = %info.id, plugin = %info.plugin, expires = %info.expires, "license expires within {EXPIRY_WARNING_DAYS} days");
    }
    Ok(info)
}

fn describe(signed: &SignedLicense, added_at: i64) -> LicenseInfo {
    let license = signed.license();
    let today = today();
    let days_left = license.expires.signed_duration_since(today).num_days();
    let status = if today < license.not_before {
        "not-yet-valid"
    } else if days_left < 0 {
        "expired"
    } else if days_left < i64::from(EXPIRY_WARNING_DAYS) {
        "expiring"
    } else {
        "valid"
    };
    LicenseInfo {
        id: license.id.clone(),
        plugin: license.plugin.clone(),
        versions: license.versions.as_str().to_owned(),
        licensee: license.licensee.clone(),
        not_before: h2h_license::format_date(license.not_before),
        expires: h2h_license::format_date(license.expires),
        days_left,
        status,
        max_companies: license.limits.max_companies,
        max_terminals: license.limits.max_terminals,
        added_at: format_millis(added_at),
    }
}

/// Every stored license.
pub(crate) async fn list(db: &Database) -> Result<Vec<LicenseInfo>, AdminError> {
    Ok(catalog::stored_licenses(db, None)
        .await?
        .iter()
        .map(|(signed, added_at)| describe(signed, *added_at))
        .collect())
}
