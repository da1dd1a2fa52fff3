//! `h2h`: the host's command line. Admin commands act on the host database
//! directly, through the same library functions as the admin REST API.

mod commands;
mod host_file;
mod output;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use h2h_host::admin::AdminError;
use h2h_host::logs::{self, LogFormat};
use h2h_host::packages::PackageError;
use output::Output;

/// h2h: a host for sandboxed ERP connectors (banks, card terminals).
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Directory for the embedded database and the component cache.
    #[arg(long, global = true, env = "H2H_DATA_DIR", default_value = "h2h-data")]
    data_dir: PathBuf,
    /// Database URL (sqlite://PATH or postgres://...); defaults to SQLite in
    /// the data directory.
    #[arg(long, global = true, env = "H2H_DATABASE_URL")]
    database_url: Option<String>,
    /// DEVELOPMENT ONLY: accept unsigned packages and unknown publishers.
    #[arg(long, global = true, env = "H2H_ALLOW_UNTRUSTED_PACKAGES")]
    allow_untrusted_packages: bool,
    /// Print one JSON document (errors too) instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// The log's layout: `text`, or `json` (one object a line).
    #[arg(long, global = true, env = "H2H_LOG_FORMAT", default_value = "text")]
    log_format: LogFormat,
    /// The host config file (default: ./h2h-host.toml when present);
    /// flags and H2H_* variables override what it says.
    #[arg(long, global = true, env = "H2H_CONFIG", value_name = "TOML")]
    config: Option<PathBuf>,
    /// Per-call limits, from the config file only.
    #[arg(skip)]
    limits: host_file::LimitsSection,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the REST API and run plugins until Ctrl-C.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "H2H_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
        #[arg(long, env = "H2H_TLS_CERT", requires = "tls_key", value_name = "PEM")]
        tls_cert: Option<std::path::PathBuf>,
        /// The certificate's private key (PEM).
        #[arg(long, env = "H2H_TLS_KEY", requires = "tls_cert", value_name = "PEM")]
        tls_key: Option<std::path::PathBuf>,
        /// Without TLS, answer every peer, not only loopback: only behind a
        /// proxy that terminates TLS (API keys, secrets and PINs would
        /// otherwise cross the network in clear).
        #[arg(long, env = "H2H_PLAIN_HTTP_ANYWHERE", conflicts_with = "tls_cert")]
        plain_http_anywhere: bool,
        /// Let the admin console (/console) answer every peer the API
        /// answers, not only this machine's browsers.
        #[arg(long, env = "H2H_CONSOLE_ANYWHERE")]
        console_anywhere: bool,
    },
    /// Print the id licenses for this host are bound to.
    InstallationId {
        /// Give this database a new id: for a copy of another
        /// installation's database, or after the id was edited. Licenses
        /// issued for the old id stop serving; audited.
        #[arg(long)]
        new: bool,
    },
    /// Publisher keys this host trusts for packages and licenses.
    #[command(subcommand)]
    Publisher(commands::PublisherCommand),
    /// Plugin packages and their lifecycle.
    #[command(subcommand)]
    Plugin(commands::PluginCommand),
    /// Plugin licenses.
    #[command(subcommand)]
    License(commands::LicenseCommand),
    /// Service mode: ERP requests get 503 while it is on.
    #[command(subcommand)]
    ServiceMode(commands::ServiceModeCommand),
    /// The audit log of admin actions.
    Audit {
        /// Only entries with a greater id.
        #[arg(long, default_value_t = 0)]
        after: i64,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// API keys for the REST API.
    #[command(subcommand)]
    ApiKey(commands::ApiKeyCommand),
    /// What plugins may reach over HTTP, as the admin granted it.
    #[command(subcommand)]
    Grant(commands::GrantCommand),
    /// Scheduled plugin tasks.
    #[command(subcommand)]
    Task(commands::TaskCommand),
    /// PKCS#11 signing tokens and which plugins may sign with them.
    #[command(subcommand)]
    Token(commands::TokenCommand),
    /// Bank sessions the host keeps for ERP users.
    #[command(subcommand)]
    Session(commands::SessionCommand),
    /// Databases bank sessions can be shared to.
    #[command(subcommand)]
    ShareTarget(commands::ShareTargetCommand),
    /// Companies (head offices and branches).
    #[command(subcommand)]
    Company(commands::CompanyCommand),
    /// Company settings that plugins declare.
    #[command(subcommand)]
    Settings(commands::SettingsCommand),
    /// Client TLS identities plugins present to banks.
    #[command(subcommand)]
    TlsIdentity(commands::TlsIdentityCommand),
    /// The secrets vault.
    #[command(subcommand)]
    Vault(commands::VaultCommand),
    /// ERP users: who the ERP acts for, their companies and permissions.
    #[command(subcommand)]
    ErpUser(commands::ErpUserCommand),
    /// Development: deliver a connector crate to this data directory and
    /// serve it (`dev up`).
    #[command(subcommand)]
    Dev(commands::DevCommand),
    /// Company webhooks: where new events are posted, signed.
    #[command(subcommand)]
    Webhook(commands::WebhookCommand),
    /// Print a completion script for a shell, e.g.
    /// `h2h completions bash > /etc/bash_completion.d/h2h`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

/// The host's flags, global so they may follow any subcommand, are hidden
/// from the help of the commands that never open a host (packing,
/// scaffolding, calling a package directly).
const HOSTLESS: [&str; 3] = ["pack", "new", "call"];
const HOST_FLAGS: [&str; 3] = ["data_dir", "database_url", "allow_untrusted_packages"];

fn parse() -> anyhow::Result<Cli> {
    let mut command = Cli::command();
    // Global flags reach subcommands when the command is built. Mutating in
    // place afterwards: clap's `mut_arg` re-pushes an argument, which a
    // built command's index does not follow (its `--help` stops working).
    command.build();
    let command = command.mut_subcommands(|top| {
        if top.get_name() != "plugin" {
            return top;
        }
        top.mut_subcommands(|sub| {
            if !HOSTLESS.contains(&sub.get_name()) {
                return sub;
            }
            sub.mut_args(|arg| {
                let host_flag = HOST_FLAGS.contains(&arg.get_id().as_str());
                arg.hide(host_flag)
            })
        })
    });
    let matches = command.get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    if matches!(cli.command, Command::Completions { .. }) {
        return Ok(cli);
    }
    Ok(match host_file::load(cli.config.as_deref())? {
        Some((path, file)) => host_file::merge(cli, &matches, &path, file),
        None => cli,
    })
}

#[tokio::main]
async fn main() {
    let cli = match parse() {
        Ok(cli) => cli,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::exit(2);
        }
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        // Admin commands print their result; only warnings go to the log.
        // cryptoki logs every mechanism a token lists that it has no name
        // for as an error (SoftHSM lists dozens); the host reads the ones
        // it signs with.
        EnvFilter::new(
            if matches!(cli.command, Command::Serve { .. } | Command::Dev(_)) {
                "info,cryptoki::mechanism=off"
            } else {
                "warn,cryptoki::mechanism=off"
            },
        )
    });
    let subscriber = logs::subscriber(cli.log_format, filter, std::io::stderr);
    if let Err(e) = tracing::subscriber::set_global_default(subscriber) {
        eprintln!("warning: no log: {e}");
    }
    let out = Output { json: cli.json };
    if let Err(error) = commands::run(cli, out).await {
        let code = error_code(&error);
        out.error(code, &format!("{error:#}"));
        std::process::exit(1);
    }
}

fn error_code(error: &anyhow::Error) -> &'static str {
    if let Some(e) = error.downcast_ref::<AdminError>() {
        e.kind()
    } else if let Some(e) = error.downcast_ref::<PackageError>() {
        e.kind()
    } else if let Some(e) = error.downcast_ref::<h2h_license::KeyError>() {
        match e {
            h2h_license::KeyError::Io { .. } => "io_error",
            _ => "bad_key",
        }
    } else if let Some(e) = error.downcast_ref::<h2h_host::scheduler::SchedulerError>() {
        e.kind()
    } else if let Some(e) = error.downcast_ref::<h2h_host::vault::VaultError>() {
        e.kind()
    } else if let Some(e) = error.downcast_ref::<h2h_host::pkcs11::TokenError>() {
        e.kind()
    } else if let Some(e) = error.downcast_ref::<h2h_host::sessions::SessionError>() {
        e.kind()
    } else if error.downcast_ref::<std::io::Error>().is_some() {
        "io_error"
    } else {
        "error"
    }
}
