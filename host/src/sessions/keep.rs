//! Keeping sessions: refresh (and the poll of a pending confirmation),
//! close, and the session a connector call runs with.

use secrecy::SecretString;
use serde_json::json;

use super::{BankSession, BankSessions, SessionError, store};
use crate::admin::Actor;
use crate::connectors::{Connectors, Loaded};
use crate::db::Database;
use crate::runtime::model::ConnectorError;
use crate::runtime::model::bank::{SessionContext, SessionState};
use crate::runtime::{CallContext, CallError};
use crate::vault::{EntryId, VaultStore};

impl BankSessions {
    /// Refreshes session `id` (`bank.refresh-session`), acting for `user`
    /// (none: the bot, for the user who opened it). A session waiting for a
    /// mobile confirmation is polled the same way. A failure is recorded
    /// (failures in a row, last error) and becomes a `bank_session.failed`
    /// event; a connector that says the session is gone ends it `expired`.
    pub async fn refresh(
        &self,
        connectors: &Connectors,
        id: i64,
        user: Option<&str>,
    ) -> Result<BankSession, SessionError> {
        let current = self.get(id).await?;
        let actor = user.map_or_else(Actor::host, Actor::erp);
        let refreshed = match super::share::refuse_received(&current) {
            Ok(()) => self.refresh_once(connectors, &current, user).await,
            Err(e) => Err(e.into()),
        };
        let shown = refreshed.as_ref().unwrap_or(&current);
        self.audit(&actor, "bank-session.refresh", shown, &refreshed)
            .await;
        refreshed
    }

    async fn refresh_once(
        &self,
        connectors: &Connectors,
        current: &BankSession,
        user: Option<&str>,
    ) -> Result<BankSession, SessionError> {
        if !matches!(
            current.state,
            SessionState::Active | SessionState::PendingConfirmation
        ) {
            return Err(SessionError::State {
                id: current.id,
                state: current.state_name(),
                why: "only an active or pending session can be refreshed; open a new one",
            });
        }
        let (loaded, ctx) = self.context_for(connectors, current, user).await?;
        let handle = &current.connector_session_id;
        let by = user.unwrap_or(&current.opened_by);
        match loaded.plugin.refresh_session(ctx, handle).await {
            Ok(session) => {
                let updated = store::apply(&self.db, &self.vault, current, &session, by).await?;
                self.sync_shares(&updated, session.secret.as_deref()).await;
                if current.state != SessionState::Active {
                    self.supersede(connectors, &updated).await;
                }
                if updated.state != current.state {
                    self.announce(&updated, "bank_session.changed", None).await;
                }
                Ok(updated)
            }
            Err(e) => {
                let message = e.to_string();
                store::record_failure(&self.db, current.id, &message).await?;
                let gone = matches!(
                    &e,
                    CallError::Connector {
                        error: ConnectorError::SessionRequired(_),
                        ..
                    }
                );
                let failed = if gone {
                    store::end(
                        &self.db,
                        &self.vault,
                        current,
                        SessionState::Expired,
                        Some(&message),
                    )
                    .await?
                } else {
                    self.get(current.id).await?
                };
                if gone {
                    self.sync_shares(&failed, None).await;
                }
                self.announce(&failed, "bank_session.failed", Some(&message))
                    .await;
                Err(e.into())
            }
        }
    }

    /// Closes session `id`, done by `actor` (an ERP user, or an admin on
    /// the command line): the connector's `close-session` (acting for the
    /// session's opener) while the bank still holds it, then closed here
    /// whatever the bank said (its answer is kept as the last error), and
    /// the secret forgotten.
    pub async fn close(
        &self,
        connectors: &Connectors,
        actor: &Actor,
        id: i64,
    ) -> Result<BankSession, SessionError> {
        let current = self.get(id).await?;
        let closed = match super::share::refuse_received(&current) {
            Ok(()) => self.close_once(connectors, &current).await,
            Err(e) => Err(e.into()),
        };
        let shown = closed.as_ref().unwrap_or(&current);
        self.audit(actor, "bank-session.close", shown, &closed)
            .await;
        closed
    }

    async fn close_once(
        &self,
        connectors: &Connectors,
        current: &BankSession,
    ) -> Result<BankSession, SessionError> {
        let at_bank = matches!(
            current.state,
            SessionState::Active
                | SessionState::PendingConfirmation
                | SessionState::AwaitingSignature
        );
        let mut error = None;
        if at_bank {
            let (loaded, ctx) = self.context_for(connectors, current, None).await?;
            let handle = &current.connector_session_id;
            if let Err(e) = loaded.plugin.close_session(ctx, handle).await {
                tracing::warn!(session = current.id, error = %e, "the bank did not close the session");
                error = Some(format!("closed here; the bank answered: {e}"));
            }
        }
        let closed = store::end(
            &self.db,
            &self.vault,
            current,
            SessionState::Closed,
            error.as_deref(),
        )
        .await?;
        self.sync_shares(&closed, None).await;
        Ok(closed)
    }

    /// One session per user and context (mBank's "jedna sesja
    /// długotrwała w danym kontekście": the database, or the company when
    /// the admin set it per company): once `session` is active, the same
    /// user's other sessions of the connector in its context are closed,
    /// at the bank too, each a
    /// `bank_session.superseded` event. A close that fails is logged; the
    /// old session is closed here whatever the bank said.
    pub(super) async fn supersede(&self, connectors: &Connectors, session: &BankSession) {
        if session.state != SessionState::Active || session.shared_from.is_some() {
            return;
        }
        let others = match store::others_of(&self.db, session).await {
            Ok(others) => others,
            Err(e) => {
                tracing::error!(session = session.id, error = %e, "cannot read the user's other sessions");
                return;
            }
        };
        for other in others {
            let closed = self.close_once(connectors, &other).await;
            self.audit(&Actor::host(), "bank-session.supersede", &other, &closed)
                .await;
            match closed {
                Ok(closed) => {
                    let why = format!("superseded by session {}", session.id);
                    self.announce(&closed, "bank_session.superseded", Some(&why))
                        .await;
                }
                Err(e) => {
                    tracing::warn!(session = other.id, error = %e, "cannot close a superseded session");
                }
            }
        }
    }

    /// Gives `ctx` the session its call runs with (see [`attach`]).
    pub async fn attach(&self, ctx: &mut CallContext, plugin: &str) -> Result<(), SessionError> {
        attach(&self.db, &self.vault, ctx, plugin).await
    }

    /// The connector and context of a call about `session`, acting for
    /// `user` (none: its opener), with the session and its secret.
    pub(super) async fn context_for(
        &self,
        connectors: &Connectors,
        session: &BankSession,
        user: Option<&str>,
    ) -> Result<(Loaded, CallContext), SessionError> {
        let user = user.unwrap_or(&session.opened_by);
        let loaded = connectors.get(&session.plugin).await?;
        let mut ctx = connectors
            .context(&loaded, Some(&session.company), Some(user))
            .await?;
        ctx.session = Some(session_context(&self.db, &self.vault, session).await?);
        Ok((loaded, ctx))
    }

    /// Tells the company's ERP what happened to a session (the events
    /// feed and its webhook). A failure to write is logged: the session
    /// itself is already stored.
    pub(super) async fn announce(&self, session: &BankSession, kind: &str, error: Option<&str>) {
        let payload = json!({
            "session": session.id,
            "plugin": session.plugin,
            "bank_user_id": session.bank_user_id,
            "state": session.state_name(),
            "failures": session.failures,
            "error": error,
        });
        if let Err(e) = crate::feed::publish(&self.db, &session.company, kind, &payload).await {
            tracing::error!(session = session.id, error = %e, "cannot record a bank session event");
        }
    }
}

/// Gives `ctx` the session its call runs with: the call's user's active
/// session of `plugin` in the call's context (the company's own first, or
/// the user's one in the database unless sessions live per company); when the
/// call names none (scheduled work) or that user has none, the company's
/// default authorizing user's (as mBank's seed has it: their session serves
/// users who have none; signing a batch still takes the signer's own PIN).
/// Without one the call runs without a session, and a connector that needs
/// one answers `session-required`.
pub async fn attach(
    db: &Database,
    vault: &VaultStore,
    ctx: &mut CallContext,
    plugin: &str,
) -> Result<(), SessionError> {
    let Some(company) = ctx.company_id.clone() else {
        return Ok(());
    };
    let own = match &ctx.user {
        Some(user) => store::active_of(db, plugin, &company, user).await?,
        None => None,
    };
    let session = match own {
        Some(session) => Some(session),
        None => match store::default_user(db, &company, plugin).await? {
            Some(default) => store::active_of(db, plugin, &company, &default).await?,
            None => None,
        },
    };
    if let Some(session) = session {
        ctx.session = Some(session_context(db, vault, &session).await?);
    }
    Ok(())
}

/// The session as a call sees it, with its secret unsealed.
async fn session_context(
    db: &Database,
    vault: &VaultStore,
    session: &BankSession,
) -> Result<SessionContext, SessionError> {
    let secret = if session.shared_from.is_some() {
        super::share::open_received(db, vault, session).await?
    } else {
        let entry = EntryId::bank_session(&session.company, &session.plugin, session.id);
        vault
            .get(&entry)
            .await?
            .map(|bytes| SecretString::from(String::from_utf8_lossy(&bytes).into_owned()))
    };
    Ok(SessionContext {
        id: session.connector_session_id.clone(),
        bank_user_id: session.bank_user_id.clone(),
        company_ids: session.company_ids.clone(),
        secret,
    })
}
