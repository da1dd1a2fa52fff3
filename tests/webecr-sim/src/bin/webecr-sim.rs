//! Serves the simulated WebECR service with a demo merchant account and a
//! demo terminal waiting to be paired:
//! `webecr-sim --listen 127.0.0.1:8444 --out ./webecr-pki`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use h2h_webecr_sim::{ProviderKey, Simulator, TerminalSpec};

/// A simulated Mellon WebECR cloud card-terminal service on loopback
/// (HTTPS with a throw-away test CA).
#[derive(Debug, Parser)]
#[command(name = "webecr-sim", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8444")]
    listen: String,
    /// Directory to write ca.pem (the test CA) and provider-key.pem (the
    /// demo provider's public key) to.
    #[arg(long)]
    out: PathBuf,
    /// Take sales without the e-invoicing provider's ProviderData (for
    /// manual demos; the real scheme requires it).
    #[arg(long)]
    no_provider_data: bool,
}

const USER: &str = "demo-merchant";
const PASSWORD: &str = "demo-password-not-secret";
const PROVIDER: &str = "DEMO-PROVIDER";

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if let Ok(addr) = args.listen.parse::<SocketAddr>()
        && !addr.ip().is_loopback()
    {
        eprintln!("warning: {addr} is not loopback; the control API has no authentication");
    }
    let sim = match Simulator::builder()
        .account(USER, PASSWORD)
        .require_provider_data(!args.no_provider_data)
        .build()
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("webecr-sim: {e}");
            return ExitCode::FAILURE;
        }
    };
    let running = match sim.start(&args.listen).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("webecr-sim: {e}");
            return ExitCode::FAILURE;
        }
    };
    let h = running.handle.clone();
    let provider = ProviderKey::generate();
    h.register_provider(PROVIDER, provider.verifying_key());
    let pairing = match h.issue_pairing_code(USER, TerminalSpec::new("12345678", "000000012345")) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("webecr-sim: {e}");
            h.stop().await;
            return ExitCode::FAILURE;
        }
    };
    let written = std::fs::create_dir_all(&args.out)
        .and_then(|_| std::fs::write(args.out.join("ca.pem"), h.ca_pem()))
        .and_then(|_| std::fs::write(args.out.join("provider-key.pem"), provider.public_key_pem()));
    if let Err(e) = written {
        eprintln!("webecr-sim: cannot write to {}: {e}", args.out.display());
        h.stop().await;
        return ExitCode::FAILURE;
    }
    let url = running.url();
    let out = args.out.display();
    println!("webecr-sim: simulated Mellon WebECR at {url} (TEST CA in {out}/ca.pem)");
    println!(
        "  token URL: {}   post URL: {}",
        running.token_url(),
        running.post_url()
    );
    println!("  username:  {USER}");
    println!("  password:  {PASSWORD}");
    println!(
        "  pairing code: {} (TID {}, MID {}, call id {}; valid until {})",
        pairing.code,
        pairing.terminal.terminal_id,
        pairing.terminal.merchant,
        pairing.terminal.id,
        pairing.expires.to_rfc3339()
    );
    println!(
        "  provider {PROVIDER:?}: public key in {out}/provider-key.pem; sales need ProviderData (see README)"
    );
    println!("  try: curl --cacert {out}/ca.pem {url}/__control/clock");
    println!("  Ctrl-C stops it.");
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("webecr-sim: cannot wait for Ctrl-C: {e}");
    }
    h.stop().await;
    ExitCode::SUCCESS
}
