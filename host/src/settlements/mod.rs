//! The settlements core, host module `settlements` version 1 (what bank
//! plugins `require`): bank accounts, transactions kept once however often
//! they are fetched, open receivables registered by the ERP, automatic
//! matching of incoming payments to them, and the events feed.
//!
//! - `accounts`: bank accounts, each bound to a company and a connector;
//! - `record`: storing a fetched page (dedupe per account) and matching;
//! - `matching`: the matching rule, a pure function;
//! - `receivables`: open invoices;
//! - `events`: the cursor-based feed;
//! - `queries`: reading for the ERP API (transactions, receivables with
//!   their payments, events with the users to notify), with cursor paging;
//! - `webhooks`: posting each company's new events to its webhook, signed;
//! - `sync`: fetching statements through an account's connector.

mod accounts;
mod documents;
mod events;
pub mod matching;
mod queries;
mod receivables;
mod record;
pub mod sync;
pub mod transfers;
pub mod webhooks;

pub use accounts::BankAccount;
pub use documents::StoredDocument;
pub use events::Event;
pub use queries::{
    EventPage, MAX_LIMIT, MatchedPayment, NotifiedEvent, StoredTransaction, TransactionFilter,
    TransactionPage,
};
pub use receivables::Receivable;
pub use record::{Direction, IncomingTransaction, LineDetails, RecordReport};

use crate::db::Database;
use crate::values::{MoneyError, TextError};

/// The module's version, as plugins' `requires` see it.
pub const VERSION: &str = "1.0.0";

/// Why a settlements operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SettlementsError {
    /// An argument was invalid.
    #[error("{0}")]
    InvalidInput(String),
    /// No such account.
    #[error("bank account `{0}` does not exist")]
    UnknownAccount(String),
    /// The company does not exist.
    #[error("company `{0}` does not exist")]
    UnknownCompany(String),
    /// No kept document has this id.
    #[error("document {0} does not exist")]
    UnknownDocument(i64),
    /// The account or invoice exists already.
    #[error("{0} already exists")]
    Exists(String),
    /// The plugin's licenses allow no more companies.
    #[error(transparent)]
    CompanyCap(crate::catalog::CatalogError),
    /// Stored data could not be read back.
    #[error("stored settlements data is damaged: {0}")]
    Corrupt(String),
    /// The database failed.
    #[error("settlements database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl From<MoneyError> for SettlementsError {
    fn from(e: MoneyError) -> Self {
        SettlementsError::InvalidInput(e.to_string())
    }
}

impl From<TextError> for SettlementsError {
    fn from(e: TextError) -> Self {
        SettlementsError::InvalidInput(e.to_string())
    }
}

impl SettlementsError {
    /// Stable code for APIs.
    pub fn kind(&self) -> &'static str {
        match self {
            SettlementsError::InvalidInput(_) => "invalid_input",
            SettlementsError::UnknownAccount(_) => "unknown_account",
            SettlementsError::UnknownCompany(_) => "unknown_company",
            SettlementsError::UnknownDocument(_) => "unknown_document",
            SettlementsError::Exists(_) => "already_exists",
            SettlementsError::CompanyCap(e) => e.kind(),
            SettlementsError::Corrupt(_) => "corrupt_data",
            SettlementsError::Database(_) => "database_error",
        }
    }
}

/// The settlements core over the host database.
#[derive(Debug, Clone)]
pub struct Settlements {
    db: Database,
}

impl Settlements {
    /// The module over `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// Turns automatic matching on or off for a company (off by default).
    pub async fn set_auto_matching(&self, company: &str, on: bool) -> Result<(), SettlementsError> {
        accounts::require_company(&self.db, company).await?;
        sqlx::query(
            "INSERT INTO settlement_settings (company_id, auto_matching) VALUES ($1, $2) \
             ON CONFLICT (company_id) DO UPDATE SET auto_matching = excluded.auto_matching",
        )
        .bind(company)
        .bind(i64::from(on))
        .execute(self.db.pool())
        .await?;
        Ok(())
    }
}

/// Longest invoice number: KSeF's and most ERPs' fit; short enough to be
/// its own URL segment.
pub const MAX_INVOICE_CHARS: usize = 64;
/// Longest name (a counterparty's, an account's): SEPA's 140.
pub const MAX_NAME_CHARS: usize = 140;

/// Optional free text: blank is "", anything else a checked line.
fn optional_line(field: &'static str, value: &str, max: usize) -> Result<String, SettlementsError> {
    if value.trim().is_empty() {
        return Ok(String::new());
    }
    Ok(crate::values::line(field, value, max)?)
}

/// A bank's currency code on a fetched line: three capital letters (a bank
/// may still report a code ISO 4217 has withdrawn; the ERP's input is held
/// to [`crate::values::Currency`]).
fn check_currency(currency: &str) -> Result<(), SettlementsError> {
    if currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(SettlementsError::InvalidInput(format!(
            "currency `{currency}` is not an ISO 4217 code like UAH or PLN"
        )))
    }
}
