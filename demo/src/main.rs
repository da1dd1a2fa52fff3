//! `h2h-demo`: the Privat24 and PKO BP paths with one command. It starts
//! the simulated PrivatBank, opens the host on SQLite in the data
//! directory, trusts a development key made on the spot, packs, signs,
//! uploads, licenses and installs the Privat24 connector, sets up company
//! `demo` with its merchant settings, bank account, two invoices and
//! auto-matching, makes an ERP key (and user). Where SoftHSM2 is installed
//! it then does the same for PKO BP against the simulated Integra service
//! (mutual TLS, a SoftHSM2 card made on the spot, a session opened with its
//! PIN), and pairs a card terminal at the simulated Mellon WebECR service
//! and takes a sale on it. It serves the host, runs one statement sync per
//! bank and prints what to try. A second run on the same data directory reuses everything.

mod bank;
mod card;
mod package;
mod pko;
mod report;
mod setup;
mod sync;
mod terminal;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use clap::Parser;
use h2h_host::serve;

use crate::bank::INVOICES;

/// The Privat24 and PKO BP paths on a local h2h host, against simulated
/// banks.
#[derive(Debug, Parser)]
#[command(name = "h2h-demo", version)]
struct Args {
    /// The host's data directory (SQLite database, vault key, component
    /// cache); the demo keeps its keys in `<data-dir>/demo/`.
    #[arg(long, default_value = "./h2h-data")]
    data_dir: PathBuf,
    /// Where the host listens.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Where the simulated bank listens. Its address is signed into the
    /// demo package, so keep it the same across runs.
    #[arg(long, default_value = "127.0.0.1:8089")]
    bank_listen: SocketAddr,
    /// The Privat24 connector crate to pack.
    #[arg(long, default_value_os_t = setup::default_plugin_dir("privat24"))]
    plugin_dir: PathBuf,
    /// Where the simulated PKO BP listens (fixed, like --bank-listen).
    #[arg(long, default_value = "127.0.0.1:8090")]
    pko_listen: SocketAddr,
    /// The PKO BP connector crate to pack.
    #[arg(long, default_value_os_t = setup::default_plugin_dir(pko::PLUGIN))]
    pko_plugin_dir: PathBuf,
    /// Where the simulated Mellon WebECR service listens (fixed, like
    /// --bank-listen).
    #[arg(long, default_value = "127.0.0.1:8091")]
    pos_listen: SocketAddr,
    /// The Mellon WebECR connector crate to pack.
    #[arg(long, default_value_os_t = setup::default_plugin_dir(terminal::PLUGIN))]
    pos_plugin_dir: PathBuf,
}

fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        // cryptoki logs each mechanism SoftHSM lists that it cannot name
        // as an error: noise, not a fault.
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,cryptoki::mechanism=off"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    // Before any thread starts: SoftHSM reads its configuration once.
    let result = card::configure(&args.data_dir).and_then(|()| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")
    });
    match result.and_then(|runtime| runtime.block_on(run(args))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("h2h-demo: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<()> {
    if args.bank_listen.port() == 0 || args.pko_listen.port() == 0 || args.pos_listen.port() == 0 {
        bail!(
            "--bank-listen, --pko-listen and --pos-listen need fixed ports: the services' addresses are signed into the packages"
        );
    }
    println!(
        "h2h demo: the Privat24 and PKO BP paths on {}",
        args.data_dir.display()
    );
    let demo_dir = h2h_host::dev::DevDir::open(&args.data_dir, "demo")?;
    let (key, made) = demo_dir.vendor_key()?;
    println!(
        "!!! DEVELOPMENT KEY: vendor key {} {} {} signs the demo package and license. \
         It is for this demo only; never trust it on a real host. !!!",
        key.public().key_id(),
        if made { "made now in" } else { "from" },
        demo_dir.file("vendor.key").display()
    );

    let bank = bank::start(&args.bank_listen.to_string()).await?;
    let bank_url = bank.url();
    let merchant = bank::merchant();
    println!(
        "  {:<9} simulated PrivatBank at {bank_url}, merchant {} (fake demo credentials)",
        "bank", merchant.id
    );

    let prepared = setup::prepare(setup::Inputs {
        data_dir: &args.data_dir,
        demo_dir: &demo_dir,
        key: &key,
        plugin_dir: &args.plugin_dir,
        bank_url: &bank_url,
        bank_token: &merchant.token,
        iban: &merchant.account,
        currency: &merchant.currency,
    })
    .await?;
    for invoice in &INVOICES {
        bank::book_payment(&bank, invoice)?;
        println!(
            "  {:<9} {} UAH \"{}\" on the statement",
            "payment", invoice.paid, invoice.title
        );
    }
    let pko_bank = pko_part(&args, &prepared, &key, &demo_dir).await?;
    let pos_service = terminal::start_service(args.pos_listen).await?;
    println!(
        "  {:<9} simulated Mellon WebECR at {} (card terminals)",
        "terminals",
        pos_service.url()
    );
    terminal::run(
        &prepared.host,
        &key,
        &demo_dir,
        &args.pos_plugin_dir,
        &pos_service,
    )
    .await?;
    let skipped = bank::skip_used_ids(&bank, prepared.last_reference)?;
    if skipped > 0 {
        println!(
            "  {:<9} {skipped} informational line(s) keep bank ids of an earlier run today unique",
            ""
        );
    }

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let mut host = serve::start(prepared.config.clone(), args.listen, async {
        let _ = stopped.await;
    })
    .await
    // The error names the address and its cause already.
    .map_err(|e| anyhow::anyhow!("the host: {e}"))?;
    println!("  {:<9} h2h serving on http://{}", "serve", host.addr);

    // The setup's host only runs this first sync; the served one does the rest.
    let mut sync_result = sync::run_now(&prepared.host, Some(prepared.erp_user)).await;
    if pko_bank.is_some() {
        let pko = pko::sync_now(&prepared.host, prepared.erp_user).await;
        sync_result = sync_result.and(pko);
    }
    prepared.host.db.close().await;
    drop(prepared.host);
    if let Err(e) = sync_result {
        println!("  {:<9} failed: {e:#}", "sync");
    }
    report::print(&report::Summary {
        host: host.addr,
        bank_url: &bank_url,
        data_dir: &args.data_dir,
        erp_secret: &prepared.erp_secret,
        erp_user: prepared.erp_user,
        bank_day: bank::today(&bank).format("%d.%m.%Y").to_string(),
        pko_url: pko_bank.as_ref().map(h2h_pkobp_sim::Running::url),
    });

    // Until Ctrl-C, or until the server ends by itself (an error).
    let ended = tokio::select! {
        signal = shutdown_signal() => Err(signal),
        ended = &mut host.server => Ok(ended),
    };
    let served = match ended {
        Ok(ended) => ended,
        Err(signal) => {
            signal?;
            println!("\nstopping the host and the bank...");
            let _ = stop.send(());
            (&mut host.server).await
        }
    };
    bank.handle.stop().await;
    if let Some(pko_bank) = &pko_bank {
        pko_bank.handle.stop().await;
    }
    pos_service.handle.stop().await;
    served.context("the host's server task")??;
    println!("stopped.");
    Ok(())
}

/// The PKO BP part, where SoftHSM2 is installed: the simulated bank, the
/// card, the connector and a session. Without SoftHSM2 it says what to
/// install and is skipped.
async fn pko_part(
    args: &Args,
    prepared: &setup::Prepared,
    key: &h2h_license::VendorKeyPair,
    demo_dir: &h2h_host::dev::DevDir,
) -> Result<Option<h2h_pkobp_sim::Running>> {
    if let Some(missing) = card::missing() {
        println!("  {:<9} PKO BP part skipped: {missing}", "pko");
        return Ok(None);
    }
    let (card, made) = card::prepare(&args.data_dir)?;
    setup::step(
        "card",
        format!(
            "SoftHSM2 token {} {}",
            card::TOKEN,
            if made {
                "made now"
            } else {
                "from an earlier run"
            }
        ),
    );
    let pko_bank = pko::start_bank(args.pko_listen).await?;
    println!(
        "  {:<9} simulated PKO BP Integra at {} (mutual TLS, ContextId {})",
        "bank",
        pko_bank.url(),
        h2h_pkobp_sim::DEMO_CONTEXT_ID
    );
    pko::prepare(
        &prepared.host,
        &h2h_host::admin::Actor::cli("h2h-demo"),
        &pko::Inputs {
            key,
            demo_dir,
            plugin_dir: &args.pko_plugin_dir,
            bank: &pko_bank,
            card: &card,
        },
    )
    .await?;
    Ok(Some(pko_bank))
}

/// Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() -> Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("listening for SIGTERM")?;
        tokio::select! {
            ctrl_c = tokio::signal::ctrl_c() => ctrl_c.context("listening for Ctrl-C"),
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c()
            .await
            .context("listening for Ctrl-C")
    }
}
