//! `h2h share-target`: the databases bank sessions can be shared to. The
//! connection string is read from stdin, sealed, and never printed.

use std::io::Read;

use anyhow::Context;
use clap::Subcommand;
use h2h_host::db::format_millis;
use h2h_host::serve::Host;
use secrecy::SecretString;

use super::actor;
use crate::output::{Output, table};

#[derive(Debug, Subcommand)]
pub enum ShareTargetCommand {
    /// Registers (or replaces) a target once it answers as an h2h database;
    /// the PostgreSQL connection string is read from stdin.
    Add {
        /// The name users share to (a-z, 0-9, `-`, `_`).
        name: String,
    },
    /// Lists the targets; never a connection string.
    List,
    /// Forgets a target that no share names.
    Remove {
        /// The target's name.
        name: String,
    },
}

pub async fn run(host: &Host, command: &ShareTargetCommand, out: Output) -> anyhow::Result<()> {
    let sessions = host.sessions();
    match command {
        ShareTargetCommand::Add { name } => {
            let mut text = zeroize::Zeroizing::new(String::new());
            std::io::stdin()
                .read_to_string(&mut text)
                .context("reading the connection string from stdin")?;
            let url = SecretString::from(text.trim().to_owned());
            let target = sessions.add_share_target(&actor(), name, &url).await?;
            out.show(&target, |t| {
                format!(
                    "share target {} registered (connection string sealed)",
                    t.name
                )
            })
        }
        ShareTargetCommand::List => {
            let targets = sessions.share_targets().await?;
            out.show(&targets, |targets| {
                table(
                    &["name", "active shares", "registered", "by"],
                    targets
                        .iter()
                        .map(|t| {
                            vec![
                                t.name.clone(),
                                t.active_shares.to_string(),
                                format_millis(t.created_at),
                                t.created_by.clone(),
                            ]
                        })
                        .collect(),
                )
            })
        }
        ShareTargetCommand::Remove { name } => {
            sessions.remove_share_target(&actor(), name).await?;
            out.show(&serde_json::json!({ "removed": name }), |_| {
                format!("share target {name} removed")
            })
        }
    }
}
