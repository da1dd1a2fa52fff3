//! PKCS#11 signing tokens: the modules an admin registered, the signing
//! sessions ERP users open with their PIN, and the signatures plugins ask
//! for through the `signing` capability.
//!
//! - `module`: loading a module once per process, slots, login claims;
//! - `session`: logging in, keeping the session;
//! - `certificates`: certificates with their private key, key ids;
//! - `sign`: the mechanisms;
//! - `store`: registrations and grants in the host database.
//!
//! A PIN only ever lives in a `SecretString` (wiped on drop), goes to the
//! module's `C_Login`, and, if the user asked, into the vault sealed. It is
//! never logged nor put in an error.

mod certificates;
mod error;
mod module;
mod session;
mod sign;
mod store;

pub use certificates::{KeyId, SignMechanism, TokenCertificate};
pub use error::{TokenError, TriesLeft};
pub use module::{SlotSelector, SlotView};
pub use session::SessionInfo;
pub use store::TokenRecord;
pub(crate) use store::{get as get_token, grant, grantees, insert as insert_token};
pub(crate) use store::{list as list_tokens, revoke};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use cryptoki::error::{Error as CkError, RvError};
use cryptoki::slot::Slot;
use secrecy::{ExposeSecret, SecretString};

use crate::db::Database;
use crate::vault::{EntryId, Vault, VaultStore};
use session::{Login, OpenSession};
use sign::SignFailure;

/// Who opens a session from a saved PIN, in session info and the vault.
const HOST: &str = "host";

type Key = (String, String);

/// Registered tokens, open signing sessions and signatures. `Send + Sync`;
/// share one per host as `Arc<TokenService>`.
pub struct TokenService {
    db: Database,
    vault: Option<VaultStore>,
    /// Open sessions by (company, token name).
    sessions: Mutex<HashMap<Key, Arc<OpenSession>>>,
    /// Opening is serialized, so concurrent calls needing a session try a
    /// saved PIN once, not once each (a token counts every wrong try).
    opening: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for TokenService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenService")
            .field("vault", &self.vault.is_some())
            .field("sessions", &self.sessions(None).len())
            .finish()
    }
}

/// What closing a session did.
#[derive(Debug, Clone, Copy, serde::Serialize, PartialEq, Eq)]
pub struct Closed {
    /// A session was open and is now closed.
    pub closed: bool,
    /// A saved PIN was deleted.
    pub forgot_pin: bool,
}

/// Wrong PINs in a row after which the host sends no more: real cards
/// (Certum, KIR) lock after three.
pub const MAX_WRONG_PINS: i64 = 2;

impl TokenService {
    /// Tokens registered in `db`; saved PINs sealed with `vault` (without
    /// one, PINs cannot be saved).
    pub fn new(db: Database, vault: Option<Arc<Vault>>) -> Self {
        Self {
            vault: vault.map(|v| VaultStore::new(db.clone(), v)),
            db,
            sessions: Mutex::new(HashMap::new()),
            opening: tokio::sync::Mutex::new(()),
        }
    }

    /// Opens `company`'s signing session on `token` with `pin`, replacing
    /// the company's current one. With `save`, the PIN is sealed in the
    /// vault for sessions the host opens later; without, any saved PIN is
    /// deleted.
    pub async fn open_session(
        &self,
        company: &str,
        token: &str,
        pin: SecretString,
        save: bool,
        user: &str,
    ) -> Result<SessionInfo, TokenError> {
        if !store::company_exists(&self.db, company).await? {
            return Err(TokenError::UnknownCompany(company.to_owned()));
        }
        let record = store::get(&self.db, token).await?;
        let vault = match (&self.vault, save) {
            (None, true) => return Err(TokenError::VaultUnavailable),
            (vault, _) => vault,
        };
        let _opening = self.opening.lock().await;
        // The token keeps one login; trying another PIN would mean logging
        // out a working session first, and a wrong one would leave none.
        if self.get(company, token).is_some() {
            return Err(TokenError::SessionOpen {
                token: token.to_owned(),
                company: company.to_owned(),
            });
        }
        let (result, pin) = self.login(&record, company, pin, save, user).await?;
        let open = match result {
            Ok(open) => open,
            Err(e) => {
                tracing::warn!(target: "h2h::signing", company, token, user, error = %e, kind = e.kind(), "signing session refused");
                return Err(e);
            }
        };
        let entry = EntryId::pin(company, token);
        if let Some(vault) = vault {
            if save {
                vault
                    .put(&entry, pin.expose_secret().as_bytes(), user)
                    .await?;
            } else {
                vault.delete(&entry).await?;
            }
        }
        let info = open.info.clone();
        self.keep(open);
        tracing::info!(target: "h2h::signing", company, token, user, saved = save, slot = info.slot, "signing session opened");
        Ok(info)
    }

    /// Closes `company`'s session on `token` and deletes its saved PIN.
    pub async fn close_session(&self, company: &str, token: &str) -> Result<Closed, TokenError> {
        let _opening = self.opening.lock().await;
        let closed = match self.forget(company, token, None) {
            Some(old) => {
                blocking(move || old.logout()).await?;
                true
            }
            None => false,
        };
        let forgot_pin = match &self.vault {
            Some(vault) => vault.delete(&EntryId::pin(company, token)).await?,
            None => false,
        };
        tracing::info!(target: "h2h::signing", company, token, closed, forgot_pin, "signing session closed");
        Ok(Closed { closed, forgot_pin })
    }

    /// Open sessions, of one company or all, by company then token.
    pub fn sessions(&self, company: Option<&str>) -> Vec<SessionInfo> {
        let sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let mut list: Vec<SessionInfo> = sessions
            .values()
            .filter(|s| company.is_none_or(|c| s.info.company == c))
            .map(|s| s.info.clone())
            .collect();
        list.sort_by(|a, b| (&a.company, &a.token).cmp(&(&b.company, &b.token)));
        list
    }

    /// The certificates on `token` whose keys can sign, for `company`.
    pub async fn certificates(
        &self,
        company: &str,
        token: &str,
    ) -> Result<Vec<TokenCertificate>, TokenError> {
        let open = self.session(company, token).await?;
        let held = open.clone();
        let listed = blocking(move || {
            let slot = Slot::try_from(held.info.slot)?;
            let offered = held.module.pkcs11.get_mechanism_list(slot)?;
            let session = held.lock();
            certificates::list(&session, &held.info.token, &offered)
        })
        .await?;
        listed.map_err(|e| self.failed(&open, "listing certificates", e))
    }

    /// Signs `data` for `company` with `key` and `mechanism`.
    pub async fn sign(
        &self,
        company: &str,
        key: &KeyId,
        mechanism: SignMechanism,
        data: Vec<u8>,
    ) -> Result<Vec<u8>, TokenError> {
        let open = self.session(company, &key.token).await?;
        let (held, id) = (open.clone(), key.clone());
        let signed = blocking(move || sign::sign(&held.lock(), &id, mechanism, &data)).await?;
        let key_id = key.to_string();
        signed.map_err(|failure| match failure {
            SignFailure::KeyNotFound => TokenError::KeyNotFound(key_id),
            SignFailure::Unsupported(kind) => {
                let supported: Vec<String> =
                    kind.mechanisms().iter().map(ToString::to_string).collect();
                let supported = if supported.is_empty() {
                    "nothing".to_owned()
                } else {
                    supported.join(", ")
                };
                TokenError::UnsupportedMechanism {
                    key_id,
                    mechanism: mechanism.to_string(),
                    reason: format!("it is {}, which signs with {supported}", kind.describe()),
                }
            }
            SignFailure::NotOffered => TokenError::UnsupportedMechanism {
                key_id,
                mechanism: mechanism.to_string(),
                reason: "the token does not offer it".to_owned(),
            },
            SignFailure::Token(e) => self.failed(&open, "signing", e),
        })
    }

    /// Forgets the wrong PINs counted on `token` (an admin, once the right
    /// PIN is known).
    pub async fn reset_wrong_pins(&self, token: &str) -> Result<i64, TokenError> {
        let count = store::wrong_pins(&self.db, token).await?;
        store::count_pin(&self.db, token, false).await?;
        Ok(count)
    }

    /// The tokens an admin granted `plugin`, by name.
    pub async fn granted_tokens(&self, plugin: &str) -> Result<Vec<String>, TokenError> {
        store::granted_tokens(&self.db, plugin).await
    }

    /// The open session, or one opened with the saved PIN (tried once: a
    /// wrong one is deleted), or `session-required`.
    async fn session(&self, company: &str, token: &str) -> Result<Arc<OpenSession>, TokenError> {
        if let Some(open) = self.get(company, token) {
            return Ok(open);
        }
        let _opening = self.opening.lock().await;
        if let Some(open) = self.get(company, token) {
            return Ok(open);
        }
        let required = || TokenError::SessionRequired {
            token: token.to_owned(),
            company: company.to_owned(),
        };
        let Some(vault) = &self.vault else {
            return Err(required());
        };
        let entry = EntryId::pin(company, token);
        let Some(saved) = vault.get(&entry).await? else {
            return Err(required());
        };
        let pin = std::str::from_utf8(&saved)
            .map(SecretString::from)
            .map_err(|_| TokenError::Internal(format!("{entry}: the saved PIN is not text")))?;
        drop(saved);
        let record = store::get(&self.db, token).await?;
        match self.login(&record, company, pin, true, HOST).await?.0 {
            Ok(open) => {
                tracing::info!(target: "h2h::signing", company, token, "signing session opened with the saved PIN");
                Ok(self.keep(open))
            }
            Err(TokenError::WrongPin { .. }) => {
                vault.delete(&entry).await?;
                tracing::warn!(target: "h2h::signing", company, token, "the saved PIN was refused; deleted it");
                Err(TokenError::SavedPinRejected {
                    token: token.to_owned(),
                    company: company.to_owned(),
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Logs in, counting wrong PINs in a row per token (in the database, so
    /// every host process counts the same card); refused without sending
    /// the PIN once [`MAX_WRONG_PINS`] were wrong. The PIN comes back for
    /// the vault.
    async fn login(
        &self,
        record: &TokenRecord,
        company: &str,
        pin: SecretString,
        saved: bool,
        opened_by: &str,
    ) -> Result<(Result<OpenSession, TokenError>, SecretString), TokenError> {
        let count = store::wrong_pins(&self.db, &record.name).await?;
        if count >= MAX_WRONG_PINS {
            return Err(TokenError::PinAttemptsExhausted {
                token: record.name.clone(),
                count,
            });
        }
        let (result, pin) = self
            .login_once(record, company, pin, saved, opened_by)
            .await?;
        match &result {
            Ok(_) => store::count_pin(&self.db, &record.name, false).await?,
            Err(TokenError::WrongPin { .. }) => {
                store::count_pin(&self.db, &record.name, true).await?;
            }
            Err(_) => {}
        }
        Ok((result, pin))
    }

    /// Loads the module and logs in, off the async threads.
    async fn login_once(
        &self,
        record: &TokenRecord,
        company: &str,
        pin: SecretString,
        saved: bool,
        opened_by: &str,
    ) -> Result<(Result<OpenSession, TokenError>, SecretString), TokenError> {
        let (record, company, opened_by) =
            (record.clone(), company.to_owned(), opened_by.to_owned());
        blocking(move || {
            let opened = module::load(&record.module_path).and_then(|module| {
                let login = Login {
                    module: &module,
                    selector: &record.selector(),
                    token: &record.name,
                    company: &company,
                    pin: &pin,
                };
                session::open(login, saved, &opened_by)
            });
            (opened, pin)
        })
        .await
    }

    fn get(&self, company: &str, token: &str) -> Option<Arc<OpenSession>> {
        let sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions
            .get(&(company.to_owned(), token.to_owned()))
            .cloned()
    }

    fn keep(&self, open: OpenSession) -> Arc<OpenSession> {
        let open = Arc::new(open);
        let key = (open.info.company.clone(), open.info.token.clone());
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions.insert(key, open.clone());
        open
    }

    /// Removes the session of (company, token); with `only`, only if it is
    /// still that one.
    fn forget(
        &self,
        company: &str,
        token: &str,
        only: Option<&Arc<OpenSession>>,
    ) -> Option<Arc<OpenSession>> {
        let key = (company.to_owned(), token.to_owned());
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        match (sessions.get(&key), only) {
            (Some(current), Some(only)) if !Arc::ptr_eq(current, only) => None,
            _ => sessions.remove(&key),
        }
    }

    /// A module error during an operation; a session the token no longer
    /// has is forgotten, so the next call opens a new one.
    fn failed(
        &self,
        open: &Arc<OpenSession>,
        operation: &'static str,
        error: CkError,
    ) -> TokenError {
        let SessionInfo { company, token, .. } = &open.info;
        if !session::is_session_lost(&error) {
            return session::classify(token, operation, error);
        }
        self.forget(company, token, Some(open));
        tracing::warn!(target: "h2h::signing", company, token, error = %module::describe(&error), "signing session lost");
        match error {
            CkError::Pkcs11(
                RvError::SessionHandleInvalid | RvError::SessionClosed | RvError::UserNotLoggedIn,
                _,
            ) => TokenError::SessionRequired {
                token: token.clone(),
                company: company.clone(),
            },
            other => session::classify(token, operation, other),
        }
    }
}

/// Admin-side checks, used by `admin::tokens`.
impl TokenService {
    /// Loads the module at `path` and lists its slots.
    pub async fn inspect_module(path: &str) -> Result<Vec<SlotView>, TokenError> {
        let path = path.to_owned();
        blocking(move || {
            let module = module::load(&path)?;
            module.slots().map_err(|e| TokenError::ModuleLoad {
                path: path.clone(),
                reason: format!("listing slots: {}", module::describe(&e)),
            })
        })
        .await?
    }

    /// Checks `selector` names a present token of the module at `path`.
    pub async fn find_token(
        name: &str,
        path: &str,
        selector: &SlotSelector,
    ) -> Result<SlotView, TokenError> {
        let (name, path, selector) = (name.to_owned(), path.to_owned(), selector.clone());
        blocking(move || {
            let module = module::load(&path)?;
            module.find_slot(&name, &selector).map(|(_, view)| view)
        })
        .await?
    }
}

/// Runs blocking PKCS#11 work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, TokenError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| TokenError::Internal(e.to_string()))
}

/// Durations in log lines.
pub(crate) fn millis_since(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}
