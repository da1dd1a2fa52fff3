//! Serves the simulated PKO BP Integra service with the demo company, for
//! the README's demo and manual testing:
//! `pkobp-sim --listen 127.0.0.1:8443 --out ./pkobp-pki`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use h2h_pkobp_sim::{DEMO_CONTEXT_ID, Simulator};

/// A simulated PKO BP Integra host-to-host service on loopback (HTTPS,
/// client certificates required), with a clearly fake demo company.
#[derive(Debug, Parser)]
#[command(name = "pkobp-sim", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: String,
    /// Directory to write the test PKI to: ca.pem, client.pem (cert),
    /// client-key.pem, client-identity.pem (key + chain).
    #[arg(long)]
    out: PathBuf,
    /// Seed of the generated statements.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Days of generated lines, ending today.
    #[arg(long, default_value_t = 5)]
    days: u32,
}

fn write_pki(dir: &std::path::Path, bank: &h2h_pkobp_sim::SimHandle) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let ca = bank.ca_pem();
    let client = bank.client_identity();
    std::fs::write(dir.join("ca.pem"), &ca)?;
    std::fs::write(dir.join("client.pem"), &client.cert_pem)?;
    std::fs::write(dir.join("client-key.pem"), &client.key_pem)?;
    std::fs::write(dir.join("client-identity.pem"), client.identity_pem(&ca))?;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if let Ok(addr) = args.listen.parse::<SocketAddr>()
        && !addr.ip().is_loopback()
    {
        eprintln!(
            "warning: {addr} is not a loopback address; the control API has no authentication beyond mTLS"
        );
    }
    let sim = match Simulator::builder().seed(args.seed).days(args.days).build() {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("pkobp-sim: {e}");
            return ExitCode::FAILURE;
        }
    };
    let running = match sim.start(&args.listen).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("pkobp-sim: {e}");
            return ExitCode::FAILURE;
        }
    };
    let bank = running.handle.clone();
    if let Err(e) = write_pki(&args.out, &bank) {
        eprintln!(
            "pkobp-sim: cannot write the PKI to {}: {e}",
            args.out.display()
        );
        bank.stop().await;
        return ExitCode::FAILURE;
    }
    let url = running.url();
    let out = args.out.display();
    println!("pkobp-sim: simulated PKO BP Integra at {url} (TEST PKI in {out})");
    println!("  ContextId: {DEMO_CONTEXT_ID}");
    for a in bank.accounts() {
        println!("  account:   {}", a.iban);
    }
    println!("  no bank users yet: register one with POST /__control/users");
    println!("  try:");
    println!(
        "    curl --cacert {out}/ca.pem --cert {out}/client.pem --key {out}/client-key.pem {url}/__control/faults"
    );
    println!("  Ctrl-C stops it.");
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("pkobp-sim: cannot wait for Ctrl-C: {e}");
    }
    bank.stop().await;
    ExitCode::SUCCESS
}
