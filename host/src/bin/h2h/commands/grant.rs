//! `h2h grant`: what an admin lends a plugin over HTTP beyond, or instead
//! of, its manifest.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use h2h_host::admin::HttpGrantInfo;
use h2h_host::serve::Host;

use super::actor;
use crate::output::Output;

#[derive(Debug, Subcommand)]
pub enum GrantCommand {
    /// Shows a plugin's HTTP grant.
    Show { plugin: String },
    /// Takes a declared origin (scheme://host[:port]) away from a plugin.
    RevokeOrigin { plugin: String, origin: String },
    /// Gives a revoked origin back.
    RestoreOrigin { plugin: String, origin: String },
    /// Lets host:port (in the allow-list) be a loopback or private address.
    AllowPrivate { plugin: String, host_port: String },
    /// Takes that back.
    DisallowPrivate { plugin: String, host_port: String },
    /// Trusts a PEM CA bundle for the plugin's TLS (a bank's own CA).
    ExtraCa {
        plugin: String,
        /// The PEM file; omit with --remove.
        pem: Option<PathBuf>,
        /// Removes the bundle.
        #[arg(long, conflicts_with = "pem")]
        remove: bool,
    },
}

fn human(grant: &HttpGrantInfo) -> String {
    let list = |items: &[String]| {
        if items.is_empty() {
            "(none)".to_owned()
        } else {
            items.join(", ")
        }
    };
    format!(
        "{}\n  declared:      {}\n  revoked:       {}\n  private hosts: {}\n  extra CA:      {}",
        grant.plugin,
        list(&grant.declared),
        list(&grant.revoked),
        list(&grant.private_hosts),
        if grant.extra_ca { "yes" } else { "no" }
    )
}

pub async fn run(host: &Host, command: &GrantCommand, out: Output) -> anyhow::Result<()> {
    let admin = &host.admin;
    let grant = match command {
        GrantCommand::Show { plugin } => admin.http_grant(plugin).await?,
        GrantCommand::RevokeOrigin { plugin, origin } => {
            admin.revoke_origin(&actor(), plugin, origin, false).await?
        }
        GrantCommand::RestoreOrigin { plugin, origin } => {
            admin.revoke_origin(&actor(), plugin, origin, true).await?
        }
        GrantCommand::AllowPrivate { plugin, host_port } => {
            admin
                .allow_private_host(&actor(), plugin, host_port, true)
                .await?
        }
        GrantCommand::DisallowPrivate { plugin, host_port } => {
            admin
                .allow_private_host(&actor(), plugin, host_port, false)
                .await?
        }
        GrantCommand::ExtraCa {
            plugin,
            pem,
            remove,
        } => {
            let text = match (pem, remove) {
                (Some(path), _) => Some(
                    std::fs::read_to_string(path)
                        .with_context(|| format!("reading {}", path.display()))?,
                ),
                (None, true) => None,
                (None, false) => anyhow::bail!("give a PEM file or --remove"),
            };
            admin
                .set_extra_ca(&actor(), plugin, text.as_deref())
                .await?
        }
    };
    out.show(&grant, human)
}
