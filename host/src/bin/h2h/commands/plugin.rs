//! `h2h plugin ...`: new (scaffold.rs), call (call.rs), pack, upload, install, upgrade, uninstall, enable,
//! disable, list.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use h2h_host::packages::pack::{PackOptions, pack as pack_crate};
use h2h_host::serve::Host;
use h2h_license::VendorKeyPair;
use semver::Version;

use super::actor;
use crate::output::{Output, table};

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Make a new connector crate for a world, building at once, every
    /// call answering `unsupported` until written.
    New(super::scaffold::NewArgs),
    /// Run one export of a package or crate directly (arguments and result
    /// as JSON), with no admin set-up.
    Call(super::call::CallArgs),
    /// Run the conformance suite on a connector against its provider's test
    /// environment or a simulator (bank or terminal checks, by the
    /// connector's world); exit 1 if a check fails.
    Conform(Box<super::conform::ConformArgs>),
    /// Build a plugin crate for wasm32-wasip2, check it against its
    /// h2h.toml, and write a signed package.
    Pack(PackArgs),
    /// Validate a package and store it (nothing is stored if it is refused).
    Upload {
        /// The package zip.
        file: PathBuf,
    },
    /// Install an uploaded plugin (in service mode).
    Install {
        /// Plugin id.
        id: String,
        /// Version; default the newest uploaded.
        #[arg(long)]
        version: Option<Version>,
    },
    /// Upgrade to a newer uploaded version (in service mode).
    Upgrade {
        /// Plugin id.
        id: String,
        /// Version; default the newest uploaded.
        #[arg(long)]
        version: Option<Version>,
        /// Allow going to a lower version.
        #[arg(long)]
        force: bool,
    },
    /// Remove a plugin; its data stays unless --purge.
    Uninstall {
        /// Plugin id.
        id: String,
        /// Also delete the plugin's stored data.
        #[arg(long)]
        purge: bool,
    },
    /// Let calls reach the plugin again.
    Enable {
        /// Plugin id.
        id: String,
    },
    /// Stop calls from reaching the plugin.
    Disable {
        /// Plugin id.
        id: String,
    },
    /// Show what a plugin stores and its limits; with both limit flags,
    /// set the admin's limits (they replace the manifest's quota).
    Storage {
        /// Plugin id.
        id: String,
        /// Bytes of keys and values across its companies.
        #[arg(long, requires = "max_keys")]
        quota_bytes: Option<u64>,
        /// Keys across its companies.
        #[arg(long, requires = "quota_bytes")]
        max_keys: Option<u64>,
        /// Drop the admin's limits: the manifest's quota, within the host's cap.
        #[arg(long, conflicts_with_all = ["quota_bytes", "max_keys"])]
        manifest_quota: bool,
    },
    /// List installed plugins.
    List,
    /// List uploaded packages.
    Packages,
}

#[derive(Debug, Args)]
pub struct PackArgs {
    /// The plugin crate (holding h2h.toml).
    crate_dir: PathBuf,
    /// The publisher's secret key file (`h2h-license keygen`).
    #[arg(long)]
    sign_key: PathBuf,
    /// Where to write the zip.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Adds an origin to the manifest's HTTP allow-list in this package, for
    /// test and demo builds against a bank simulator (repeatable).
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    allow_origins: Vec<String>,
}

pub fn pack(args: &PackArgs, out: Output) -> anyhow::Result<()> {
    let key = VendorKeyPair::load(&args.sign_key)
        .with_context(|| format!("reading the signing key {}", args.sign_key.display()))?;
    let report = pack_crate(&PackOptions {
        crate_dir: args.crate_dir.clone(),
        sign_key: Some(key),
        output: args.output.clone(),
        target_dir: None,
        extra_origins: args.allow_origins.clone(),
        version: None,
    })?;
    out.show(&report, |r| {
        format!(
            "packed {} {} -> {} ({} bytes, component {} bytes, signed by {})",
            r.id,
            r.version,
            r.path.display(),
            r.zip_bytes,
            r.wasm_bytes,
            r.signer.as_deref().unwrap_or("nobody")
        )
    })
}

pub async fn run(host: &Host, command: &PluginCommand, out: Output) -> anyhow::Result<()> {
    let admin = &host.admin;
    let actor = actor();
    match command {
        PluginCommand::Pack(_)
        | PluginCommand::New(_)
        | PluginCommand::Call(_)
        | PluginCommand::Conform(_) => {
            unreachable!("packing and scaffolding need no host; handled before")
        }
        PluginCommand::Upload { file } => {
            let zip = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
            let uploaded = admin.upload(&actor, &zip).await?;
            out.show(&uploaded, |u| {
                let p = &u.package;
                if u.stored {
                    format!(
                        "uploaded {} {} (signed by {})",
                        p.plugin,
                        p.version,
                        p.signer.as_deref().unwrap_or("nobody: development mode")
                    )
                } else {
                    format!(
                        "{} {} was already uploaded with the same contents",
                        p.plugin, p.version
                    )
                }
            })
        }
        PluginCommand::Install { id, version } => {
            let report = admin.install(&actor, id, version.clone()).await?;
            out.show(&report, |r| {
                format!(
                    "installed {} {}; license valid through {}",
                    r.plugin, r.to, r.license_expires
                )
            })
        }
        PluginCommand::Upgrade { id, version, force } => {
            let report = admin.upgrade(&actor, id, version.clone(), *force).await?;
            out.show(&report, |r| {
                format!(
                    "upgraded {} from {} to {}",
                    r.plugin,
                    r.from.as_deref().unwrap_or("?"),
                    r.to
                )
            })
        }
        PluginCommand::Uninstall { id, purge } => {
            admin.uninstall(&actor, id, *purge).await?;
            let done = serde_json::json!({ "plugin": id, "purged": purge });
            out.show(&done, |_| {
                if *purge {
                    format!("uninstalled {id}; its data was deleted")
                } else {
                    format!("uninstalled {id}; its data is kept (reinstall to use it, or uninstall --purge)")
                }
            })
        }
        PluginCommand::Enable { id } => {
            admin.enable(&actor, id).await?;
            out.show(
                &serde_json::json!({ "plugin": id, "enabled": true }),
                |_| format!("enabled {id}"),
            )
        }
        PluginCommand::Storage {
            id,
            quota_bytes,
            max_keys,
            manifest_quota,
        } => {
            let report = match (quota_bytes.zip(*max_keys), manifest_quota) {
                (Some(limits), _) => admin.set_storage_limits(&actor, id, Some(limits)).await?,
                (None, true) => admin.set_storage_limits(&actor, id, None).await?,
                (None, false) => admin.storage(id).await?,
            };
            out.show(&report, |r| {
                format!(
                    "{}: {} of {} bytes, {} of {} keys ({})",
                    r.plugin,
                    r.used_bytes,
                    r.quota_bytes,
                    r.used_keys,
                    r.max_keys,
                    if r.admin_limits.is_some() {
                        "the admin's limits"
                    } else {
                        "the manifest's quota within the host's cap"
                    }
                )
            })
        }
        PluginCommand::Disable { id } => {
            admin.disable(&actor, id).await?;
            out.show(
                &serde_json::json!({ "plugin": id, "enabled": false }),
                |_| format!("disabled {id}"),
            )
        }
        PluginCommand::List => {
            let list = admin.installed().await?;
            out.show(&list, |list| {
                table(
                    &["PLUGIN", "VERSION", "ENABLED", "UPDATED", "UPGRADE"],
                    list.iter()
                        .map(|p| {
                            vec![
                                p.plugin.clone(),
                                p.version.clone(),
                                if p.enabled { "yes" } else { "no" }.to_owned(),
                                p.updated_at.clone(),
                                p.upgrade_available.clone().unwrap_or_default(),
                            ]
                        })
                        .collect(),
                )
            })
        }
        PluginCommand::Packages => {
            let list = admin.packages().await?;
            out.show(&list, |list| {
                table(
                    &["PLUGIN", "VERSION", "PUBLISHER", "SIGNER", "UPLOADED"],
                    list.iter()
                        .map(|p| {
                            vec![
                                p.plugin.clone(),
                                p.version.clone(),
                                p.publisher.clone(),
                                p.signer.clone().unwrap_or_else(|| "(unsigned)".to_owned()),
                                p.uploaded_at.clone(),
                            ]
                        })
                        .collect(),
                )
            })
        }
    }
}
