//! The conformance suite for bank connectors: what a connector must do for
//! the host to keep its statements right, checked against the connector's
//! bank (its test environment or a simulator) through the runtime, as the
//! host calls it. `h2h plugin conform` runs it; so does CI on the shipped
//! connectors.
//!
//! Checks: paging that ends; lines the host can store (a reference, a date
//! inside the range, a positive decimal amount, a currency), none twice;
//! overlapping ranges that agree on every shared line; a balance, if the
//! connector gives one; and errors mapped as the contract says (an unknown
//! account, missing credentials: permanent, not retryable).

use std::collections::{BTreeMap, HashSet};
use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::runtime::model::ConnectorError;
use crate::runtime::model::bank::{Direction, StatementQuery, Transaction};
use crate::runtime::{CallContext, CallError, Plugin};

/// The most pages one range may take; the host's own sync stops there too.
pub const MAX_PAGES: usize = 1000;

/// What one check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "outcome", content = "detail")]
pub enum Outcome {
    /// It holds.
    Passed,
    /// It does not: why.
    Failed(String),
    /// It could not be checked: why (the connector does not offer it).
    Skipped(String),
}

/// One check and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Its name.
    pub name: &'static str,
    /// What it found.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// Every check of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// In the order they ran.
    pub checks: Vec<Check>,
}

impl Report {
    fn add(&mut self, name: &'static str, outcome: Outcome) {
        self.checks.push(Check { name, outcome });
    }

    /// True when no check failed.
    pub fn passed(&self) -> bool {
        !self
            .checks
            .iter()
            .any(|c| matches!(c.outcome, Outcome::Failed(_)))
    }

    /// The names of the failed checks.
    pub fn failed(&self) -> Vec<&'static str> {
        self.checks
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Failed(_)))
            .map(|c| c.name)
            .collect()
    }
}

/// What to ask the bank for: an account with lines between `from` and `to`.
#[derive(Debug, Clone)]
pub struct BankCase {
    /// An account the credentials reach.
    pub account: String,
    /// First day, inclusive.
    pub from: NaiveDate,
    /// Last day, inclusive.
    pub to: NaiveDate,
}

/// Runs every bank check; `ctx` carries the company's settings and secrets.
pub async fn bank(plugin: &Plugin, ctx: &CallContext, case: &BankCase) -> Report {
    let mut report = Report::default();
    let whole = match fetch(plugin, ctx, &case.account, case.from, case.to).await {
        Ok(lines) => {
            report.add("paging-ends", Outcome::Passed);
            Some(lines)
        }
        Err(why) => {
            report.add("paging-ends", Outcome::Failed(why));
            None
        }
    };
    if let Some(lines) = &whole {
        report.add("lines-are-storable", storable(lines, case.from, case.to));
        report.add("no-line-twice", unique(lines));
        let mid = case.from + (case.to - case.from) / 2;
        let outcome = match fetch(plugin, ctx, &case.account, mid, case.to).await {
            Ok(later) => agree(lines, &later, mid),
            Err(why) => Outcome::Failed(format!("the range {mid}..{}: {why}", case.to)),
        };
        report.add("overlapping-ranges-agree", outcome);
        if lines.is_empty() {
            report.add(
                "the-range-has-lines",
                Outcome::Failed(format!(
                    "{} has no lines from {} to {}: choose a range with some, or the checks prove little",
                    case.account, case.from, case.to
                )),
            );
        }
    }
    report.add("balance", balance(plugin, ctx, &case.account).await);
    report.add(
        "unknown-account-is-permanent",
        permanent(
            plugin,
            ctx.clone(),
            "XX00H2HCONFORMANCE0000000000",
            case.from,
            case.to,
        )
        .await,
    );
    let bare = CallContext {
        secrets: BTreeMap::new(),
        ..ctx.clone()
    };
    let outcome = if ctx.secrets.is_empty() {
        Outcome::Skipped("the connector was given no secrets".to_owned())
    } else {
        permanent(plugin, bare, &case.account, case.from, case.to).await
    };
    report.add("missing-credentials-are-permanent", outcome);
    report
}

/// Every line of `account` from `from` to `to`, page by page.
async fn fetch(
    plugin: &Plugin,
    ctx: &CallContext,
    account: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Transaction>, String> {
    let mut lines = Vec::new();
    let mut seen = HashSet::new();
    let mut continuation = None;
    for _ in 0..MAX_PAGES {
        let query = StatementQuery {
            account: account.to_owned(),
            from: from.to_string(),
            to: to.to_string(),
            continuation: continuation.take(),
        };
        let page = plugin
            .fetch_statement(ctx.clone(), &query)
            .await
            .map_err(|e| format!("fetch-statement {from}..{to}: {e}"))?;
        lines.extend(page.transactions);
        match page.continuation.filter(|c| !c.is_empty()) {
            None => return Ok(lines),
            Some(next) if !seen.insert(next.clone()) => {
                return Err(format!(
                    "continuation `{next}` came back twice: paging loops"
                ));
            }
            Some(next) => continuation = Some(next),
        }
    }
    Err(format!("more than {MAX_PAGES} pages: paging does not end"))
}

fn storable(lines: &[Transaction], from: NaiveDate, to: NaiveDate) -> Outcome {
    let mut problems = Vec::new();
    for line in lines {
        let reference = &line.bank_reference;
        if reference.trim().is_empty() {
            problems.push("a line without a bank reference".to_owned());
        }
        match NaiveDate::from_str(&line.booking_date) {
            Ok(day) if day < from || day > to => {
                problems.push(format!("{reference}: booked {day}, outside {from}..{to}"))
            }
            Ok(_) => {}
            Err(_) => problems.push(format!(
                "{reference}: booking date `{}` is not YYYY-MM-DD",
                line.booking_date
            )),
        }
        let amount = &line.amount.amount;
        let plain = !amount.is_empty()
            && amount.chars().all(|c| c.is_ascii_digit() || c == '.')
            && amount.matches('.').count() <= 1;
        match Decimal::from_str(amount) {
            Ok(value) if plain && value > Decimal::ZERO => {}
            _ => problems.push(format!(
                "{reference}: amount `{amount}` is not a positive decimal (the direction carries the sign)"
            )),
        }
        let currency = &line.amount.currency;
        if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
            problems.push(format!(
                "{reference}: currency `{currency}` is not ISO 4217"
            ));
        }
    }
    verdict(problems)
}

fn unique(lines: &[Transaction]) -> Outcome {
    let mut seen = HashSet::new();
    let twice: Vec<String> = lines
        .iter()
        .filter(|l| !seen.insert(&l.bank_reference))
        .map(|l| l.bank_reference.clone())
        .collect();
    verdict(
        twice
            .into_iter()
            .map(|r| format!("{r} comes twice in one range"))
            .collect(),
    )
}

/// What identifies a line's booking: date, direction and amount.
fn booking(line: &Transaction) -> (String, bool, String, String) {
    (
        line.booking_date.clone(),
        line.direction == Direction::Credit,
        line.amount.amount.clone(),
        line.amount.currency.clone(),
    )
}

/// The lines of `whole` booked from `mid` on are exactly `later`'s, by
/// reference and booking.
fn agree(whole: &[Transaction], later: &[Transaction], mid: NaiveDate) -> Outcome {
    let in_later =
        |l: &&Transaction| NaiveDate::from_str(&l.booking_date).is_ok_and(|day| day >= mid);
    let a: BTreeMap<&str, _> = whole
        .iter()
        .filter(in_later)
        .map(|l| (l.bank_reference.as_str(), booking(l)))
        .collect();
    let b: BTreeMap<&str, _> = later
        .iter()
        .map(|l| (l.bank_reference.as_str(), booking(l)))
        .collect();
    let mut problems = Vec::new();
    for (reference, line) in &b {
        match a.get(reference) {
            None => problems.push(format!(
                "{reference} ({}) is in the later range only",
                line.0
            )),
            Some(other) if other != line => problems.push(format!(
                "{reference} is {other:?} in the whole range but {line:?} in the later one"
            )),
            Some(_) => {}
        }
    }
    for reference in a.keys().filter(|r| !b.contains_key(*r)) {
        problems.push(format!("{reference} is missing from the later range"));
    }
    verdict(problems)
}

async fn balance(plugin: &Plugin, ctx: &CallContext, account: &str) -> Outcome {
    match plugin.get_balance(ctx.clone(), account).await {
        Ok(balance) => {
            let booked = &balance.booked;
            if Decimal::from_str(&booked.amount).is_err() {
                Outcome::Failed(format!("booked `{}` is not a decimal", booked.amount))
            } else if booked.currency.len() != 3 {
                Outcome::Failed(format!("currency `{}` is not ISO 4217", booked.currency))
            } else {
                Outcome::Passed
            }
        }
        Err(CallError::Connector {
            error: ConnectorError::Unsupported(why),
            ..
        }) => Outcome::Skipped(format!("get-balance is unsupported: {why}")),
        Err(e) => Outcome::Failed(format!("get-balance: {e}")),
    }
}

/// A fetch that must fail permanently: a connector error the host does not
/// retry (not a trap, a timeout or `unavailable`).
async fn permanent(
    plugin: &Plugin,
    ctx: CallContext,
    account: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Outcome {
    let query = StatementQuery {
        account: account.to_owned(),
        from: from.to_string(),
        to: to.to_string(),
        continuation: None,
    };
    match plugin.fetch_statement(ctx, &query).await {
        Ok(page) => Outcome::Failed(format!(
            "fetch-statement of {account} answered {} lines instead of an error",
            page.transactions.len()
        )),
        Err(e @ CallError::Connector { .. }) if !e.is_retryable() => Outcome::Passed,
        Err(e) => Outcome::Failed(format!("a retryable or non-contract error: {e}")),
    }
}

fn verdict(problems: Vec<String>) -> Outcome {
    if problems.is_empty() {
        Outcome::Passed
    } else {
        let shown: Vec<&str> = problems.iter().take(5).map(String::as_str).collect();
        let more = problems.len().saturating_sub(shown.len());
        let mut text = shown.join("; ");
        if more > 0 {
            text.push_str(&format!("; and {more} more"));
        }
        Outcome::Failed(text)
    }
}
