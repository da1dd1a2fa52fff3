//! Serves the simulated bank with a demo merchant, for the README's demo
//! and manual testing: `privat24-sim --listen 127.0.0.1:8089`.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use chrono::NaiveDate;
use clap::Parser;
use h2h_privat24_sim::{Merchant, Progression, Simulator, parse_bank_date, query_date};

/// A simulated PrivatBank Autoclient API (Privat24 for Business) on
/// loopback, with a clearly fake demo merchant.
#[derive(Debug, Parser)]
#[command(name = "privat24-sim", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8089")]
    listen: String,
    /// Seed of the generated statement.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Days of generated movements, ending today.
    #[arg(long, default_value_t = 5)]
    days: u32,
    /// The bank's business day, dd.MM.yyyy (default: the local date).
    #[arg(long, value_parser = parse_today)]
    today: Option<NaiveDate>,
    /// Seconds per payment status step (new → signed → sent → done);
    /// 0 moves payments only through the control API.
    #[arg(long, default_value_t = 10)]
    payment_step_secs: u64,
}

fn parse_today(s: &str) -> Result<NaiveDate, String> {
    parse_bank_date(s).ok_or_else(|| format!("expected dd.MM.yyyy, got {s:?}"))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if let Ok(addr) = args.listen.parse::<SocketAddr>()
        && !addr.ip().is_loopback()
    {
        eprintln!(
            "warning: {addr} is not a loopback address; the control API has no authentication"
        );
    }
    let merchant = Merchant::demo();
    let progression = match args.payment_step_secs {
        0 => Progression::Manual,
        s => Progression::Auto {
            step: Duration::from_secs(s),
        },
    };
    let mut builder = Simulator::builder()
        .merchant(merchant.clone())
        .seed(args.seed)
        .days(args.days)
        .progression(progression);
    if let Some(today) = args.today {
        builder = builder.today(today);
    }
    let sim = match builder.build() {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("privat24-sim: {e}");
            return ExitCode::FAILURE;
        }
    };
    let running = match sim.start(&args.listen).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("privat24-sim: {e}");
            return ExitCode::FAILURE;
        }
    };
    let url = running.url();
    let today = running.handle.today();
    let start = query_date(today - chrono::Days::new(u64::from(args.days.max(1)) - 1));
    println!("privat24-sim: simulated PrivatBank Autoclient API at {url}");
    println!("  DEMO credentials (fake, for this simulator only):");
    println!("    id:      {}", merchant.id);
    println!("    token:   {}", merchant.token);
    println!("    account: {} ({})", merchant.account, merchant.currency);
    println!("  try:");
    println!(
        "    curl -H 'token: {}' '{url}/api/statements/transactions?acc={}&startDate={start}&limit=5'",
        merchant.token, merchant.account
    );
    println!("    curl {url}/__control/faults");
    println!("  Ctrl-C stops it.");

    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("privat24-sim: cannot wait for Ctrl-C: {e}");
    }
    running.handle.stop().await;
    ExitCode::SUCCESS
}
