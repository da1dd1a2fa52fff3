//! Why an admin operation was refused or failed. Every variant names the
//! problem precisely; [`AdminError::kind`] is the stable code scripts and the
//! REST API use.

use std::time::Duration;

use h2h_license::LicenseError;

use crate::db::DbError;
use crate::packages::PackageError;
use crate::runtime::{CallError, LoadError};

/// Why an admin operation did not happen. Nothing is changed when one is
/// returned, except where the variant says it was rolled back.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The uploaded package is invalid; nothing was stored.
    #[error("package refused: {0}")]
    Package(#[from] PackageError),
    /// The same id and version was uploaded before with other contents.
    #[error(
        "{plugin} {version} is already uploaded with different contents (stored {stored}, new {new}); publish a new version instead"
    )]
    ConflictingUpload {
        /// Plugin id.
        plugin: String,
        /// Version.
        version: String,
        /// Digest of the stored contents.
        stored: String,
        /// Digest of the refused upload.
        new: String,
    },
    /// The plugin's licenses allow no more companies.
    #[error(transparent)]
    CompanyCap(crate::catalog::CatalogError),
    /// The installation id was edited or comes from another installation.
    #[error(transparent)]
    Installation(crate::catalog::CatalogError),
    /// The plugin id is pinned to another publisher's key.
    #[error(
        "{plugin} is published under key {pinned}; {} cannot ship it (an admin hands the plugin to another publisher with `h2h publisher pin`)",
        signer.as_deref().map_or_else(|| "an unsigned package".to_owned(), |key| format!("a package signed by {key}"))
    )]
    PublisherMismatch {
        /// Plugin id.
        plugin: String,
        /// The key the plugin is pinned to.
        pinned: String,
        /// The key that signed the refused package, none if unsigned.
        signer: Option<String>,
    },
    /// An unsigned package, on a host not in development mode.
    #[error(
        "{plugin} {version} is unsigned; only a development host (--allow-untrusted-packages) installs unsigned packages"
    )]
    UnsignedPackage {
        /// Plugin id.
        plugin: String,
        /// Version.
        version: String,
    },
    /// The license file was refused; nothing was stored.
    #[error("license refused: {0}")]
    License(#[from] LicenseError),
    /// A publisher key file was refused.
    #[error("publisher key refused: {0}")]
    PublisherKey(#[from] h2h_license::KeyError),
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
    #[error("{}", not_uploaded(plugin, version.as_deref()))]
    NotUploaded {
        /// Plugin id.
        plugin: String,
        /// The version asked for, if one was.
        version: Option<String>,
    },
    /// The plugin is not installed.
    #[error("{0} is not installed")]
    NotInstalled(String),
    /// `install` on an installed plugin.
    #[error("{plugin} {version} is already installed; use upgrade")]
    AlreadyInstalled {
        /// Plugin id.
        plugin: String,
        /// Installed version.
        version: String,
    },
    /// The target version is not newer than the installed one.
    #[error("{plugin}: {to} is not newer than the installed {from}; a downgrade needs --force")]
    Downgrade {
        /// Plugin id.
        plugin: String,
        /// Installed version.
        from: String,
        /// Requested version.
        to: String,
    },
    /// The requested version is the installed one.
    #[error("{plugin} {version} is already the installed version")]
    SameVersion {
        /// Plugin id.
        plugin: String,
        /// The version.
        version: String,
    },
    /// A `requires` entry is not satisfied.
    #[error("{plugin} requires {requirement}: {found}")]
    Requirement {
        /// Plugin id.
        plugin: String,
        /// `name range`, as the manifest states it.
        requirement: String,
        /// What is there instead.
        found: String,
    },
    /// Another install or upgrade of the plugin is under way.
    #[error("{plugin}: a {operation} is already under way (by {actor}, host {host} pid {pid})")]
    Busy {
        /// Plugin id.
        plugin: String,
        /// `install` or `upgrade`.
        operation: String,
        /// Who started it.
        actor: String,
        /// Host running it.
        host: String,
        /// Its process id.
        pid: i64,
    },
    /// Host processes still had calls running after the bounded wait.
    #[error(
        "calls still running after waiting {waited:?} for them to finish ({processes}); nothing was changed"
    )]
    DrainTimeout {
        /// How long the installer waited.
        waited: Duration,
        /// Which processes, with their in-flight counts.
        processes: String,
    },
    /// The component could not be loaded; rolled back.
    #[error("{0}; the previous state was kept")]
    Load(#[from] LoadError),
    /// The plugin's install or migrate step failed; rolled back.
    #[error(
        "{plugin} {version}: {step} failed, rolled back and the previous state was kept: {error}"
    )]
    Lifecycle {
        /// Plugin id.
        plugin: String,
        /// The version being installed.
        version: String,
        /// `install` or `migrate`.
        step: &'static str,
        /// The call's error (boxed: it is large and rare).
        error: Box<CallError>,
    },
    /// An argument was invalid.
    #[error("{0}")]
    InvalidInput(String),
    /// No company has that id.
    #[error("company `{0}` does not exist")]
    UnknownCompany(String),
    /// Host processes serve this database, so the vault key cannot be
    /// rotated now.
    #[error(
        "host processes serve this database ({0}); stop them, rotate the vault key, then start them again"
    )]
    HostsRunning(String),
    /// No API key has that name.
    #[error("no API key is named `{0}`")]
    UnknownApiKey(String),
    /// The company id is taken.
    #[error("company `{0}` already exists")]
    CompanyExists(String),
    /// The plugin's manifest declares no such setting.
    #[error("{plugin} declares no setting `{name}`; it declares: {declared}")]
    UnknownSetting {
        /// The plugin.
        plugin: String,
        /// The name asked for.
        name: String,
        /// What it declares, comma-separated.
        declared: String,
    },
    /// No ERP user has this id (admin operations).
    #[error("ERP user `{0}` does not exist")]
    UnknownErpUser(String),
    /// The ERP user an ERP request names is unknown or disabled.
    #[error("ERP user `{0}` is unknown or disabled")]
    ErpUserRefused(String),
    /// The ERP user id is taken.
    #[error("ERP user `{0}` already exists")]
    ErpUserExists(String),
    /// The ERP user may not act for the company.
    #[error("ERP user `{user}` may not act for company `{company}`")]
    NoCompanyAccess {
        /// The ERP user.
        user: String,
        /// The company.
        company: String,
    },
    /// The plugin guards the operation with permissions the user holds none
    /// of.
    #[error("ERP user `{user}` needs the permission {needed} of {plugin} for `{operation}`")]
    PermissionRequired {
        /// The ERP user.
        user: String,
        /// The plugin.
        plugin: String,
        /// The operation asked for.
        operation: String,
        /// The guarding permissions, joined with ` or `.
        needed: String,
    },
    /// The operation moves money and the plugin declares no permission
    /// guarding it: nobody may do it (money never moves by default).
    #[error(
        "{plugin} declares no permission guarding `{operation}`, and money moves only with a \
         permission an admin grants: no ERP user may do it through {plugin}"
    )]
    Unguarded {
        /// The plugin.
        plugin: String,
        /// The operation asked for.
        operation: String,
    },
    /// The plugin declares no such permission.
    #[error("{plugin} declares no permission `{name}`; it declares: {declared}")]
    UnknownPermission {
        /// The plugin.
        plugin: String,
        /// The name asked for.
        name: String,
        /// What it declares, comma-separated.
        declared: String,
    },
    /// The company has no webhook.
    #[error("company `{0}` has no webhook")]
    NoWebhook(String),
    /// A signing token could not be registered, granted or used.
    #[error(transparent)]
    Token(#[from] crate::pkcs11::TokenError),
    /// The vault failed.
    #[error(transparent)]
    Vault(#[from] crate::vault::VaultError),
    /// Stored data could not be read back.
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

fn not_uploaded(plugin: &str, version: Option<&str>) -> String {
    match version {
        Some(version) => format!("{plugin} {version} has not been uploaded"),
        None => format!("no package of {plugin} has been uploaded"),
    }
}

impl From<crate::catalog::CatalogError> for AdminError {
    fn from(e: crate::catalog::CatalogError) -> Self {
        use crate::catalog::CatalogError;
        match e {
            CatalogError::Unlicensed {
                plugin,
                version,
                reason,
            } => AdminError::Unlicensed {
                plugin,
                version,
                reason,
            },
            CatalogError::NotUploaded { plugin, version } => AdminError::NotUploaded {
                plugin,
                version: Some(version),
            },
            CatalogError::UnknownCompany(id) => AdminError::UnknownCompany(id),
            e @ CatalogError::CompanyCap { .. } => AdminError::CompanyCap(e),
            e @ (CatalogError::InstallationEdited { .. }
            | CatalogError::InstallationCopied { .. }) => AdminError::Installation(e),
            CatalogError::Corrupt(what) => AdminError::Corrupt(what),
            CatalogError::Vault(e) => AdminError::Vault(e),
            CatalogError::Db(e) => AdminError::Db(e),
        }
    }
}

impl From<crate::connectors::GrantsError> for AdminError {
    fn from(e: crate::connectors::GrantsError) -> Self {
        match e {
            crate::connectors::GrantsError::Catalog(e) => e.into(),
            crate::connectors::GrantsError::Token(e) => AdminError::Token(e),
        }
    }
}

impl From<sqlx::Error> for AdminError {
    fn from(e: sqlx::Error) -> Self {
        AdminError::Db(DbError::Sqlx(e))
    }
}

impl AdminError {
    /// A stable snake_case code for scripts and JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            AdminError::Package(e) => e.kind(),
            AdminError::ConflictingUpload { .. } => "conflicting_upload",
            AdminError::PublisherMismatch { .. } => "publisher_mismatch",
            AdminError::CompanyCap(_) => "company_cap_reached",
            AdminError::Installation(e) => e.kind(),
            AdminError::UnsignedPackage { .. } => "unsigned_package",
            AdminError::License(e) => license_kind(e),
            AdminError::PublisherKey(_) => "bad_publisher_key",
            AdminError::Unlicensed { .. } => "unlicensed",
            AdminError::NotUploaded { .. } => "not_uploaded",
            AdminError::NotInstalled(_) => "not_installed",
            AdminError::AlreadyInstalled { .. } => "already_installed",
            AdminError::Downgrade { .. } => "downgrade_refused",
            AdminError::SameVersion { .. } => "same_version",
            AdminError::Requirement { .. } => "requirement_not_met",
            AdminError::Busy { .. } => "operation_in_progress",
            AdminError::DrainTimeout { .. } => "drain_timeout",
            AdminError::Load(_) => "load_failed",
            AdminError::Lifecycle { .. } => "lifecycle_failed",
            AdminError::InvalidInput(_) => "invalid_input",
            AdminError::UnknownCompany(_) => "unknown_company",
            AdminError::UnknownApiKey(_) => "unknown_api_key",
            AdminError::HostsRunning(_) => "hosts_running",
            AdminError::CompanyExists(_) => "company_exists",
            AdminError::UnknownSetting { .. } => "unknown_setting",
            AdminError::UnknownErpUser(_) | AdminError::ErpUserRefused(_) => "unknown_erp_user",
            AdminError::ErpUserExists(_) => "erp_user_exists",
            AdminError::NoCompanyAccess { .. }
            | AdminError::PermissionRequired { .. }
            | AdminError::Unguarded { .. } => "forbidden",
            AdminError::UnknownPermission { .. } => "unknown_permission",
            AdminError::NoWebhook(_) => "no_webhook",
            AdminError::Token(e) => e.kind(),
            AdminError::Vault(e) => e.kind(),
            AdminError::Corrupt(_) => "corrupt_data",
            AdminError::Db(_) => "database_error",
        }
    }

    /// Whether the caller sent something wrong (4xx) rather than the host
    /// failing (5xx).
    pub fn is_client_error(&self) -> bool {
        !matches!(
            self,
            AdminError::Db(_)
                | AdminError::Corrupt(_)
                | AdminError::DrainTimeout { .. }
                | AdminError::Vault(_)
        ) && !matches!(self, AdminError::Token(e) if !e.is_client_error())
    }
}

/// The license crate's kinds are kebab-case; the host's codes snake_case.
fn license_kind(e: &LicenseError) -> &'static str {
    match e {
        LicenseError::Malformed { .. } => "malformed_license",
        LicenseError::UnsupportedFormatVersion { .. } => "unsupported_license_format",
        LicenseError::UnknownVendorKey { .. } => "unknown_vendor_key",
        LicenseError::BadSignature { .. } => "bad_signature",
        LicenseError::OtherPlugin { .. } => "other_plugin",
        LicenseError::OtherInstallation { .. } => "other_installation",
        LicenseError::NotYetValid { .. } => "not_yet_valid",
        LicenseError::Expired { .. } => "expired",
        LicenseError::VersionOutsideRange { .. } => "version_outside_range",
    }
}
