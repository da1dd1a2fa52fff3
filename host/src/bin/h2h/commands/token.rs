//! `h2h token`: PKCS#11 signing tokens: register, list, grant to a plugin,
//! revoke, forget wrong PINs.

use clap::Subcommand;
use h2h_host::pkcs11::SlotSelector;
use h2h_host::serve::Host;

use super::actor;
use crate::output::{Output, table};

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Registers a token: a PKCS#11 module and which of its tokens (by
    /// label or slot; by default its only initialized token).
    Add {
        /// The name ERP users and key ids use (lowercase, digits, dashes).
        name: String,
        /// Absolute path of the PKCS#11 module (e.g. libsofthsm2.so).
        #[arg(long)]
        module: String,
        /// The token's label.
        #[arg(long, conflicts_with = "slot")]
        label: Option<String>,
        /// The slot id.
        #[arg(long)]
        slot: Option<u64>,
    },
    /// Lists registered tokens, their slots and grants.
    List,
    /// Lets a plugin sign with a token (its manifest must ask for signing).
    Grant {
        /// The token name.
        token: String,
        /// The plugin id.
        plugin: String,
    },
    /// Stops a plugin signing with a token.
    Revoke {
        /// The token name.
        token: String,
        /// The plugin id.
        plugin: String,
    },
    /// Forgets the wrong PINs counted on a token, so users may try again
    /// (the host stops after 2 in a row, before a real card locks).
    ResetPins {
        /// The token name.
        token: String,
    },
}

pub async fn run(host: &Host, command: &TokenCommand, out: Output) -> anyhow::Result<()> {
    match command {
        TokenCommand::Add {
            name,
            module,
            label,
            slot,
        } => {
            let selector = match (label, slot) {
                (Some(label), _) => Some(SlotSelector::Label(label.clone())),
                (None, Some(slot)) => Some(SlotSelector::Id(*slot)),
                (None, None) => None,
            };
            let added = host
                .admin
                .register_token(&actor(), name, module, selector)
                .await?;
            out.show(&added, |a| {
                format!(
                    "registered token `{}`: `{}` in slot {} of {}",
                    a.token.name,
                    a.found.token_label.as_deref().unwrap_or_default(),
                    a.found.slot,
                    a.token.module_path
                )
            })
        }
        TokenCommand::List => {
            let tokens = host.admin.tokens().await?;
            out.show(&tokens, |list| {
                table(
                    &["TOKEN", "MODULE", "BOUND TO", "NOW", "GRANTED TO"],
                    list.iter()
                        .map(|t| {
                            let bound = match (&t.token.token_label, t.token.slot) {
                                (Some(label), _) => format!("label `{label}`"),
                                (None, Some(slot)) => format!("slot {slot}"),
                                (None, None) => "-".to_owned(),
                            };
                            let now = match &t.module_error {
                                Some(error) => format!("module error: {error}"),
                                None => t
                                    .slots
                                    .iter()
                                    .find(|s| match &t.token.token_label {
                                        Some(label) => s.token_label.as_ref() == Some(label),
                                        None => Some(s.slot) == t.token.slot,
                                    })
                                    .map_or_else(
                                        || "not present".to_owned(),
                                        |s| {
                                            let locked =
                                                if s.pin_locked { ", PIN locked" } else { "" };
                                            format!("slot {}{locked}", s.slot)
                                        },
                                    ),
                            };
                            vec![
                                t.token.name.clone(),
                                t.token.module_path.clone(),
                                bound,
                                now,
                                t.granted_to.join(", "),
                            ]
                        })
                        .collect(),
                )
            })
        }
        TokenCommand::Grant { token, plugin } => {
            let change = host.admin.grant_signing(&actor(), token, plugin).await?;
            out.show(&change, |c| {
                if c.changed {
                    format!("{} may now sign with token `{}`", c.plugin, c.token)
                } else {
                    format!("{} already may sign with token `{}`", c.plugin, c.token)
                }
            })
        }
        TokenCommand::Revoke { token, plugin } => {
            let change = host.admin.revoke_signing(&actor(), token, plugin).await?;
            out.show(&change, |c| {
                if c.changed {
                    format!("{} may no longer sign with token `{}`", c.plugin, c.token)
                } else {
                    format!("{} was not granted token `{}`", c.plugin, c.token)
                }
            })
        }
        TokenCommand::ResetPins { token } => {
            let count = host.admin.reset_wrong_pins(&actor(), token).await?;
            out.show(&count, |n| {
                format!("token `{token}`: {n} wrong PINs forgotten; users may log in again")
            })
        }
    }
}
