//! Host-wide commands: publishers, licenses, service mode, audit, API keys.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use h2h_host::admin::Role;
use h2h_host::serve::Host;

use super::actor;
use crate::output::{Output, table};

#[derive(Debug, Subcommand)]
pub enum PublisherCommand {
    /// Trust a publisher's public key file (made by `h2h-license keygen`).
    Trust {
        /// The armored public key file.
        key: PathBuf,
        /// A name for the publisher; defaults to the file name.
        #[arg(long)]
        name: Option<String>,
    },
    /// List trusted keys.
    List,
    /// Hand a plugin to another trusted key: only packages it signs are
    /// uploaded, installed or upgraded to from now on (audited).
    Pin {
        /// Plugin id.
        plugin: String,
        /// The trusted key's id (`h2h publisher list`).
        key_id: String,
    },
    /// List which key each plugin is pinned to (its first signed upload's,
    /// unless an admin moved it).
    Pins,
}

#[derive(Debug, Subcommand)]
pub enum LicenseCommand {
    /// Verify and store a license file.
    Add {
        /// The license file.
        file: PathBuf,
    },
    /// List stored licenses with their status.
    List,
}

#[derive(Debug, Subcommand)]
pub enum ServiceModeCommand {
    /// Is the host in service mode?
    Status,
    /// Switch service mode on and wait for running calls to finish.
    On {
        /// Why (shown to ERP clients).
        #[arg(long, default_value = "planned maintenance")]
        reason: String,
    },
    /// Switch service mode off.
    Off,
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key and print its secret (shown only this once).
    Create {
        /// Unique name.
        name: String,
        /// `admin` or `erp`.
        #[arg(long, value_parser = ["admin", "erp"])]
        role: String,
        /// An ERP user the (erp) key may act for; repeat for several.
        /// Without it the key may act for any ERP user.
        #[arg(long = "acts-for", value_name = "USER")]
        acts_for: Vec<String>,
    },
    /// List keys (without secrets).
    List,
    /// Revoke a key: its secret is refused from the next request on.
    Revoke {
        /// The key's name.
        name: String,
    },
}

pub async fn publisher(host: &Host, command: &PublisherCommand, out: Output) -> anyhow::Result<()> {
    match command {
        PublisherCommand::Trust { key, name } => {
            let text = std::fs::read_to_string(key)
                .with_context(|| format!("reading {}", key.display()))?;
            let name = name.clone().unwrap_or_else(|| {
                key.file_stem().map_or_else(
                    || "publisher".to_owned(),
                    |s| s.to_string_lossy().into_owned(),
                )
            });
            let publisher = host.admin.trust_publisher(&actor(), &text, &name).await?;
            out.show(&publisher, |p| {
                format!("trusted publisher {} (key {})", p.name, p.key_id)
            })
        }
        PublisherCommand::List => {
            let list = host.admin.publishers().await?;
            out.show(&list, |list| {
                table(
                    &["KEY ID", "NAME", "ADDED", "BY"],
                    list.iter()
                        .map(|p| {
                            vec![
                                p.key_id.clone(),
                                p.name.clone(),
                                p.added_at.clone(),
                                p.added_by.clone(),
                            ]
                        })
                        .collect(),
                )
            })
        }
        PublisherCommand::Pin { plugin, key_id } => {
            let pin = host.admin.pin_publisher(&actor(), plugin, key_id).await?;
            out.show(&pin, |p| {
                format!("{} is pinned to key {}", p.plugin, p.key_id)
            })
        }
        PublisherCommand::Pins => {
            let pins = host.admin.publisher_pins().await?;
            out.show(&pins, |pins| {
                table(
                    &["PLUGIN", "KEY ID", "PINNED", "BY"],
                    pins.iter()
                        .map(|p| {
                            vec![
                                p.plugin.clone(),
                                p.key_id.clone(),
                                p.pinned_at.clone(),
                                p.pinned_by.clone(),
                            ]
                        })
                        .collect(),
                )
            })
        }
    }
}

pub async fn license(host: &Host, command: &LicenseCommand, out: Output) -> anyhow::Result<()> {
    match command {
        LicenseCommand::Add { file } => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            let info = host.admin.add_license(&actor(), &text).await?;
            out.show(&info, |l| {
                let mut text = format!(
                    "license {} for {} {} added; valid {} to {} ({} days left)",
                    l.id, l.plugin, l.versions, l.not_before, l.expires, l.days_left
                );
                if l.status == "expiring" {
                    text.push_str("\nwarning: this license expires within 30 days");
                }
                text
            })
        }
        LicenseCommand::List => {
            let list = host.admin.licenses().await?;
            out.show(&list, |list| {
                table(
                    &["ID", "PLUGIN", "VERSIONS", "LICENSEE", "EXPIRES", "STATUS"],
                    list.iter()
                        .map(|l| {
                            vec![
                                l.id.clone(),
                                l.plugin.clone(),
                                l.versions.clone(),
                                l.licensee.clone(),
                                l.expires.clone(),
                                l.status.to_owned(),
                            ]
                        })
                        .collect(),
                )
            })
        }
    }
}

pub async fn service_mode(
    host: &Host,
    command: &ServiceModeCommand,
    out: Output,
) -> anyhow::Result<()> {
    let status = match command {
        ServiceModeCommand::Status => host.admin.service_mode().await?,
        ServiceModeCommand::On { reason } => host.admin.service_mode_on(&actor(), reason).await?,
        ServiceModeCommand::Off => host.admin.service_mode_off(&actor()).await?,
    };
    out.show(&status, |s| {
        if s.active {
            format!(
                "service mode is ON since {} ({}, by {})",
                s.since.as_deref().unwrap_or("?"),
                s.reason,
                s.actor
            )
        } else {
            "service mode is off".to_owned()
        }
    })
}

pub async fn audit(host: &Host, after: i64, limit: i64, out: Output) -> anyhow::Result<()> {
    let entries = host.admin.audit(after, limit).await?;
    out.show(&entries, |list| {
        table(
            &["ID", "AT", "ACTOR", "ACTION", "TARGET", "OUTCOME", "DETAIL"],
            list.iter()
                .map(|e| {
                    vec![
                        e.id.to_string(),
                        e.at.clone(),
                        e.actor.clone(),
                        e.action.clone(),
                        e.target.clone(),
                        e.outcome.clone(),
                        e.detail.clone(),
                    ]
                })
                .collect(),
        )
    })
}

pub async fn api_key(host: &Host, command: &ApiKeyCommand, out: Output) -> anyhow::Result<()> {
    match command {
        ApiKeyCommand::Create {
            name,
            role,
            acts_for,
        } => {
            let role = if role == "admin" {
                Role::Admin
            } else {
                Role::Erp
            };
            let created = host
                .admin
                .create_api_key_for(&actor(), name, role, acts_for)
                .await?;
            out.show(&created, |k| {
                format!(
                    "API key `{}` created. Its secret is shown only now:\n{}",
                    k.key.name, k.secret
                )
            })
        }
        ApiKeyCommand::Revoke { name } => {
            let revoked = host.admin.revoke_api_key(&actor(), name).await?;
            out.show(&revoked, |k| format!("API key `{}` revoked", k.name))
        }
        ApiKeyCommand::List => {
            let keys = host.admin.api_keys().await?;
            out.show(&keys, |list| {
                table(
                    &["NAME", "ROLE", "ACTS FOR", "CREATED", "BY"],
                    list.iter()
                        .map(|k| {
                            vec![
                                k.name.clone(),
                                format!("{:?}", k.role).to_lowercase(),
                                k.acts_for
                                    .as_ref()
                                    .map_or_else(|| "any user".to_owned(), |u| u.join(", ")),
                                k.created_at.clone(),
                                k.created_by.clone(),
                            ]
                        })
                        .collect(),
                )
            })
        }
    }
}
