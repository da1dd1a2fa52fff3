//! PKO Bank Polski "Integra" host-to-host connector: sessions opened by a
//! smart-card signature and kept alive by the host's bot, MT940
//! statements, and transfer batches as signed pain.001 files.
//!
//! - `api`: the service's address, transport certificate, paths and errors
//!   (every wire detail is assumed; see README);
//! - `session`: challenge, login, refresh, logout;
//! - `statement`: MT940 files as statement pages;
//! - `pain001`: the batch document;
//! - `batch`: signing, sending and reading back batches.

mod api;
mod batch;
mod pain001;
mod session;
mod statement;

use h2h_sdk::bank::{
    Balance, BatchStatus, ChallengeSignature, Session, SessionRequest, Statement, StatementQuery,
    TransferBatch,
};
use h2h_sdk::{BankConnector, Error, Lifecycle, Result, Tasks, time};

struct PkoBp;

impl Lifecycle for PkoBp {
    fn install() -> Result<()> {
        h2h_sdk::info!("PKO BP Integra connector installed");
        Ok(())
    }
}

/// No tasks of its own: the host syncs statements (every 2 hours, the
/// seed's `PkoBpGetStatment`) and refreshes sessions (the seed's
/// `PkoRefreshSessions`).
impl Tasks for PkoBp {}

impl BankConnector for PkoBp {
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

    /// The closing balance of today's statement so far.
    fn get_balance(account: &str) -> Result<Balance> {
        let now = time::now_unix();
        let today = time::rfc3339(now).get(..10).unwrap_or_default().to_owned();
        let page = statement::fetch(&StatementQuery {
            account: account.to_owned(),
            from: today.clone(),
            to: today,
            continuation: None,
        })?;
        let booked = page
            .closing_balance
            .ok_or_else(|| Error::protocol("PKO BP's statement for today carries no balance"))?;
        Ok(Balance {
            account: account.to_owned(),
            booked,
            available: None,
            as_of: time::rfc3339(now),
        })
    }

    fn submit_batch(batch: TransferBatch) -> Result<BatchStatus> {
        batch::submit(batch)
    }

    fn get_batch_status(batch_id: &str) -> Result<BatchStatus> {
        batch::status(batch_id)
    }

    fn withdraw_batch(_batch_id: &str) -> Result<BatchStatus> {
        Err(Error::unsupported(
            "PKO BP Integra takes no withdrawal of a sent batch: cancel it in the bank's web application",
        ))
    }
}

h2h_sdk::export_bank_connector!(PkoBp);
