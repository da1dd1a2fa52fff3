//! Delivering a connector as an admin does (pack and sign it, upload the
//! package, issue and add its license, install or upgrade it), through the
//! host's development tooling. Each step looks at what is there first, so a
//! second run reuses it.

use std::path::Path;

use anyhow::{Context as _, Result};
use h2h_host::admin::Actor;
use h2h_host::dev::{self, DevDir};
use h2h_host::serve::Host;
use h2h_license::VendorKeyPair;

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
    pub demo_dir: &'a DevDir,
    /// The simulated bank's origin, added to the package's allow-list.
    pub bank_url: &'a str,
    /// The license's id: the same on every run, so a new one replaces it.
    pub license_id: &'a str,
}

/// Packs, uploads, licenses and installs the connector
/// ([`h2h_host::dev::deliver`]), printing each step.
pub async fn deliver(host: &Host, actor: &Actor, inputs: &Delivery<'_>) -> Result<()> {
    dev::deliver(
        host,
        actor,
        &dev::Delivery {
            crate_dir: inputs.plugin_dir,
            key: inputs.key,
            output: inputs.demo_dir.file(&format!("{}.zip", inputs.plugin)),
            extra_origins: vec![inputs.bank_url.to_owned()],
            version: None,
            license_id: inputs.license_id,
        },
        &mut |what, outcome| step(what, outcome),
    )
    .await
    .with_context(|| format!("delivering {}", inputs.plugin))?;
    Ok(())
}
