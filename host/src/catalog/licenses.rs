//! Licenses and the publisher keys they are checked against: a plugin is
//! served only under a license valid today.

use chrono::{NaiveDate, Utc};
use h2h_license::{SignedLicense, VendorPublicKey, VerifiedLicense, VerifyContext};
use semver::Version;
use sqlx::Row;

use super::{CatalogError, installation};
use crate::db::Database;
use crate::vault::VaultStore;

/// Days before expiry from which the host warns.
pub const EXPIRY_WARNING_DAYS: u32 = 30;

/// Today, as licenses count days.
pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// Every trusted publisher key.
pub async fn publisher_keys(db: &Database) -> Result<Vec<VendorPublicKey>, CatalogError> {
    let rows = sqlx::query("SELECT key_id, public_key FROM publishers")
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|row| {
            let key_id: String = row.try_get("key_id")?;
            let text: String = row.try_get("public_key")?;
            VendorPublicKey::from_armored(&text)
                .map_err(|e| CatalogError::Corrupt(format!("trusted key {key_id}: {e}")))
        })
        .collect()
}

/// The stored licenses of `plugin` (every plugin: none), newest first, each
/// with when it was added.
pub async fn stored(
    db: &Database,
    plugin: Option<&str>,
) -> Result<Vec<(SignedLicense, i64)>, CatalogError> {
    let rows = match plugin {
        Some(plugin) => {
            sqlx::query("SELECT id, document, added_at FROM licenses WHERE plugin_id = $1 ORDER BY added_at DESC, id")
                .bind(plugin)
                .fetch_all(db.pool())
                .await?
        }
        None => {
            sqlx::query("SELECT id, document, added_at FROM licenses ORDER BY plugin_id, added_at DESC, id")
                .fetch_all(db.pool())
                .await?
        }
    };
    rows.iter()
        .map(|row| {
            let id: String = row.try_get("id")?;
            let text: String = row.try_get("document")?;
            let signed = SignedLicense::from_toml(&text)
                .map_err(|e| CatalogError::Corrupt(format!("license {id}: {e}")))?;
            Ok((signed, row.try_get("added_at")?))
        })
        .collect()
}

/// The license that lets `plugin` `version` run today, or why none does
/// (the reason of the most recently added license).
pub async fn require_valid(
    db: &Database,
    vault: &VaultStore,
    plugin: &str,
    version: &Version,
) -> Result<VerifiedLicense, CatalogError> {
    let trusted: Vec<VendorPublicKey> = publisher_keys(db).await?;
    let ctx = VerifyContext {
        installation_id: installation::id(db, vault).await?,
        plugin_id: plugin.to_owned(),
        plugin_version: version.clone(),
        today: today(),
    };
    let mut first_refusal = None;
    for (signed, _) in stored(db, Some(plugin)).await? {
        match h2h_license::verify(&signed, &trusted, &ctx) {
            Ok(verified) => {
                if verified.expires_within(EXPIRY_WARNING_DAYS) {
                    tracing::warn!(
                        %plugin, license = %verified.license().id,
                        days_left = verified.days_left(ctx.today),
                        "license expires within {EXPIRY_WARNING_DAYS} days"
                    );
                }
                return Ok(verified);
            }
            Err(e) => {
                first_refusal.get_or_insert(e.to_string());
            }
        }
    }
    Err(CatalogError::Unlicensed {
        plugin: plugin.to_owned(),
        version: version.to_string(),
        reason: first_refusal.unwrap_or_else(|| "no license for it has been added".to_owned()),
    })
}

/// The strictest `max-terminals` among `plugin`'s licenses in force today
/// (none: no license in force caps them).
pub async fn max_terminals(db: &Database, plugin: &str) -> Result<Option<u32>, CatalogError> {
    strictest(db, plugin, |limits| limits.max_terminals).await
}

/// The strictest `max-companies` among `plugin`'s licenses in force today.
pub async fn max_companies(db: &Database, plugin: &str) -> Result<Option<u32>, CatalogError> {
    strictest(db, plugin, |limits| limits.max_companies).await
}

async fn strictest(
    db: &Database,
    plugin: &str,
    cap: impl Fn(&h2h_license::Limits) -> Option<u32>,
) -> Result<Option<u32>, CatalogError> {
    let today = today();
    Ok(stored(db, Some(plugin))
        .await?
        .iter()
        .map(|(signed, _)| signed.license())
        .filter(|l| l.not_before <= today && today <= l.expires)
        .filter_map(|l| cap(&l.limits))
        .min())
}

/// The companies a plugin serves: those with one of its settings or
/// secrets, or a bank account it serves.
const SERVED_COMPANIES: &str = "SELECT company_id FROM company_settings WHERE plugin_id = $1 \
     UNION SELECT company_id FROM vault_entries WHERE owner = $1 AND kind = 'secret' \
     UNION SELECT company_id FROM bank_accounts WHERE plugin_id = $1";

/// Lets `company` start using `plugin` (a first setting, secret or bank
/// account) only within the licenses' `max-companies`; a company already
/// served always passes.
pub async fn admit_company(db: &Database, plugin: &str, company: &str) -> Result<(), CatalogError> {
    let Some(max) = max_companies(db, plugin).await? else {
        return Ok(());
    };
    let served: Vec<String> = sqlx::query(SERVED_COMPANIES)
        .bind(plugin)
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(|row| row.try_get("company_id"))
        .collect::<Result<_, _>>()?;
    if served.iter().any(|c| c == company) || served.len() < max as usize {
        return Ok(());
    }
    Err(CatalogError::CompanyCap {
        plugin: plugin.to_owned(),
        max,
        company: company.to_owned(),
    })
}
