//! The simulated PrivatBank: the demo merchant's statement, payments that
//! move on by themselves, and two payments of the demo company's invoices.

use std::time::Duration;

use anyhow::{Context as _, Result};
use chrono::{Datelike as _, Days, NaiveDate, Utc};
use h2h_privat24_sim::{Merchant, Money, NewTransaction, Progression, Running, Simulator};

/// Seconds per payment status step (created → signed → sent → done), as if
/// someone signed each payment in Privat24.
const PAYMENT_STEP: Duration = Duration::from_secs(10);

/// An invoice of the demo company and what its customer pays into the bank.
pub struct Invoice {
    /// The number the payment title cites.
    pub number: &'static str,
    /// What the invoice is for, UAH.
    pub amount: &'static str,
    /// What arrives at the bank, UAH.
    pub paid: &'static str,
    /// The payment's title.
    pub title: &'static str,
    /// Booked this many days before today.
    pub days_ago: u64,
    /// The customer.
    pub counterparty: &'static str,
}

/// One paid in full (settled by auto-matching), one paid in part (flagged
/// for review).
pub const INVOICES: [Invoice; 2] = [
    Invoice {
        number: "FV/DEMO/0042",
        amount: "1500.00",
        paid: "1500.00",
        title: "Оплата рахунку FV/DEMO/0042",
        days_ago: 1,
        counterparty: "ТОВ \"Покупець\"",
    },
    Invoice {
        number: "FV/DEMO/0043",
        amount: "1000.00",
        paid: "700.00",
        title: "Часткова оплата FV/DEMO/0043",
        days_ago: 0,
        counterparty: "ФОП Петренко О. І.",
    },
];

/// The merchant the demo company's settings name (fixed, fake values that
/// work only against the simulator).
pub fn merchant() -> Merchant {
    Merchant::demo()
}

/// Starts the bank on `listen`. Its business day is today (UTC, the day
/// the host's sync reads up to) and its statement is generated from a
/// seed of that day, so every run on one day serves the same lines with
/// the same ids and a rerun stores nothing twice.
pub async fn start(listen: &str) -> Result<Running> {
    let today = Utc::now().date_naive();
    let sim = Simulator::builder()
        .merchant(merchant())
        .seed(u64::try_from(today.num_days_from_ce()).unwrap_or(42))
        .days(5)
        .today(today)
        .progression(Progression::Auto { step: PAYMENT_STEP })
        .build()
        .context("building the simulated bank")?;
    // The error names the address and its cause already.
    sim.start(listen)
        .await
        .map_err(|e| anyhow::anyhow!("the simulated bank: {e}"))
}

/// Books the customer's payment of `invoice` on the demo statement.
pub fn book_payment(bank: &Running, invoice: &Invoice) -> Result<()> {
    let today = bank.handle.today();
    let day = today
        .checked_sub_days(Days::new(invoice.days_ago))
        .unwrap_or(today);
    let amount: Money = invoice
        .paid
        .parse()
        .with_context(|| format!("amount {}", invoice.paid))?;
    bank.handle
        .add_transaction(
            &merchant().id,
            NewTransaction::credit(amount, day, invoice.title),
        )
        .with_context(|| format!("booking the payment of {}", invoice.number))?;
    Ok(())
}

/// The bank's business day.
pub fn today(bank: &Running) -> NaiveDate {
    bank.handle.today()
}

/// Most lines books "used up" in one go; more means the host's references
/// come from elsewhere (another day's bank), and nothing can collide.
const MAX_SKIPPED: usize = 500;

/// The simulator keeps its statement in memory. Lines a bank of an earlier
/// run today booked after its start (payments added through the control
/// API, transfers that reached `done`) are stored in the host but missing
/// from this fresh bank, which would hand their ids out again; the host
/// would then take new lines for ones it already has. This books
/// informational lines, which the connector never delivers, until the
/// bank's ids are past `last_stored`. Returns how many it booked.
pub fn skip_used_ids(bank: &Running, last_stored: Option<u64>) -> Result<usize> {
    let Some(last_stored) = last_stored else {
        return Ok(0);
    };
    let merchant = merchant();
    let today = bank.handle.today();
    let last_id = || -> Result<Option<u64>> {
        Ok(bank
            .handle
            .transactions(&merchant.id)
            .context("reading the bank statement")?
            .iter()
            .filter_map(|t| t.id.parse::<u64>().ok())
            .max())
    };
    let Some(first) = last_id()? else {
        return Ok(0);
    };
    if first >= last_stored || last_stored - first > (MAX_SKIPPED as u64) * 40 {
        return Ok(0);
    }
    let mut booked = 0;
    while last_id()?.is_some_and(|id| id < last_stored) && booked < MAX_SKIPPED {
        bank.handle
            .add_transaction(
                &merchant.id,
                NewTransaction::credit(
                    Money::new(0, 1),
                    today,
                    "h2h-demo: інформаційний рядок (bank id used by an earlier run today)",
                )
                .informational(),
            )
            .context("booking an informational line")?;
        booked += 1;
    }
    Ok(booked)
}
