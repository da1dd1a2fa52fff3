//! # h2h-mt940
//!
//! Reads MT940 statements and MT942 interim reports as Polish banks send
//! them: ZBP/MultiCash `:86:` subfields with any of the separators `~ ^ < ?`,
//! mBank CompanyNet (SOH/ETX framing, `;` free text with `TNR`), PKO, and
//! the ordinary SWIFT layout; in UTF-8, Windows-1250, ISO-8859-2 or CP852.
//!
//! ```
//! let file = b":20:ST170119CYC/1\n:25:PL29114010810000267002001002\n:28C:1/1\n\
//! :60F:C170119PLN0,40\n:61:1701190119CN0,01NTRFNONREF//MB170119012058\n\
//! :86:911 TRANSAKCJA; TYT.: FV 1; TNR: 179171073864111.010001\n\
//! :62F:C170119PLN0,41\n-\n";
//! let statements = h2h_mt940::parse(file)?;
//! let line = &statements[0].transactions[0];
//! assert_eq!(line.amount.to_string(), "0.01");
//! assert_eq!(line.tnr(), Some("179171073864111.010001"));
//! assert_eq!(statements[0].balance_difference(), Some(0.into()));
//! # Ok::<(), h2h_mt940::ParseError>(())
//! ```
//!
//! The parser is lenient where banks deviate harmlessly (impossible dates
//! are kept as sent, long `:86:` accepted, unknown tags kept) and strict
//! where money is at stake (amounts, marks, balances): every error names the
//! line. It never panics, whatever the input.
#![deny(missing_docs)]
// "Never panics on any input" is enforced, not hoped for: no indexing, no
// unwrap on input anywhere outside the unit tests.
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]

mod amount;
mod balance;
mod date;
mod decode;
mod details86;
mod error;
mod lexer;
mod line61;
mod mt942;
mod parser;
mod split_payment;
mod statement;

pub use amount::Mark;
pub use balance::Balance;
pub use date::Date;
pub use decode::{Decoded, Encoding, decode};
pub use details86::{Details, Part, Subfield};
pub use error::{ErrorKind, FieldProblem, ParseError};
pub use line61::Transaction;
pub use mt942::{DateTimeIndication, EntrySummary, FloorLimit};
pub use rust_decimal::Decimal;
pub use split_payment::SplitPayment;
pub use statement::{Kind, Statement, UnknownTag};

/// How to read a file. `ParseOptions::default()` detects the encoding and
/// follows SWIFT on `:61:` references.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseOptions {
    /// The text encoding; [`Encoding::Auto`] detects it.
    pub encoding: Encoding,
    /// Read a `:61:` without a customer reference as having none instead of
    /// failing (for banks known to leave it out).
    pub allow_missing_reference: bool,
}

impl ParseOptions {
    /// Forces (or, with [`Encoding::Auto`], detects) the encoding.
    pub fn encoding(mut self, encoding: Encoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// See [`ParseOptions::allow_missing_reference`].
    pub fn allow_missing_reference(mut self, allow: bool) -> Self {
        self.allow_missing_reference = allow;
        self
    }
}

/// Parses a file of one or more statements with the default options.
pub fn parse(bytes: &[u8]) -> Result<Vec<Statement>, ParseError> {
    parse_with(bytes, &ParseOptions::default())
}

/// Parses a file of one or more statements.
pub fn parse_with(bytes: &[u8], options: &ParseOptions) -> Result<Vec<Statement>, ParseError> {
    let decoded = decode(bytes, options.encoding)?;
    parser::parse_text(&decoded.text, decoded.encoding, options)
}

/// Parses text that is already decoded (reported as [`Encoding::Utf8`]).
pub fn parse_str(text: &str, options: &ParseOptions) -> Result<Vec<Statement>, ParseError> {
    parser::parse_text(text, Encoding::Utf8, options)
}
