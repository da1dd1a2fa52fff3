//! h2h-mt940 integration tests: the public fixtures, the special cases,
//! the files written from the Polish layouts, synthetic edge cases and the
//! fuzz corpus replay.

mod corpus;
mod fixtures;
mod special_cases;
mod synthetic;
mod written;

use std::path::PathBuf;
use std::str::FromStr;

use h2h_mt940::{Decimal, Statement, parse};

/// `tests/fixtures/<name>` as bytes.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Parses a fixture that must parse.
pub fn statements(name: &str) -> Vec<Statement> {
    parse(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// `"12,5"`-free decimal literal: `dec("-2100.50")`.
pub fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}
