//! The first statement sync, on demand: the same run the daily schedule
//! makes, under the same no-overlap claim as the served host's scheduler.

use std::time::Duration;

use anyhow::{Context as _, Result};
use h2h_host::serve::Host;
use h2h_host::settlements::Settlements;
use h2h_host::settlements::sync::SYNC_TASK;

use crate::bank::INVOICES;
use crate::setup::{ACCOUNT, COMPANY, PLUGIN};

/// Runs `<plugin>/sync-statements` for the demo company now and prints the
/// run's outcome.
pub async fn run_task(host: &Host, plugin: &str, user: Option<&str>) -> Result<()> {
    let scheduler = host.scheduler(
        host.connectors(),
        None,
        format!("h2h-demo-{}", std::process::id()),
        Duration::from_secs(120),
    );
    let run = scheduler
        .run_now(plugin, SYNC_TASK, Some(COMPANY), user)
        .await
        .with_context(|| format!("running {plugin}/{SYNC_TASK} for {COMPANY}"))?;
    match &run.error {
        None => println!(
            "  {:<9} {plugin}/{SYNC_TASK} for {COMPANY}: {}",
            "sync", run.outcome
        ),
        Some(error) => println!(
            "  {:<9} {plugin}/{SYNC_TASK} for {COMPANY}: {} — {error}",
            "sync", run.outcome
        ),
    }
    Ok(())
}

/// Runs `privat24/sync-statements` for the demo company now and prints how
/// it went: the run, the booked balance, the invoices' status.
pub async fn run_now(host: &Host, user: Option<&str>) -> Result<()> {
    run_task(host, PLUGIN, user).await?;
    let settlements = Settlements::new(host.db.clone());
    let state = settlements
        .sync_state(ACCOUNT)
        .await
        .context("reading the sync state")?;
    if let Some(balance) = &state.balance_booked {
        println!(
            "  {:<9} {ACCOUNT} booked balance {balance} UAH, statements complete through {}",
            "",
            state.synced_through.as_deref().unwrap_or("-")
        );
    }
    for invoice in &INVOICES {
        let receivable = settlements
            .receivable(COMPANY, invoice.number)
            .await
            .with_context(|| format!("reading invoice {}", invoice.number))?;
        println!(
            "  {:<9} {} ({} UAH, paid {}): {}",
            "",
            invoice.number,
            invoice.amount,
            invoice.paid,
            match receivable.status.as_str() {
                "settled" => "settled by auto-matching",
                "review" => "flagged for review (partial payment)",
                other => other,
            }
        );
    }
    Ok(())
}
