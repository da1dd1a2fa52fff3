//! Lenient dates: kept as sent, validated only on request.
//!
//! Banks do send impossible dates (30 February is a known case), and
//! refusing a whole statement for one would lose the money on it, so a
//! date is any six digits; [`Date::ymd`] says whether it exists.

use std::fmt;

/// A date as sent: year, month and day numbers plus the raw digits. The
/// numbers are not checked against the calendar; see [`Date::ymd`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Date {
    /// Four-digit year: `YY` 00–79 is 2000–2079, 80–99 is 1980–1999; for an
    /// `MMDD` entry date, inferred from the value date.
    pub year: u16,
    /// Month number as sent (may be 0 or over 12).
    pub month: u8,
    /// Day number as sent (may exceed the month's length).
    pub day: u8,
    /// The digits as sent: `YYMMDD`, or `MMDD` for an entry date.
    pub raw: String,
}

impl Date {
    /// `(year, month, day)` if this day exists in the Gregorian calendar,
    /// else `None`.
    pub fn ymd(&self) -> Option<(u16, u8, u8)> {
        let max = days_in_month(self.year, self.month)?;
        (1..=max)
            .contains(&self.day)
            .then_some((self.year, self.month, self.day))
    }

    /// Whether the date exists (see [`Date::ymd`]).
    pub fn is_valid(&self) -> bool {
        self.ymd().is_some()
    }

    /// `YYYY-MM-DD` if the date exists, else `None`.
    pub fn iso(&self) -> Option<String> {
        self.ymd().map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}"))
    }

    /// Parses `YYMMDD`; `None` unless exactly six ASCII digits lead `text`.
    pub(crate) fn parse_yymmdd(text: &str) -> Option<Date> {
        let raw = text.get(..6)?;
        let [yy, mm, dd] = [two(raw, 0)?, two(raw, 2)?, two(raw, 4)?];
        let year = (if yy < 80 { 2000 } else { 1900 }) + u16::from(yy);
        Some(Date {
            year,
            month: mm,
            day: dd,
            raw: raw.to_owned(),
        })
    }

    /// Parses an `MMDD` entry date, taking the year (of the value date's
    /// year and its neighbours) that puts it nearest the value date, so a
    /// 31 December value date booked on 2 January lands in the next year.
    pub(crate) fn parse_mmdd_near(text: &str, near: &Date) -> Option<Date> {
        let raw = text.get(..4)?;
        let (month, day) = (two(raw, 0)?, two(raw, 2)?);
        let ordinal = |y: i64, m: u8, d: u8| y * 372 + i64::from(m) * 31 + i64::from(d);
        let target = ordinal(i64::from(near.year), near.month, near.day);
        let year = [
            near.year.saturating_sub(1),
            near.year,
            near.year.saturating_add(1),
        ]
        .into_iter()
        .min_by_key(|&y| (ordinal(i64::from(y), month, day) - target).abs())
        .unwrap_or(near.year);
        Some(Date {
            year,
            month,
            day,
            raw: raw.to_owned(),
        })
    }
}

impl fmt::Display for Date {
    /// `YYYY-MM-DD` from the numbers as sent, valid or not.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Two ASCII digits at `at` as a number.
pub(crate) fn two(text: &str, at: usize) -> Option<u8> {
    let b = text.as_bytes();
    let (hi, lo) = (*b.get(at)?, *b.get(at + 1)?);
    (hi.is_ascii_digit() && lo.is_ascii_digit()).then(|| (hi - b'0') * 10 + (lo - b'0'))
}

fn days_in_month(year: u16, month: u8) -> Option<u8> {
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => Some(31),
        4 | 6 | 9 | 11 => Some(30),
        2 if leap => Some(29),
        2 => Some(28),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirtieth_of_february_is_kept_but_not_valid() {
        let d = Date::parse_yymmdd("160230").unwrap();
        assert_eq!(
            (d.year, d.month, d.day, d.raw.as_str()),
            (2016, 2, 30, "160230")
        );
        assert_eq!(d.ymd(), None);
        assert_eq!(d.to_string(), "2016-02-30");
        assert_eq!(
            Date::parse_yymmdd("160229").unwrap().iso().as_deref(),
            Some("2016-02-29")
        );
    }

    #[test]
    fn century_pivot() {
        assert_eq!(Date::parse_yymmdd("991231").unwrap().year, 1999);
        assert_eq!(Date::parse_yymmdd("261102").unwrap().year, 2026);
        assert!(Date::parse_yymmdd("26110").is_none());
        assert!(Date::parse_yymmdd("2611x2").is_none());
    }

    #[test]
    fn entry_year_crosses_year_end() {
        let value = Date::parse_yymmdd("251231").unwrap();
        assert_eq!(Date::parse_mmdd_near("0102", &value).unwrap().year, 2026);
        let value = Date::parse_yymmdd("260102").unwrap();
        assert_eq!(Date::parse_mmdd_near("1231", &value).unwrap().year, 2025);
        assert_eq!(Date::parse_mmdd_near("0103", &value).unwrap().year, 2026);
    }
}
