//! Money: an amount written `digits[.digits]` in an ISO 4217 currency,
//! with no more decimals than the currency's minor units.
//!
//! One grammar for every amount the ERP sends (receivables, transfers,
//! card payments): no sign, exponent, grouping or spaces, so `"1e3"`,
//! `"+100"` and `" 100 "` are refused rather than read three ways. Amounts
//! go out with exactly the currency's minor units (`"23416.90"` UAH,
//! `"500"` JPY).

use std::fmt;

use rust_decimal::Decimal;

/// Most digits before the decimal point: below a trillion, which every
/// bank format the connectors speak can carry (MT940's 15 characters with
/// two decimals, Elixir, SEPA's 999999999.99 included).
pub const MAX_INTEGER_DIGITS: usize = 12;

/// Longest piece of a refused value quoted back in an error.
const QUOTED_CHARS: usize = 40;

/// Why a currency or an amount was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Not an ISO 4217 code with minor units (metals, testing codes and
    /// unknown codes have none).
    #[error("currency `{0}` is not an ISO 4217 currency code like UAH, PLN or EUR")]
    UnknownCurrency(String),
    /// The text is not an amount in the grammar.
    #[error(
        "amount `{text}` is not written like 1234.50: digits, at most one `.`, no sign, exponent, grouping or spaces"
    )]
    Grammar {
        /// What was given (cut).
        text: String,
    },
    /// More decimals than the currency has minor units.
    #[error("amount `{text}` has more decimals than {currency}'s {minor_units}")]
    TooPrecise {
        /// What was given (cut).
        text: String,
        /// The currency.
        currency: &'static str,
        /// Its minor units.
        minor_units: u32,
    },
    /// More than [`MAX_INTEGER_DIGITS`] digits before the point.
    #[error("amount `{text}` is too large: at most {MAX_INTEGER_DIGITS} digits before the point")]
    TooLarge {
        /// What was given (cut).
        text: String,
    },
    /// Zero.
    #[error("amount `{text}` must be more than zero")]
    NotPositive {
        /// What was given (cut).
        text: String,
    },
}

/// An ISO 4217 currency that has minor units.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Currency(iso_currency::Currency);

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Currency {
    /// The currency with this code: three capital letters that ISO 4217
    /// lists with minor units.
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        let well_formed = code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase());
        well_formed
            .then(|| iso_currency::Currency::from_code(code))
            .flatten()
            .filter(|c| c.exponent().is_some())
            .map(Currency)
            .ok_or_else(|| MoneyError::UnknownCurrency(cut(code)))
    }

    /// The three-letter code.
    pub fn code(&self) -> &'static str {
        self.0.code()
    }

    /// Decimals of the minor unit (2 for UAH, 0 for JPY, 3 for BHD).
    pub fn minor_units(&self) -> u32 {
        // `parse` admits only currencies with an exponent.
        u32::from(self.0.exponent().unwrap_or(0))
    }

    /// Reads a positive amount in this currency.
    pub fn amount(&self, text: &str) -> Result<Decimal, MoneyError> {
        let (units, fraction) = match text.split_once('.') {
            Some((units, fraction)) => (units, Some(fraction)),
            None => (text, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(units) || fraction.is_some_and(|f| !digits(f)) {
            return Err(MoneyError::Grammar { text: cut(text) });
        }
        if units.trim_start_matches('0').len() > MAX_INTEGER_DIGITS {
            return Err(MoneyError::TooLarge { text: cut(text) });
        }
        let decimals = fraction.map_or(0, |f| f.trim_end_matches('0').len());
        if decimals > self.minor_units() as usize {
            return Err(MoneyError::TooPrecise {
                text: cut(text),
                currency: self.code(),
                minor_units: self.minor_units(),
            });
        }
        // Checked above: at most 12 + 3 significant digits, which Decimal
        // holds exactly.
        let value: Decimal = text
            .parse()
            .map_err(|_| MoneyError::Grammar { text: cut(text) })?;
        if value <= Decimal::ZERO {
            return Err(MoneyError::NotPositive { text: cut(text) });
        }
        Ok(value.normalize())
    }

    /// `value` with exactly this currency's minor units: `23416.90`.
    pub fn format(&self, value: Decimal) -> String {
        let mut shown = value;
        shown.rescale(self.minor_units());
        shown.to_string()
    }

    /// A stored amount as the API shows it: in the currency's minor units
    /// when both read; as stored otherwise (a bank's line in a currency
    /// ISO 4217 does not list is still shown, not hidden).
    pub fn show(currency: &str, stored: &str) -> String {
        match (Currency::parse(currency), stored.parse::<Decimal>()) {
            (Ok(currency), Ok(value)) if value.scale() <= currency.minor_units() => {
                currency.format(value)
            }
            _ => stored.to_owned(),
        }
    }
}

/// At most [`QUOTED_CHARS`] characters of `text`, to quote it back.
fn cut(text: &str) -> String {
    match text.char_indices().nth(QUOTED_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uah() -> Currency {
        Currency::parse("UAH").unwrap()
    }

    #[test]
    fn currencies_are_iso_4217_codes_with_minor_units() {
        assert_eq!(uah().minor_units(), 2);
        assert_eq!(Currency::parse("JPY").unwrap().minor_units(), 0);
        assert_eq!(Currency::parse("BHD").unwrap().minor_units(), 3);
        for refused in ["uah", "XAU", "XTS", "ABC", "UAHX", "", "ŁŁŁ"] {
            assert_eq!(
                Currency::parse(refused),
                Err(MoneyError::UnknownCurrency(refused.to_owned())),
                "{refused}"
            );
        }
    }

    #[test]
    fn amounts_have_one_grammar() {
        for (text, value) in [("100", "100"), ("1234.50", "1234.5"), ("0.01", "0.01")] {
            assert_eq!(uah().amount(text).unwrap().to_string(), value, "{text}");
        }
        for text in [
            "1e3", "+100", "-1", " 100 ", "100 ", "1,00", "1 000", ".5", "5.", "", "1.2.3", "٣",
        ] {
            assert_eq!(
                uah().amount(text),
                Err(MoneyError::Grammar { text: text.into() }),
                "{text}"
            );
        }
    }

    #[test]
    fn decimals_stop_at_the_minor_unit_and_size_at_a_trillion() {
        assert!(matches!(
            uah().amount("0.001"),
            Err(MoneyError::TooPrecise { .. })
        ));
        assert_eq!(uah().amount("1.500").unwrap().to_string(), "1.5");
        assert!(matches!(
            Currency::parse("JPY").unwrap().amount("1.5"),
            Err(MoneyError::TooPrecise { minor_units: 0, .. })
        ));
        assert!(Currency::parse("BHD").unwrap().amount("1.005").is_ok());
        assert!(uah().amount("999999999999.99").is_ok());
        assert!(matches!(
            uah().amount("1000000000000"),
            Err(MoneyError::TooLarge { .. })
        ));
        assert!(matches!(
            uah().amount("0000000000000001"),
            Ok(v) if v.to_string() == "1"
        ));
        assert!(matches!(
            uah().amount("0.00"),
            Err(MoneyError::NotPositive { .. })
        ));
        let long = "9".repeat(100_000);
        let refused = uah().amount(&long).unwrap_err().to_string();
        assert!(refused.len() < 200, "{refused}");
    }

    #[test]
    fn amounts_go_out_in_minor_units() {
        assert_eq!(uah().format("23416.9".parse().unwrap()), "23416.90");
        assert_eq!(Currency::show("UAH", "23416.9"), "23416.90");
        assert_eq!(Currency::show("JPY", "500"), "500");
        assert_eq!(Currency::show("BHD", "1.5"), "1.500");
        // What cannot be shown in minor units is shown as stored.
        assert_eq!(Currency::show("XAU", "1.25"), "1.25");
        assert_eq!(Currency::show("UAH", "0.001"), "0.001");
    }
}
