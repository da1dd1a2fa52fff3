//! MT940/MT942 lines as the contract's transactions, for any connector
//! whose bank sends MT940 (`features = ["bank", "mt940"]`). What makes a
//! line unique differs by bank (PKO's bank reference, mBank's TNR), so the
//! connector chooses the `bank_reference`; everything else is read the same
//! way from `:61:` and the Polish `:86:` subfields or mBank's free text.

use h2h_mt940::{Balance, Date, Transaction as Line};

use crate::Money;
use crate::bank::{Counterparty, Direction, Transaction};

/// The reference a bank writes when the payer gave none.
const NO_REFERENCE: &str = "NONREF";

/// A date as `YYYY-MM-DD`, also an impossible one (30 February) that the
/// bank wrote: the contract keeps value dates as sent.
pub fn date(date: &Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year, date.month, date.day)
}

/// A balance with its sign, in the contract's money.
pub fn balance(balance: &Balance) -> Money {
    Money::new(
        balance.mark.apply(balance.amount).to_string(),
        balance.currency.clone(),
    )
}

/// The payer's own reference: `:61:`'s customer reference unless it is
/// `NONREF`, lengthened from a `REF:` in `:86:` subfields 60–63 when the
/// bank cut it to SWIFT's 16 characters there.
pub fn own_reference(line: &Line) -> Option<String> {
    let short = line
        .customer_reference
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty() && *r != NO_REFERENCE)?;
    let full = line
        .details
        .as_ref()
        .and_then(|d| d.more_text())
        .and_then(|text| {
            text.split_whitespace()
                .find_map(|word| word.strip_prefix("REF:").map(str::to_owned))
        })
        .filter(|full| full.starts_with(short));
    Some(full.unwrap_or_else(|| short.to_owned()))
}

/// One line as a transaction of `currency`, keyed by `bank_reference`.
/// The booking date is the entry date when the line has one, else
/// `statement_date` (the date of the statement's closing balance).
pub fn transaction(
    line: &Line,
    currency: &str,
    bank_reference: String,
    statement_date: Option<&Date>,
) -> Transaction {
    let details = line.details.as_ref();
    let booking = line
        .entry_date
        .as_ref()
        .or(statement_date)
        .unwrap_or(&line.value_date);
    let direction = if line.mark.is_outflow() {
        Direction::Debit
    } else {
        Direction::Credit
    };
    // The parser signs amounts by the mark; the contract's are positive.
    let mut amount = line.amount.abs();
    if amount.scale() < 2 {
        amount.rescale(2);
    }
    let title = details
        .and_then(|d| d.title())
        .or_else(|| details.map(|d| d.text()))
        .unwrap_or_default();
    let mut transaction = Transaction::new(
        bank_reference,
        date(booking),
        direction,
        Money::new(amount.to_string(), currency),
        title,
    );
    transaction.value_date = Some(date(&line.value_date));
    transaction.own_reference = own_reference(line);
    transaction.type_code = details
        .and_then(|d| d.operation_code.clone())
        .or_else(|| Some(line.transaction_type.clone()).filter(|t| !t.is_empty()));
    transaction.counterparty = Counterparty {
        name: details.and_then(|d| d.counterparty_name()),
        account: details.and_then(|d| d.counterparty_account()),
        bank: details.and_then(|d| d.bank_code()),
        ..Counterparty::default()
    };
    let mut extra = vec![("mt940.mark".to_owned(), line.mark.code().to_owned())];
    extra.push(("mt940.type".to_owned(), line.transaction_type.clone()));
    if let Some(text) = details.and_then(|d| d.transaction_text()) {
        extra.push(("mt940.86.00".to_owned(), text));
    }
    if let Some(more) = details.and_then(|d| d.more_text()) {
        extra.push(("mt940.86.60".to_owned(), more));
    }
    if let Some(reference) = &line.bank_reference {
        extra.push(("mt940.bank-reference".to_owned(), reference.clone()));
    }
    transaction.extra = extra;
    transaction
}
