//! A connector crate delivered as an admin does: pack and sign it, trust
//! the key, upload the package, issue and add a license, install or
//! upgrade. Every step reports one line through `step`.

use std::path::{Path, PathBuf};

use chrono::{Days, Utc};
use h2h_license::{LicenseRequest, Limits, VendorKeyPair, VersionRange};
use semver::Version;

use super::{DevDir, DevError};
use crate::admin::{Actor, AdminError, Role};
use crate::packages::pack::{PackOptions, PackReport, pack};
use crate::serve::Host;

/// One connector to deliver.
pub struct Delivery<'a> {
    /// Its crate.
    pub crate_dir: &'a Path,
    /// Signs the package and the license.
    pub key: &'a VendorKeyPair,
    /// Where the package is written.
    pub output: PathBuf,
    /// Origins added to the package's allow-list (a simulated bank).
    pub extra_origins: Vec<String>,
    /// The package's version instead of the manifest's.
    pub version: Option<Version>,
    /// The license's id: the same on every run, so a new one replaces it.
    pub license_id: &'a str,
}

/// What was delivered.
#[derive(Debug, Clone)]
pub struct Delivered {
    /// The plugin id.
    pub plugin: String,
    /// The version now installed.
    pub version: Version,
}

/// Packs, uploads, licenses and installs (or upgrades to) the connector;
/// each step says what it did through `step(what, outcome)`.
pub async fn deliver(
    host: &Host,
    actor: &Actor,
    delivery: &Delivery<'_>,
    step: &mut dyn FnMut(&str, String),
) -> Result<Delivered, DevError> {
    let packed = pack_crate(delivery, step).await?;
    let version = Version::parse(&packed.version).map_err(|e| {
        DevError::Admin(AdminError::Corrupt(format!(
            "the packed version `{}`: {e}",
            packed.version
        )))
    })?;
    upload(host, actor, &packed, step).await?;
    license(host, actor, &packed.id, delivery, step).await?;
    install(host, actor, &packed.id, &version, step).await?;
    Ok(Delivered {
        plugin: packed.id,
        version,
    })
}

async fn pack_crate(
    delivery: &Delivery<'_>,
    step: &mut dyn FnMut(&str, String),
) -> Result<PackReport, DevError> {
    step(
        "pack",
        format!(
            "{} (cargo build --release --target wasm32-wasip2; slow the first time)",
            delivery.crate_dir.display()
        ),
    );
    let options = PackOptions {
        crate_dir: delivery.crate_dir.to_owned(),
        sign_key: Some(VendorKeyPair::from_armored(&delivery.key.to_armored())?),
        output: Some(delivery.output.clone()),
        target_dir: None,
        extra_origins: delivery.extra_origins.clone(),
        version: delivery.version.clone(),
    };
    let report = tokio::task::spawn_blocking(move || pack(&options))
        .await
        .map_err(|e| DevError::Admin(AdminError::Corrupt(format!("packing stopped: {e}"))))??;
    step(
        "",
        format!(
            "{} {} → {} ({} KiB component)",
            report.id,
            report.version,
            report.path.display(),
            report.wasm_bytes / 1024
        ),
    );
    Ok(report)
}

async fn upload(
    host: &Host,
    actor: &Actor,
    packed: &PackReport,
    step: &mut dyn FnMut(&str, String),
) -> Result<(), DevError> {
    let zip = std::fs::read(&packed.path).map_err(|source| DevError::Io {
        path: packed.path.clone(),
        source,
    })?;
    match host.admin.upload(actor, &zip).await {
        Ok(uploaded) if uploaded.stored => {
            step("upload", format!("{} {} stored", packed.id, packed.version));
        }
        Ok(_) => step(
            "upload",
            format!(
                "{} {} already uploaded, identical",
                packed.id, packed.version
            ),
        ),
        Err(e @ AdminError::ConflictingUpload { .. }) => return Err(DevError::VersionTaken(e)),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// A year's license for this host's installation, unless a valid one with
/// the delivery's id is there. It covers every version, and the development
/// pre-releases of the delivered one (`*` alone admits no pre-release).
async fn license(
    host: &Host,
    actor: &Actor,
    plugin: &str,
    delivery: &Delivery<'_>,
    step: &mut dyn FnMut(&str, String),
) -> Result<(), DevError> {
    let admin = &host.admin;
    if let Some(valid) = admin
        .licenses()
        .await?
        .iter()
        .find(|l| l.id == delivery.license_id && l.plugin == plugin && l.status == "valid")
    {
        step(
            "license",
            format!("{} valid through {}", valid.id, valid.expires),
        );
        return Ok(());
    }
    let installation = admin.installation_id().await?;
    let range = match &delivery.version {
        Some(v) if !v.pre.is_empty() => format!(">={}.{}.{}-0", v.major, v.minor, v.patch),
        _ => "*".to_owned(),
    };
    let today = Utc::now().date_naive();
    let signed = h2h_license::issue(
        delivery.key,
        LicenseRequest {
            id: Some(delivery.license_id.to_owned()),
            plugin: plugin.to_owned(),
            versions: VersionRange::parse(&range).map_err(|e| {
                DevError::Admin(AdminError::Corrupt(format!(
                    "the version range `{range}`: {e}"
                )))
            })?,
            licensee: "h2h development".to_owned(),
            installation: installation.clone(),
            not_before: today.checked_sub_days(Days::new(1)).unwrap_or(today),
            expires: today.checked_add_days(Days::new(365)).unwrap_or(today),
            issued_at: today,
            limits: Limits::default(),
        },
    )?;
    let added = admin.add_license(actor, &signed.to_toml()).await?;
    step(
        "license",
        format!(
            "{} issued for installation {installation}, valid through {}",
            added.id, added.expires
        ),
    );
    Ok(())
}

/// Installs `version`, upgrades to it, or leaves the installed one.
async fn install(
    host: &Host,
    actor: &Actor,
    plugin: &str,
    version: &Version,
    step: &mut dyn FnMut(&str, String),
) -> Result<(), DevError> {
    let admin = &host.admin;
    let installed = admin
        .installed()
        .await?
        .into_iter()
        .find(|p| p.plugin == plugin);
    let Some(installed) = installed else {
        let report = admin.install(actor, plugin, Some(version.clone())).await?;
        step(
            "install",
            format!(
                "{plugin} {} installed (license through {}); permissions: {}",
                report.to,
                report.license_expires,
                report.permissions.join(", ")
            ),
        );
        return Ok(());
    };
    let current = Version::parse(&installed.version).map_err(|e| {
        DevError::Admin(AdminError::Corrupt(format!(
            "the installed version `{}`: {e}",
            installed.version
        )))
    })?;
    if current < *version {
        let report = admin
            .upgrade(actor, plugin, Some(version.clone()), false)
            .await?;
        step(
            "install",
            format!("{plugin} upgraded {current} → {}", report.to),
        );
    } else if current > *version {
        step(
            "install",
            format!("{plugin} {current} is installed, newer than the packed {version}; kept"),
        );
    } else {
        step("install", format!("{plugin} {current} already installed"));
    }
    if !installed.enabled {
        admin.enable(actor, plugin).await?;
        step("", format!("{plugin} was disabled; enabled"));
    }
    Ok(())
}

/// Where a development key of `role` is kept in the dev directory.
pub fn key_file(role: Role) -> &'static str {
    match role {
        Role::Erp => "erp-key",
        Role::Admin => "admin-key",
    }
}

/// A development API key of `role`: the one stored in the dev directory
/// while the host still knows it, else a new one named `name` (or
/// `name-<time>` when taken), stored (0600) for the next run. Returns its
/// secret and a line saying which.
pub async fn ensure_key(
    host: &Host,
    actor: &Actor,
    dir: &DevDir,
    name: &str,
    role: Role,
) -> Result<(String, String), DevError> {
    let admin = &host.admin;
    let file = key_file(role);
    let path = dir.file(file);
    if let Some(secret) = dir.secret(file)? {
        let known = admin.authenticate(&secret).await?;
        if let Some(key) = known.filter(|k| k.role == role) {
            return Ok((secret, format!("{} (from {})", key.name, path.display())));
        }
    }
    let taken = admin.api_keys().await?.into_iter().any(|k| k.name == name);
    let name = if taken {
        format!("{name}-{}", Utc::now().timestamp())
    } else {
        name.to_owned()
    };
    let created = admin.create_api_key(actor, &name, role).await?;
    dir.save_secret(file, &created.secret)?;
    Ok((
        created.secret,
        format!("{name} created, secret in {}", path.display()),
    ))
}
