//! A simulated **Mellon WebECR** cloud card-terminal service (the API the
//! Greek acquirers front at `*.mreceipts.com`), for connector tests and
//! demos, over loopback HTTPS.
//!
//! Login with a JWT, redeem a device's 8-digit pairing code for an API
//! key, list terminals, start intents that move PENDING → SENT →
//! COMPLETED along a controllable clock with results chosen by amount,
//! void and refund, look intents up by `CustomerReference`, and check the
//! Greek e-invoicing provider's ECDSA P-256 signature. Fault switches fail,
//! slow, or drop answers and expire JWTs. The provider's specification is
//! not public: the README says what is modelled (and from where) and what
//! is assumed.
//!
//! ```no_run
//! # async fn demo() -> Result<(), h2h_webecr_sim::SimError> {
//! use h2h_webecr_sim::{Simulator, TerminalSpec};
//! let sim = Simulator::builder().account("demo", "demo-password").build()?;
//! let running = sim.start("127.0.0.1:0").await?;
//! let h = running.handle.clone();
//! let pairing = h.issue_pairing_code("demo", TerminalSpec::new("12345678", "000000012345"))?;
//! println!("{} code {}", running.url(), pairing.code);
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod api;
mod control;
mod faults;
mod jwt;
mod model;
pub mod provider;
mod state;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use h2h_sim_kit::pki::{ClientAuth, Pki, PkiError, PkiNames};
use h2h_sim_kit::server::{self, ServerControl};

pub use api::{MAX_TIMEOUT_SECS, PROVIDER_SIGNATURE_MAX_AGE_SECS};
pub use faults::{FaultSettings, Faults, RequestRecord};
pub use model::{
    Charge, DEFAULT_APPROVAL_SECS, IntentResult, IntentStatus, IntentView, Outcome, Pairing,
    SEND_SECS, SLOW_APPROVAL_SECS, TerminalSpec, TerminalView, TransactionView, default_outcomes,
};
pub use provider::{ProviderInput, ProviderKey};

use state::{Config, PairingCode, Shared, World, lock};

/// Access tokens live this long on the simulated clock (assumed).
pub const ACCESS_TOKEN_SECS: u64 = 300;
/// Refresh tokens live this long (assumed: one day).
pub const REFRESH_TOKEN_SECS: u64 = 86_400;
/// Pairing codes must be redeemed within this (assumed).
pub const PAIRING_CODE_SECS: u64 = 900;

/// What went wrong outside the HTTP API.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// No merchant account with this username.
    #[error("unknown account {0:?}")]
    UnknownAccount(String),
    /// The terminal cannot be added.
    #[error("bad terminal: {0}")]
    BadTerminal(String),
    /// No terminal with this call id.
    #[error("unknown terminal {0}")]
    UnknownTerminal(u64),
    /// Not a P-256 public key.
    #[error("bad provider key: {0}")]
    BadProviderKey(String),
    /// Amounts are cents > 0.
    #[error("amount must be > 0 cents, not {0}")]
    BadAmount(i64),
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

pub(crate) use h2h_sim_kit::random::{random_bytes, random_hex};

impl From<PkiError> for SimError {
    fn from(e: PkiError) -> Self {
        SimError::Pki(e.to_string())
    }
}

/// The names in the test PKI's certificates.
const PKI_NAMES: PkiNames = PkiNames {
    ca_common_name: "h2h WebECR simulator TEST CA",
    ca_organization: "h2h test PKI (not a real service)",
    server_common_name: "webecr-sim.invalid",
};

/// Builds a [`Simulator`].
#[derive(Debug, Clone)]
pub struct SimulatorBuilder {
    accounts: Vec<(String, String)>,
    start_time: Option<DateTime<Utc>>,
    access_secs: u64,
    refresh_secs: u64,
    pairing_code_secs: u64,
    require_provider_data: bool,
    default_after: Duration,
    outcomes: BTreeMap<i64, Outcome>,
}

impl SimulatorBuilder {
    /// Adds a merchant account (the WebECR username and password).
    pub fn account(mut self, username: &str, password: &str) -> Self {
        self.accounts.push((username.into(), password.into()));
        self
    }

    /// Starts the clock at `t` and **stops it**: it then moves only by
    /// [`SimHandle::advance_clock`] (deterministic tests). Without it the
    /// clock is the real one plus whatever was advanced.
    pub fn start_time(mut self, t: DateTime<Utc>) -> Self {
        self.start_time = Some(t);
        self
    }

    /// Access-token life (default [`ACCESS_TOKEN_SECS`]).
    pub fn access_token_life(mut self, d: Duration) -> Self {
        self.access_secs = d.as_secs();
        self
    }

    /// Refresh-token life (default [`REFRESH_TOKEN_SECS`]).
    pub fn refresh_token_life(mut self, d: Duration) -> Self {
        self.refresh_secs = d.as_secs();
        self
    }

    /// Pairing-code life (default [`PAIRING_CODE_SECS`]).
    pub fn pairing_code_life(mut self, d: Duration) -> Self {
        self.pairing_code_secs = d.as_secs();
        self
    }

    /// Whether a sale without `ProviderData` is refused (default true).
    pub fn require_provider_data(mut self, on: bool) -> Self {
        self.require_provider_data = on;
        self
    }

    /// Time to COMPLETED of amounts not in the table, and of voids
    /// (default [`DEFAULT_APPROVAL_SECS`]).
    pub fn approval_time(mut self, d: Duration) -> Self {
        self.default_after = d;
        self
    }

    /// Sets (or replaces) the outcome of one amount in cents.
    pub fn outcome(mut self, amount_cents: i64, outcome: Outcome) -> Self {
        self.outcomes.insert(amount_cents, outcome);
        self
    }

    /// The simulator, test PKI made.
    pub fn build(self) -> Result<Simulator, SimError> {
        let config = Config {
            access_secs: i64::try_from(self.access_secs).unwrap_or(i64::MAX / 4),
            refresh_secs: i64::try_from(self.refresh_secs).unwrap_or(i64::MAX / 4),
            pairing_code_secs: i64::try_from(self.pairing_code_secs).unwrap_or(i64::MAX / 4),
            require_provider_data: self.require_provider_data,
            default_after: self.default_after,
        };
        let mut outcomes: BTreeMap<i64, Outcome> = default_outcomes()
            .into_iter()
            .map(|(a, mut o)| {
                if o.after == Duration::from_secs(DEFAULT_APPROVAL_SECS) {
                    o.after = self.default_after;
                }
                (a, o)
            })
            .collect();
        outcomes.extend(self.outcomes);
        let mut world = World::new(config, self.start_time, outcomes);
        for (u, p) in self.accounts {
            world.accounts.insert(u, p);
        }
        let shared = Arc::new(Shared {
            world: Mutex::new(world),
            faults: Mutex::default(),
            log: Mutex::default(),
            pki: Pki::generate(&PKI_NAMES)?,
        });
        Ok(Simulator { shared })
    }
}

/// A simulated WebECR service, not yet listening.
pub struct Simulator {
    shared: Arc<Shared>,
}

impl Simulator {
    /// Starts configuring one.
    pub fn builder() -> SimulatorBuilder {
        SimulatorBuilder {
            accounts: Vec::new(),
            start_time: None,
            access_secs: ACCESS_TOKEN_SECS,
            refresh_secs: REFRESH_TOKEN_SECS,
            pairing_code_secs: PAIRING_CODE_SECS,
            require_provider_data: true,
            default_after: Duration::from_secs(DEFAULT_APPROVAL_SECS),
            outcomes: BTreeMap::new(),
        }
    }

    /// The API and control routes without TLS. Served this way, a
    /// "dropped connection" is answered normally instead.
    pub fn router(&self) -> axum::Router {
        api::router(self.shared.clone()).merge(control::router(self.shared.clone()))
    }

    /// A handle that works before the server starts (its `stop` does
    /// nothing).
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
        let tls = self.shared.pki.server_config(ClientAuth::None)?;
        let server = h2h_sim_kit::tls::serve(listener, self.router(), Arc::new(tls), || {});
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
    /// `https://<addr>` (the certificate names `127.0.0.1` and
    /// `localhost`).
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// `https://<addr>/api`: the "token URL" of the seed.
    pub fn token_url(&self) -> String {
        format!("{}/api", self.url())
    }

    /// `https://<addr>/api/v2.1`: the "post URL" of the seed.
    pub fn post_url(&self) -> String {
        format!("{}/api/v2.1", self.url())
    }
}

/// Controls a simulator: accounts, terminals and pairing codes, provider
/// keys, clock, outcomes, faults, and what happened.
#[derive(Clone)]
pub struct SimHandle {
    pub(crate) shared: Arc<Shared>,
    server: ServerControl,
}

impl SimHandle {
    /// The test CA (PEM): give it to clients as an extra trusted CA.
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

    /// Adds (or re-passwords) a merchant account.
    pub fn add_account(&self, username: &str, password: &str) {
        self.shared
            .world()
            .accounts
            .insert(username.into(), password.into());
    }

    /// Adds the terminal to the account if it is new (same TID = same
    /// terminal) and issues a fresh 8-digit pairing code for it, as the
    /// device would show it.
    pub fn issue_pairing_code(
        &self,
        username: &str,
        spec: TerminalSpec,
    ) -> Result<Pairing, SimError> {
        let mut w = self.shared.world();
        let terminal = w.add_terminal(username, &spec)?;
        let code = loop {
            let b = random_bytes(4);
            let n = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) % 90_000_000 + 10_000_000;
            let c = n.to_string();
            if !w.codes.contains_key(&c) {
                break c;
            }
        };
        let expires = w.now() + TimeDelta::seconds(w.config.pairing_code_secs);
        w.codes.insert(
            code.clone(),
            PairingCode {
                terminal,
                expires,
                redeemed: false,
            },
        );
        let view = w
            .terminals
            .get(&terminal)
            .map(|t| t.view())
            .ok_or(SimError::UnknownTerminal(terminal))?;
        Ok(Pairing {
            code,
            expires,
            terminal: view,
        })
    }

    /// Every terminal (paired or not).
    pub fn terminals(&self) -> Vec<TerminalView> {
        self.shared
            .world()
            .terminals
            .values()
            .map(|t| t.view())
            .collect()
    }

    /// Closes a terminal's batch: the next transactions carry the next
    /// batch number.
    pub fn close_batch(&self, terminal: u64) -> Result<u32, SimError> {
        let mut w = self.shared.world();
        let t = w
            .terminals
            .get_mut(&terminal)
            .ok_or(SimError::UnknownTerminal(terminal))?;
        t.batch += 1;
        t.stan = 0;
        Ok(t.batch)
    }

    /// Registers (or replaces) an e-invoicing provider's public key, by
    /// the name clients send as `ProviderData.ProviderName`.
    pub fn register_provider(&self, name: &str, key: p256::ecdsa::VerifyingKey) {
        self.shared.world().providers.insert(name.into(), key);
    }

    /// As [`register_provider`](Self::register_provider), from PEM,
    /// base64 SPKI DER or base64 SEC1.
    pub fn register_provider_pem(&self, name: &str, public_key: &str) -> Result<(), SimError> {
        let key =
            provider::parse_public_key(public_key.as_bytes()).map_err(SimError::BadProviderKey)?;
        self.register_provider(name, key);
        Ok(())
    }

    /// Sets (or replaces) the outcome of an amount in cents.
    pub fn set_outcome(&self, amount_cents: i64, outcome: Outcome) -> Result<(), SimError> {
        if amount_cents <= 0 {
            return Err(SimError::BadAmount(amount_cents));
        }
        self.shared.world().outcomes.insert(amount_cents, outcome);
        Ok(())
    }

    /// Moves the simulator's clock forward: intents progress, tokens and
    /// pairing codes expire.
    pub fn advance_clock(&self, by: Duration) {
        self.shared.world().advance(by);
    }

    /// The simulator's current time.
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.world().now()
    }

    /// Every intent (sales, refunds, voids), oldest first, as the API
    /// would show it now.
    pub fn intents(&self) -> Vec<IntentView> {
        let w = self.shared.world();
        w.intents.iter().map(|i| w.view(i)).collect()
    }

    /// One intent.
    pub fn intent(&self, id: u64) -> Option<IntentView> {
        let w = self.shared.world();
        w.intent(id).map(|i| w.view(i))
    }

    /// Approved sales so far (money taken from cards), oldest first.
    pub fn charges(&self) -> Vec<Charge> {
        self.shared.world().charges()
    }

    /// How many approved sales carry this `CustomerReference`.
    pub fn charge_count(&self, customer_reference: &str) -> usize {
        self.charges()
            .iter()
            .filter(|c| c.customer_reference.as_deref() == Some(customer_reference))
            .count()
    }

    /// The fault switches.
    pub fn faults(&self) -> Faults {
        Faults {
            shared: self.shared.clone(),
        }
    }

    /// The `/api/` requests so far, oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.shared.log).records().to_vec()
    }

    /// Forgets the requests so far.
    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    /// Stops serving. Does nothing on a handle from
    /// [`Simulator::handle`] or after a first call.
    pub async fn stop(&self) {
        self.server.stop().await;
    }
}
