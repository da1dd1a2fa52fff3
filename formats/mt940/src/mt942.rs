//! The MT942 interim report's own fields: `:34F:` floor limits, `:13D:`
//! date-time indication, `:90D:`/`:90C:` entry counts and sums.

use rust_decimal::Decimal;

use crate::amount::{Mark, parse_amount, split_amount, split_currency};
use crate::balance::date_problem;
use crate::date::{Date, two};
use crate::error::{FieldProblem, malformed};

/// `:34F:` (`3!a[1!a]15d`): lines at or above this amount are reported.
/// One limit for both sides, or a `D` and a `C` one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FloorLimit {
    /// 1-based line of the tag.
    pub line: usize,
    /// Currency as sent.
    pub currency: String,
    /// The side the limit applies to; `None`: both.
    pub mark: Option<Mark>,
    /// The limit (unsigned).
    pub amount: Decimal,
}

impl FloorLimit {
    pub(crate) fn parse(line: usize, value: &str) -> Result<FloorLimit, FieldProblem> {
        let value = value.trim_end();
        let (currency, rest) = split_currency(value)?;
        let (mark, rest) = match rest.as_bytes().first() {
            Some(b'D') => (Some(Mark::Debit), rest.get(1..).unwrap_or_default()),
            Some(b'C') => (Some(Mark::Credit), rest.get(1..).unwrap_or_default()),
            _ => (None, rest),
        };
        Ok(FloorLimit {
            line,
            currency: currency.to_owned(),
            mark,
            amount: whole_amount(rest)?,
        })
    }
}

/// `:13D:` (`6!n4!n1!x4!n`): when the report was made, e.g.
/// `1701191530+0100`. The legacy `:13:` (`YYMMDDhhmm`) reads the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateTimeIndication {
    /// 1-based line of the tag.
    pub line: usize,
    /// The date as sent.
    pub date: Date,
    /// Hour as sent.
    pub hour: u8,
    /// Minute as sent.
    pub minute: u8,
    /// Offset from UTC in minutes, when given.
    pub utc_offset_minutes: Option<i16>,
    /// The value as sent.
    pub raw: String,
}

impl DateTimeIndication {
    pub(crate) fn parse(line: usize, value: &str) -> Result<DateTimeIndication, FieldProblem> {
        let value = value.trim_end();
        let date = Date::parse_yymmdd(value).ok_or_else(|| date_problem(value))?;
        let time = value.get(6..).unwrap_or_default();
        let (hour, minute) = match (two(time, 0), two(time, 2)) {
            (Some(h), Some(m)) => (h, m),
            _ if time.len() < 4 => {
                return Err(FieldProblem::Truncated {
                    expected: "time (hhmm)",
                });
            }
            _ => return Err(malformed("time (hhmm)", time)),
        };
        let offset = time.get(4..).unwrap_or_default();
        let utc_offset_minutes = match offset.as_bytes().first() {
            None => None,
            Some(&sign @ (b'+' | b'-')) => {
                let (h, m) = two(offset, 1)
                    .zip(two(offset, 3))
                    .filter(|_| offset.len() == 5)
                    .ok_or_else(|| malformed("UTC offset (±hhmm)", offset))?;
                let minutes = i16::from(h) * 60 + i16::from(m);
                Some(if sign == b'-' { -minutes } else { minutes })
            }
            Some(_) => return Err(malformed("UTC offset (±hhmm)", offset)),
        };
        Ok(DateTimeIndication {
            line,
            date,
            hour,
            minute,
            utc_offset_minutes,
            raw: value.to_owned(),
        })
    }
}

/// `:90D:` / `:90C:` (`5n3!a15d`): how many debit (credit) lines the
/// report has and their sum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntrySummary {
    /// 1-based line of the tag.
    pub line: usize,
    /// Number of entries.
    pub count: u32,
    /// Currency as sent.
    pub currency: String,
    /// Sum of the entries (unsigned, as sent).
    pub amount: Decimal,
}

impl EntrySummary {
    pub(crate) fn parse(line: usize, value: &str) -> Result<EntrySummary, FieldProblem> {
        let value = value.trim_end();
        let digits = value.bytes().take_while(u8::is_ascii_digit).count();
        let count_text = value.get(..digits).unwrap_or_default();
        if digits == 0 || digits > 9 {
            return Err(malformed("number of entries", value));
        }
        let count = count_text
            .parse()
            .map_err(|_| malformed("number of entries", count_text))?;
        let (currency, rest) = split_currency(value.get(digits..).unwrap_or_default())?;
        Ok(EntrySummary {
            line,
            count,
            currency: currency.to_owned(),
            amount: whole_amount(rest)?,
        })
    }
}

/// An amount that must be all of `text`.
fn whole_amount(text: &str) -> Result<Decimal, FieldProblem> {
    let (amount, tail) = split_amount(text);
    if amount.is_empty() && tail.is_empty() {
        return Err(FieldProblem::Truncated { expected: "amount" });
    }
    if !tail.is_empty() {
        return Err(malformed("amount", text));
    }
    parse_amount(amount)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn floor_limits() {
        let f = FloorLimit::parse(3, "PLND0,").unwrap();
        assert_eq!(
            (f.currency.as_str(), f.mark, f.amount),
            ("PLN", Some(Mark::Debit), Decimal::ZERO)
        );
        let f = FloorLimit::parse(3, "EUR100,5").unwrap();
        assert_eq!(f.mark, None);
        assert_eq!(f.amount, Decimal::from_str("100.5").unwrap());
        assert!(FloorLimit::parse(3, "PLNX1,").is_err());
    }

    #[test]
    fn date_time() {
        let d = DateTimeIndication::parse(5, "1701191530+0100").unwrap();
        assert_eq!(
            (d.date.year, d.hour, d.minute, d.utc_offset_minutes),
            (2017, 15, 30, Some(60))
        );
        let d = DateTimeIndication::parse(5, "1701191530").unwrap();
        assert_eq!(d.utc_offset_minutes, None);
        assert_eq!(
            DateTimeIndication::parse(5, "1701191530-0130")
                .unwrap()
                .utc_offset_minutes,
            Some(-90)
        );
        assert!(DateTimeIndication::parse(5, "17011915").is_err());
        assert!(DateTimeIndication::parse(5, "1701191530+01").is_err());
    }

    #[test]
    fn summaries() {
        let s = EntrySummary::parse(9, "3PLN150,75").unwrap();
        assert_eq!((s.count, s.currency.as_str()), (3, "PLN"));
        assert_eq!(s.amount, Decimal::from_str("150.75").unwrap());
        assert!(EntrySummary::parse(9, "PLN1,").is_err());
        assert!(EntrySummary::parse(9, "3PLN").is_err());
    }
}
