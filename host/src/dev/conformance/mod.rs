//! The conformance suite: what a connector must do for the host to keep an
//! ERP's books right, checked against the connector's provider (its test
//! environment or a simulator) through the runtime, as the host calls it.
//! `h2h plugin conform` runs it; so does CI on every shipped connector.
//!
//! - [`bank`]: statements (paging that ends, storable lines, none twice,
//!   overlapping ranges that agree), the balance, errors mapped as the
//!   contract says, and one batch per idempotency key.
//! - [`terminal`]: one charge per reference, status polling that ends,
//!   results mapped to the contract's codes, errors mapped as the contract
//!   says.

mod bank;
mod terminal;

pub use bank::{BankCase, BatchCase, MAX_PAGES, bank};
pub use terminal::{Expected, Sign, TerminalCase, terminal};

use serde::Serialize;

use crate::runtime::CallError;

/// What one check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "outcome", content = "detail")]
pub enum Outcome {
    /// It holds.
    Passed,
    /// It does not: why.
    Failed(String),
    /// It could not be checked: why (the connector does not offer it, or
    /// the case gave nothing to check it with).
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

    /// The outcome of check `name`, if it ran.
    pub fn outcome(&self, name: &str) -> Option<&Outcome> {
        self.checks
            .iter()
            .find(|c| c.name == name)
            .map(|c| &c.outcome)
    }
}

/// Passed when nothing is wrong, else the first five problems.
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

/// A call that must fail permanently: a connector error the host does not
/// retry (not a trap, a timeout, `unavailable` or `busy`).
fn permanent<T>(call: &str, answer: Result<T, CallError>, what: impl Fn(&T) -> String) -> Outcome {
    match answer {
        Ok(value) => Outcome::Failed(format!(
            "{call} answered {} instead of an error",
            what(&value)
        )),
        Err(e @ CallError::Connector { .. }) if !e.is_retryable() => Outcome::Passed,
        Err(e) => Outcome::Failed(format!("{call}: a retryable or non-contract error: {e}")),
    }
}

/// True for a three-letter upper-case code (ISO 4217's shape).
fn is_currency(code: &str) -> bool {
    code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase())
}

/// Some problem when `amount` is not a plain positive decimal (digits and
/// one `.`, no sign, no exponent: the contract's sign rule).
fn positive_amount(amount: &str) -> Option<String> {
    let plain = !amount.is_empty()
        && amount.chars().all(|c| c.is_ascii_digit() || c == '.')
        && amount.matches('.').count() <= 1;
    match amount.parse::<rust_decimal::Decimal>() {
        Ok(value) if plain && value > rust_decimal::Decimal::ZERO => None,
        _ => Some(format!(
            "amount `{amount}` is not a positive decimal (the direction or kind carries the sign)"
        )),
    }
}
