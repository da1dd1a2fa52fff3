//! The session bot: the host task every bank connector gets
//! ([`REFRESH_TASK`], every 20 seconds by default) that refreshes sessions
//! flagged "refresh by bot" before they expire, at the interval the
//! connector asked for, polls pending mobile confirmations, and reopens a
//! session the bank dropped when its user saved the PIN; without a saved
//! PIN the drop is an event for the ERP.

use std::sync::Arc;

use serde::Serialize;

use super::{BankSession, BankSessions, HostSigning, OpenRequest, SessionError, store};
use crate::connectors::Connectors;
use crate::db::now_millis;
use crate::packages::host_tasks::SESSION_REFRESH;
use crate::pkcs11::KeyId;
use crate::runtime::model::bank::SessionState;
use crate::scheduler::{HostTask, RunError};
use crate::vault::EntryId;

/// The bot's task name.
pub const REFRESH_TASK: &str = SESSION_REFRESH.name;

/// How far ahead of its due time a session is refreshed: the bot's default
/// period, so the next round is never too late.
pub const LEAD_MILLIS: i64 = 20_000;

/// What one round did.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct KeepReport {
    /// Sessions refreshed or polled.
    pub refreshed: Vec<i64>,
    /// Sessions whose refresh failed (kept, retried next round).
    pub failed: Vec<i64>,
    /// Sessions that ended (expired, rejected), each with its successor if
    /// one was reopened.
    pub ended: Vec<(i64, Option<i64>)>,
}

impl BankSessions {
    /// One round of the bot for `plugin` and `company` at `now` (Unix
    /// millis).
    pub async fn keep_alive(
        &self,
        connectors: &Connectors,
        plugin: &str,
        company: &str,
        now: i64,
    ) -> Result<KeepReport, SessionError> {
        let mut report = KeepReport::default();
        for session in store::kept_by_bot(&self.db, plugin, company).await? {
            let expired_by_clock = session.state == SessionState::Active
                && session.expires_at.is_some_and(|at| at <= now);
            if expired_by_clock {
                let ended = store::end(
                    &self.db,
                    &self.vault,
                    &session,
                    SessionState::Expired,
                    Some("expired before the bot could refresh it"),
                )
                .await?;
                let successor = self.reopen_or_announce(connectors, &ended).await;
                report.ended.push((session.id, successor));
                continue;
            }
            if !is_due(&session, now) {
                continue;
            }
            match self.refresh(connectors, session.id, None).await {
                Ok(fresh)
                    if fresh.state == SessionState::Active
                        || fresh.state == SessionState::PendingConfirmation =>
                {
                    report.refreshed.push(session.id);
                }
                Ok(ended) => {
                    let successor = match ended.state {
                        SessionState::Expired => self.reopen_or_announce(connectors, &ended).await,
                        _ => None,
                    };
                    report.ended.push((session.id, successor));
                }
                Err(_) => {
                    let after = self.get(session.id).await?;
                    if after.state == SessionState::Expired {
                        let successor = self.reopen_or_announce(connectors, &after).await;
                        report.ended.push((session.id, successor));
                    } else {
                        report.failed.push(session.id);
                    }
                }
            }
        }
        Ok(report)
    }

    /// Opens a new session in place of `ended` with the host's signature
    /// and the PIN its user saved; without one, tells the ERP. Answers the
    /// new session's id.
    async fn reopen_or_announce(
        &self,
        connectors: &Connectors,
        ended: &BankSession,
    ) -> Option<i64> {
        let key = ended.signing_key.as_deref().and_then(KeyId::parse);
        let saved = match &key {
            Some(key) => self
                .vault
                .get(&EntryId::pin(&ended.company, &key.token))
                .await
                .ok()
                .flatten()
                .is_some(),
            None => false,
        };
        if !saved {
            self.announce(ended, "bank_session.expired", ended.last_error.as_deref())
                .await;
            return None;
        }
        let request = OpenRequest {
            plugin: ended.plugin.clone(),
            company: ended.company.clone(),
            bank_user_id: ended.bank_user_id.clone(),
            method: ended.login_method,
            company_ids: ended.company_ids.clone(),
            valid_until: None,
            refresh_by_bot: true,
            host_signing: ended.signing_key.clone().map(|key| HostSigning {
                key,
                pin: None,
                save_pin: true,
            }),
            certificate: None,
        };
        match self.open(connectors, &ended.opened_by, request).await {
            Ok(fresh) => {
                self.announce(&fresh, "bank_session.reopened", None).await;
                Some(fresh.id)
            }
            Err(e) => {
                self.announce(ended, "bank_session.expired", Some(&e.to_string()))
                    .await;
                None
            }
        }
    }
}

/// Whether `session` should be refreshed (or polled) at `now`.
fn is_due(session: &BankSession, now: i64) -> bool {
    if session.state == SessionState::PendingConfirmation {
        return true;
    }
    let last = session.last_refresh_at.unwrap_or(session.opened_at);
    let by_interval = session
        .refresh_every_seconds
        .is_some_and(|every| now + LEAD_MILLIS >= last + i64::from(every) * 1000);
    let by_expiry = session
        .expires_at
        .is_some_and(|at| at - now <= 2 * LEAD_MILLIS);
    by_interval || by_expiry
}

/// The bot as the scheduler runs it.
pub struct SessionBot {
    sessions: BankSessions,
    connectors: Arc<Connectors>,
}

impl SessionBot {
    /// The bot over `sessions`, calling through `connectors`.
    pub fn new(sessions: BankSessions, connectors: Arc<Connectors>) -> Self {
        Self {
            sessions,
            connectors,
        }
    }
}

#[async_trait::async_trait]
impl HostTask for SessionBot {
    fn name(&self) -> &str {
        REFRESH_TASK
    }

    async fn companies(&self, plugin: &str) -> Result<Vec<String>, String> {
        store::bot_companies(&self.sessions.db, plugin)
            .await
            .map_err(|e| e.to_string())
    }

    async fn run(&self, plugin: &str, company: &str, _user: Option<&str>) -> Result<(), RunError> {
        let report = self
            .sessions
            .keep_alive(&self.connectors, plugin, company, now_millis())
            .await
            .map_err(|e| e.to_string())?;
        if report.failed.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "refreshing bank sessions {:?} failed; retried next round",
                report.failed
            )
            .into())
        }
    }
}
