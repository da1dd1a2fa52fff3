//! Sharing a bank session with another h2h database, as mBank's seed
//! describes it: an admin registers the other database by its PostgreSQL
//! connection string (sealed in the vault, never shown); from the database
//! where a session was opened, and only there, its opener shares it to a
//! user and a head office of the target, for DIKs typed by hand; the
//! target's host then uses it for those DIKs. The token is sealed to the
//! target host's share key ([`keys`]), so it never lies there in clear.
//! The origin keeps the session (its card or credentials are here): every
//! refresh writes the new state and token to each target, closing it ends
//! the shares, and the opener can revoke one.
//!
//! - `keys`: this host's share key, sealing and opening;
//! - `remote`: everything done in a target database (its role's rights);
//! - `store`: targets and shares in this database.

mod keys;
mod remote;
mod store;

pub(crate) use keys::ensure as ensure_share_key;

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use super::{BankSession, BankSessions, SessionError};
use crate::admin::Actor;
use crate::runtime::model::bank::SessionState;
use crate::vault::{EntryId, VaultError};
use remote::{Change, Received, Target};

/// Why sharing failed.
#[derive(Debug, thiserror::Error)]
pub enum ShareError {
    /// No target by that name.
    #[error("no share target `{0}`; an admin registers it with `h2h share-target add`")]
    UnknownTarget(String),
    /// The target name is not usable.
    #[error("share target names are 1-64 of a-z, 0-9, `-` and `_`; `{0}` is not")]
    BadName(String),
    /// The connection string is not PostgreSQL's.
    #[error(
        "a share target is a PostgreSQL connection string \
         (postgres://role:password@host:5432/database)"
    )]
    NotPostgres,
    /// The target database cannot be reached or failed.
    #[error("share target `{target}` cannot be reached: {reason}")]
    Unreachable {
        /// The target.
        target: String,
        /// Why.
        reason: String,
    },
    /// The target database is not an h2h database that receives sessions.
    #[error(
        "share target `{target}` is not an h2h database that receives shared sessions \
         (no share key there: start h2h on it once)"
    )]
    NotAHost {
        /// The target.
        target: String,
    },
    /// The target's role lacks a right sharing needs.
    #[error(
        "the role of share target `{target}` lacks a right sharing needs ({reason}); the README \
         lists them under \"Sharing bank sessions\""
    )]
    Rights {
        /// The target.
        target: String,
        /// The database's message.
        reason: String,
    },
    /// The plugin is not usable in the target.
    #[error("plugin `{plugin}` {why} in share target `{target}`")]
    PluginMissing {
        /// The target.
        target: String,
        /// The plugin.
        plugin: String,
        /// Not installed, or disabled.
        why: &'static str,
    },
    /// The target company is not a head office there.
    #[error("share target `{target}` {why}: `{company}`")]
    TargetCompany {
        /// The target.
        target: String,
        /// The company.
        company: String,
        /// What is wrong.
        why: &'static str,
    },
    /// The target user may not use the session there.
    #[error("user `{user}` {why} (share target `{target}`)")]
    TargetUser {
        /// The target.
        target: String,
        /// The user.
        user: String,
        /// Why not.
        why: &'static str,
    },
    /// The session was shared to this database: only its origin shares it.
    #[error(
        "bank session {id} was shared to this database from {from}; only the database where \
         it was opened can share, refresh or close it"
    )]
    Received {
        /// The session.
        id: i64,
        /// Its origin.
        from: String,
    },
    /// Only the user who opened a session shares it.
    #[error("only `{opener}`, who opened bank session {id}, can share it")]
    NotOpener {
        /// The session.
        id: i64,
        /// Who opened it.
        opener: String,
    },
    /// A DIK the session does not cover.
    #[error("bank session {id} does not cover `{dik}` (it covers: {covered})")]
    Uncovered {
        /// The session.
        id: i64,
        /// The DIK asked for.
        dik: String,
        /// What it covers.
        covered: String,
    },
    /// The same share exists.
    #[error("bank session {session} is already shared to that user and company (share {id})")]
    Duplicate {
        /// The session.
        session: i64,
        /// The existing share.
        id: i64,
    },
    /// No such share.
    #[error("bank session {session} has no share {id}")]
    UnknownShare {
        /// The session.
        session: i64,
        /// The share.
        id: i64,
    },
    /// The target still has shares.
    #[error("share target `{0}` is named by shares; revoke them (their history stays) first")]
    InUse(String),
    /// The request is malformed.
    #[error("{0}")]
    InvalidInput(String),
    /// Sealing or opening a shared token failed.
    #[error("{0}")]
    Crypto(String),
    /// The vault failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// This database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl ShareError {
    /// Stable code for APIs.
    pub fn kind(&self) -> &'static str {
        match self {
            ShareError::UnknownTarget(_) => "unknown_share_target",
            ShareError::BadName(_) | ShareError::NotPostgres | ShareError::InvalidInput(_) => {
                "invalid_input"
            }
            ShareError::Unreachable { .. } => "share_target_unreachable",
            ShareError::NotAHost { .. } => "share_target_not_h2h",
            ShareError::Rights { .. } => "share_target_rights",
            ShareError::PluginMissing { .. } => "plugin_not_at_target",
            ShareError::TargetCompany { .. } => "target_company",
            ShareError::TargetUser { .. } => "target_user_not_permitted",
            ShareError::Received { .. } => "session_received",
            ShareError::NotOpener { .. } => "not_session_opener",
            ShareError::Uncovered { .. } => "company_id_outside_session",
            ShareError::Duplicate { .. } => "already_shared",
            ShareError::UnknownShare { .. } => "unknown_share",
            ShareError::InUse(_) => "share_target_in_use",
            ShareError::Crypto(_) => "share_crypto",
            ShareError::Vault(_) => "vault",
            ShareError::Database(_) => "database",
        }
    }
}

/// A database sessions can be shared to. Never its connection string.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ShareTarget {
    /// The name an admin gave it.
    pub name: String,
    /// Unix millis.
    pub created_at: i64,
    /// Who registered it.
    pub created_by: String,
    /// Shares to it that are active.
    pub active_shares: i64,
}

/// A session shared from here to a target.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SessionShare {
    /// The share's id.
    pub id: i64,
    /// The session shared.
    pub session: i64,
    /// The target's name.
    pub target: String,
    /// The ERP user there.
    pub target_user: String,
    /// The head office there.
    pub target_company: String,
    /// The DIKs it is shared for.
    pub company_ids: Vec<String>,
    /// The session's id in the target database.
    pub remote_session_id: i64,
    /// How the target names this origin (`shared_from` there).
    pub origin: String,
    /// `active`, `revoked` or `ended` (the session ended here).
    pub state: String,
    /// Who shared it.
    pub created_by: String,
    /// Unix millis.
    pub created_at: i64,
    /// Unix millis.
    pub updated_at: i64,
    /// The last successful write to the target, Unix millis.
    pub last_sync_at: Option<i64>,
    /// Why the last write to the target failed.
    pub last_error: Option<String>,
}

/// What a user asks for when sharing a session.
#[derive(Debug, Clone)]
pub struct ShareRequest {
    /// The registered target.
    pub target: String,
    /// The ERP user there.
    pub user: String,
    /// The head office there.
    pub company: String,
    /// The DIKs (company ids) of the target to share it for, by hand.
    pub company_ids: Vec<String>,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

impl BankSessions {
    /// Registers (or replaces) share target `name`: checks that it is an
    /// h2h PostgreSQL database that receives sessions, then seals its
    /// connection string.
    pub async fn add_share_target(
        &self,
        actor: &Actor,
        name: &str,
        url: &SecretString,
    ) -> Result<ShareTarget, SessionError> {
        let result = self.add_target_once(actor, name, url).await;
        let outcome = match &result {
            Ok(_) => ("ok".to_owned(), String::new()),
            Err(e) => (e.kind().to_owned(), e.to_string()),
        };
        crate::admin::record_audit(
            &self.db,
            actor,
            "share-target.add",
            name,
            &outcome.0,
            &outcome.1,
        )
        .await;
        result
    }

    async fn add_target_once(
        &self,
        actor: &Actor,
        name: &str,
        url: &SecretString,
    ) -> Result<ShareTarget, SessionError> {
        if !valid_name(name) {
            return Err(ShareError::BadName(name.to_owned()).into());
        }
        let mut target = Target::connect(name, url).await?;
        let key = target.share_key().await;
        target.close().await;
        key?;
        self.vault
            .put(
                &EntryId::external_database(name),
                url.expose_secret().as_bytes(),
                actor.as_str(),
            )
            .await?;
        store::upsert_target(&self.db, name, actor.as_str()).await?;
        self.share_targets()
            .await?
            .into_iter()
            .find(|t| t.name == name)
            .ok_or_else(|| ShareError::UnknownTarget(name.to_owned()).into())
    }

    /// The registered share targets.
    pub async fn share_targets(&self) -> Result<Vec<ShareTarget>, SessionError> {
        Ok(store::targets(&self.db).await?)
    }

    /// Forgets share target `name` and its connection string; refused
    /// while shares name it.
    pub async fn remove_share_target(&self, actor: &Actor, name: &str) -> Result<(), SessionError> {
        let known = self.share_targets().await?.iter().any(|t| t.name == name);
        let result: Result<(), SessionError> = if !known {
            Err(ShareError::UnknownTarget(name.to_owned()).into())
        } else if !store::delete_target(&self.db, name).await? {
            Err(ShareError::InUse(name.to_owned()).into())
        } else {
            self.vault
                .delete(&EntryId::external_database(name))
                .await
                .map(|_| ())
                .map_err(SessionError::from)
        };
        let (outcome, detail) = match &result {
            Ok(()) => ("ok".to_owned(), String::new()),
            Err(e) => (e.kind().to_owned(), e.to_string()),
        };
        crate::admin::record_audit(
            &self.db,
            actor,
            "share-target.remove",
            name,
            &outcome,
            &detail,
        )
        .await;
        result
    }

    async fn connect(&self, name: &str) -> Result<Target, ShareError> {
        let url = self
            .vault
            .get(&EntryId::external_database(name))
            .await?
            .ok_or_else(|| ShareError::UnknownTarget(name.to_owned()))?;
        let url = SecretString::from(String::from_utf8_lossy(&url).into_owned());
        Target::connect(name, &url).await
    }

    /// Shares session `id`, done by `user` (its opener), to a user and
    /// head office of a target, for the target's DIKs.
    pub async fn share(
        &self,
        user: &str,
        origin_installation: &str,
        id: i64,
        request: ShareRequest,
    ) -> Result<SessionShare, SessionError> {
        let session = self.get(id).await?;
        let shared = self
            .share_once(user, origin_installation, &session, &request)
            .await;
        let detail = format!(
            "to {} ({} at {})",
            request.target, request.user, request.company
        );
        let (outcome, detail) = match &shared {
            Ok(share) => ("ok".to_owned(), format!("share {} {detail}", share.id)),
            Err(e) => (e.kind().to_owned(), format!("{detail}: {e}")),
        };
        crate::admin::record_audit(
            &self.db,
            &Actor::erp(user),
            "bank-session.share",
            &format!(
                "{} {} session {}",
                session.plugin, session.company, session.id
            ),
            &outcome,
            &detail,
        )
        .await;
        shared
    }

    async fn share_once(
        &self,
        user: &str,
        origin_installation: &str,
        session: &BankSession,
        request: &ShareRequest,
    ) -> Result<SessionShare, SessionError> {
        refuse_received(session)?;
        if session.opened_by != user {
            return Err(ShareError::NotOpener {
                id: session.id,
                opener: session.opened_by.clone(),
            }
            .into());
        }
        if session.state != SessionState::Active {
            return Err(SessionError::State {
                id: session.id,
                state: session.state_name(),
                why: "only an active session can be shared",
            });
        }
        let ids: Vec<String> = request
            .company_ids
            .iter()
            .map(|d| d.trim().to_owned())
            .filter(|d| !d.is_empty())
            .collect();
        if ids.is_empty() || request.user.trim().is_empty() || request.company.trim().is_empty() {
            return Err(ShareError::InvalidInput(
                "a share names the target's user, head office (company) and at least one \
                 company id (DIK)"
                    .to_owned(),
            )
            .into());
        }
        if let Some(dik) = ids.iter().find(|d| !session.company_ids.contains(d)) {
            return Err(ShareError::Uncovered {
                id: session.id,
                dik: dik.clone(),
                covered: session.company_ids.join(", "),
            }
            .into());
        }
        let existing = store::of_session(&self.db, session.id, true).await?;
        if let Some(same) = existing.iter().find(|s| {
            s.target == request.target
                && s.target_user == request.user
                && s.target_company == request.company
        }) {
            return Err(ShareError::Duplicate {
                session: session.id,
                id: same.id,
            }
            .into());
        }
        let secret = self.secret_of(session).await?;
        let origin = format!("{origin_installation} session {}", session.id);
        let ids_json = serde_json::Value::from(ids.clone()).to_string();
        let mut target = self.connect(&request.target).await?;
        let written = async {
            target
                .check(&session.plugin, &request.company, &request.user)
                .await?;
            let key = target.share_key().await?;
            let bound = keys::binding(&session.plugin, &request.company, &request.user);
            let sealed = keys::seal(&key, secret.expose_secret().as_bytes(), &bound)?;
            let received = Received {
                plugin: &session.plugin,
                company: &request.company,
                user: &request.user,
                bank_user_id: &session.bank_user_id,
                login_method: super::store::method_name(session.login_method),
                connector_session_id: &session.connector_session_id,
                state: session.state_name(),
                company_ids: &ids_json,
                expires_at: session.expires_at,
                shared_from: &origin,
            };
            target.insert(&received, &sealed).await
        }
        .await;
        let remote_id = match written {
            Ok(remote_id) => remote_id,
            Err(e) => {
                target.close().await;
                return Err(e.into());
            }
        };
        let new = store::NewShare {
            session: session.id,
            target: &request.target,
            user: &request.user,
            company: &request.company,
            company_ids: &ids_json,
            remote_id,
            origin: &origin,
            by: user,
        };
        let share_id = match store::insert(&self.db, &new).await {
            Ok(share_id) => share_id,
            Err(e) => {
                // Not recorded here: the target's row must not outlive it.
                let end = ended_change(session, "the origin could not record the share");
                let _ = target.update(remote_id, &origin, &end).await;
                target.close().await;
                return Err(e.into());
            }
        };
        target.close().await;
        Ok(store::get(&self.db, session.id, share_id).await?)
    }

    /// The shares of session `id`, oldest first.
    pub async fn shares(&self, id: i64) -> Result<Vec<SessionShare>, SessionError> {
        self.get(id).await?;
        Ok(store::of_session(&self.db, id, false).await?)
    }

    /// Revokes share `share` of session `id`: the target's row is closed
    /// and loses its token. If the target cannot be reached the share stays
    /// active (and the error says so), so a retry can finish it.
    pub async fn revoke_share(
        &self,
        actor: &Actor,
        id: i64,
        share: i64,
    ) -> Result<SessionShare, SessionError> {
        let session = self.get(id).await?;
        let current = store::get(&self.db, id, share).await?;
        let revoked = async {
            if current.state != "active" {
                return Ok(current.clone());
            }
            let mut target = self.connect(&current.target).await?;
            let change = ended_change(&session, "revoked by the database that shared it");
            let change = Change {
                state: "closed",
                ..change
            };
            let done = target
                .update(current.remote_session_id, &current.origin, &change)
                .await;
            target.close().await;
            done?;
            store::record(&self.db, share, Some("revoked"), None).await?;
            store::get(&self.db, id, share).await
        }
        .await
        .map_err(SessionError::from);
        let (outcome, detail) = match &revoked {
            Ok(_) => ("ok".to_owned(), format!("share {share}")),
            Err(e) => (e.kind().to_owned(), format!("share {share}: {e}")),
        };
        crate::admin::record_audit(
            &self.db,
            actor,
            "bank-session.revoke-share",
            &format!(
                "{} {} session {}",
                session.plugin, session.company, session.id
            ),
            &outcome,
            &detail,
        )
        .await;
        revoked
    }

    /// Writes `session`'s latest state (and `secret`, the bank's new
    /// token, when it gave one) to every target it is shared to. A target
    /// that cannot be reached keeps its share active with the error
    /// recorded; the next refresh tries again. An ended session ends its
    /// shares.
    pub(in crate::sessions) async fn sync_shares(
        &self,
        session: &BankSession,
        secret: Option<&str>,
    ) {
        let shares = match store::of_session(&self.db, session.id, true).await {
            Ok(shares) => shares,
            Err(e) => {
                tracing::error!(session = session.id, error = %e, "cannot read the session's shares");
                return;
            }
        };
        for share in shares {
            let outcome = self.sync_one(session, &share, secret).await;
            let recorded = match &outcome {
                Ok(Some(state)) => store::record(&self.db, share.id, Some(state), None).await,
                Ok(None) => store::record(&self.db, share.id, None, None).await,
                Err(e) => {
                    tracing::warn!(session = session.id, share = share.id, error = %e,
                        "cannot write the shared session to its target");
                    store::record(&self.db, share.id, None, Some(&e.to_string())).await
                }
            };
            if let Err(e) = recorded {
                tracing::error!(share = share.id, error = %e, "cannot record a share's sync");
            }
        }
    }

    /// One target's write; the share's new state if it ends.
    async fn sync_one(
        &self,
        session: &BankSession,
        share: &SessionShare,
        secret: Option<&str>,
    ) -> Result<Option<&'static str>, ShareError> {
        let mut target = self.connect(&share.target).await?;
        let written = async {
            let live = session.state == SessionState::Active;
            let sealed = match secret.filter(|_| live) {
                Some(secret) => {
                    let key = target.share_key().await?;
                    let bound =
                        keys::binding(&session.plugin, &share.target_company, &share.target_user);
                    Some(keys::seal(&key, secret.as_bytes(), &bound)?)
                }
                None => None,
            };
            let change = if live {
                Change {
                    connector_session_id: &session.connector_session_id,
                    state: "active",
                    expires_at: session.expires_at,
                    sealed: sealed.as_deref(),
                    note: None,
                }
            } else {
                ended_change(session, "the session ended in the database that shared it")
            };
            let present = target
                .update(share.remote_session_id, &share.origin, &change)
                .await?;
            Ok(match (live, present) {
                (true, true) => None,
                (false, _) => Some("ended"),
                // The target's row is gone (deleted there): nothing to keep.
                (true, false) => Some("ended"),
            })
        }
        .await;
        target.close().await;
        written
    }

    /// The token of `session`, from this database's vault.
    async fn secret_of(&self, session: &BankSession) -> Result<SecretString, SessionError> {
        let entry = EntryId::bank_session(&session.company, &session.plugin, session.id);
        let bytes = self.vault.get(&entry).await?.unwrap_or_default();
        Ok(SecretString::from(
            String::from_utf8_lossy(&bytes).into_owned(),
        ))
    }
}

/// The target's row of an ended session: its state, no token.
fn ended_change<'a>(session: &'a BankSession, note: &'a str) -> Change<'a> {
    Change {
        connector_session_id: &session.connector_session_id,
        state: if session.state == SessionState::Active {
            "closed"
        } else {
            session.state_name()
        },
        expires_at: session.expires_at,
        sealed: None,
        note: Some(note),
    }
}

/// Refuses what only a session's origin may do.
pub(super) fn refuse_received(session: &BankSession) -> Result<(), ShareError> {
    match &session.shared_from {
        Some(from) => Err(ShareError::Received {
            id: session.id,
            from: from.clone(),
        }),
        None => Ok(()),
    }
}

/// The token of a session shared to this host, opened with its share key.
pub(super) async fn open_received(
    db: &crate::db::Database,
    vault: &crate::vault::VaultStore,
    session: &BankSession,
) -> Result<Option<SecretString>, SessionError> {
    use sqlx::Row;
    let row = sqlx::query("SELECT shared_secret FROM bank_sessions WHERE id = $1")
        .bind(session.id)
        .fetch_one(db.pool())
        .await?;
    let Some(sealed) = row.try_get::<Option<String>, _>("shared_secret")? else {
        return Ok(None);
    };
    let bound = keys::binding(&session.plugin, &session.company, &session.opened_by);
    let opened = keys::open(vault, &sealed, &bound).await?;
    Ok(Some(SecretString::from(
        String::from_utf8_lossy(&opened).into_owned(),
    )))
}
