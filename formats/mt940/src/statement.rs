//! The statement model: one `:20:` … `-` message for one account.

use rust_decimal::Decimal;

use crate::balance::Balance;
use crate::decode::Encoding;
use crate::details86::Details;
use crate::line61::Transaction;
use crate::mt942::{DateTimeIndication, EntrySummary, FloorLimit};

/// Which message a statement is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// MT940 customer statement (end of day): opening and closing balance.
    Mt940,
    /// MT942 interim transaction report (intraday): `:34F:`, `:13D:`,
    /// `:90D:`/`:90C:`, no balances required. Recognised by those tags or a
    /// SWIFT block 2 naming 942.
    Mt942,
}

/// A tag this parser does not interpret, kept as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownTag {
    /// 1-based line of the tag.
    pub line: usize,
    /// The tag without colons, e.g. `12`.
    pub tag: String,
    /// The value, lines joined with `\n`.
    pub value: String,
}

/// One statement (MT940) or interim report (MT942) for one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// MT940 or MT942.
    pub kind: Kind,
    /// The text encoding the file was read in.
    pub encoding: Encoding,
    /// 1-based line of the `:20:` tag.
    pub line: usize,
    /// `:20:` transaction reference number (mBank: `ST170119CYC/1`).
    pub reference: String,
    /// `:21:` related reference.
    pub related_reference: Option<String>,
    /// `:25:` account as sent (may start with `/`, or be `BLZ/account`).
    pub account: String,
    /// `:28C:` statement number (before the `/`).
    pub statement_number: Option<String>,
    /// `:28C:` sequence number (after the `/`).
    pub sequence_number: Option<String>,
    /// `:60F:`/`:60M:` opening balance.
    pub opening_balance: Option<Balance>,
    /// `:62F:`/`:62M:` closing balance.
    pub closing_balance: Option<Balance>,
    /// `:64:` closing available balance.
    pub closing_available_balance: Option<Balance>,
    /// `:65:` forward available balances.
    pub forward_available_balances: Vec<Balance>,
    /// MT942 `:34F:` floor limits.
    pub floor_limits: Vec<FloorLimit>,
    /// MT942 `:13D:` date and time of the report.
    pub date_time: Option<DateTimeIndication>,
    /// MT942 `:90D:`: number and sum of debit entries.
    pub debit_summary: Option<EntrySummary>,
    /// MT942 `:90C:`: number and sum of credit entries.
    pub credit_summary: Option<EntrySummary>,
    /// The statement lines in order.
    pub transactions: Vec<Transaction>,
    /// `:86:` not attached to a line (after the closing balance, or
    /// before the first line): information for the whole statement.
    pub info: Option<Details>,
    /// Tags not interpreted, in order.
    pub unknown_tags: Vec<UnknownTag>,
}

impl Statement {
    /// The account without a leading `/` and surrounding spaces
    /// (`/PL61…` → `PL61…`).
    pub fn account_id(&self) -> &str {
        self.account.trim().trim_start_matches('/').trim()
    }

    /// The statement's currency: of the opening balance, else the closing
    /// balance, else the first floor limit or entry summary.
    pub fn currency(&self) -> Option<&str> {
        self.opening_balance
            .as_ref()
            .or(self.closing_balance.as_ref())
            .map(|b| b.currency.as_str())
            .or_else(|| self.floor_limits.first().map(|f| f.currency.as_str()))
            .or_else(|| self.debit_summary.as_ref().map(|s| s.currency.as_str()))
            .or_else(|| self.credit_summary.as_ref().map(|s| s.currency.as_str()))
    }

    /// Closing balance minus opening balance minus the sum of the lines:
    /// zero when the statement adds up. `None` without both balances, or
    /// when they differ in currency. Not checked by the parser (banks do
    /// send statements that do not add up); a connector decides.
    pub fn balance_difference(&self) -> Option<Decimal> {
        let (open, close) = (
            self.opening_balance.as_ref()?,
            self.closing_balance.as_ref()?,
        );
        if open.currency != close.currency {
            return None;
        }
        let moved = self
            .transactions
            .iter()
            .try_fold(Decimal::ZERO, |sum, t| sum.checked_add(t.amount))?;
        close.amount.checked_sub(open.amount)?.checked_sub(moved)
    }

    /// Sum of credits (positive amounts) and of debits (negative amounts),
    /// `None` on overflow.
    pub fn totals(&self) -> Option<(Decimal, Decimal)> {
        self.transactions
            .iter()
            .try_fold((Decimal::ZERO, Decimal::ZERO), |(c, d), t| {
                if t.amount.is_sign_negative() {
                    Some((c, d.checked_add(t.amount)?))
                } else {
                    Some((c.checked_add(t.amount)?, d))
                }
            })
    }
}
