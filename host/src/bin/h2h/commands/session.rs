//! `h2h session`: bank sessions: list them, close one (an admin ending a
//! login the ERP user cannot reach any more), and the context they live in.

use clap::Subcommand;
use h2h_host::db::format_millis;
use h2h_host::serve::Host;

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
    /// Shows or sets where a user's one session of a plugin lives: per
    /// database (the default) or per company.
    Context {
        /// The plugin.
        plugin: String,
        /// `true`: one session per user and company ("save credentials per
        /// company"); `false`: one per user in the database.
        #[arg(long)]
        per_company: Option<bool>,
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
        SessionCommand::Context {
            plugin,
            per_company,
        } => {
            if let Some(per_company) = per_company {
                sessions
                    .set_per_company(&actor(), plugin, *per_company)
                    .await?;
            }
            let per_company = sessions.per_company(plugin).await?;
            out.show(&serde_json::json!({ "per_company": per_company }), |_| {
                if per_company {
                    format!("{plugin}: one bank session per user and company")
                } else {
                    format!("{plugin}: one bank session per user in the database")
                }
            })
        }
        SessionCommand::Close { id } => {
            let closed = sessions.close(&host.connectors(), &actor(), *id).await?;
            out.show(&closed, |s| match &s.last_error {
                Some(error) => format!("session {} closed here; {error}", s.id),
                None => format!("session {} closed", s.id),
            })
        }
    }
}
