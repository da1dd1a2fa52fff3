//! Serves the simulated mBank CompanyNet web service with the demo
//! companies: `mbank-sim --listen 127.0.0.1:8444 --out ./mbank-pki`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use h2h_mbank_sim::{SimHandle, Simulator};

/// A simulated mBank CompanyNet web service on loopback (HTTPS, client
/// certificates required), with clearly fake demo companies.
#[derive(Debug, Parser)]
#[command(name = "mbank-sim", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8444")]
    listen: String,
    /// Directory for the test PKI: ca.pem, client.pem, client-key.pem,
    /// client-identity.pem (key + chain).
    #[arg(long)]
    out: PathBuf,
    /// Seed of the generated statement lines.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Days of generated lines, ending today.
    #[arg(long, default_value_t = 5)]
    days: u32,
}

fn write_pki(dir: &Path, bank: &SimHandle) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let ca = bank.ca_pem();
    let client = bank.client_identity();
    std::fs::write(dir.join("ca.pem"), &ca)?;
    std::fs::write(dir.join("client.pem"), &client.cert_pem)?;
    std::fs::write(dir.join("client-key.pem"), &client.key_pem)?;
    std::fs::write(dir.join("client-identity.pem"), client.identity_pem(&ca))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if let Ok(addr) = args.listen.parse::<SocketAddr>()
        && !addr.ip().is_loopback()
    {
        eprintln!(
            "warning: {addr} is not loopback; the control API has no authentication beyond mTLS"
        );
    }
    let running = match Simulator::builder().seed(args.seed).days(args.days).build() {
        Ok(sim) => match sim.start(&args.listen).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("mbank-sim: {e}");
                return ExitCode::FAILURE;
            }
        },
        Err(e) => {
            eprintln!("mbank-sim: {e}");
            return ExitCode::FAILURE;
        }
    };
    let bank = running.handle.clone();
    if let Err(e) = write_pki(&args.out, &bank) {
        eprintln!(
            "mbank-sim: cannot write the PKI to {}: {e}",
            args.out.display()
        );
        bank.stop().await;
        return ExitCode::FAILURE;
    }
    let (url, out) = (running.url(), args.out.display());
    println!(
        "mbank-sim: simulated mBank CompanyNet at {} (TEST PKI in {out})",
        running.api_url()
    );
    for a in bank.accounts() {
        println!("  DIK {}  account {}", a.dik, a.iban);
    }
    println!(
        "  business day {}; no users yet: POST /__control/users",
        bank.today()
    );
    println!(
        "  try: curl --cacert {out}/ca.pem --cert {out}/client.pem --key {out}/client-key.pem {url}/__control/clock"
    );
    println!("  Ctrl-C stops it.");
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("mbank-sim: cannot wait for Ctrl-C: {e}");
    }
    bank.stop().await;
    ExitCode::SUCCESS
}
