//! Signing sessions: a PKCS#11 session logged in with a user's PIN, kept in
//! host memory for one (company, token). Every function here blocks; the
//! service runs them in `spawn_blocking`.

use std::sync::{Arc, Mutex, MutexGuard};

use cryptoki::error::{Error as CkError, RvError};
use cryptoki::session::{Session, UserType};
use secrecy::SecretString;
use serde::Serialize;

use super::module::{LoginClaim, Module, SlotSelector, describe};
use super::{TokenError, TriesLeft};

/// An open signing session, as the ERP sees it (never the PIN).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SessionInfo {
    /// The company.
    pub company: String,
    /// The registered token name.
    pub token: String,
    /// The slot the token is in.
    pub slot: u64,
    /// The token's own label.
    pub token_label: String,
    /// Whether the PIN is saved in the vault for later sessions.
    pub saved: bool,
    /// When it was opened, RFC 3339 UTC.
    pub opened_at: String,
    /// Who opened it: the ERP user, or `host` when opened with a saved PIN.
    pub opened_by: String,
}

/// A logged-in session. The cryptoki session is `Send` but not `Sync`, so
/// every use goes through the mutex (one operation at a time per session,
/// which is also what PKCS#11 allows).
pub(crate) struct OpenSession {
    pub(crate) info: SessionInfo,
    pub(crate) module: Arc<Module>,
    session: Mutex<Session>,
    /// Dropped after the session field, so the slot is released only once
    /// the session is closed.
    _claim: LoginClaim,
}

impl std::fmt::Debug for OpenSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenSession")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl OpenSession {
    /// The cryptoki session, for one operation.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Session> {
        self.session.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Logs out and closes (the drop closes it too; this waits for an
    /// operation in progress and reports nothing: the token may be gone).
    pub(crate) fn logout(&self) {
        let session = self.lock();
        let _ = session.logout();
    }
}

/// What opening a session needs.
pub(crate) struct Login<'a> {
    pub(crate) module: &'a Arc<Module>,
    pub(crate) selector: &'a SlotSelector,
    pub(crate) token: &'a str,
    pub(crate) company: &'a str,
    pub(crate) pin: &'a SecretString,
}

/// Finds the token, checks its PIN is not locked (a locked token is never
/// sent a PIN), opens a read-only session and logs in as the user.
pub(crate) fn open(
    login: Login<'_>,
    saved: bool,
    opened_by: &str,
) -> Result<OpenSession, TokenError> {
    let Login {
        module,
        selector,
        token,
        company,
        pin,
    } = login;
    let (slot, view) = module.find_slot(token, selector)?;
    let failed = |operation: &'static str, e: CkError| classify(token, operation, e);
    let info = module
        .pkcs11
        .get_token_info(slot)
        .map_err(|e| failed("reading the token", e))?;
    if info.user_pin_locked() {
        return Err(TokenError::PinLocked {
            token: token.to_owned(),
        });
    }
    let claim = module.claim(slot.id(), token, company)?;
    let session = module
        .pkcs11
        .open_ro_session(slot)
        .map_err(|e| failed("opening a session", e))?;
    let mut result = session.login(UserType::User, Some(pin));
    if let Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) = result {
        // A login no live session owns (the claim above says so), left by
        // a session that was dropped without closing: start afresh so this
        // PIN is checked.
        let _ = session.logout();
        result = session.login(UserType::User, Some(pin));
    }
    match result {
        Ok(()) => {}
        Err(CkError::Pkcs11(RvError::PinIncorrect, _)) => {
            let tries = match module.pkcs11.get_token_info(slot) {
                Ok(info) if info.user_pin_locked() => {
                    return Err(TokenError::PinLocked {
                        token: token.to_owned(),
                    });
                }
                Ok(info) if info.user_pin_final_try() => TriesLeft::Last,
                Ok(info) if info.user_pin_count_low() => TriesLeft::Few,
                _ => TriesLeft::Unknown,
            };
            return Err(TokenError::WrongPin {
                token: token.to_owned(),
                tries,
            });
        }
        Err(e) => return Err(failed("logging in", e)),
    }
    Ok(OpenSession {
        info: SessionInfo {
            company: company.to_owned(),
            token: token.to_owned(),
            slot: slot.id(),
            token_label: view.token_label.unwrap_or_default(),
            saved,
            opened_at: crate::db::format_millis(crate::db::now_millis()),
            opened_by: opened_by.to_owned(),
        },
        module: module.clone(),
        session: Mutex::new(session),
        _claim: claim,
    })
}

/// A module's refusal as a token error: the PIN and presence codes get
/// their own variants, the rest keep the module's words.
pub(crate) fn classify(token: &str, operation: &'static str, error: CkError) -> TokenError {
    let token = token.to_owned();
    match error {
        CkError::Pkcs11(RvError::PinLocked, _) => TokenError::PinLocked { token },
        CkError::Pkcs11(RvError::PinIncorrect, _) => TokenError::WrongPin {
            token,
            tries: TriesLeft::Unknown,
        },
        CkError::Pkcs11(
            RvError::TokenNotPresent | RvError::DeviceRemoved | RvError::TokenNotRecognized,
            _,
        ) => TokenError::Pkcs11 {
            token,
            operation,
            reason: "the token was removed".to_owned(),
        },
        other => TokenError::Pkcs11 {
            token,
            operation,
            reason: describe(&other),
        },
    }
}

/// Whether an error means the session is gone (token removed, session
/// closed or logged out by the module) and should be forgotten.
pub(crate) fn is_session_lost(error: &CkError) -> bool {
    matches!(
        error,
        CkError::Pkcs11(
            RvError::SessionHandleInvalid
                | RvError::SessionClosed
                | RvError::UserNotLoggedIn
                | RvError::TokenNotPresent
                | RvError::DeviceRemoved
                | RvError::DeviceError,
            _
        )
    )
}
