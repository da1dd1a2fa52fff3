//! `h2h plugin conform`: the conformance suite
//! ([`h2h_host::dev::conformance`]) run on a connector against its
//! provider's test environment or a simulator: the bank checks for a bank
//! connector, the terminal checks for a card-terminal one. Exits 1 when a
//! check fails.
//!
//! On a package or crate, the calls get the flags' settings and secrets.
//! With `--installed`, they go to the connector installed on the host, with
//! what the host gives its calls: the company's settings, secrets, TLS
//! identities and the user's bank session (how a session bank is checked).

use std::time::Duration;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use clap::Args;
use h2h_host::dev::conformance::{
    self, BankCase, BatchCase, Expected, Outcome, Report, TerminalCase,
};
use h2h_host::runtime::model::Money;
use h2h_host::runtime::model::pos::IntentResult;
use h2h_host::runtime::{CallContext, Plugin, World};

use super::call::{Target, load};
use crate::Cli;
use crate::output::{Output, table};

#[derive(Debug, Args)]
pub struct ConformArgs {
    #[command(flatten)]
    target: Target,
    /// PACKAGE is the id of a plugin installed on this host (--data-dir):
    /// call it as the host does, with the company's settings, secrets, TLS
    /// identities and `--user`'s bank session.
    #[arg(long)]
    installed: bool,
    /// With --installed: the ERP user whose bank session the calls use.
    #[arg(long, requires = "installed")]
    user: Option<String>,
    /// Bank: an account the credentials reach, with lines in the range.
    #[arg(long, help_heading = "Bank connectors")]
    account: Option<String>,
    /// Bank: first day of the range (YYYY-MM-DD).
    #[arg(long, help_heading = "Bank connectors")]
    from: Option<NaiveDate>,
    /// Bank: last day of the range (YYYY-MM-DD).
    #[arg(long, help_heading = "Bank connectors")]
    to: Option<NaiveDate>,
    /// Bank: send one transfer to this account, twice under one
    /// idempotency key (a test environment only: it moves money).
    #[arg(long, help_heading = "Bank connectors", requires = "transfer_name")]
    transfer_to: Option<String>,
    /// Bank: the beneficiary's name.
    #[arg(long, help_heading = "Bank connectors")]
    transfer_name: Option<String>,
    /// Bank: the beneficiary's tax id, where the bank needs one.
    #[arg(long, help_heading = "Bank connectors")]
    transfer_tax_id: Option<String>,
    /// Bank: the transfer's amount, in `--currency`.
    #[arg(long, help_heading = "Bank connectors", default_value = "1.00")]
    transfer_amount: String,
    /// Bank: send the transfer editable in the bank, unsigned.
    #[arg(long, help_heading = "Bank connectors")]
    editable_in_bank: bool,
    /// Terminal: a paired device's API key.
    #[arg(
        long,
        env = "H2H_CONFORM_API_KEY",
        hide_env_values = true,
        help_heading = "Terminal connectors"
    )]
    api_key: Option<String>,
    /// Terminal: the terminal entry to charge on (its `id`).
    #[arg(long, help_heading = "Terminal connectors")]
    terminal: Option<String>,
    /// Terminal: an amount the test environment approves.
    #[arg(long, help_heading = "Terminal connectors", default_value = "12.40")]
    amount: String,
    /// Terminal: an amount and the result the provider documents for it,
    /// AMOUNT=RESULT (e.g. 9.99=declined) (repeatable).
    #[arg(
        long = "expect",
        value_name = "AMOUNT=RESULT",
        help_heading = "Terminal connectors"
    )]
    expected: Vec<String>,
    /// Terminal: seconds between polls of an intent.
    #[arg(long, default_value_t = 1.0, help_heading = "Terminal connectors")]
    poll_every: f64,
    /// Terminal: seconds an intent may take to complete.
    #[arg(long, default_value_t = 180.0, help_heading = "Terminal connectors")]
    max_wait: f64,
    /// The currency of the amounts (ISO 4217).
    #[arg(long)]
    currency: Option<String>,
}

pub async fn conform(cli: &Cli, args: &ConformArgs, out: Output) -> anyhow::Result<()> {
    let (plugin, ctx) = if args.installed {
        installed(cli, args).await?
    } else {
        load(&args.target).await?
    };
    let report = match plugin.world() {
        World::BankConnector => conformance::bank(&plugin, &ctx, &bank_case(args, &plugin)?).await,
        World::PosConnector => {
            conformance::terminal(&plugin, &ctx, &terminal_case(args, &plugin)?).await
        }
    };
    out.show(&report, rows)?;
    if !report.passed() {
        bail!("failed: {}", report.failed().join(", "));
    }
    Ok(())
}

/// The installed connector and the context the host gives its calls.
async fn installed(cli: &Cli, args: &ConformArgs) -> anyhow::Result<(Plugin, CallContext)> {
    let target = &args.target;
    if !target.settings.is_empty() || !target.secrets.is_empty() {
        bail!(
            "with --installed the host's own settings and secrets are used: drop --setting and --secret"
        );
    }
    let id = target.package.to_string_lossy();
    let host = super::open(cli).await?;
    let connectors = host.connectors();
    let loaded = connectors
        .get(&id)
        .await
        .with_context(|| format!("plugin `{id}` on this host"))?;
    let ctx = h2h_host::sessions::call_context(
        &connectors,
        &loaded,
        &host.db,
        &target.company,
        args.user.as_deref(),
    )
    .await?;
    Ok((loaded.plugin.clone(), ctx))
}

fn bank_case(args: &ConformArgs, plugin: &Plugin) -> anyhow::Result<BankCase> {
    let id = plugin.id();
    let (Some(account), Some(from), Some(to)) = (&args.account, args.from, args.to) else {
        bail!("{id} is a bank connector: give --account, --from and --to");
    };
    if from > to {
        bail!("--from {from} is after --to {to}");
    }
    let batch = match (&args.transfer_to, &args.transfer_name) {
        (Some(to_account), Some(to_name)) => Some(BatchCase {
            to_account: to_account.clone(),
            to_name: to_name.clone(),
            to_tax_id: args.transfer_tax_id.clone(),
            amount: money(&args.transfer_amount, args, "--transfer-to")?,
            editable_in_bank: args.editable_in_bank,
            signing_key: None,
        }),
        _ => None,
    };
    Ok(BankCase {
        account: account.clone(),
        from,
        to,
        batch,
    })
}

fn terminal_case(args: &ConformArgs, plugin: &Plugin) -> anyhow::Result<TerminalCase> {
    let id = plugin.id();
    let (Some(api_key), Some(terminal)) = (&args.api_key, &args.terminal) else {
        bail!("{id} is a card-terminal connector: give --api-key and --terminal");
    };
    let expected = args
        .expected
        .iter()
        .map(|pair| {
            let (amount, result) = pair
                .split_once('=')
                .with_context(|| format!("--expect `{pair}`: write AMOUNT=RESULT"))?;
            let result: IntentResult = serde_json::from_value(serde_json::json!(result))
                .with_context(|| {
                    format!(
                        "--expect `{pair}`: the result is one of approved, declined, cancelled, \
                         failed, unknown, busy, max-transactions"
                    )
                })?;
            Ok(Expected {
                amount: money(amount, args, "--expect")?,
                result,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(TerminalCase {
        api_key: api_key.clone(),
        terminal: terminal.clone(),
        amount: money(&args.amount, args, "--terminal")?,
        expected,
        sign: None,
        poll_every: seconds(args.poll_every, "--poll-every")?,
        max_wait: seconds(args.max_wait, "--max-wait")?,
    })
}

fn money(amount: &str, args: &ConformArgs, with: &str) -> anyhow::Result<Money> {
    let Some(currency) = &args.currency else {
        bail!("{with} needs --currency (the ISO 4217 code of the amounts)");
    };
    Ok(Money {
        amount: amount.to_owned(),
        currency: currency.to_ascii_uppercase(),
    })
}

fn seconds(value: f64, flag: &str) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(value)
        .with_context(|| format!("{flag} {value}: seconds, 0 or more"))
}

fn rows(report: &Report) -> String {
    table(
        &["CHECK", "OUTCOME", "DETAIL"],
        report
            .checks
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
}
