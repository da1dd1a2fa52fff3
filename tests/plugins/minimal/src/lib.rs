//! The smallest complete bank connector: statements only.

use h2h_sdk::bank::{Statement, StatementQuery};
use h2h_sdk::{BankConnector, Lifecycle, Result, Tasks};

struct Minimal;

// No install or migration steps, and no scheduled tasks: the defaults do.
impl Lifecycle for Minimal {}
impl Tasks for Minimal {}

impl BankConnector for Minimal {
    fn fetch_statement(query: StatementQuery) -> Result<Statement> {
        h2h_sdk::info!("statement for {} requested", query.account);
        // A real connector asks its bank here, through h2h_sdk::http.
        Ok(Statement::new(query.account, "PLN"))
    }
    // Sessions, balances and transfers answer `unsupported` by default.
}

h2h_sdk::export_bank_connector!(Minimal);
