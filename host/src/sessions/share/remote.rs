//! The target database of a share: another h2h host's PostgreSQL, reached
//! with the connection string an admin registered. Everything sharing does
//! there is in this file, so the rights its role needs are these queries'
//! (README, "Sharing bank sessions"): read `session_share_keys`,
//! `installations`, `companies`, `erp_users`, `erp_user_companies`,
//! `plugin_permissions` and `erp_user_permissions`; read, insert and update
//! `bank_sessions` (and use its id sequence).

use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection, Row};

use super::ShareError;
use super::keys::{self, Published};
use crate::db::now_millis;

/// How long reaching a target may take before the share fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Checks that `url` is a PostgreSQL connection string, without saying
/// anything of it back (it may hold a password).
pub(super) fn parse(url: &SecretString) -> Result<PgConnectOptions, ShareError> {
    let text = url.expose_secret();
    if !(text.starts_with("postgres://") || text.starts_with("postgresql://")) {
        return Err(ShareError::NotPostgres);
    }
    PgConnectOptions::from_str(text).map_err(|_| ShareError::NotPostgres)
}

/// An open connection to a target database.
pub(super) struct Target {
    name: String,
    connection: PgConnection,
}

/// The row a share writes in the target.
pub(super) struct Received<'a> {
    pub plugin: &'a str,
    pub company: &'a str,
    pub user: &'a str,
    pub bank_user_id: &'a str,
    pub login_method: &'a str,
    pub connector_session_id: &'a str,
    pub state: &'a str,
    pub company_ids: &'a str,
    pub expires_at: Option<i64>,
    pub shared_from: &'a str,
}

impl Target {
    /// Connects to target `name`.
    pub(super) async fn connect(name: &str, url: &SecretString) -> Result<Self, ShareError> {
        let options = parse(url)?;
        let unreachable = |reason: String| ShareError::Unreachable {
            target: name.to_owned(),
            reason,
        };
        let connection =
            tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&options))
                .await
                .map_err(|_| {
                    unreachable(format!("no answer within {}s", CONNECT_TIMEOUT.as_secs()))
                })?
                .map_err(|e| unreachable(e.to_string()))?;
        Ok(Self {
            name: name.to_owned(),
            connection,
        })
    }

    /// Closes the connection.
    pub(super) async fn close(self) {
        let _ = self.connection.close().await;
    }

    fn failed(&self, e: sqlx::Error) -> ShareError {
        let code = e
            .as_database_error()
            .and_then(|d| d.code())
            .map(|c| c.into_owned());
        match code.as_deref() {
            // undefined_table: not an h2h database, or one that predates
            // sharing.
            Some("42P01") => ShareError::NotAHost {
                target: self.name.clone(),
            },
            // insufficient_privilege
            Some("42501") => ShareError::Rights {
                target: self.name.clone(),
                reason: e.to_string(),
            },
            _ => ShareError::Unreachable {
                target: self.name.clone(),
                reason: e.to_string(),
            },
        }
    }

    /// The newest share key the target publishes.
    pub(super) async fn share_key(&mut self) -> Result<Published, ShareError> {
        let row = sqlx::query(
            "SELECT id, public_key FROM session_share_keys ORDER BY created_at DESC, id LIMIT 1",
        )
        .fetch_optional(&mut self.connection)
        .await
        .map_err(|e| self.failed(e))?
        .ok_or_else(|| ShareError::NotAHost {
            target: self.name.clone(),
        })?;
        keys::published(&row).map_err(|e| self.failed(e))
    }

    /// Refuses unless `plugin` is installed and enabled there, `company`
    /// is a head office there, and `user` is an enabled user with access to
    /// it and the plugin's permission to open sessions, by the target's
    /// own rules (as its `authorize` decides).
    pub(super) async fn check(
        &mut self,
        plugin: &str,
        company: &str,
        user: &str,
    ) -> Result<(), ShareError> {
        let target = self.name.clone();
        let installed = sqlx::query("SELECT enabled FROM installations WHERE plugin_id = $1")
            .bind(plugin)
            .fetch_optional(&mut self.connection)
            .await
            .map_err(|e| self.failed(e))?;
        match installed {
            None => {
                return Err(ShareError::PluginMissing {
                    target,
                    plugin: plugin.to_owned(),
                    why: "is not installed",
                });
            }
            Some(row) if row.try_get::<i64, _>("enabled").unwrap_or(0) == 0 => {
                return Err(ShareError::PluginMissing {
                    target,
                    plugin: plugin.to_owned(),
                    why: "is disabled",
                });
            }
            Some(_) => {}
        }
        let office = sqlx::query("SELECT parent_id FROM companies WHERE id = $1")
            .bind(company)
            .fetch_optional(&mut self.connection)
            .await
            .map_err(|e| self.failed(e))?;
        let parent: Option<String> = match office {
            None => {
                return Err(ShareError::TargetCompany {
                    target,
                    company: company.to_owned(),
                    why: "has no such company",
                });
            }
            Some(row) => row.try_get("parent_id").map_err(|e| self.failed(e))?,
        };
        if parent.is_some() {
            return Err(ShareError::TargetCompany {
                target,
                company: company.to_owned(),
                why: "has it as a branch; a session is shared to a head office",
            });
        }
        let refuse = |why: &'static str| ShareError::TargetUser {
            target: target.clone(),
            user: user.to_owned(),
            why,
        };
        let enabled = sqlx::query("SELECT enabled FROM erp_users WHERE id = $1")
            .bind(user)
            .fetch_optional(&mut self.connection)
            .await
            .map_err(|e| self.failed(e))?;
        match enabled {
            None => return Err(refuse("is not an ERP user there")),
            Some(row) if row.try_get::<i64, _>("enabled").unwrap_or(0) == 0 => {
                return Err(refuse("is disabled there"));
            }
            Some(_) => {}
        }
        let access = sqlx::query(
            "SELECT 1 AS yes FROM erp_user_companies WHERE user_id = $1 AND company_id = $2",
        )
        .bind(user)
        .bind(company)
        .fetch_optional(&mut self.connection)
        .await
        .map_err(|e| self.failed(e))?;
        if access.is_none() {
            return Err(refuse("has no access to that company there"));
        }
        let guarding: Vec<String> =
            sqlx::query("SELECT name, operations FROM plugin_permissions WHERE plugin_id = $1")
                .bind(plugin)
                .fetch_all(&mut self.connection)
                .await
                .map_err(|e| self.failed(e))?
                .iter()
                .filter(|row| {
                    row.try_get::<String, _>("operations")
                        .is_ok_and(|ops| ops.split_whitespace().any(|o| o == "open-session"))
                })
                .filter_map(|row| row.try_get("name").ok())
                .collect();
        if guarding.is_empty() {
            return Ok(());
        }
        let held: Vec<String> = sqlx::query(
            "SELECT permission FROM erp_user_permissions WHERE user_id = $1 AND plugin_id = $2",
        )
        .bind(user)
        .bind(plugin)
        .fetch_all(&mut self.connection)
        .await
        .map_err(|e| self.failed(e))?
        .iter()
        .filter_map(|row| row.try_get("permission").ok())
        .collect();
        if held.iter().any(|p| guarding.contains(p)) {
            Ok(())
        } else {
            Err(refuse(
                "lacks the plugin's permission to open bank sessions there",
            ))
        }
    }

    /// Writes the shared session in the target; its id there.
    pub(super) async fn insert(
        &mut self,
        row: &Received<'_>,
        sealed: &str,
    ) -> Result<i64, ShareError> {
        let now = now_millis();
        let inserted = sqlx::query(
            "INSERT INTO bank_sessions (plugin_id, company_id, bank_user_id, login_method, \
               connector_session_id, state, company_ids, expires_at, refresh_by_bot, \
               opened_by, opened_at, updated_at, last_refresh_at, failures, shared_from, \
               shared_secret) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10, $10, $10, 0, $11, $12) \
             RETURNING id",
        )
        .bind(row.plugin)
        .bind(row.company)
        .bind(row.bank_user_id)
        .bind(row.login_method)
        .bind(row.connector_session_id)
        .bind(row.state)
        .bind(row.company_ids)
        .bind(row.expires_at)
        .bind(row.user)
        .bind(now)
        .bind(row.shared_from)
        .bind(sealed)
        .fetch_one(&mut self.connection)
        .await
        .map_err(|e| self.failed(e))?;
        inserted.try_get("id").map_err(|e| self.failed(e))
    }

    /// Writes the origin's latest state of a shared session: its handle,
    /// state, expiry, and a new token (sealed) when the bank gave one; an
    /// ended session loses its token. False when the row is gone.
    pub(super) async fn update(
        &mut self,
        id: i64,
        shared_from: &str,
        change: &Change<'_>,
    ) -> Result<bool, ShareError> {
        let live = change.state == "active";
        let done = sqlx::query(
            "UPDATE bank_sessions SET connector_session_id = $3, state = $4, expires_at = $5, \
               shared_secret = CASE WHEN $6 THEN COALESCE($7, shared_secret) ELSE NULL END, \
               updated_at = $8, last_refresh_at = CASE WHEN $6 THEN $8 ELSE last_refresh_at END, \
               last_error = $9 \
             WHERE id = $1 AND shared_from = $2",
        )
        .bind(id)
        .bind(shared_from)
        .bind(change.connector_session_id)
        .bind(change.state)
        .bind(change.expires_at)
        .bind(live)
        .bind(change.sealed)
        .bind(now_millis())
        .bind(change.note)
        .execute(&mut self.connection)
        .await
        .map_err(|e| self.failed(e))?;
        Ok(done.rows_affected() == 1)
    }
}

/// What changes in a shared session's row.
pub(super) struct Change<'a> {
    pub connector_session_id: &'a str,
    pub state: &'a str,
    pub expires_at: Option<i64>,
    pub sealed: Option<&'a str>,
    pub note: Option<&'a str>,
}
