//! `h2h-demo`: the whole Privat24 path with one command. It starts the
//! simulated PrivatBank, opens the host on SQLite in the data directory,
//! trusts a development key made on the spot, packs, signs, uploads,
//! licenses and installs the Privat24 connector, sets up company `demo`
//! with its merchant settings, bank account, two invoices and
//! auto-matching, makes an ERP key (and user), serves the host, runs one
//! statement sync and prints what to try. A second run on the same data
//! directory reuses everything.

mod bank;
mod keys;
mod report;
mod setup;
mod sync;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use clap::Parser;
use h2h_host::serve;

use crate::bank::INVOICES;

/// The Privat24 path on a local h2h host, against a simulated bank.
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
    #[arg(long, default_value_os_t = setup::default_plugin_dir())]
    plugin_dir: PathBuf,
}

#[tokio::main]
async fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("h2h-demo: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<()> {
    if args.bank_listen.port() == 0 {
        bail!("--bank-listen needs a fixed port: the bank's address is signed into the package");
    }
    println!("h2h demo: the Privat24 path on {}", args.data_dir.display());
    let demo_dir = keys::DemoDir::open(&args.data_dir)?;
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
    let sync_result = sync::run_now(&prepared.host, Some(prepared.erp_user)).await;
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
    served.context("the host's server task")??;
    println!("stopped.");
    Ok(())
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
