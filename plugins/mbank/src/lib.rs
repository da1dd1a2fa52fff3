//! mBank CompanyNet web-service connector: long-lived sessions opened by a
//! qualified signature (with an end date the user picks) or confirmed with
//! the mobile token, covering a list of DIKs; MT940 and intraday MT942
//! statements keyed by mBank's TNR; transfer batches as signed Elixir-O
//! files.
//!
//! - `api`: the service's address, transport certificate, paths, the DIK
//!   header and errors (every wire detail is assumed; see README);
//! - `session`: signature and mobile logins, keepalive, logout, the DIK
//!   check;
//! - `statement`: MT940/MT942 files as statement pages;
//! - `latin2`, `elixir`: the batch file;
//! - `batch`: signing, sending and reading back batches.

mod api;
mod batch;
mod elixir;
mod latin2;
mod session;
mod statement;

use h2h_sdk::bank::{
    Balance, BatchStatus, ChallengeSignature, Session, SessionRequest, Statement, StatementQuery,
    TransferBatch,
};
use h2h_sdk::{BankConnector, Error, Lifecycle, Result, Tasks};

struct MBank;

impl Lifecycle for MBank {
    fn install() -> Result<()> {
        h2h_sdk::info!("mBank CompanyNet connector installed");
        Ok(())
    }
}

/// No tasks of its own: the host syncs statements and keeps sessions
/// alive (its bank-session bot) as this connector asks.
impl Tasks for MBank {}

impl BankConnector for MBank {
    fn open_session(request: SessionRequest) -> Result<Session> {
        session::open(request)
    }

    fn complete_session(session_id: &str, signature: ChallengeSignature) -> Result<Session> {
        session::complete(session_id, signature)
    }

    fn refresh_session(session_id: &str) -> Result<Session> {
        session::refresh(session_id)
    }

    fn close_session(session_id: &str) -> Result<()> {
        session::close(session_id)
    }

    fn fetch_statement(query: StatementQuery) -> Result<Statement> {
        statement::fetch(&query)
    }

    fn get_balance(account: &str) -> Result<Balance> {
        statement::balance(account)
    }

    fn submit_batch(batch: TransferBatch) -> Result<BatchStatus> {
        batch::submit(batch)
    }

    fn get_batch_status(batch_id: &str) -> Result<BatchStatus> {
        batch::status(batch_id)
    }

    fn withdraw_batch(_batch_id: &str) -> Result<BatchStatus> {
        Err(Error::unsupported(
            "mBank CompanyNet's web service takes no withdrawal of a sent batch: cancel it in CompanyNet",
        ))
    }
}

h2h_sdk::export_bank_connector!(MBank);
