//! `:61:` statement lines:
//! `6!n[4!n]2a[1!a]15d1!a3!c16x[//16x]` plus an optional second line `[34x]`.
//!
//! value date, entry date, mark (`C`, `D`, `RC`, `RD`), funds code (the
//! third letter of the currency; mBank: `N` PLN, `R` EUR, `D` USD), amount,
//! transaction type (`N`/`F`/`S` + 3), customer reference (`NONREF` =
//! none), `//` bank reference, then the supplementary details line.

use rust_decimal::Decimal;

use crate::amount::{Mark, parse_amount, split_amount};
use crate::balance::date_problem;
use crate::date::Date;
use crate::details86::Details;
use crate::error::{FieldProblem, malformed};
use crate::lexer::Line;

/// One statement line (`:61:`) and its details (`:86:`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// 1-based line of the `:61:` tag.
    pub line: usize,
    /// Value date as sent.
    pub value_date: Date,
    /// Entry (booking) date, `MMDD` with the year inferred from the value
    /// date.
    pub entry_date: Option<Date>,
    /// Debit, credit or a reversal of one.
    pub mark: Mark,
    /// Funds code: the letter between mark and amount, when sent (the
    /// currency's third letter, e.g. mBank's `N` for PLN).
    pub funds_code: Option<char>,
    /// Signed by the mark: negative for `D` and `RC`.
    pub amount: Decimal,
    /// Four characters, e.g. `NTRF`, `N024`, `S095`.
    pub transaction_type: String,
    /// Reference for the account owner; `None` for `NONREF` or when absent.
    pub customer_reference: Option<String>,
    /// The bank's reference after `//`.
    pub bank_reference: Option<String>,
    /// The line after `:61:` that is not a tag (mBank: `911-TRANSAKCJA IPH`).
    pub supplementary_details: Option<String>,
    /// The `:86:` that follows the line, if any.
    pub details: Option<Details>,
}

impl Transaction {
    /// mBank's TNR from the details (see [`Details::tnr`]): the key that
    /// ties an MT942 line to its MT940 copy.
    pub fn tnr(&self) -> Option<&str> {
        self.details.as_ref().and_then(Details::tnr)
    }

    /// Parses a `:61:` value. `require_reference`: whether a missing
    /// customer reference is an error (SWIFT) or read as none.
    pub(crate) fn parse(
        line: usize,
        first: &str,
        more: &[Line<'_>],
        require_reference: bool,
    ) -> Result<Transaction, FieldProblem> {
        let value_date = Date::parse_yymmdd(first).ok_or_else(|| date_problem(first))?;
        let mut rest = first.get(6..).unwrap_or_default();
        let entry_date = Date::parse_mmdd_near(rest, &value_date);
        if entry_date.is_some() {
            rest = rest.get(4..).unwrap_or_default();
        }
        let (mark, after_mark) = split_mark(rest)?;
        rest = after_mark;
        let funds_code = rest.chars().next().filter(char::is_ascii_alphabetic);
        if funds_code.is_some() {
            rest = rest.get(1..).unwrap_or_default();
        }
        let (amount_text, after_amount) = split_amount(rest);
        if amount_text.is_empty() {
            return Err(match rest.is_empty() {
                true => FieldProblem::Truncated { expected: "amount" },
                false => malformed("amount", rest),
            });
        }
        let amount = mark.apply(parse_amount(amount_text)?);
        let (transaction_type, rest) = split_type(after_amount)?;
        let (reference, bank_reference) = match rest.split_once("//") {
            Some((r, b)) => (r, Some(b)),
            None => (rest, None),
        };
        let reference = reference.trim_end();
        if reference.is_empty() && require_reference {
            return Err(FieldProblem::MissingReference {
                transaction_type: transaction_type.to_owned(),
            });
        }
        let supplementary: Vec<&str> = more.iter().map(|l| l.text.trim_end()).collect();
        Ok(Transaction {
            line,
            value_date,
            entry_date,
            mark,
            funds_code,
            amount,
            transaction_type: transaction_type.to_owned(),
            customer_reference: non_empty(reference).filter(|r| r != "NONREF"),
            bank_reference: bank_reference.and_then(|b| non_empty(b.trim())),
            supplementary_details: non_empty(&supplementary.join("\n")),
            details: None,
        })
    }
}

fn split_mark(text: &str) -> Result<(Mark, &str), FieldProblem> {
    let (mark, len) = match text.as_bytes() {
        [b'R', b'C', ..] => (Mark::ReversalOfCredit, 2),
        [b'R', b'D', ..] => (Mark::ReversalOfDebit, 2),
        [b'C', ..] => (Mark::Credit, 1),
        [b'D', ..] => (Mark::Debit, 1),
        [] => {
            return Err(FieldProblem::Truncated {
                expected: "debit/credit mark",
            });
        }
        _ => return Err(malformed("debit/credit mark (C, D, RC or RD)", text)),
    };
    Ok((mark, text.get(len..).unwrap_or_default()))
}

/// `N`, `F` or `S` and three more characters.
fn split_type(text: &str) -> Result<(&str, &str), FieldProblem> {
    if !matches!(text.as_bytes().first(), Some(b'N' | b'F' | b'S') | None) {
        return Err(malformed(
            "transaction type (N, F or S + 3 characters)",
            text,
        ));
    }
    match (text.get(..4), text.get(4..)) {
        (Some(kind), Some(rest)) if kind.is_ascii() => Ok((kind, rest)),
        (Some(_), Some(_)) => Err(malformed(
            "transaction type (N, F or S + 3 characters)",
            text,
        )),
        _ => Err(FieldProblem::Truncated {
            expected: "transaction type",
        }),
    }
}

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn parse(first: &str) -> Result<Transaction, FieldProblem> {
        Transaction::parse(1, first, &[], true)
    }

    #[test]
    fn mbank_line() {
        let more = [Line {
            number: 2,
            text: "911-TRANSAKCJA IPH",
        }];
        let t = Transaction::parse(1, "1701190119CN0,01NTRFNONREF//MB170119012058", &more, true)
            .unwrap();
        assert_eq!(t.entry_date.unwrap().raw, "0119");
        assert_eq!((t.mark, t.funds_code), (Mark::Credit, Some('N')));
        assert_eq!(t.amount, Decimal::from_str("0.01").unwrap());
        assert_eq!(t.transaction_type, "NTRF");
        assert_eq!(t.customer_reference, None);
        assert_eq!(t.bank_reference.as_deref(), Some("MB170119012058"));
        assert_eq!(
            t.supplementary_details.as_deref(),
            Some("911-TRANSAKCJA IPH")
        );
    }

    #[test]
    fn reversals_and_references() {
        let t = parse("0211011102RD800,NSTOMYREF//55555").unwrap();
        assert_eq!(
            (t.mark, t.amount),
            (Mark::ReversalOfDebit, Decimal::from(800))
        );
        assert_eq!(t.customer_reference.as_deref(), Some("MYREF"));
        let t = parse("0211011102RCR800,NSTOX").unwrap();
        assert_eq!(
            (t.mark, t.funds_code, t.amount),
            (Mark::ReversalOfCredit, Some('R'), Decimal::from(-800))
        );
        let t = parse("0910010930DR62,60NCHGFees according//to advice").unwrap();
        assert_eq!(t.customer_reference.as_deref(), Some("Fees according"));
        assert_eq!(t.bank_reference.as_deref(), Some("to advice"));
        let t = parse("100722D25,03NTRFNONREF").unwrap();
        assert!(t.entry_date.is_none());
    }

    #[test]
    fn broken_lines() {
        assert!(matches!(
            parse("170914D233,15NMSC"),
            Err(FieldProblem::MissingReference { .. })
        ));
        assert!(Transaction::parse(1, "170914D233,15NMSC", &[], false).is_ok());
        assert!(matches!(parse("1709"), Err(FieldProblem::Truncated { .. })));
        assert!(matches!(
            parse("170914"),
            Err(FieldProblem::Truncated { .. })
        ));
        assert!(matches!(
            parse("170914D"),
            Err(FieldProblem::Truncated { .. })
        ));
        assert!(matches!(
            parse("170914D12,"),
            Err(FieldProblem::Truncated { .. })
        ));
        assert!(matches!(
            parse("170914X12,NTRFX"),
            Err(FieldProblem::Malformed { .. })
        ));
        assert!(matches!(
            parse("170914D12,XTRFX"),
            Err(FieldProblem::Malformed { .. })
        ));
        assert!(matches!(
            parse("170914DN"),
            Err(FieldProblem::Truncated { .. })
        ));
        assert!(matches!(
            parse("170914D12,NŻŻ"),
            Err(FieldProblem::Malformed { .. } | FieldProblem::Truncated { .. })
        ));
    }
}
