//! The commands: each opens the host (which also rolls back installs whose
//! process died) and calls one library function.

mod call;
mod company;
mod conform;
mod dev;
mod erp_user;
mod grant;
mod host;
mod plugin;
mod scaffold;
mod session;
mod share_target;
mod task;
mod token;

pub use company::{CompanyCommand, SettingsCommand, TlsIdentityCommand, VaultCommand};
pub use dev::DevCommand;
pub use erp_user::{ErpUserCommand, WebhookCommand};
pub use grant::GrantCommand;
pub use host::{ApiKeyCommand, LicenseCommand, PublisherCommand, ServiceModeCommand};
pub use plugin::PluginCommand;
pub use session::SessionCommand;
pub use share_target::ShareTargetCommand;
pub use task::TaskCommand;
pub use token::TokenCommand;

use anyhow::Context;
use h2h_host::admin::{Actor, AdminSettings};
use h2h_host::console::Reach;
use h2h_host::runtime::Limits;
use h2h_host::serve::{self, Host, HostConfig};

use crate::output::Output;
use crate::{Cli, Command};

fn config(cli: &Cli) -> HostConfig {
    HostConfig {
        data_dir: cli.data_dir.clone(),
        database_url: cli.database_url.clone(),
        admin: AdminSettings {
            allow_untrusted_packages: cli.allow_untrusted_packages,
            ..AdminSettings::default()
        },
        limits: cli.limits.apply(Limits::default()),
        ..HostConfig::new(&cli.data_dir)
    }
}

/// The operating-system user, as the audit log names CLI actions.
fn actor() -> Actor {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".to_owned());
    Actor::cli(&user)
}

async fn open(cli: &Cli) -> anyhow::Result<Host> {
    Host::open(&config(cli)).await.context("opening the host")
}

pub async fn run(cli: Cli, out: Output) -> anyhow::Result<()> {
    match &cli.command {
        Command::Serve {
            listen,
            tls_cert,
            tls_key,
            plain_http_anywhere,
            console_anywhere,
        } => {
            let listen = serve::Listen {
                addr: *listen,
                tls: tls_cert
                    .clone()
                    .zip(tls_key.clone())
                    .map(|(cert, key)| serve::TlsFiles { cert, key }),
                plain_http: if *plain_http_anywhere {
                    serve::PlainHttp::Anywhere
                } else {
                    serve::PlainHttp::LoopbackOnly
                },
                console: if *console_anywhere {
                    Reach::Anywhere
                } else {
                    Reach::LoopbackOnly
                },
            };
            serve(&cli, listen).await
        }
        Command::Dev(command) => dev::run(&cli, command).await,
        Command::InstallationId { new } => {
            let host = open(&cli).await?;
            let id = if *new {
                host.admin.renew_installation_id(&actor()).await?
            } else {
                host.admin.installation_id().await?
            };
            out.show(&serde_json::json!({ "installation_id": id }), |_| {
                id.clone()
            })
        }
        Command::Publisher(command) => host::publisher(&open(&cli).await?, command, out).await,
        Command::Plugin(PluginCommand::Pack(args)) => plugin::pack(args, out),
        Command::Plugin(PluginCommand::New(args)) => scaffold::new(args, out),
        Command::Plugin(PluginCommand::Call(args)) => call::call(args, out).await,
        Command::Plugin(PluginCommand::Conform(args)) => conform::conform(&cli, args, out).await,
        Command::Plugin(command) => plugin::run(&open(&cli).await?, command, out).await,
        Command::License(command) => host::license(&open(&cli).await?, command, out).await,
        Command::ServiceMode(command) => host::service_mode(&open(&cli).await?, command, out).await,
        Command::Audit { after, limit } => {
            host::audit(&open(&cli).await?, *after, *limit, out).await
        }
        Command::ApiKey(command) => host::api_key(&open(&cli).await?, command, out).await,
        Command::Grant(command) => grant::run(&open(&cli).await?, command, out).await,
        Command::ErpUser(command) => erp_user::erp_user(&open(&cli).await?, command, out).await,
        Command::Webhook(command) => erp_user::webhook(&open(&cli).await?, command, out).await,
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut command, "h2h", &mut std::io::stdout());
            Ok(())
        }
        Command::Task(command) => task::run(&open(&cli).await?, command, out).await,
        Command::Token(command) => token::run(&open(&cli).await?, command, out).await,
        Command::Session(command) => session::run(&open(&cli).await?, command, out).await,
        Command::ShareTarget(command) => share_target::run(&open(&cli).await?, command, out).await,
        Command::Company(command) => company::company(&open(&cli).await?, command, out).await,
        Command::Settings(command) => company::settings(&open(&cli).await?, command, out).await,
        Command::TlsIdentity(command) => {
            company::tls_identity(&open(&cli).await?, command, out).await
        }
        Command::Vault(VaultCommand::GenerateKey) => {
            company::vault(
                None,
                &config(&cli).vault_key,
                &VaultCommand::GenerateKey,
                out,
            )
            .await
        }
        Command::Vault(command) => {
            let host = open(&cli).await?;
            company::vault(Some(&host), &config(&cli).vault_key, command, out).await
        }
    }
}

async fn serve(cli: &Cli, listen: serve::Listen) -> anyhow::Result<()> {
    let scheme = if listen.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let running = serve::start(config(cli), listen, shutdown_signal())
        .await
        .context("starting the host")?;
    println!(
        "h2h is serving on {scheme}://{}  (health: {scheme}://{}/health, console: {scheme}://{}/console)",
        running.addr, running.addr, running.addr
    );
    running.server.await.context("server task")??;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down");
}
