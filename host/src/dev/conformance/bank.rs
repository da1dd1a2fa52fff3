//! Bank connectors: statements, the balance, errors, and one batch per
//! idempotency key.

use std::collections::{BTreeMap, HashSet};
use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::{Outcome, Report, is_currency, permanent, positive_amount, verdict};
use crate::runtime::model::bank::{
    Counterparty, Direction, StatementQuery, Transaction, Transfer, TransferBatch,
};
use crate::runtime::model::{ConnectorError, Money};
use crate::runtime::{CallContext, CallError, Plugin};

/// The most pages one range may take; the host's own sync stops there too.
pub const MAX_PAGES: usize = 1000;

/// What to ask the bank for: an account with lines between `from` and `to`.
#[derive(Debug, Clone)]
pub struct BankCase {
    /// An account the credentials reach.
    pub account: String,
    /// First day, inclusive.
    pub from: NaiveDate,
    /// Last day, inclusive.
    pub to: NaiveDate,
    /// A transfer to send twice under one idempotency key; none skips the
    /// batch check (it moves money where the bank is not a test one).
    pub batch: Option<BatchCase>,
}

/// The one transfer of the batch check, from [`BankCase::account`].
#[derive(Debug, Clone)]
pub struct BatchCase {
    /// The beneficiary's account number.
    pub to_account: String,
    /// The beneficiary's name.
    pub to_name: String,
    /// The beneficiary's tax id, where the bank needs one (Privat24's
    /// EDRPOU).
    pub to_tax_id: Option<String>,
    /// A small amount, positive, in the account's currency.
    pub amount: Money,
    /// Send it editable in the bank, unsigned (`transfer-batch`).
    pub editable_in_bank: bool,
    /// The key to sign with, as `signing.list-certificates` names it.
    pub signing_key: Option<String>,
}

/// Runs every bank check; `ctx` carries the company's settings, secrets
/// and bank session, as the host would give them.
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
    let outcome = match &case.batch {
        Some(batch) => one_batch_per_key(plugin, ctx, &case.account, batch).await,
        None => Outcome::Skipped("the case names no transfer to send".to_owned()),
    };
    report.add("one-batch-per-key", outcome);
    report.add(
        "unknown-account-is-permanent",
        refused(
            plugin,
            ctx.clone(),
            "XX00H2HCONFORMANCE0000000000",
            case.from,
            case.to,
        )
        .await,
    );
    // Without its secrets and its bank session, a fetch must fail for good
    // (unauthorized, session-required), not look like a bank outage.
    let bare = CallContext {
        secrets: BTreeMap::new(),
        session: None,
        ..ctx.clone()
    };
    let outcome = if ctx.secrets.is_empty() && ctx.session.is_none() {
        Outcome::Skipped("the connector was given no secrets and no session".to_owned())
    } else {
        refused(plugin, bare, &case.account, case.from, case.to).await
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
        if let Some(problem) = positive_amount(&line.amount.amount) {
            problems.push(format!("{reference}: {problem}"));
        }
        let currency = &line.amount.currency;
        if !is_currency(currency) {
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
            } else if !is_currency(&booked.currency) {
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

/// A fetch that must fail permanently.
async fn refused(
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
    permanent(
        &format!("fetch-statement of {account}"),
        plugin.fetch_statement(ctx, &query).await,
        |page| format!("{} lines", page.transactions.len()),
    )
}

/// The same batch submitted twice under one idempotency key is one batch
/// at the bank: the second answer names the first's batch and transfers,
/// and the batch's status can be read back.
async fn one_batch_per_key(
    plugin: &Plugin,
    ctx: &CallContext,
    account: &str,
    case: &BatchCase,
) -> Outcome {
    let key = format!("h2h-conf-{}", chrono::Utc::now().timestamp_millis());
    let transfer_id = format!("{key}-1");
    let batch = TransferBatch {
        idempotency_key: key.clone(),
        account: account.to_owned(),
        transfers: vec![Transfer {
            id: transfer_id.clone(),
            counterparty: Counterparty {
                account: Some(case.to_account.clone()),
                name: Some(case.to_name.clone()),
                tax_id: case.to_tax_id.clone(),
                ..Counterparty::default()
            },
            amount: case.amount.clone(),
            title: "h2h conformance".to_owned(),
            execution_date: None,
            split_payment: None,
        }],
        editable_in_bank: case.editable_in_bank,
        signing_key: case.signing_key.clone(),
    };
    let first = match plugin.submit_batch(ctx.clone(), &batch).await {
        Ok(status) => status,
        Err(CallError::Connector {
            error: ConnectorError::Unsupported(why),
            ..
        }) => return Outcome::Skipped(format!("submit-batch is unsupported: {why}")),
        Err(e) => return Outcome::Failed(format!("submit-batch {key}: {e}")),
    };
    let again = match plugin.submit_batch(ctx.clone(), &batch).await {
        Ok(status) => status,
        Err(e) => {
            return Outcome::Failed(format!(
                "submit-batch {key} a second time (as the host does after a lost answer): {e}"
            ));
        }
    };
    let mut problems = Vec::new();
    if again.batch_id != first.batch_id {
        problems.push(format!(
            "the same key made batch `{}`, then `{}`",
            first.batch_id, again.batch_id
        ));
    }
    for (when, status) in [("first", &first), ("second", &again)] {
        let ids: Vec<&str> = status
            .transfers
            .iter()
            .map(|t| t.transfer_id.as_str())
            .collect();
        if ids != [transfer_id.as_str()] {
            problems.push(format!(
                "the {when} answer lists transfers {ids:?}, not [{transfer_id:?}]"
            ));
        }
    }
    match plugin.get_batch_status(ctx.clone(), &first.batch_id).await {
        Ok(status) if status.batch_id == first.batch_id => {}
        Ok(status) => problems.push(format!(
            "get-batch-status {} answered batch `{}`",
            first.batch_id, status.batch_id
        )),
        Err(e) => problems.push(format!("get-batch-status {}: {e}", first.batch_id)),
    }
    verdict(problems)
}
