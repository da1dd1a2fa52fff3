//! Balances: `:60F:`/`:60M:`, `:62F:`/`:62M:`, `:64:`, `:65:`
//! (`1!a6!n3!a15d`: mark, date, currency, amount).

use rust_decimal::Decimal;

use crate::amount::{Mark, parse_amount, split_amount, split_currency};
use crate::date::Date;
use crate::error::{FieldProblem, malformed};

/// A balance line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    /// 1-based line of the tag.
    pub line: usize,
    /// `M` tags (`:60M:`, `:62M:`): an intermediate balance of a statement
    /// split over several messages; `F` and the untagged `:64:`/`:65:`: not.
    pub intermediate: bool,
    /// [`Mark::Credit`] or [`Mark::Debit`].
    pub mark: Mark,
    /// Balance date as sent.
    pub date: Date,
    /// ISO 4217 code as sent, e.g. `PLN`.
    pub currency: String,
    /// Signed: negative for a debit balance (a zero debit balance is 0).
    pub amount: Decimal,
}

impl Balance {
    pub(crate) fn parse(line: usize, tag: &str, value: &str) -> Result<Balance, FieldProblem> {
        let value = value.trim_end();
        let mark = match value.as_bytes().first() {
            Some(b'C') => Mark::Credit,
            Some(b'D') => Mark::Debit,
            Some(_) => return Err(malformed("debit/credit mark (C or D)", value)),
            None => {
                return Err(FieldProblem::Truncated {
                    expected: "debit/credit mark",
                });
            }
        };
        let rest = value.get(1..).unwrap_or_default();
        let date = Date::parse_yymmdd(rest).ok_or_else(|| date_problem(rest))?;
        let (currency, rest) = split_currency(rest.get(6..).unwrap_or_default())?;
        let (amount, tail) = split_amount(rest);
        if amount.is_empty() {
            return Err(FieldProblem::Truncated { expected: "amount" });
        }
        if !tail.is_empty() {
            return Err(malformed("amount", rest));
        }
        Ok(Balance {
            line,
            intermediate: tag.ends_with('M'),
            mark,
            date,
            currency: currency.to_owned(),
            amount: mark.apply(parse_amount(amount)?),
        })
    }
}

/// The problem with a date that did not parse: too short, or not digits.
pub(crate) fn date_problem(text: &str) -> FieldProblem {
    if text.len() < 6 {
        FieldProblem::Truncated {
            expected: "date (YYMMDD)",
        }
    } else {
        malformed("date (YYMMDD)", text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn debit_zero_and_credit() {
        let b = Balance::parse(4, "60F", "D170119PLN1234,50").unwrap();
        assert_eq!(b.amount, Decimal::from_str("-1234.50").unwrap());
        assert_eq!(b.currency, "PLN");
        assert!(!b.intermediate);
        let z = Balance::parse(4, "62M", "D170119PLN0,").unwrap();
        assert!(z.amount.is_zero() && !z.amount.is_sign_negative());
        assert!(z.intermediate);
        assert!(Balance::parse(1, "60F", "C170119PLN").is_err());
        assert!(Balance::parse(1, "60F", "X170119PLN1,").is_err());
        assert!(Balance::parse(1, "60F", "C1701").is_err());
        assert!(Balance::parse(1, "60F", "C170119PLN1,0X").is_err());
    }
}
