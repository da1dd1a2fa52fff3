//! The one error type: every failure names the 1-based line it concerns.

use thiserror::Error;

/// Why a file could not be read. [`ParseError::line`] is the 1-based line
/// number in the decoded text (the line of the offending field, or of the
/// `:20:` that opened an incomplete statement).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("line {line}: {kind}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What was wrong.
    pub kind: ErrorKind,
}

impl ParseError {
    pub(crate) fn new(line: usize, kind: ErrorKind) -> Self {
        Self { line, kind }
    }

    pub(crate) fn field(line: usize, tag: &str, problem: FieldProblem) -> Self {
        Self::new(
            line,
            ErrorKind::InvalidField {
                tag: tag.to_owned(),
                problem,
            },
        )
    }
}

/// What was wrong, without the line number.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No `:20:` tag anywhere: this is not an MT940/MT942 file.
    #[error("no statement found: expected a `:20:` tag, the first line reads `{first_line}`")]
    NoStatement {
        /// The first non-blank line, shortened.
        first_line: String,
    },
    /// The caller forced UTF-8 and the bytes are not UTF-8.
    #[error("the text is not valid UTF-8 (UTF-8 was forced)")]
    InvalidUtf8,
    /// A tag came before any `:20:` or after a statement's `-` trailer.
    #[error("`:{tag}:` outside a statement (a statement starts with `:20:`)")]
    TagOutsideStatement {
        /// The tag, e.g. `61`.
        tag: String,
    },
    /// A single-line field was followed by a line that is not a tag.
    #[error("unexpected continuation line after `:{tag}:`")]
    UnexpectedContinuation {
        /// The field the line would continue.
        tag: String,
    },
    /// A field that may occur once occurred again in the same statement.
    #[error("second `:{tag}:` in one statement")]
    DuplicateField {
        /// The repeated tag.
        tag: String,
    },
    /// A statement ended without a field it needs.
    #[error("statement has no {what}")]
    MissingField {
        /// The missing field, e.g. "closing balance (`:62F:`/`:62M:`)".
        what: &'static str,
    },
    /// A field's value does not follow its layout.
    #[error("invalid `:{tag}:`: {problem}")]
    InvalidField {
        /// The tag, e.g. `61`.
        tag: String,
        /// What in its value was wrong.
        problem: FieldProblem,
    },
}

/// What was wrong inside one field's value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FieldProblem {
    /// The value stops before a mandatory part.
    #[error("the value ends before the {expected}")]
    Truncated {
        /// The missing part, e.g. "amount".
        expected: &'static str,
    },
    /// A part is there but does not have its layout.
    #[error("{what} `{found}` is malformed")]
    Malformed {
        /// The part, e.g. "value date (YYMMDD)".
        what: &'static str,
        /// The text found, shortened.
        found: String,
    },
    /// `:61:` ends after the transaction type: SWIFT requires the account
    /// owner's reference (`NONREF` when there is none).
    #[error(
        "no customer reference after the transaction type `{transaction_type}` (SWIFT requires one, `NONREF` when there is none)"
    )]
    MissingReference {
        /// The transaction type that ends the value, e.g. `NMSC`.
        transaction_type: String,
    },
}

/// Shortens input quoted in an error so a hostile file cannot make
/// messages huge.
pub(crate) fn excerpt(text: &str) -> String {
    const MAX: usize = 40;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or_default()),
        None => text.to_owned(),
    }
}

/// Shorthand for [`FieldProblem::Malformed`].
pub(crate) fn malformed(what: &'static str, found: &str) -> FieldProblem {
    FieldProblem::Malformed {
        what,
        found: excerpt(found),
    }
}
