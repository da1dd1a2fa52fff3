//! A PKO BP "Integra" host-to-host simulator: the bank the PKO BP
//! connector talks to in tests and demos.
//!
//! PKO BP publishes no protocol for Integra. What is public (the ERP
//! plugin's admin documentation) says: a ContextId per company, a
//! communication (transport) certificate, a session per bank user opened
//! with a smart card, a token valid 600 s and refreshed every minute, MT940
//! statements with the payer's "own reference", transfer packages that may
//! be marked editable only if the bank agrees. This crate models that over
//! HTTPS with mutual TLS, with real signature checks, and its README marks
//! every concrete choice (paths, fields, codes) as assumed.
//!
//! ```no_run
//! # async fn demo() -> Result<(), h2h_pkobp_sim::SimError> {
//! use h2h_pkobp_sim::Simulator;
//! let running = Simulator::builder().seed(42).days(5).build()?.start("127.0.0.1:0").await?;
//! let bank = running.handle.clone();
//! println!("bank at {}, CA:\n{}", running.url(), bank.ca_pem());
//! bank.faults().fail_next(2, 503)?;
//! bank.stop().await;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod api;
mod control;
mod crypto;
pub mod faults;
pub mod iban;
pub mod model;
mod mt940;
pub mod pain001;
mod state;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use h2h_sim_kit::pki::{ClientAuth, Pki, PkiError, PkiNames};
use h2h_sim_kit::server::{self, ServerControl};

pub use api::{CHALLENGE_PREFIX, CHALLENGE_SECS, MAX_RANGE_DAYS, TOKEN_SECS};
pub use crypto::{MECH_P256, MECH_RSA};
pub use faults::{FaultSettings, Faults, RequestRecord};
pub use h2h_sim_kit::pki::ClientIdentity;
pub use model::{
    Account, Amount, BatchStatus, BatchView, Direction, NewTransaction, Transaction,
    TransferStatus, TransferView,
};

use state::{Bank, Shared, User, lock};

/// The demo company's ContextId (assumed format: the bank hands out an
/// opaque number).
pub const DEMO_CONTEXT_ID: &str = "4000123456";

/// What can go wrong driving the simulator from Rust.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// No account has this IBAN.
    #[error("unknown account {0:?}")]
    UnknownAccount(String),
    /// An account given to the builder is not a valid `PL` IBAN.
    #[error("not a valid PL IBAN: {0:?}")]
    InvalidIban(String),
    /// No batch has this id.
    #[error("unknown batch {0:?}")]
    UnknownBatch(String),
    /// The batch has no transfer with this EndToEndId.
    #[error("unknown transfer {0:?}")]
    UnknownTransfer(String),
    /// The batch cannot make this move from where it is.
    #[error("batch {batch} is {status:?}")]
    BatchState {
        /// The batch.
        batch: String,
        /// Where it is.
        status: BatchStatus,
    },
    /// The transfer cannot make this move from where it is.
    #[error("transfer {end_to_end_id} is {status:?}")]
    TransferState {
        /// The transfer.
        end_to_end_id: String,
        /// Where it is.
        status: TransferStatus,
    },
    /// A user's certificate cannot be used.
    #[error("bad certificate: {0}")]
    BadCertificate(String),
    /// A transaction's amount must be positive.
    #[error("transaction amount must be positive, not {0}")]
    NonPositiveAmount(Amount),
    /// Injected failures must be HTTP errors.
    #[error("a fault status must be in 400..=599, not {0}")]
    InvalidFaultStatus(u16),
    /// Generating the test PKI or the TLS configuration failed.
    #[error("test PKI: {0}")]
    Pki(String),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// Why not.
        source: std::io::Error,
    },
}

impl From<PkiError> for SimError {
    fn from(e: PkiError) -> Self {
        SimError::Pki(e.to_string())
    }
}

/// The names in the test PKI's certificates.
const PKI_NAMES: PkiNames = PkiNames {
    ca_common_name: "h2h PKO BP Integra simulator TEST CA",
    ca_organization: "h2h test PKI (not a real bank)",
    server_common_name: "integra.pkobp.sim.invalid",
};

/// Builds a [`Simulator`].
#[derive(Debug, Clone)]
pub struct SimulatorBuilder {
    accounts: Vec<Account>,
    seed: u64,
    days: u32,
    today: Option<NaiveDate>,
    opening_balance: Amount,
}

impl SimulatorBuilder {
    /// Adds an account. Without any, the simulator serves
    /// [`Simulator::demo_accounts`] (ContextId [`DEMO_CONTEXT_ID`]).
    pub fn account(mut self, account: Account) -> Self {
        self.accounts.push(account);
        self
    }

    /// The generator's seed (default 42).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Days of generated lines, ending today (default 5; 0 for none).
    pub fn days(mut self, days: u32) -> Self {
        self.days = days;
        self
    }

    /// The bank's business day (default: today, UTC).
    pub fn today(mut self, today: NaiveDate) -> Self {
        self.today = Some(today);
        self
    }

    /// Every account's balance before its first line (default 250000.00).
    pub fn opening_balance(mut self, balance: Amount) -> Self {
        self.opening_balance = balance;
        self
    }

    /// The simulator: data generated, test PKI made.
    pub fn build(self) -> Result<Simulator, SimError> {
        let mut accounts = self.accounts;
        if accounts.is_empty() {
            accounts = Simulator::demo_accounts();
        }
        for a in &accounts {
            if !iban::is_valid_pl_iban(&a.iban) {
                return Err(SimError::InvalidIban(a.iban.clone()));
            }
        }
        let today = self.today.unwrap_or_else(|| Utc::now().date_naive());
        let pki = Pki::generate(&PKI_NAMES)?;
        let client = pki.issue_client("erp-transport")?;
        let bank = Bank::new(accounts, self.seed, today, self.days, self.opening_balance);
        let shared = Arc::new(Shared {
            bank: Mutex::new(bank),
            faults: Mutex::default(),
            log: Mutex::default(),
            pki,
            client,
            handshake_failures: AtomicU64::new(0),
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
            accounts: Vec::new(),
            seed: 42,
            days: 5,
            today: None,
            opening_balance: Amount::new(250_000, 0),
        }
    }

    /// Two PLN accounts of a made-up company under [`DEMO_CONTEXT_ID`].
    pub fn demo_accounts() -> Vec<Account> {
        ["0000042270201111", "0000042270202222"]
            .iter()
            .filter_map(|a| iban::pl_iban("10201026", a))
            .map(|iban| Account {
                iban,
                holder: "Przedsiębiorstwo Testowe Żuraw Sp. z o.o.".into(),
                context_id: DEMO_CONTEXT_ID.into(),
            })
            .collect()
    }

    /// The API and control routes (plain, without TLS), to serve some
    /// other way. Requests served this way have no client subject.
    pub fn router(&self) -> axum::Router {
        api::router(self.shared.clone()).merge(control::router(self.shared.clone()))
    }

    /// A handle that works before the server starts, whose `stop` does
    /// nothing.
    pub fn handle(&self) -> SimHandle {
        SimHandle {
            shared: self.shared.clone(),
            server: ServerControl::idle(),
        }
    }

    /// Listens on `addr` (`127.0.0.1:0` for any free port) and serves
    /// HTTPS with client certificates required, in the background.
    pub async fn start(self, addr: &str) -> Result<Running, SimError> {
        let (listener, local) = server::bind(addr).await.map_err(|source| SimError::Bind {
            addr: addr.to_string(),
            source,
        })?;
        let tls = self.shared.pki.server_config(ClientAuth::Required)?;
        let shared = self.shared.clone();
        let server = h2h_sim_kit::tls::serve(listener, self.router(), Arc::new(tls), move || {
            shared.handshake_failures.fetch_add(1, Ordering::Relaxed);
        });
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
    /// `https://<addr>`: the base URL for clients (the server certificate
    /// names `127.0.0.1` and `localhost`).
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }
}

/// Controls a simulator: PKI, users, clock, data, faults, batches, the
/// request log.
#[derive(Clone)]
pub struct SimHandle {
    shared: Arc<Shared>,
    server: ServerControl,
}

impl SimHandle {
    /// The test CA (PEM): give it to clients as an extra trusted CA.
    pub fn ca_pem(&self) -> String {
        self.shared.pki.ca_pem().to_string()
    }

    /// The server's certificate (PEM).
    pub fn server_cert_pem(&self) -> String {
        self.shared.pki.server_cert_pem().to_string()
    }

    /// The server's private key (PEM), for serving the router elsewhere.
    pub fn server_key_pem(&self) -> String {
        self.shared.pki.server_key_pem().to_string()
    }

    /// The client transport identity issued at build (CN `erp-transport`).
    pub fn client_identity(&self) -> ClientIdentity {
        self.shared.client.clone()
    }

    /// Issues another client transport identity from the test CA.
    pub fn issue_client_identity(&self, common_name: &str) -> Result<ClientIdentity, SimError> {
        Ok(self.shared.pki.issue_client(common_name)?)
    }

    /// TLS handshakes that failed (no or untrusted client certificate, …).
    pub fn handshake_failures(&self) -> u64 {
        self.shared.handshake_failures.load(Ordering::Relaxed)
    }

    /// Registers (or replaces) a bank user: their signing certificate
    /// (DER; RSA or EC P-256 key) and the ContextIds they may act in.
    pub fn register_user(
        &self,
        user_id: &str,
        cert_der: &[u8],
        context_ids: &[&str],
    ) -> Result<(), SimError> {
        let (key, subject) =
            crypto::SignerKey::from_cert_der(cert_der).map_err(SimError::BadCertificate)?;
        self.shared.bank().users.insert(
            user_id.to_string(),
            User {
                cert_der: cert_der.to_vec(),
                key,
                subject,
                context_ids: context_ids.iter().map(|c| c.to_string()).collect(),
            },
        );
        Ok(())
    }

    /// The registered users: id, certificate subject, ContextIds.
    pub fn users(&self) -> Vec<(String, String, Vec<String>)> {
        self.shared
            .bank()
            .users
            .iter()
            .map(|(id, u)| (id.clone(), u.subject.clone(), u.context_ids.clone()))
            .collect()
    }

    /// Whether the bank-side setting lets this ContextId send editable
    /// batches (default: no).
    pub fn set_editable_allowed(&self, context_id: &str, allowed: bool) {
        let mut bank = self.shared.bank();
        if allowed {
            bank.editable_allowed.insert(context_id.to_string());
        } else {
            bank.editable_allowed.remove(context_id);
        }
    }

    /// Moves the simulator's clock forward (tokens and challenges expire;
    /// whole days move the business day).
    pub fn advance_clock(&self, by: Duration) {
        self.shared.bank().clock.advance(by);
    }

    /// The simulator's current time.
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.bank().now()
    }

    /// The bank's business day.
    pub fn today(&self) -> NaiveDate {
        self.shared.bank().today()
    }

    /// The accounts served.
    pub fn accounts(&self) -> Vec<Account> {
        self.shared.bank().accounts.clone()
    }

    /// Books a line and returns it as the bank will serve it.
    pub fn add_transaction(&self, tx: NewTransaction) -> Result<Transaction, SimError> {
        if tx.amount.0 <= 0 {
            return Err(SimError::NonPositiveAmount(tx.amount));
        }
        let mut bank = self.shared.bank();
        bank.account(&tx.account)?;
        Ok(bank.book(tx))
    }

    /// An account's lines, in booking order.
    pub fn transactions(&self, iban: &str) -> Vec<Transaction> {
        self.shared
            .bank()
            .transactions
            .iter()
            .filter(|t| t.account == iban)
            .cloned()
            .collect()
    }

    /// A batch, by the bank's id.
    pub fn batch(&self, id: &str) -> Option<BatchView> {
        self.shared
            .bank()
            .batches
            .iter()
            .find(|b| b.view.batch_id == id)
            .map(|b| b.view.clone())
    }

    /// Every batch, oldest first.
    pub fn batches(&self) -> Vec<BatchView> {
        self.shared
            .bank()
            .batches
            .iter()
            .map(|b| b.view.clone())
            .collect()
    }

    /// Executes an `ACCEPTED` batch: its accepted transfers become
    /// `EXECUTED` and are booked as debits (customer reference: their
    /// EndToEndId) on today's statement.
    pub fn execute_batch(&self, id: &str) -> Result<BatchView, SimError> {
        self.shared.bank().execute_batch(id)
    }

    /// Rejects one transfer of a batch not yet executed.
    pub fn reject_transaction(
        &self,
        batch_id: &str,
        end_to_end_id: &str,
        reason: &str,
    ) -> Result<BatchView, SimError> {
        self.shared
            .bank()
            .reject_transaction(batch_id, end_to_end_id, reason)
    }

    /// Signs an editable batch as a user would in the bank's own
    /// application: `WAITING_FOR_SIGNATURE` → `ACCEPTED`.
    pub fn sign_batch(&self, id: &str) -> Result<BatchView, SimError> {
        self.shared.bank().sign_batch(id)
    }

    /// The fault switches.
    pub fn faults(&self) -> Faults {
        Faults {
            shared: self.shared.clone(),
        }
    }

    /// The `/integra/` requests so far, oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.shared.log).records().to_vec()
    }

    /// Forgets the requests so far.
    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    /// Stops serving: waits briefly for the accept loop, then cuts open
    /// connections. Does nothing on a handle from [`Simulator::handle`] or
    /// after a first call.
    pub async fn stop(&self) {
        self.server.stop().await;
    }
}
