//! Bank sessions: the logins a session-based bank (PKO BP, mBank) keeps for
//! a bank user, held by the host so every host process sees them and no
//! connector keeps session state of its own.
//!
//! A session belongs to a connector, a company and a bank user, covers a
//! set of company identifiers (PKO's ContextId, mBank's DIKs), and is opened
//! by an ERP user with the connector's `open-session` permission. The
//! bank's token is sealed in the vault and handed to the connector only
//! inside a call (`config.current().session`).
//!
//! - `store`: rows and the sealed secret;
//! - `open`: opening, by signature (the host signs with a PKCS#11 key, or
//!   the ERP posts a signature made at the workstation), mobile
//!   confirmation or stored credentials;
//! - `keep`: refresh, close, and the call context a session gives;
//! - `bot`: the host task that refreshes sessions before they expire and
//!   reopens dropped ones whose PIN was saved;
//! - `share`: sharing a session with another h2h database.

mod bot;
mod keep;
mod open;
mod share;
mod store;

pub use bot::KeepReport;
pub use bot::{REFRESH_TASK, SessionBot};
pub use keep::attach;
pub use open::{HostSigning, OpenRequest};
pub(crate) use share::ensure_share_key;
pub use share::{SessionShare, ShareError, ShareRequest, ShareTarget};
pub use store::method_from as login_method;

use std::sync::Arc;

use serde::Serialize;

use crate::admin::{Actor, AdminError};
use crate::catalog::CatalogError;
use crate::connectors::{Connectors, Loaded, UnavailableError};
use crate::db::Database;
use crate::pkcs11::{TokenError, TokenService};
use crate::runtime::model::bank::{LoginMethod, SessionState};
use crate::runtime::{CallContext, CallError};
use crate::vault::{VaultError, VaultStore};

/// A bank session as the host keeps it. Never carries the secret.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BankSession {
    /// The host's id.
    pub id: i64,
    /// The connector.
    pub plugin: String,
    /// The company it was opened for.
    pub company: String,
    /// The user's identifier at the bank.
    pub bank_user_id: String,
    /// The connector's handle for it, passed back on every call about it.
    #[serde(skip)]
    pub connector_session_id: String,
    /// How the user logged in.
    pub login_method: LoginMethod,
    /// Where it stands.
    pub state: SessionState,
    /// The company identifiers the bank confirmed it covers.
    pub company_ids: Vec<String>,
    /// When it ends unless refreshed, Unix millis.
    pub expires_at: Option<i64>,
    /// How often the bot refreshes it, as the connector asked.
    pub refresh_every_seconds: Option<u32>,
    /// Whether the host's bot keeps it alive (the seed's "Odświeżaj botem").
    pub refresh_by_bot: bool,
    /// For `awaiting-signature`: what to sign.
    pub challenge: Option<ChallengeView>,
    /// The bank's message for the user.
    pub message: Option<String>,
    /// The PKCS#11 key (`token:hex`) the host signs with, if the host signs.
    pub signing_key: Option<String>,
    /// The ERP user who opened it.
    pub opened_by: String,
    /// Unix millis.
    pub opened_at: i64,
    /// Unix millis.
    pub updated_at: i64,
    /// The last successful refresh, Unix millis.
    pub last_refresh_at: Option<i64>,
    /// For a session another database shared here: that origin (its
    /// installation and session). Only the origin refreshes, closes or
    /// shares it.
    pub shared_from: Option<String>,
    /// Refreshes that failed in a row.
    pub failures: i64,
    /// Why the last refresh or call failed.
    pub last_error: Option<String>,
}

/// What a workstation signs: the challenge, base64.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ChallengeView {
    /// The exact bytes to sign, base64 (standard, padded).
    pub data: String,
    /// The mechanism the bank verifies with (`rsa-pkcs1-sha256`, ...).
    pub mechanism: String,
    /// What the user is signing.
    pub message: Option<String>,
}

/// Why a session operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// No such session.
    #[error("no bank session {0}")]
    UnknownSession(i64),
    /// The session is not in a state that allows this.
    #[error("bank session {id} is {state}: {why}")]
    State {
        /// The session.
        id: i64,
        /// Its state.
        state: &'static str,
        /// What would be needed.
        why: &'static str,
    },
    /// The request is malformed.
    #[error("{0}")]
    InvalidInput(String),
    /// The host may sign for this plugin only with tokens granted to it.
    #[error(
        "token `{token}` is not granted to plugin `{plugin}`; an admin grants it with `h2h token grant`"
    )]
    NotGranted {
        /// The token.
        token: String,
        /// The plugin.
        plugin: String,
    },
    /// The connector cannot be called.
    #[error(transparent)]
    Unavailable(#[from] UnavailableError),
    /// The connector call failed.
    #[error(transparent)]
    Call(#[from] CallError),
    /// The connector answered something the host refuses.
    #[error("{plugin} answered {reason}")]
    BadAnswer {
        /// The connector.
        plugin: String,
        /// What was wrong.
        reason: String,
    },
    /// Settings or vault could not give the call context.
    #[error(transparent)]
    Context(#[from] CatalogError),
    /// An admin-side step failed.
    #[error(transparent)]
    Admin(#[from] AdminError),
    /// Signing with the PKCS#11 token failed (wrong PIN, no key...).
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The vault failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored row cannot be read.
    #[error("stored bank session is corrupt: {0}")]
    Corrupt(String),
    /// Sharing with another database failed.
    #[error(transparent)]
    Share(#[from] ShareError),
}

impl SessionError {
    /// Stable code for APIs.
    pub fn kind(&self) -> &'static str {
        match self {
            SessionError::UnknownSession(_) => "unknown_session",
            SessionError::State { .. } => "session_state",
            SessionError::InvalidInput(_) => "invalid_input",
            SessionError::NotGranted { .. } => "not_granted",
            SessionError::Unavailable(_) => "plugin_unavailable",
            SessionError::Call(_) => "bank_call_failed",
            SessionError::BadAnswer { .. } => "bad_answer",
            SessionError::Context(e) => e.kind(),
            SessionError::Admin(e) => e.kind(),
            SessionError::Token(e) => e.kind(),
            SessionError::Vault(_) => "vault",
            SessionError::Database(_) => "database",
            SessionError::Corrupt(_) => "corrupt",
            SessionError::Share(e) => e.kind(),
        }
    }
}

/// The call context of a bank call for `company`: its settings, secrets
/// and TLS identities, and the bank session it runs with ([`attach`]).
pub async fn call_context(
    connectors: &Connectors,
    loaded: &Loaded,
    db: &Database,
    company: &str,
    user: Option<&str>,
) -> Result<CallContext, SessionError> {
    let mut ctx = connectors.context(loaded, Some(company), user).await?;
    attach(db, connectors.vault(), &mut ctx, &loaded.manifest.id).await?;
    Ok(ctx)
}

/// Bank sessions over the host database.
#[derive(Clone)]
pub struct BankSessions {
    db: Database,
    vault: VaultStore,
    tokens: Arc<TokenService>,
}

impl std::fmt::Debug for BankSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BankSessions").finish_non_exhaustive()
    }
}

impl BankSessions {
    /// Sessions in `db`, secrets sealed with `vault`, signed through
    /// `tokens`.
    pub fn new(db: Database, vault: VaultStore, tokens: Arc<TokenService>) -> Self {
        Self { db, vault, tokens }
    }

    /// Session `id`.
    pub async fn get(&self, id: i64) -> Result<BankSession, SessionError> {
        store::get(&self.db, id).await
    }

    /// The sessions of `company` (every company: none), newest first, at
    /// most `limit`.
    pub async fn list(
        &self,
        company: Option<&str>,
        limit: i64,
    ) -> Result<Vec<BankSession>, SessionError> {
        store::list(&self.db, company, limit).await
    }

    /// Names the ERP user whose session scheduled work of `plugin` for
    /// `company` uses when no user is named.
    pub async fn set_default_user(
        &self,
        company: &str,
        plugin: &str,
        user: &str,
    ) -> Result<(), SessionError> {
        store::set_default_user(&self.db, company, plugin, user).await
    }

    /// Whether a user's one session of `plugin` lives per company (Vendo's
    /// "Zapisuj poświadczenia per firma") rather than per database, the
    /// default.
    pub async fn per_company(&self, plugin: &str) -> Result<bool, SessionError> {
        store::per_company(&self.db, plugin).await
    }

    /// Sets the context of `plugin`'s sessions: per company, or per
    /// database. Applies to sessions opened and calls made from now on.
    pub async fn set_per_company(
        &self,
        actor: &Actor,
        plugin: &str,
        per_company: bool,
    ) -> Result<(), SessionError> {
        let result = store::set_per_company(&self.db, plugin, per_company, actor.as_str()).await;
        let (outcome, detail) = match &result {
            Ok(()) => ("ok".to_owned(), format!("per_company={per_company}")),
            Err(e) => (e.kind().to_owned(), e.to_string()),
        };
        crate::admin::record_audit(
            &self.db,
            actor,
            "bank-session.context",
            plugin,
            &outcome,
            &detail,
        )
        .await;
        result
    }

    /// How `bank_user` logs in to `plugin` for `company` when the request
    /// does not say: the method set for them, else `signature`.
    pub async fn login_method_of(
        &self,
        company: &str,
        plugin: &str,
        bank_user: &str,
    ) -> Result<LoginMethod, SessionError> {
        Ok(store::login_method_of(&self.db, company, plugin, bank_user)
            .await?
            .unwrap_or(LoginMethod::Signature))
    }

    /// Sets how `bank_user` logs in by default (Comarch's "default login
    /// mode").
    pub async fn set_login_method(
        &self,
        actor: &Actor,
        company: &str,
        plugin: &str,
        bank_user: &str,
        method: LoginMethod,
    ) -> Result<(), SessionError> {
        if bank_user.trim().is_empty() {
            return Err(SessionError::InvalidInput(
                "the bank user's identifier is required".to_owned(),
            ));
        }
        store::set_login_method(&self.db, company, plugin, bank_user, method, actor.as_str()).await
    }

    /// The default authorizing user of `plugin` for `company`.
    pub async fn default_user(
        &self,
        company: &str,
        plugin: &str,
    ) -> Result<Option<String>, SessionError> {
        store::default_user(&self.db, company, plugin).await
    }

    /// Writes `action` on `session` to the audit log: `ok`, or the
    /// error's kind and message. Never a secret: session views carry none.
    async fn audit<T>(
        &self,
        actor: &Actor,
        action: &str,
        session: &BankSession,
        result: &Result<T, SessionError>,
    ) {
        let target = format!(
            "{} {} session {} ({})",
            session.plugin, session.company, session.id, session.bank_user_id
        );
        let (outcome, detail) = match result {
            Ok(_) => ("ok".to_owned(), session.state_name().to_owned()),
            Err(e) => (e.kind().to_owned(), e.to_string()),
        };
        crate::admin::record_audit(&self.db, actor, action, &target, &outcome, &detail).await;
    }
}

impl BankSession {
    /// The state as the API writes it.
    pub fn state_name(&self) -> &'static str {
        store::state_name(self.state)
    }
}
