//! `h2h company`, `h2h settings`, `h2h tls-identity`, `h2h vault`:
//! companies, the settings plugins declare, and the secrets vault.

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use h2h_host::serve::Host;
use h2h_host::vault::{KeySource, VaultKey};
use secrecy::ExposeSecret;

use super::actor;
use crate::output::{Output, table};

#[derive(Debug, Subcommand)]
pub enum CompanyCommand {
    /// Adds a company (a branch with --parent).
    Add {
        /// Slug id, e.g. acme-krakow.
        id: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// The head office this company is a branch of.
        #[arg(long)]
        parent: Option<String>,
    },
    /// Lists companies.
    List,
}

#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Sets a setting a plugin declares; `-` reads the value from stdin
    /// (use it for secrets, so they stay out of shell history).
    Set {
        company: String,
        plugin: String,
        name: String,
        value: String,
    },
    /// Removes a setting's value.
    Unset {
        company: String,
        plugin: String,
        name: String,
    },
    /// Lists a plugin's settings for a company (secrets show only whether
    /// they are set).
    List { company: String, plugin: String },
}

#[derive(Debug, Subcommand)]
pub enum TlsIdentityCommand {
    /// Seals a client TLS identity in the vault under `name`, which the
    /// plugin's requests name in `client-certificate`.
    Add {
        company: String,
        plugin: String,
        name: String,
        /// PEM certificate chain, leaf first.
        #[arg(long, requires = "key", required_unless_present = "pkcs12")]
        cert: Option<PathBuf>,
        /// PEM private key (PKCS#8, PKCS#1 or SEC1).
        #[arg(long, requires = "cert")]
        key: Option<PathBuf>,
        /// A PKCS#12 file (.p12, .pfx) instead; its password is read from
        /// stdin.
        #[arg(long, conflicts_with_all = ["cert", "key"])]
        pkcs12: Option<PathBuf>,
    },
    /// The identities sealed for a company's plugin: names and when, never
    /// their keys.
    List { company: String, plugin: String },
    /// Removes an identity from the vault.
    Remove {
        company: String,
        plugin: String,
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum VaultCommand {
    /// Re-seals every secret under a new key.
    RotateKey,
    /// Prints a new random key for H2H_VAULT_KEY / H2H_VAULT_NEW_KEY.
    GenerateKey,
}

pub async fn company(host: &Host, command: &CompanyCommand, out: Output) -> anyhow::Result<()> {
    match command {
        CompanyCommand::Add { id, name, parent } => {
            let company = host
                .admin
                .add_company(&actor(), id, name, parent.as_deref())
                .await?;
            out.show(&company, |c| format!("added company {} ({})", c.id, c.name))
        }
        CompanyCommand::List => {
            let companies = host.admin.companies().await?;
            out.show(&companies, |list| {
                table(
                    &["ID", "NAME", "BRANCH OF", "ADDED"],
                    list.iter()
                        .map(|c| {
                            vec![
                                c.id.clone(),
                                c.name.clone(),
                                c.parent.clone().unwrap_or_default(),
                                c.created_at.clone(),
                            ]
                        })
                        .collect(),
                )
            })
        }
    }
}

pub async fn settings(host: &Host, command: &SettingsCommand, out: Output) -> anyhow::Result<()> {
    match command {
        SettingsCommand::Set {
            company,
            plugin,
            name,
            value,
        } => {
            let value = if value == "-" {
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .context("reading the value from stdin")?;
                secrecy::SecretString::from(text.trim_end_matches(['\n', '\r']).to_owned())
            } else {
                secrecy::SecretString::from(value.clone())
            };
            host.admin
                .set_setting(&actor(), company, plugin, name, value.expose_secret())
                .await?;
            let done = serde_json::json!({ "company": company, "plugin": plugin, "name": name, "set": true });
            out.show(&done, |_| format!("set {company}/{plugin}/{name}"))
        }
        SettingsCommand::Unset {
            company,
            plugin,
            name,
        } => {
            let existed = host
                .admin
                .unset_setting(&actor(), company, plugin, name)
                .await?;
            let done = serde_json::json!({ "company": company, "plugin": plugin, "name": name, "removed": existed });
            out.show(&done, |_| {
                if existed {
                    format!("removed {company}/{plugin}/{name}")
                } else {
                    format!("{company}/{plugin}/{name} was not set")
                }
            })
        }
        SettingsCommand::List { company, plugin } => {
            let values = host.admin.settings(company, plugin).await?;
            out.show(&values, |list| {
                table(
                    &["NAME", "TYPE", "REQUIRED", "VALUE", "DESCRIPTION"],
                    list.iter()
                        .map(|s| {
                            let value = match (&s.value, s.set) {
                                (Some(v), _) => v.clone(),
                                (None, true) => "(sealed)".to_owned(),
                                (None, false) => "(not set)".to_owned(),
                            };
                            vec![
                                s.name.clone(),
                                s.kind.clone(),
                                if s.required { "yes" } else { "no" }.to_owned(),
                                value,
                                s.description.clone(),
                            ]
                        })
                        .collect(),
                )
            })
        }
    }
}

pub async fn tls_identity(
    host: &Host,
    command: &TlsIdentityCommand,
    out: Output,
) -> anyhow::Result<()> {
    let (company, plugin, name, cert, key, pkcs12) = match command {
        TlsIdentityCommand::Add {
            company,
            plugin,
            name,
            cert,
            key,
            pkcs12,
        } => (company, plugin, name, cert, key, pkcs12),
        TlsIdentityCommand::List { company, plugin } => {
            let identities = host.admin.tls_identities(company, plugin).await?;
            return out.show(&identities, |list| {
                if list.is_empty() {
                    return format!("no TLS identity is sealed for {company}/{plugin}");
                }
                list.iter()
                    .map(|i| format!("{}  sealed {} by {}", i.name, i.updated_at, i.updated_by))
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        TlsIdentityCommand::Remove {
            company,
            plugin,
            name,
        } => {
            let removed = host
                .admin
                .remove_tls_identity(&actor(), company, plugin, name)
                .await?;
            if !removed {
                anyhow::bail!("no TLS identity `{name}` is sealed for {company}/{plugin}");
            }
            let done = serde_json::json!({ "company": company, "plugin": plugin, "name": name, "removed": true });
            return out.show(&done, |_| {
                format!("removed TLS identity `{name}` of {company}/{plugin}")
            });
        }
    };
    let read =
        |path: &PathBuf| std::fs::read(path).with_context(|| format!("reading {}", path.display()));
    match (cert, key, pkcs12) {
        (Some(cert), Some(key), None) => {
            let chain = String::from_utf8_lossy(&read(cert)?).into_owned();
            let key_pem =
                zeroize::Zeroizing::new(String::from_utf8_lossy(&read(key)?).into_owned());
            host.admin
                .add_tls_identity(&actor(), company, plugin, name, &chain, &key_pem)
                .await?;
        }
        (None, None, Some(p12)) => {
            let mut password = zeroize::Zeroizing::new(String::new());
            std::io::stdin()
                .read_line(&mut password)
                .context("reading the PKCS#12 password from stdin")?;
            let password = password.trim_end_matches(['\n', '\r']);
            host.admin
                .add_tls_identity_pkcs12(&actor(), company, plugin, name, &read(p12)?, password)
                .await?;
        }
        _ => anyhow::bail!("give --cert and --key, or --pkcs12"),
    }
    let done = serde_json::json!({ "company": company, "plugin": plugin, "name": name });
    out.show(&done, |_| {
        format!("sealed TLS identity `{name}` for {company}/{plugin}")
    })
}

pub async fn vault(
    host: Option<&Host>,
    source: &KeySource,
    command: &VaultCommand,
    out: Output,
) -> anyhow::Result<()> {
    match (command, host) {
        (VaultCommand::GenerateKey, _) => {
            let key = VaultKey::generate();
            let shown =
                serde_json::json!({ "key": key.to_base64().expose_secret(), "key_id": key.id() });
            out.show(&shown, |_| key.to_base64().expose_secret().to_owned())
        }
        (VaultCommand::RotateKey, Some(host)) => {
            let report = host.admin.rotate_vault_key(&actor(), source).await?;
            out.show(&report, |r| {
                let mut text = format!(
                    "re-sealed {} vault values and {} plugin values: key {} -> {}",
                    r.entries, r.plugin_values, r.old_key_id, r.new_key_id
                );
                if let Some(step) = &r.next_step {
                    text.push_str("\nnext: ");
                    text.push_str(step);
                }
                text
            })
        }
        (VaultCommand::RotateKey, None) => anyhow::bail!("rotating the vault key needs the host"),
    }
}
