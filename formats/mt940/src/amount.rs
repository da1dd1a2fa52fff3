//! Amounts (`15d`: digits with a decimal comma), debit/credit marks and
//! currency codes, shared by `:61:`, the balances and the MT942 fields.

use rust_decimal::Decimal;

use crate::error::{FieldProblem, malformed};

/// Debit or credit, as a line's mark or a balance's sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mark {
    /// `C`: money in.
    Credit,
    /// `D`: money out.
    Debit,
    /// `RC`: reversal of a credit, so money out.
    ReversalOfCredit,
    /// `RD`: reversal of a debit, so money in.
    ReversalOfDebit,
}

impl Mark {
    /// The mark as sent: `C`, `D`, `RC` or `RD`.
    pub fn code(self) -> &'static str {
        match self {
            Mark::Credit => "C",
            Mark::Debit => "D",
            Mark::ReversalOfCredit => "RC",
            Mark::ReversalOfDebit => "RD",
        }
    }

    /// Whether money leaves the account (`D` and `RC`).
    pub fn is_outflow(self) -> bool {
        matches!(self, Mark::Debit | Mark::ReversalOfCredit)
    }

    /// Whether this is a reversal (`RC`, `RD`).
    pub fn is_reversal(self) -> bool {
        matches!(self, Mark::ReversalOfCredit | Mark::ReversalOfDebit)
    }

    /// `amount` with this mark's sign: negative for outflows. Zero stays
    /// plain zero (no `-0`).
    pub fn apply(self, amount: Decimal) -> Decimal {
        if self.is_outflow() && !amount.is_zero() {
            -amount
        } else {
            amount
        }
    }
}

/// Splits a leading run of amount characters (digits and commas) off `text`.
pub(crate) fn split_amount(text: &str) -> (&str, &str) {
    let end = text
        .find(|c: char| !(c.is_ascii_digit() || c == ','))
        .unwrap_or(text.len());
    (
        text.get(..end).unwrap_or_default(),
        text.get(end..).unwrap_or_default(),
    )
}

/// Parses `1234,56`, `0,`, `800,` (SWIFT `15d`). Up to 28 digits in all
/// (what a `Decimal` holds); one comma at most; at least one digit.
pub(crate) fn parse_amount(text: &str) -> Result<Decimal, FieldProblem> {
    let bad = || malformed("amount", text);
    let (int, frac) = match text.split_once(',') {
        Some((int, frac)) => (int, frac),
        None => (text, ""),
    };
    let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.len() + frac.len() == 0
        || int.len() + frac.len() > 28
        || !digits_only(int)
        || !digits_only(frac)
    {
        return Err(bad());
    }
    let mut mantissa: i128 = 0;
    for b in int.bytes().chain(frac.bytes()) {
        mantissa = mantissa * 10 + i128::from(b - b'0');
    }
    let scale = u32::try_from(frac.len()).map_err(|_| bad())?;
    Decimal::try_from_i128_with_scale(mantissa, scale).map_err(|_| bad())
}

/// A three-letter currency code at the start of `text`, and the rest.
pub(crate) fn split_currency(text: &str) -> Result<(&str, &str), FieldProblem> {
    match text.get(..3) {
        Some(code) if code.bytes().all(|b| b.is_ascii_alphabetic()) => {
            Ok((code, text.get(3..).unwrap_or_default()))
        }
        Some(_) => Err(malformed("currency code", text)),
        None => Err(FieldProblem::Truncated {
            expected: "currency code",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn amounts() {
        assert_eq!(parse_amount("1234,56").unwrap(), dec("1234.56"));
        assert_eq!(parse_amount("800,").unwrap(), dec("800"));
        assert_eq!(parse_amount("0,").unwrap(), Decimal::ZERO);
        assert_eq!(parse_amount(",5").unwrap(), dec("0.5"));
        assert_eq!(parse_amount("12").unwrap(), dec("12"));
        assert!(parse_amount("").is_err());
        assert!(parse_amount(",").is_err());
        assert!(parse_amount("1,2,3").is_err());
        assert!(parse_amount(&"9".repeat(29)).is_err());
        assert!(parse_amount(&"9".repeat(28)).is_ok());
    }

    #[test]
    fn signs() {
        assert_eq!(Mark::Debit.apply(dec("5")), dec("-5"));
        assert_eq!(Mark::ReversalOfCredit.apply(dec("5")), dec("-5"));
        assert_eq!(Mark::ReversalOfDebit.apply(dec("5")), dec("5"));
        assert!(!Mark::Debit.apply(Decimal::ZERO).is_sign_negative());
    }
}
