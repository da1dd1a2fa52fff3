//! Why the catalog could not answer.

use crate::db::DbError;

/// A catalog read that failed or found nothing usable.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// No valid license covers this plugin version today.
    #[error("{plugin} {version} has no valid license: {reason}")]
    Unlicensed {
        /// Plugin id.
        plugin: String,
        /// Version.
        version: String,
        /// Why (from the license closest to valid, or that none was added).
        reason: String,
    },
    /// No such package was uploaded.
    #[error("{plugin} {version} has not been uploaded")]
    NotUploaded {
        /// Plugin id.
        plugin: String,
        /// Version.
        version: String,
    },
    /// No company has that id.
    #[error("company `{0}` does not exist")]
    UnknownCompany(String),
    /// The licenses allow no more companies for the plugin.
    #[error(
        "the license of {plugin} allows {max} companies and {max} already use it: company `{company}` cannot be configured for it (a license with a higher max-companies, or removing another company's settings, makes room)"
    )]
    CompanyCap {
        /// Plugin id.
        plugin: String,
        /// The strictest `max-companies` in force.
        max: u32,
        /// The company refused.
        company: String,
    },
    /// The installation id in `host_meta` is not the one this host sealed.
    #[error(
        "the installation id `{row}` is not the one this host sealed (`{sealed}`): it was edited; put it back, or make a new one with `h2h installation-id --new` (licenses for the old id then stop serving)"
    )]
    InstallationEdited {
        /// What `host_meta` says.
        row: String,
        /// What the vault holds.
        sealed: String,
    },
    /// The installation id was sealed under a vault key this host does
    /// not have: the database was copied from another host.
    #[error(
        "the installation id was sealed with vault key {key_id}, which this host does not have: this database was copied from another installation; give the copy its own id with `h2h installation-id --new` and licenses issued for it"
    )]
    InstallationCopied {
        /// The key the id was sealed with.
        key_id: String,
    },
    /// Stored data could not be read back.
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    /// A sealed value could not be opened.
    #[error(transparent)]
    Vault(#[from] crate::vault::VaultError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for CatalogError {
    fn from(e: sqlx::Error) -> Self {
        CatalogError::Db(DbError::Sqlx(e))
    }
}

impl CatalogError {
    /// A stable snake_case code, the same the admin API gives.
    pub fn kind(&self) -> &'static str {
        match self {
            CatalogError::Unlicensed { .. } => "unlicensed",
            CatalogError::NotUploaded { .. } => "not_uploaded",
            CatalogError::UnknownCompany(_) => "unknown_company",
            CatalogError::CompanyCap { .. } => "company_cap_reached",
            CatalogError::InstallationEdited { .. } => "installation_edited",
            CatalogError::InstallationCopied { .. } => "installation_copied",
            CatalogError::Corrupt(_) => "corrupt_data",
            CatalogError::Vault(e) => e.kind(),
            CatalogError::Db(_) => "database_error",
        }
    }
}
