//! The bank connector: sessions, statements, balances, transfer batches.

use crate::bindings::world::exports::h2h::connector::bank as wit;
use crate::{Error, Lifecycle, Result, Tasks};

pub use wit::{
    Authentication, Balance, BatchStatus, Direction, Session, SessionRequest, SessionState,
    Statement, StatementQuery, Transaction, Transfer, TransferBatch, TransferState, TransferStatus,
};

/// What a bank connector implements. Only [`BankConnector::fetch_statement`]
/// is required; every other operation answers [`Error::Unsupported`] until
/// implemented.
pub trait BankConnector: Lifecycle + Tasks {
    /// Opens a bank session for the company of the call.
    fn open_session(request: SessionRequest) -> Result<Session> {
        let _ = request;
        Err(Error::unsupported("open-session"))
    }

    /// Extends a session, or polls one pending confirmation.
    fn refresh_session(session_id: &str) -> Result<Session> {
        let _ = session_id;
        Err(Error::unsupported("refresh-session"))
    }

    /// Ends a session at the bank.
    fn close_session(session_id: &str) -> Result<()> {
        let _ = session_id;
        Err(Error::unsupported("close-session"))
    }

    /// One page of transactions for an account and date range, with balances.
    fn fetch_statement(query: StatementQuery) -> Result<Statement>;

    /// The current balance of an account.
    fn get_balance(account: &str) -> Result<Balance> {
        let _ = account;
        Err(Error::unsupported("get-balance"))
    }

    /// Sends a transfer batch; the same idempotency key must never create a
    /// second batch at the bank.
    fn submit_batch(batch: TransferBatch) -> Result<BatchStatus> {
        let _ = batch;
        Err(Error::unsupported("submit-batch"))
    }

    /// The current state of a batch sent earlier.
    fn get_batch_status(batch_id: &str) -> Result<BatchStatus> {
        let _ = batch_id;
        Err(Error::unsupported("get-batch-status"))
    }
}
