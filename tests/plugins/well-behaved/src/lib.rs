//! A well-behaved test connector that exercises every host capability the
//! host tests check: storage, config, logging, HTTP (denied without a grant).

use h2h_sdk::bank::{
    Balance, BatchStatus, Direction, Session, SessionRequest, SessionState, Statement,
    StatementQuery, Transaction, TransferBatch, TransferState, TransferStatus,
};
use h2h_sdk::{BankConnector, Error, Lifecycle, Money, Result, Tasks, config, http, storage};
use serde::Serialize;

struct WellBehaved;

impl Lifecycle for WellBehaved {
    fn install() -> Result<()> {
        storage::set("installed", &true)
    }
}

#[derive(Serialize)]
struct WhoAmI {
    company_id: Option<String>,
    user: Option<String>,
    call: String,
}

impl Tasks for WellBehaved {
    fn run(name: &str) -> Result<()> {
        match name {
            // The benchmark's trivial call: nothing at all.
            "noop" => Ok(()),
            "count" => {
                let runs: u64 = storage::get("runs")?.unwrap_or(0);
                storage::set("runs", &(runs + 1))
            }
            "log" => {
                h2h_sdk::info!("hello from well-behaved");
                Ok(())
            }
            "whoami" => {
                let seen = config::invocation();
                storage::set(
                    "whoami",
                    &WhoAmI {
                        company_id: seen.company_id,
                        user: seen.user,
                        call: seen.call,
                    },
                )
            }
            "http" => {
                http::Request::get("https://bank.example/api/ping").send()?;
                Ok(())
            }
            other => Err(Error::unsupported(format!("unknown task `{other}`"))),
        }
    }
}

fn transaction(
    reference: &str,
    date: &str,
    direction: Direction,
    amount: &str,
    title: &str,
) -> Transaction {
    Transaction {
        bank_reference: reference.into(),
        booking_date: date.into(),
        value_date: None,
        direction,
        amount: Money::new(amount, "PLN"),
        counterparty_name: None,
        counterparty_account: None,
        counterparty_id: None,
        title: title.into(),
        own_reference: None,
        extra: Vec::new(),
    }
}

impl BankConnector for WellBehaved {
    fn open_session(request: SessionRequest) -> Result<Session> {
        Ok(Session {
            id: format!("session-{}", request.bank_user_id),
            bank_user_id: request.bank_user_id,
            state: SessionState::Active,
            expires_at: None,
            message: None,
        })
    }

    fn refresh_session(session_id: &str) -> Result<Session> {
        Ok(Session {
            id: session_id.into(),
            bank_user_id: session_id.trim_start_matches("session-").into(),
            state: SessionState::Active,
            expires_at: None,
            message: None,
        })
    }

    fn close_session(_session_id: &str) -> Result<()> {
        Ok(())
    }

    fn fetch_statement(query: StatementQuery) -> Result<Statement> {
        config::require_setting("context-id")?;
        let mut credit = transaction(
            "ref-1",
            &query.from,
            Direction::Credit,
            "75.50",
            "FV/2026/11/001",
        );
        credit.counterparty_name = Some("ACME Sp. z o.o.".into());
        Ok(Statement {
            transactions: vec![
                credit,
                transaction("ref-2", &query.to, Direction::Debit, "25.00", "Fee"),
            ],
            account: query.account,
            currency: "PLN".into(),
            opening_balance: Some(Money::new("100.00", "PLN")),
            closing_balance: Some(Money::new("150.50", "PLN")),
            continuation: None,
        })
    }

    fn get_balance(account: &str) -> Result<Balance> {
        Ok(Balance {
            account: account.into(),
            booked: Money::new("150.50", "PLN"),
            available: None,
            as_of: "2026-11-22T00:00:00Z".into(),
        })
    }

    fn submit_batch(batch: TransferBatch) -> Result<BatchStatus> {
        Ok(BatchStatus {
            batch_id: format!("batch-{}", batch.idempotency_key),
            transfers: batch
                .transfers
                .into_iter()
                .map(|t| TransferStatus {
                    transfer_id: t.id,
                    state: TransferState::Pending,
                    bank_reference: None,
                    message: None,
                })
                .collect(),
        })
    }
}

h2h_sdk::export_bank_connector!(WellBehaved);
