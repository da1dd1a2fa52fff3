//! Serves ACME Bank for the first-connector guide:
//! `cargo run -p h2h-acme-bank -- --listen 127.0.0.1:18471`.

use std::process::ExitCode;

use clap::Parser;

/// The example bank of docs/first-connector.md, on loopback.
#[derive(Debug, Parser)]
#[command(name = "acme-bank", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:18471")]
    listen: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match h2h_acme_bank::start(&args.listen).await {
        Ok(addr) => {
            println!(
                "ACME Bank on http://{addr}: account {}, token {} (fakes); Ctrl-C stops it",
                h2h_acme_bank::IBAN,
                h2h_acme_bank::TOKEN
            );
            let _ = tokio::signal::ctrl_c().await;
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("acme-bank: cannot listen on {}: {e}", args.listen);
            ExitCode::FAILURE
        }
    }
}
