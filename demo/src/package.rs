//! Delivering a connector as an admin does: pack and sign it, upload the
//! package, issue and add its license, install (or upgrade) it. Each step
//! looks at what is there first, so a second run reuses it.

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use chrono::{Days, Utc};
use h2h_host::admin::{Actor, AdminError};
use h2h_host::packages::pack::{PackOptions, PackReport, pack};
use h2h_host::serve::Host;
use h2h_license::{LicenseRequest, Limits, VendorKeyPair, VersionRange};
use semver::Version;

use crate::keys::DemoDir;
use crate::setup::step;

/// One connector to deliver.
pub struct Delivery<'a> {
    /// Its plugin id.
    pub plugin: &'a str,
    /// Its crate.
    pub plugin_dir: &'a Path,
    /// Signs the package and the license.
    pub key: &'a VendorKeyPair,
    /// Where the package is written.
    pub demo_dir: &'a DemoDir,
    /// The simulated bank's origin, added to the package's allow-list.
    pub bank_url: &'a str,
    /// The license's id: the same on every run, so a new one replaces it.
    pub license_id: &'a str,
}

/// Packs, uploads, licenses and installs the connector.
pub async fn deliver(host: &Host, actor: &Actor, inputs: &Delivery<'_>) -> Result<()> {
    let packed = pack_plugin(inputs).await?;
    upload(host, actor, &packed).await?;
    let version = Version::parse(&packed.version)
        .with_context(|| format!("the packed version `{}`", packed.version))?;
    license(host, actor, inputs).await?;
    install(host, actor, inputs.plugin, &version).await
}

/// Builds and signs the connector; the simulator's origin joins its HTTP
/// allow-list in this package only.
async fn pack_plugin(inputs: &Delivery<'_>) -> Result<PackReport> {
    println!(
        "  {:<9} {} (cargo build --release --target wasm32-wasip2; slow the first time)",
        "pack",
        inputs.plugin_dir.display()
    );
    let options = PackOptions {
        crate_dir: inputs.plugin_dir.to_owned(),
        sign_key: Some(VendorKeyPair::from_armored(&inputs.key.to_armored())?),
        output: Some(inputs.demo_dir.file(&format!("{}.zip", inputs.plugin))),
        target_dir: None,
        extra_origins: vec![inputs.bank_url.to_owned()],
    };
    let plugin_dir = inputs.plugin_dir.to_owned();
    let report = tokio::task::spawn_blocking(move || pack(&options))
        .await
        .context("packing")?
        .with_context(|| format!("packing {}", plugin_dir.display()))?;
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

async fn upload(host: &Host, actor: &Actor, packed: &PackReport) -> Result<()> {
    let zip = std::fs::read(&packed.path)
        .with_context(|| format!("reading {}", packed.path.display()))?;
    match host.admin.upload(actor, &zip).await {
        Ok(uploaded) if uploaded.stored => {
            step("upload", format!("{} {} stored", packed.id, packed.version))
        }
        Ok(_) => step(
            "upload",
            format!(
                "{} {} already uploaded, identical",
                packed.id, packed.version
            ),
        ),
        Err(e @ AdminError::ConflictingUpload { .. }) => bail!(
            "{e}\n\nThe connector's code or manifest changed since this data directory got \
             {id} {version} (or --bank-listen changed: the bank's address is part of the \
             package). The host never replaces an uploaded version. Either bump `version` in \
             plugins/{id}/h2h.toml and Cargo.toml (the demo then upgrades), or start afresh \
             with another --data-dir (or delete this one).",
            id = packed.id,
            version = packed.version,
        ),
        Err(e) => return Err(e).context("uploading the package"),
    }
    Ok(())
}

/// A year's license for this host's installation, unless a valid one with
/// the demo's id is there.
async fn license(host: &Host, actor: &Actor, inputs: &Delivery<'_>) -> Result<()> {
    let (plugin, license_id, key) = (inputs.plugin, inputs.license_id, inputs.key);
    let admin = &host.admin;
    let existing = admin.licenses().await.context("listing licenses")?;
    if let Some(valid) = existing
        .iter()
        .find(|l| l.id == license_id && l.plugin == plugin && l.status == "valid")
    {
        step(
            "license",
            format!("{} valid through {}", valid.id, valid.expires),
        );
        return Ok(());
    }
    let installation = admin
        .installation_id()
        .await
        .context("reading the installation id")?;
    let today = Utc::now().date_naive();
    let signed = h2h_license::issue(
        key,
        LicenseRequest {
            id: Some(license_id.to_owned()),
            plugin: plugin.to_owned(),
            versions: VersionRange::parse("*")?,
            licensee: "h2h demo".to_owned(),
            installation: installation.clone(),
            not_before: today.checked_sub_days(Days::new(1)).unwrap_or(today),
            expires: today.checked_add_days(Days::new(365)).unwrap_or(today),
            issued_at: today,
            limits: Limits::default(),
        },
    )
    .context("issuing the demo license")?;
    let added = admin
        .add_license(actor, &signed.to_toml())
        .await
        .context("adding the demo license")?;
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
async fn install(host: &Host, actor: &Actor, plugin: &str, version: &Version) -> Result<()> {
    let admin = &host.admin;
    let installed = admin
        .installed()
        .await
        .context("listing installed plugins")?
        .into_iter()
        .find(|p| p.plugin == plugin);
    let Some(installed) = installed else {
        let report = admin
            .install(actor, plugin, Some(version.clone()))
            .await
            .with_context(|| format!("installing {plugin} {version}"))?;
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
    let current = Version::parse(&installed.version)
        .with_context(|| format!("the installed version `{}`", installed.version))?;
    if current < *version {
        let report = admin
            .upgrade(actor, plugin, Some(version.clone()), false)
            .await
            .with_context(|| format!("upgrading {plugin} {current} → {version}"))?;
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
        admin
            .enable(actor, plugin)
            .await
            .with_context(|| format!("enabling {plugin}"))?;
        step("", format!("{plugin} was disabled; enabled"));
    }
    Ok(())
}
