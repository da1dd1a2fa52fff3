//! An mBank CompanyNet web-service simulator: the bank the mBank connector
//! and the host's end-to-end tests talk to over loopback HTTPS.
//!
//! mBank publishes no protocol for its web service. What is public (two
//! ERPs' admin pages) says: companies are identified by a DIK and a session
//! covers a chosen list of DIKs; a long-lived session is opened with the
//! user's qualified signature and lives until a date the user picks; a
//! mobile-token login is confirmed in the phone app and ends after
//! idleness; statements come as MT940 and intraday MT942; transfers go as
//! signed Elixir-O files. This crate models that with real signature
//! checks; its README marks every concrete choice (paths, fields, codes,
//! limits) as assumed, with the reason.
//!
//! ```no_run
//! # async fn demo() -> Result<(), h2h_mbank_sim::SimError> {
//! use h2h_mbank_sim::Simulator;
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
pub mod elixir;
pub mod faults;
pub mod iban;
pub mod model;
mod mt940;
mod state;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use h2h_sim_kit::pki::{ClientAuth, Pki, PkiError, PkiNames};
use h2h_sim_kit::server::{self, ServerControl};

pub use api::{API_BASE, CHALLENGE_PREFIX, DIK_HEADER, MAX_RANGE_DAYS};
pub use crypto::{MECH_P256, MECH_RSA};
pub use faults::{FaultSettings, Faults, RequestRecord};
pub use h2h_sim_kit::pki::ClientIdentity;
pub use model::{
    Account, Amount, BatchStatus, BatchView, Direction, MobileLoginView, MobileStatus,
    NewTransaction, SessionKind, SessionState, SessionView, Transaction, TransferStatus,
    TransferView, UserView,
};
pub use state::{CHALLENGE_SECS, MAX_SESSION_DAYS, MOBILE_CONFIRM_SECS, MOBILE_IDLE_SECS};

use state::{Bank, Shared, User, lock};

/// The demo's first company (two accounts). DIK format assumed: the bank
/// hands out an opaque identifier; 8 digits here.
pub const DEMO_DIK: &str = "10012345";
/// The demo's second company (one account), for DIK scoping.
pub const DEMO_DIK_2: &str = "10067890";

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
    /// The batch has no transfer on this line.
    #[error("batch {batch} has no transfer on line {line}")]
    UnknownTransfer {
        /// The batch.
        batch: String,
        /// The line.
        line: usize,
    },
    /// The transfer cannot make this move from where it is.
    #[error("the transfer on line {line} is {status:?}")]
    TransferState {
        /// The line.
        line: usize,
        /// Where it is.
        status: TransferStatus,
    },
    /// No mobile login has this id.
    #[error("unknown mobile login {0:?}")]
    UnknownMobileLogin(String),
    /// The mobile login is no longer pending.
    #[error("mobile login {login_id} is {status:?}")]
    MobileState {
        /// The login.
        login_id: String,
        /// Where it is.
        status: MobileStatus,
    },
    /// No session has this token.
    #[error("unknown session")]
    UnknownSession,
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
    ca_common_name: "h2h mBank CompanyNet simulator TEST CA",
    ca_organization: "h2h test PKI (not a real bank)",
    server_common_name: "companynet.mbank.sim.invalid",
};

/// Builds a [`Simulator`].
#[derive(Debug, Clone)]
pub struct SimulatorBuilder {
    accounts: Vec<Account>,
    seed: u64,
    days: u32,
    today: Option<NaiveDate>,
    opening_balance: Amount,
    require_client_cert: bool,
}

impl SimulatorBuilder {
    /// Adds an account. Without any, the simulator serves
    /// [`Simulator::demo_accounts`].
    pub fn account(mut self, account: Account) -> Self {
        self.accounts.push(account);
        self
    }

    /// The generator's seed (default 42).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Days of generated lines, ending with the business day (default 5;
    /// 0 for none).
    pub fn days(mut self, days: u32) -> Self {
        self.days = days;
        self
    }

    /// The bank's business day at start (default: today, UTC).
    pub fn today(mut self, today: NaiveDate) -> Self {
        self.today = Some(today);
        self
    }

    /// Every account's balance before its first line (default 250000.00).
    pub fn opening_balance(mut self, balance: Amount) -> Self {
        self.opening_balance = balance;
        self
    }

    /// Whether the TLS handshake demands a client (transport) certificate
    /// from the test CA (default true). Off: one is still checked if sent.
    pub fn require_client_cert(mut self, on: bool) -> Self {
        self.require_client_cert = on;
        self
    }

    /// The simulator: data generated, test PKI made.
    pub fn build(self) -> Result<Simulator, SimError> {
        let accounts = if self.accounts.is_empty() {
            Simulator::demo_accounts()
        } else {
            self.accounts
        };
        if let Some(a) = accounts.iter().find(|a| !iban::is_valid_pl_iban(&a.iban)) {
            return Err(SimError::InvalidIban(a.iban.clone()));
        }
        let today = self.today.unwrap_or_else(|| Utc::now().date_naive());
        let pki = Pki::generate(&PKI_NAMES)?;
        let client = pki.issue_client("erp-transport")?;
        let bank = Bank::new(accounts, self.seed, today, self.days, self.opening_balance);
        Ok(Simulator {
            shared: Arc::new(Shared {
                bank: Mutex::new(bank),
                faults: Mutex::default(),
                log: Mutex::default(),
                pki,
                client,
                require_client_cert: self.require_client_cert,
                handshake_failures: AtomicU64::new(0),
            }),
        })
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
            require_client_cert: true,
        }
    }

    /// Three PLN accounts of two made-up companies: two under
    /// [`DEMO_DIK`], one under [`DEMO_DIK_2`] (mBank sort code 11402004).
    pub fn demo_accounts() -> Vec<Account> {
        [
            (
                "0000320212345678",
                DEMO_DIK,
                "Przedsiębiorstwo Testowe Żuraw Sp. z o.o.",
            ),
            (
                "0000320298765432",
                DEMO_DIK,
                "Przedsiębiorstwo Testowe Żuraw Sp. z o.o.",
            ),
            ("0000320255555555", DEMO_DIK_2, "Spółdzielnia Próbna Łabędź"),
        ]
        .iter()
        .filter_map(|(n, dik, holder)| {
            Some(Account {
                iban: iban::pl_iban("11402004", n)?,
                holder: (*holder).into(),
                dik: (*dik).into(),
            })
        })
        .collect()
    }

    /// The API and control routes without TLS (requests carry no client
    /// subject).
    pub fn router(&self) -> axum::Router {
        api::router(self.shared.clone()).merge(control::router(self.shared.clone()))
    }

    /// A handle usable before the server starts (its `stop` does nothing).
    pub fn handle(&self) -> SimHandle {
        SimHandle {
            shared: self.shared.clone(),
            server: ServerControl::idle(),
        }
    }

    /// Listens on `addr` (`127.0.0.1:0` for any free port) and serves
    /// HTTPS in the background.
    pub async fn start(self, addr: &str) -> Result<Running, SimError> {
        let (listener, local) = server::bind(addr).await.map_err(|source| SimError::Bind {
            addr: addr.to_string(),
            source,
        })?;
        let tls = self
            .shared
            .pki
            .server_config(if self.shared.require_client_cert {
                ClientAuth::Required
            } else {
                ClientAuth::Optional
            })?;
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
    /// `https://<addr>` (the server certificate names `127.0.0.1` and
    /// `localhost`).
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// `https://<addr>/companynet/ws/v1`: the API's base URL.
    pub fn api_url(&self) -> String {
        format!("{}{API_BASE}", self.url())
    }
}

/// Controls a simulator: PKI, users, mobile logins, sessions, clock, data,
/// batches, faults, the request log. Cheap to clone.
#[derive(Clone)]
pub struct SimHandle {
    shared: Arc<Shared>,
    server: ServerControl,
}

impl SimHandle {
    /// The test CA (PEM), for clients to trust.
    pub fn ca_pem(&self) -> String {
        self.shared.pki.ca_pem().to_string()
    }

    /// The server certificate (PEM).
    pub fn server_cert_pem(&self) -> String {
        self.shared.pki.server_cert_pem().to_string()
    }

    /// The server key (PEM), to serve [`Simulator::router`] elsewhere.
    pub fn server_key_pem(&self) -> String {
        self.shared.pki.server_key_pem().to_string()
    }

    /// The client transport identity made at build (CN `erp-transport`).
    pub fn client_identity(&self) -> ClientIdentity {
        self.shared.client.clone()
    }

    /// Another client transport identity from the test CA.
    pub fn issue_client_identity(&self, common_name: &str) -> Result<ClientIdentity, SimError> {
        Ok(self.shared.pki.issue_client(common_name)?)
    }

    /// Failed TLS handshakes (no or a foreign client certificate, …).
    pub fn handshake_failures(&self) -> u64 {
        self.shared.handshake_failures.load(Ordering::Relaxed)
    }

    /// Registers (or replaces) a bank user: their qualified-signature
    /// certificate (DER; RSA or EC P-256 key), the DIKs they may act for,
    /// and whether they have the mobile app (mobile-token login).
    pub fn register_user(
        &self,
        user_id: &str,
        cert_der: &[u8],
        diks: &[&str],
        mobile: bool,
    ) -> Result<UserView, SimError> {
        let (key, subject) =
            crypto::SignerKey::from_cert_der(cert_der).map_err(SimError::BadCertificate)?;
        let user = User {
            cert_der: cert_der.to_vec(),
            key,
            subject: subject.clone(),
            diks: diks.iter().map(|d| d.to_string()).collect(),
            mobile,
        };
        let view = UserView {
            user_id: user_id.to_string(),
            subject,
            diks: user.diks.clone(),
            mobile,
        };
        self.shared.bank().users.insert(user_id.to_string(), user);
        Ok(view)
    }

    /// The registered users.
    pub fn users(&self) -> Vec<UserView> {
        self.shared
            .bank()
            .users
            .iter()
            .map(|(id, u)| UserView {
                user_id: id.clone(),
                subject: u.subject.clone(),
                diks: u.diks.clone(),
                mobile: u.mobile,
            })
            .collect()
    }

    /// Every mobile login so far (pending ones past their time show
    /// `EXPIRED`).
    pub fn mobile_logins(&self) -> Vec<MobileLoginView> {
        let mut bank = self.shared.bank();
        bank.tick_mobile();
        bank.mobile.values().map(|m| m.view.clone()).collect()
    }

    /// The user confirms a pending mobile login in the app: a session
    /// opens; the login's `token` names it.
    pub fn approve_mobile(&self, login_id: &str) -> Result<MobileLoginView, SimError> {
        self.shared
            .bank()
            .settle_mobile(login_id, MobileStatus::Confirmed)
    }

    /// The user rejects a pending mobile login in the app.
    pub fn reject_mobile(&self, login_id: &str) -> Result<MobileLoginView, SimError> {
        self.shared
            .bank()
            .settle_mobile(login_id, MobileStatus::Rejected)
    }

    /// A pending mobile login times out now (as it would after
    /// [`MOBILE_CONFIRM_SECS`]).
    pub fn expire_mobile(&self, login_id: &str) -> Result<MobileLoginView, SimError> {
        self.shared
            .bank()
            .settle_mobile(login_id, MobileStatus::Expired)
    }

    /// Every session the bank knows (logged-out ones are gone).
    pub fn sessions(&self) -> Vec<SessionView> {
        let bank = self.shared.bank();
        let now = bank.now();
        bank.sessions.iter().map(|(t, s)| s.view(t, now)).collect()
    }

    /// The bank ends one session: its token answers `SESSION_REVOKED`.
    pub fn revoke_session(&self, token: &str) -> Result<SessionView, SimError> {
        let mut bank = self.shared.bank();
        let now = bank.now();
        let s = bank
            .sessions
            .get_mut(token)
            .ok_or(SimError::UnknownSession)?;
        s.revoked = true;
        Ok(s.view(token, now))
    }

    /// Moves the clock forward: challenges, mobile confirmations, idle
    /// mobile sessions and `validUntil` expire; whole days close business
    /// days (their lines move from the MT942 to an MT940).
    pub fn advance_clock(&self, by: Duration) {
        self.shared.bank().clock.advance(by);
    }

    /// Closes the business day without moving the clock: today's lines
    /// become the day's MT940; returns the new business day.
    pub fn close_day(&self) -> NaiveDate {
        let mut bank = self.shared.bank();
        bank.closed_days += 1;
        bank.today()
    }

    /// The simulator's current time.
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.bank().now()
    }

    /// The business day (the MT942's day; MT940s exist up to the day
    /// before).
    pub fn today(&self) -> NaiveDate {
        self.shared.bank().today()
    }

    /// The accounts served.
    pub fn accounts(&self) -> Vec<Account> {
        self.shared.bank().accounts.clone()
    }

    /// Books a line (default: on the business day, so intraday) and
    /// returns it with its TNR.
    pub fn add_transaction(&self, tx: NewTransaction) -> Result<Transaction, SimError> {
        if tx.amount.0 <= 0 {
            return Err(SimError::NonPositiveAmount(tx.amount));
        }
        let mut bank = self.shared.bank();
        let iban = iban::normalise_account(&tx.account)
            .ok_or_else(|| SimError::UnknownAccount(tx.account.clone()))?;
        bank.account(&iban)?;
        Ok(bank.book(NewTransaction {
            account: iban,
            ..tx
        }))
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

    /// A batch by the bank's id.
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

    /// Executes one accepted transfer: booked as a debit of its sender
    /// account on the business day (customer reference = field 16); the
    /// transfer gets the line's TNR.
    pub fn execute_transfer(&self, batch_id: &str, line: usize) -> Result<BatchView, SimError> {
        self.shared.bank().execute_transfer(batch_id, line)
    }

    /// Executes every accepted transfer of a batch.
    pub fn execute_batch(&self, batch_id: &str) -> Result<BatchView, SimError> {
        self.shared.bank().execute_batch(batch_id)
    }

    /// The bank refuses an accepted transfer (`REJECTED`, code
    /// `BANK_REJECTED`, with the reason).
    pub fn reject_transfer(
        &self,
        batch_id: &str,
        line: usize,
        reason: &str,
    ) -> Result<BatchView, SimError> {
        self.shared.bank().reject_transfer(batch_id, line, reason)
    }

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

    /// Stops serving (waits up to 2 s for the accept loop, then cuts open
    /// connections). Does nothing on a handle from [`Simulator::handle`] or
    /// after a first call.
    pub async fn stop(&self) {
        self.server.stop().await;
    }
}
