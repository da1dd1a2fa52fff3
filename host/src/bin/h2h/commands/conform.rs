//! `h2h plugin conform`: the conformance suite
//! ([`h2h_host::dev::conformance`]) run on a bank connector against its
//! bank's test environment or a simulator. Exits 1 when a check fails.

use anyhow::bail;
use chrono::NaiveDate;
use clap::Args;
use h2h_host::dev::conformance::{self, BankCase, Outcome};

use super::call::{Target, load};
use crate::output::{Output, table};

#[derive(Debug, Args)]
pub struct ConformArgs {
    #[command(flatten)]
    target: Target,
    /// An account the credentials reach, with lines in the range.
    #[arg(long)]
    account: String,
    /// First day of the range (YYYY-MM-DD).
    #[arg(long)]
    from: NaiveDate,
    /// Last day of the range (YYYY-MM-DD).
    #[arg(long)]
    to: NaiveDate,
}

pub async fn conform(args: &ConformArgs, out: Output) -> anyhow::Result<()> {
    if args.from > args.to {
        bail!("--from {} is after --to {}", args.from, args.to);
    }
    let (plugin, ctx) = load(&args.target).await?;
    let case = BankCase {
        account: args.account.clone(),
        from: args.from,
        to: args.to,
    };
    let report = conformance::bank(&plugin, &ctx, &case).await;
    out.show(&report, |r| {
        table(
            &["CHECK", "OUTCOME", "DETAIL"],
            r.checks
                .iter()
                .map(|c| {
                    let (outcome, detail) = match &c.outcome {
                        Outcome::Passed => ("passed", String::new()),
                        Outcome::Failed(why) => ("FAILED", why.clone()),
                        Outcome::Skipped(why) => ("skipped", why.clone()),
                    };
                    vec![c.name.to_owned(), outcome.to_owned(), detail]
                })
                .collect(),
        )
    })?;
    if !report.passed() {
        bail!("failed: {}", report.failed().join(", "));
    }
    Ok(())
}
