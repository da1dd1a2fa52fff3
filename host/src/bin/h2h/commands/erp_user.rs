//! `h2h erp-user`: the ERP users an ERP acts for, their companies and
//! plugin permissions; `h2h webhook`: where each company's events are
//! posted.

use std::io::Read;

use anyhow::Context;
use clap::Subcommand;
use h2h_host::admin::{ErpUserAccess, split_permission};
use h2h_host::serve::Host;
use secrecy::SecretString;

use super::actor;
use crate::output::{Output, table};

#[derive(Debug, Subcommand)]
pub enum ErpUserCommand {
    /// Adds an ERP user (enabled, with access to nothing yet).
    Add {
        /// Slug id, as the ERP sends it in X-H2H-User.
        id: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// E-mail address.
        #[arg(long)]
        email: Option<String>,
    },
    /// Lists ERP users.
    List,
    /// Disables a user: their requests are refused; grants are kept.
    Disable { id: String },
    /// Enables a disabled user again.
    Enable { id: String },
    /// Lets a user act for a company (a head office does not imply its
    /// branches).
    GrantCompany {
        user: String,
        company: String,
        /// Also grant each branch the company has now.
        #[arg(long)]
        with_branches: bool,
    },
    /// Stops a user acting for a company.
    RevokeCompany { user: String, company: String },
    /// Grants a plugin permission, `<plugin>/<permission>`.
    Grant { user: String, permission: String },
    /// Takes a plugin permission away.
    Revoke { user: String, permission: String },
    /// Shows a user's companies and permissions.
    Permissions { user: String },
}

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Sets a company's webhook; the secret is read from stdin.
    Set {
        company: String,
        /// http:// or https:// URL.
        url: String,
        /// Read the shared secret from stdin (required: secrets stay out of
        /// shell history and process lists).
        #[arg(long, required = true)]
        secret_stdin: bool,
        /// Let it reach loopback, private and link-local addresses (an ERP
        /// on the company's own network).
        #[arg(long)]
        allow_private: bool,
    },
    /// Removes a company's webhook and its secret.
    Remove { company: String },
    /// Lists webhooks and their delivery state (never a secret).
    List,
}

fn access_text(access: &ErpUserAccess) -> String {
    let companies = if access.companies.is_empty() {
        "(none)".to_owned()
    } else {
        access.companies.join(", ")
    };
    let permissions = table(
        &["PERMISSION", "GUARDS", "DECLARED"],
        access
            .permissions
            .iter()
            .map(|p| {
                vec![
                    format!("{}/{}", p.plugin, p.permission),
                    p.operations.join(" "),
                    if p.declared { "yes" } else { "no" }.to_owned(),
                ]
            })
            .collect(),
    );
    format!(
        "user {}{}\ncompanies: {companies}\n{permissions}",
        access.user,
        if access.enabled { "" } else { " (disabled)" }
    )
}

pub async fn erp_user(host: &Host, command: &ErpUserCommand, out: Output) -> anyhow::Result<()> {
    let admin = &host.admin;
    match command {
        ErpUserCommand::Add { id, name, email } => {
            let user = admin
                .add_erp_user(&actor(), id, name, email.as_deref())
                .await?;
            out.show(&user, |u| {
                format!("added ERP user {} ({})", u.id, u.display_name)
            })
        }
        ErpUserCommand::List => {
            let users = admin.erp_users().await?;
            out.show(&users, |list| {
                table(
                    &["ID", "NAME", "EMAIL", "ENABLED", "ADDED"],
                    list.iter()
                        .map(|u| {
                            vec![
                                u.id.clone(),
                                u.display_name.clone(),
                                u.email.clone().unwrap_or_default(),
                                if u.enabled { "yes" } else { "no" }.to_owned(),
                                u.created_at.clone(),
                            ]
                        })
                        .collect(),
                )
            })
        }
        ErpUserCommand::Disable { id } | ErpUserCommand::Enable { id } => {
            let enable = matches!(command, ErpUserCommand::Enable { .. });
            let user = admin.set_erp_user_enabled(&actor(), id, enable).await?;
            out.show(&user, |u| {
                format!(
                    "ERP user {} {}",
                    u.id,
                    if u.enabled { "enabled" } else { "disabled" }
                )
            })
        }
        ErpUserCommand::GrantCompany {
            user,
            company,
            with_branches,
        } => {
            let access = admin
                .grant_company(&actor(), user, company, *with_branches)
                .await?;
            out.show(&access, access_text)
        }
        ErpUserCommand::RevokeCompany { user, company } => {
            let access = admin.revoke_company(&actor(), user, company).await?;
            out.show(&access, access_text)
        }
        ErpUserCommand::Grant { user, permission } => {
            let (plugin, name) = split_permission(permission)?;
            let access = admin.grant_permission(&actor(), user, plugin, name).await?;
            out.show(&access, access_text)
        }
        ErpUserCommand::Revoke { user, permission } => {
            let (plugin, name) = split_permission(permission)?;
            let access = admin
                .revoke_permission(&actor(), user, plugin, name)
                .await?;
            out.show(&access, access_text)
        }
        ErpUserCommand::Permissions { user } => {
            let access = admin.erp_user_access(user).await?;
            out.show(&access, access_text)
        }
    }
}

pub async fn webhook(host: &Host, command: &WebhookCommand, out: Output) -> anyhow::Result<()> {
    let admin = &host.admin;
    match command {
        WebhookCommand::Set {
            company,
            url,
            secret_stdin,
            allow_private,
        } => {
            if !secret_stdin {
                anyhow::bail!("give --secret-stdin and the secret on stdin");
            }
            let mut text = zeroize::Zeroizing::new(String::new());
            std::io::stdin()
                .read_to_string(&mut text)
                .context("reading the webhook secret from stdin")?;
            let secret = SecretString::from(text.trim_end_matches(['\n', '\r']).to_owned());
            let hook = admin
                .set_webhook(&actor(), company, url, &secret, *allow_private)
                .await?;
            out.show(&hook, |h| {
                format!(
                    "webhook of {} set to {} (secret sealed); events after {} will be posted",
                    h.company, h.url, h.delivered_through
                )
            })
        }
        WebhookCommand::Remove { company } => {
            admin.remove_webhook(&actor(), company).await?;
            let done = serde_json::json!({ "company": company, "removed": true });
            out.show(&done, |_| format!("removed the webhook of {company}"))
        }
        WebhookCommand::List => {
            let hooks = admin.webhooks().await?;
            out.show(&hooks, |list| {
                table(
                    &[
                        "COMPANY",
                        "URL",
                        "DELIVERED THROUGH",
                        "FAILURES",
                        "LAST ERROR",
                    ],
                    list.iter()
                        .map(|h| {
                            vec![
                                h.company.clone(),
                                h.url.clone(),
                                h.delivered_through.to_string(),
                                h.attempts.to_string(),
                                h.last_error.clone().unwrap_or_default(),
                            ]
                        })
                        .collect(),
                )
            })
        }
    }
}
