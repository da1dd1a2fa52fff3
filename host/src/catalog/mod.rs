//! The plugin catalog as the serving path reads it: uploaded packages,
//! trusted publishers and licenses, installations and their grants, and the
//! companies calls are made for. Admin writes these; the connectors layer
//! and admin both read them here, so neither reaches into the other.

mod companies;
mod error;
mod grants;
mod identities;
mod installation;
mod licenses;
mod packages;
pub mod service_mode;
mod storage;

pub use companies::{require as require_company, settings as company_settings};
pub use error::CatalogError;
pub use grants::{EXTRA_CA, PRIVATE_HOST, REVOKED_ORIGIN, http_grant_for, rows as grant_rows};
pub use identities::StoredIdentity;
pub use installation::{id as installation_id, renew as renew_installation_id};
pub use licenses::{
    EXPIRY_WARNING_DAYS, admit_company, max_companies, max_terminals, publisher_keys,
    require_valid as require_license, stored as stored_licenses, today,
};
pub use packages::{StoredPackage, enabled as enabled_plugins, load as load_package};
pub use service_mode::ServiceMode;
pub use storage::{AdminLimits, admin_limits, storage_grant_for, usage as storage_usage};
