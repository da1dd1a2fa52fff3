//! `h2h dev up CRATE`: for any connector, what the demo does for Privat24,
//! on a development data directory: a development key (said loudly), the
//! crate packed as a dev pre-release of its version, trusted, licensed and
//! installed (or upgraded in place on the next run), a company with the
//! given settings and secrets, the bank's address allowed, an ERP key and
//! user, then the host serving and the ERP calls to try printed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use h2h_host::admin::{AdminError, Role};
use h2h_host::dev::{self, DevDir};
use h2h_host::packages::manifest::Manifest;
use h2h_host::runtime::World;
use h2h_host::serve::{self, Host};
use semver::{Prerelease, Version};

use super::actor;
use crate::Cli;

#[derive(Debug, Subcommand)]
pub enum DevCommand {
    /// Deliver a connector crate to this data directory and serve it.
    Up(UpArgs),
    /// Print the shell lines that point `erp` at the host `dev up` serves
    /// (use: `eval "$(h2h --data-dir DIR dev env)"`).
    Env,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// The connector crate (holding h2h.toml).
    crate_dir: PathBuf,
    /// The bank's (or provider's) base URL: added to the package's
    /// allow-list, and allowed to be loopback or private.
    #[arg(long, value_name = "URL")]
    bank: Option<String>,
    /// The company the settings are for.
    #[arg(long, default_value = "dev")]
    company: String,
    /// A company setting, NAME=VALUE (repeatable).
    #[arg(long = "setting", value_name = "NAME=VALUE")]
    settings: Vec<String>,
    /// A secret company setting, NAME=VALUE (repeatable).
    #[arg(long = "secret", value_name = "NAME=VALUE")]
    secrets: Vec<String>,
    /// The ERP user the printed calls act for.
    #[arg(long, default_value = "dev")]
    user: String,
    /// Address to serve on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
}

pub async fn run(cli: &Cli, command: &DevCommand) -> anyhow::Result<()> {
    let dir = DevDir::open(&cli.data_dir, "dev")?;
    let args = match command {
        DevCommand::Up(args) => args,
        DevCommand::Env => {
            let address = dir.file("address");
            let addr = std::fs::read_to_string(&address).with_context(|| {
                format!(
                    "{}: run `h2h dev up` on this data directory first",
                    address.display()
                )
            })?;
            println!("{}", env(addr.trim(), &dir.file("erp-key")));
            return Ok(());
        }
    };
    let (key, made) = dir.vendor_key()?;
    println!(
        "!!! DEVELOPMENT KEY: publisher key {} {} {} signs this connector and its \
         license, and this data directory trusts it. Never trust it on a real host. !!!",
        key.public().key_id(),
        if made { "made now in" } else { "from" },
        dir.file("vendor.key").display()
    );
    let manifest_path = args.crate_dir.join("h2h.toml");
    let text = std::fs::read_to_string(&manifest_path)
        .with_context(|| format!("reading {}", manifest_path.display()))?;
    let manifest = Manifest::parse(&text).context("the crate's h2h.toml")?;
    let version = dev_version(&manifest.version)?;

    let host = super::open(cli).await?;
    let actor = actor();
    let step = |what: &str, outcome: String| println!("  {what:<9} {outcome}");
    host.admin
        .trust_publisher(
            &actor,
            &key.public().to_armored(),
            "h2h dev (development key)",
        )
        .await
        .context("trusting the development key")?;
    let delivered = dev::deliver(
        &host,
        &actor,
        &dev::Delivery {
            crate_dir: &args.crate_dir,
            key: &key,
            output: dir.file(&format!("{}.zip", manifest.id)),
            extra_origins: args.bank.iter().cloned().collect(),
            version: Some(version),
            license_id: &format!("dev-{}", manifest.id),
        },
        &mut |what, outcome| step(what, outcome),
    )
    .await?;
    let plugin = &delivered.plugin;
    configure(&host, args, plugin, &mut |what, outcome| {
        step(what, outcome)
    })
    .await?;
    let (_secret, said) = dev::ensure_key(&host, &actor, &dir, "dev-erp", Role::Erp).await?;
    step("erp key", said);
    let (_secret, said) = dev::ensure_key(&host, &actor, &dir, "dev-admin", Role::Admin).await?;
    step("admin key", said);
    erp_user(&host, args, &manifest).await?;
    step(
        "erp user",
        format!(
            "{} acts for {}, holds every {plugin} permission",
            args.user, args.company
        ),
    );
    host.db.close().await;

    let running = serve::start(super::config(cli), args.listen, super::shutdown_signal())
        .await
        .context("starting the host")?;
    let address = dir.file("address");
    std::fs::write(&address, running.addr.to_string())
        .with_context(|| format!("writing {}", address.display()))?;
    println!(
        "\nh2h is serving {plugin} {} on http://{} (console: http://{}/console, with the \
         admin key in {}); Ctrl-C stops it. In another shell, try:\n",
        delivered.version,
        running.addr,
        running.addr,
        dir.file(dev::key_file(Role::Admin)).display()
    );
    println!("{}", calls(&cli.data_dir, args, &manifest));
    println!(
        "\nEdit the crate and run the same `h2h dev up` again: it upgrades {plugin} in place."
    );
    running.server.await.context("server task")??;
    Ok(())
}

/// `<version>-dev.<unix milliseconds>`: each run a newer pre-release of the
/// crate's version, so the host upgrades to it.
fn dev_version(version: &Version) -> anyhow::Result<Version> {
    let mut dev = version.clone();
    dev.pre = Prerelease::new(&format!("dev.{}", chrono::Utc::now().timestamp_millis()))
        .context("the dev version")?;
    dev.build = semver::BuildMetadata::EMPTY;
    Ok(dev)
}

async fn configure(
    host: &Host,
    args: &UpArgs,
    plugin: &str,
    step: &mut dyn FnMut(&str, String),
) -> anyhow::Result<()> {
    let admin = &host.admin;
    let actor = actor();
    match admin
        .add_company(
            &actor,
            &args.company,
            &format!("Company {}", args.company),
            None,
        )
        .await
    {
        Ok(_) => step("company", format!("{} added", args.company)),
        Err(AdminError::CompanyExists(_)) => step("company", format!("{} exists", args.company)),
        Err(e) => return Err(e.into()),
    }
    for (list, secret) in [(&args.settings, false), (&args.secrets, true)] {
        for pair in list {
            let (name, value) = pair
                .split_once('=')
                .with_context(|| format!("`{pair}`: write NAME=VALUE"))?;
            admin
                .set_setting(&actor, &args.company, plugin, name, value)
                .await?;
            step(
                "setting",
                if secret {
                    format!("{name} sealed")
                } else {
                    format!("{name} = {value}")
                },
            );
        }
    }
    if let Some(bank) = &args.bank {
        let url = reqwest::Url::parse(bank).with_context(|| format!("--bank `{bank}`"))?;
        let host_port = match (url.host_str(), url.port_or_known_default()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            _ => anyhow::bail!("--bank `{bank}` names no host and port"),
        };
        admin
            .allow_private_host(&actor, plugin, &host_port, true)
            .await?;
        step("grant", format!("{host_port} may be loopback or private"));
    }
    Ok(())
}

/// The ERP user, with access to the company and every permission the
/// connector declares.
async fn erp_user(host: &Host, args: &UpArgs, manifest: &Manifest) -> anyhow::Result<()> {
    let admin = &host.admin;
    let actor = actor();
    match admin
        .add_erp_user(&actor, &args.user, "Developer", None)
        .await
    {
        Ok(_) | Err(AdminError::ErpUserExists(_)) => {}
        Err(e) => return Err(e.into()),
    }
    admin
        .grant_company(&actor, &args.user, &args.company, false)
        .await?;
    for permission in &manifest.permissions {
        admin
            .grant_permission(&actor, &args.user, &manifest.id, &permission.name)
            .await?;
    }
    Ok(())
}

/// The shell lines that point `erp` at the served host, acting for
/// `$H2H_USER` (default `dev`): the key read from its file, never printed.
fn env(addr: &str, key_file: &Path) -> String {
    format!(
        "export H2H=http://{addr} H2H_KEY=\"$(cat {})\"\n\
         erp() {{ curl -s -H \"Authorization: Bearer $H2H_KEY\" -H \"X-H2H-User: ${{H2H_USER:-dev}}\" \
         -H 'Content-Type: application/json' \"$@\"; echo; }}",
        key_file.display()
    )
}

/// The ERP calls to try, as shell commands.
fn calls(data_dir: &Path, args: &UpArgs, manifest: &Manifest) -> String {
    let user = if args.user == "dev" {
        String::new()
    } else {
        format!("export H2H_USER={}\n", args.user)
    };
    let head = format!(
        "eval \"$(h2h --data-dir {} dev env)\"\n{user}erp $H2H/erp/v1/plugins",
        data_dir.display(),
    );
    let (plugin, company) = (&manifest.id, &args.company);
    let world = match manifest.world {
        World::BankConnector => format!(
            "erp -X POST $H2H/erp/v1/accounts -d '{{\"id\": \"{company}-main\", \"company\": \
             \"{company}\", \"plugin\": \"{plugin}\", \"iban\": \"<the account's IBAN>\", \
             \"currency\": \"<its currency>\"}}'\n\
             erp -X POST $H2H/erp/v1/plugins/{plugin}/tasks/sync-statements -d '{{\"company\": \
             \"{company}\"}}'\n\
             erp \"$H2H/erp/v1/accounts/{company}-main/transactions?limit=20\""
        ),
        World::PosConnector => format!(
            "erp -X POST $H2H/erp/v1/terminals -d '{{\"company\": \"{company}\", \"plugin\": \
             \"{plugin}\", \"code\": \"<the 8 digits the terminal shows>\"}}'\n\
             erp \"$H2H/erp/v1/terminals?company={company}\""
        ),
    };
    format!("{head}\n{world}")
}
