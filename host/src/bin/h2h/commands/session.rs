//! `h2h session`: bank sessions: list them, close one (an admin ending a
//! login the ERP user cannot reach any more).

use clap::Subcommand;
use h2h_host::db::format_millis;
use h2h_host::serve::Host;
use h2h_host::sessions::Connectors;

use super::actor;
use crate::output::{Output, table};

#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// Lists bank sessions, newest first; never a token.
    List {
        /// Only this company's.
        #[arg(long)]
        company: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Closes a bank session at the bank and here; its token is forgotten.
    Close {
        /// The session id.
        id: i64,
    },
}

pub async fn run(host: &Host, command: &SessionCommand, out: Output) -> anyhow::Result<()> {
    let sessions = host.sessions();
    match command {
        SessionCommand::List { company, limit } => {
            let listed = sessions.list(company.as_deref(), *limit).await?;
            out.show(&listed, |listed| {
                table(
                    &[
                        "id",
                        "plugin",
                        "company",
                        "bank user",
                        "state",
                        "expires",
                        "opened by",
                    ],
                    listed
                        .iter()
                        .map(|s| {
                            vec![
                                s.id.to_string(),
                                s.plugin.clone(),
                                s.company.clone(),
                                s.bank_user_id.clone(),
                                s.state_name().to_owned(),
                                s.expires_at.map(format_millis).unwrap_or_default(),
                                s.opened_by.clone(),
                            ]
                        })
                        .collect(),
                )
            })
        }
        SessionCommand::Close { id } => {
            let registry = host.registry();
            let connectors = Connectors {
                registry: &registry,
                admin: &host.admin,
            };
            let closed = sessions.close(connectors, &actor(), *id).await?;
            out.show(&closed, |s| match &s.last_error {
                Some(error) => format!("session {} closed here; {error}", s.id),
                None => format!("session {} closed", s.id),
            })
        }
    }
}
