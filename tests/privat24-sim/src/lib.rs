//! A PrivatBank "Privat24 for Business" Autoclient API simulator: the bank
//! the Privat24 connector talks to in tests and demos.
//!
//! It serves the bank's statement and payment endpoints over loopback HTTP
//! with deterministic, realistic data, plus fault switches (failures,
//! delays, late answers, rate limits, phases, duplicated pages, document
//! number deduplication) settable from Rust and over a control API under
//! `/__control`. Its README names the public source of every endpoint and
//! field it models, and marks the rest as assumed.
//!
//! ```no_run
//! # async fn demo() -> Result<(), h2h_privat24_sim::SimError> {
//! use h2h_privat24_sim::{Merchant, Simulator};
//! let sim = Simulator::builder().merchant(Merchant::demo()).seed(42).days(5).build()?;
//! let running = sim.start("127.0.0.1:0").await?;
//! println!("bank at {}", running.url());
//! running.handle.faults().fail_next(2, 503)?;
//! running.handle.stop().await;
//! # Ok(()) }
//! ```

mod api;
mod control;
pub mod data;
pub mod faults;
pub mod model;
mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use chrono::{Local, NaiveDate};
use h2h_sim_kit::server::{self, ServerControl};

pub use faults::{FaultSettings, Faults, RequestRecord, WORKING_PHASE};
pub use model::{
    Counterparty, Direction, Merchant, Money, MoneyParseError, NewTransaction, PaymentRequest,
    PaymentStatus, PaymentView, StatementTransaction, Transaction, TxStatus, parse_bank_date,
    query_date,
};
pub use state::Progression;

use state::{Books, Shared, lock};

/// What can go wrong driving the simulator from Rust.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// No merchant has this id.
    #[error("unknown merchant {0:?}")]
    UnknownMerchant(String),
    /// No payment has this reference.
    #[error("unknown payment {0:?}")]
    UnknownPayment(String),
    /// Payment statuses only move forward.
    #[error("payment {reference} cannot move from {from} to {to}")]
    InvalidTransition {
        /// The payment.
        reference: String,
        /// Where it is.
        from: PaymentStatus,
        /// Where it was asked to go.
        to: PaymentStatus,
    },
    /// Injected failures must be HTTP errors.
    #[error("a fault status must be in 400..=599, not {0}")]
    InvalidFaultStatus(u16),
    /// Two merchants share an id or a token.
    #[error("merchant id or token {0:?} is used twice")]
    DuplicateMerchant(String),
    /// A transaction's amount must be positive.
    #[error("transaction amount must be positive, not {0}")]
    NonPositiveAmount(Money),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// Why not.
        source: std::io::Error,
    },
}

/// Builds a [`Simulator`].
#[derive(Debug, Clone)]
pub struct SimulatorBuilder {
    merchants: Vec<Merchant>,
    seed: u64,
    days: u32,
    today: Option<NaiveDate>,
    opening_balance: Money,
    progression: Progression,
}

impl SimulatorBuilder {
    /// Adds a merchant (an Autoclient profile with one account). Without
    /// any, the simulator serves [`Merchant::demo`].
    pub fn merchant(mut self, m: Merchant) -> Self {
        self.merchants.push(m);
        self
    }

    /// The generator's seed (default 42).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// How many days of generated movements, ending today (default 5; 0
    /// for an empty statement).
    pub fn days(mut self, days: u32) -> Self {
        self.days = days;
        self
    }

    /// The bank's business day (default: the local date). Fix it in tests
    /// that name dates.
    pub fn today(mut self, today: NaiveDate) -> Self {
        self.today = Some(today);
        self
    }

    /// Every account's balance before its first line (default 250000.00).
    pub fn opening_balance(mut self, balance: Money) -> Self {
        self.opening_balance = balance;
        self
    }

    /// How payments move after creation (default [`Progression::Manual`]).
    pub fn progression(mut self, p: Progression) -> Self {
        self.progression = p;
        self
    }

    /// The simulator, its statements generated.
    pub fn build(self) -> Result<Simulator, SimError> {
        let mut merchants = self.merchants;
        if merchants.is_empty() {
            merchants.push(Merchant::demo());
        }
        for (i, m) in merchants.iter().enumerate() {
            for other in &merchants[..i] {
                if other.id == m.id {
                    return Err(SimError::DuplicateMerchant(m.id.clone()));
                }
                if other.token == m.token {
                    return Err(SimError::DuplicateMerchant(m.token.clone()));
                }
            }
        }
        let today = self.today.unwrap_or_else(|| Local::now().date_naive());
        let books = Books::new(merchants, self.seed, today, self.days, self.opening_balance);
        let shared = Arc::new(Shared {
            books: Mutex::new(books),
            faults: Mutex::default(),
            log: Mutex::default(),
            progression: self.progression,
            today,
        });
        Ok(Simulator { shared })
    }
}

/// A simulated bank, not yet listening.
pub struct Simulator {
    shared: Arc<Shared>,
}

impl Simulator {
    /// Starts configuring one.
    pub fn builder() -> SimulatorBuilder {
        SimulatorBuilder {
            merchants: Vec::new(),
            seed: 42,
            days: 5,
            today: None,
            opening_balance: Money::new(250_000, 0),
            progression: Progression::Manual,
        }
    }

    /// The API and control routes, to serve some other way.
    pub fn router(&self) -> axum::Router {
        api::router(self.shared.clone()).merge(control::router(self.shared.clone()))
    }

    /// A handle that works before the server starts (e.g. to add lines),
    /// whose `stop` does nothing.
    pub fn handle(&self) -> SimHandle {
        SimHandle {
            shared: self.shared.clone(),
            server: ServerControl::idle(),
        }
    }

    /// Listens on `addr` (`127.0.0.1:0` for any free port) and serves in
    /// the background.
    pub async fn start(self, addr: &str) -> Result<Running, SimError> {
        let (listener, local) = server::bind(addr).await.map_err(|source| SimError::Bind {
            addr: addr.to_string(),
            source,
        })?;
        let server = server::serve_plain(listener, self.router(), "privat24-sim");
        Ok(Running {
            addr: local,
            handle: SimHandle {
                shared: self.shared,
                server,
            },
        })
    }
}

/// A simulator that is listening.
pub struct Running {
    /// Where.
    pub addr: SocketAddr,
    /// Its controls.
    pub handle: SimHandle,
}

impl Running {
    /// `http://<addr>`: the base URL for clients.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Controls a simulator: data, faults, the request log, payments.
#[derive(Clone)]
pub struct SimHandle {
    shared: Arc<Shared>,
    server: ServerControl,
}

impl SimHandle {
    /// The fault switches.
    pub fn faults(&self) -> Faults {
        Faults {
            shared: self.shared.clone(),
        }
    }

    /// The API requests so far, oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.shared.log).records().to_vec()
    }

    /// Forgets the requests so far.
    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    /// The bank's business day.
    pub fn today(&self) -> NaiveDate {
        self.shared.today
    }

    /// The merchants served.
    pub fn merchants(&self) -> Vec<Merchant> {
        lock(&self.shared.books)
            .books
            .iter()
            .map(|b| b.merchant.clone())
            .collect()
    }

    /// Books a line on a merchant's statement and returns it as the bank
    /// will serve it.
    pub fn add_transaction(
        &self,
        merchant_id: &str,
        tx: NewTransaction,
    ) -> Result<StatementTransaction, SimError> {
        if !tx.amount.is_positive() {
            return Err(SimError::NonPositiveAmount(tx.amount));
        }
        let mut books = self.shared.books();
        let b = books.by_id(merchant_id)?;
        let added = books.add_transaction(b, tx);
        Ok(added.to_statement(&books.books[b].merchant))
    }

    /// A merchant's whole statement, in the order the bank serves it.
    pub fn transactions(&self, merchant_id: &str) -> Result<Vec<StatementTransaction>, SimError> {
        let books = self.shared.books();
        let b = &books.books[books.by_id(merchant_id)?];
        Ok(b.transactions
            .iter()
            .map(|t| t.to_statement(&b.merchant))
            .collect())
    }

    /// A payment made through the API; `None` for an unknown reference or
    /// one the client deleted.
    pub fn payment(&self, reference: &str) -> Option<PaymentView> {
        let books = self.shared.books();
        let (b, i) = books.payment(reference)?;
        Some(books.books[b].payments[i].view())
    }

    /// A merchant's payments, oldest first (deleted ones are gone).
    pub fn payments(&self, merchant_id: &str) -> Result<Vec<PaymentView>, SimError> {
        let books = self.shared.books();
        let b = &books.books[books.by_id(merchant_id)?];
        Ok(b.payments.iter().map(|p| p.view()).collect())
    }

    /// Moves a payment on (forward only; `done` books its debit).
    pub fn set_payment_status(
        &self,
        reference: &str,
        status: PaymentStatus,
    ) -> Result<PaymentView, SimError> {
        let now = self.shared.now();
        self.shared
            .books()
            .set_payment_status(reference, status, now)
    }

    /// Stops serving: waits briefly for answers in flight, then cuts them
    /// off. Does nothing on a handle from [`Simulator::handle`] or after a
    /// first call.
    pub async fn stop(&self) {
        self.server.stop().await;
    }
}
