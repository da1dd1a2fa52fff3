//! Sign-ins to the admin console: an admin API key exchanged for a session
//! whose random token lives in the browser's cookie. Only hashes of the
//! token and the key are stored. A session ends after [`IDLE`] without a
//! request, after [`MAX_AGE`] whatever happens, at sign-out, or when its
//! key is revoked. Each session has its own CSRF token for its forms, and
//! room for one message to show on the next page (the flash).

use std::time::Duration;

use sqlx::Row;

use super::api_keys::{KEY_COLUMNS, fingerprint, key_from_row};
use super::{Actor, Admin, AdminError, ApiKey, Role};
use crate::db::now_millis;

/// A session unused this long is over.
pub const IDLE: Duration = Duration::from_secs(15 * 60);

/// A session this old is over, however busy.
pub const MAX_AGE: Duration = Duration::from_secs(12 * 3600);

/// A signed-in console session.
#[derive(Debug, Clone)]
pub struct ConsoleSession {
    /// The admin key it was opened with.
    pub key: ApiKey,
    /// What its forms must send back.
    pub csrf: String,
}

impl ConsoleSession {
    /// Who the audit log names for the session's actions.
    pub fn actor(&self) -> Actor {
        Actor::api(&self.key.name)
    }
}

/// Why a sign-in was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInRefusal {
    /// No key has this secret.
    UnknownKey,
    /// The key is an ERP key.
    NotAdmin,
}

fn random_hex() -> Result<String, AdminError> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| AdminError::Corrupt(format!("no system randomness: {e}")))?;
    Ok(hex::encode(bytes))
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl Admin {
    /// Opens a session for the admin key `secret`: its cookie token and the
    /// session, or why not. Audited either way.
    pub async fn open_console_session(
        &self,
        secret: &str,
    ) -> Result<Result<(String, ConsoleSession), SignInRefusal>, AdminError> {
        let Some(key) = self.authenticate(secret).await? else {
            return Ok(Err(SignInRefusal::UnknownKey));
        };
        let actor = Actor::api(&key.name);
        if key.role != Role::Admin {
            let refused: Result<(), AdminError> = Err(AdminError::InvalidInput(format!(
                "API key `{}` has role erp; the console needs an admin key",
                key.name
            )));
            let _ = self
                .audited(&actor, "console.sign-in", "console", refused, |_| {
                    String::new()
                })
                .await;
            return Ok(Err(SignInRefusal::NotAdmin));
        }
        let token = random_hex()?;
        let csrf = random_hex()?;
        let now = now_millis();
        let stored = sqlx::query(
            "INSERT INTO console_sessions \
               (token_sha256, key_sha256, csrf, flash, created_at, last_seen_at) \
             VALUES ($1, $2, $3, NULL, $4, $4)",
        )
        .bind(fingerprint(&token))
        .bind(fingerprint(secret))
        .bind(&csrf)
        .bind(now)
        .execute(self.db.pool())
        .await
        .map(|_| ())
        .map_err(AdminError::from);
        self.audited(&actor, "console.sign-in", "console", stored, |_| {
            String::new()
        })
        .await?;
        // Sessions that ended are dropped here rather than by a timer.
        let _ =
            sqlx::query("DELETE FROM console_sessions WHERE last_seen_at < $1 OR created_at < $2")
                .bind(now - millis(IDLE))
                .bind(now - millis(MAX_AGE))
                .execute(self.db.pool())
                .await;
        Ok(Ok((token, ConsoleSession { key, csrf })))
    }

    /// The live session of cookie token `token`, marked as used now; none
    /// when it ended or never was.
    pub async fn console_session(&self, token: &str) -> Result<Option<ConsoleSession>, AdminError> {
        let now = now_millis();
        let columns = KEY_COLUMNS
            .split(", ")
            .map(|c| format!("k.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let row = sqlx::query(&format!(
            "SELECT {columns}, s.csrf FROM console_sessions s \
             JOIN api_keys k ON k.secret_sha256 = s.key_sha256 \
             WHERE s.token_sha256 = $1 AND s.last_seen_at >= $2 AND s.created_at >= $3"
        ))
        .bind(fingerprint(token))
        .bind(now - millis(IDLE))
        .bind(now - millis(MAX_AGE))
        .fetch_optional(self.db.pool())
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let key = key_from_row(&row)?;
        if key.role != Role::Admin {
            return Ok(None);
        }
        sqlx::query("UPDATE console_sessions SET last_seen_at = $1 WHERE token_sha256 = $2")
            .bind(now)
            .bind(fingerprint(token))
            .execute(self.db.pool())
            .await?;
        Ok(Some(ConsoleSession {
            key,
            csrf: row.try_get("csrf")?,
        }))
    }

    /// Keeps `message` for the session's next page.
    pub async fn set_console_flash(&self, token: &str, message: &str) -> Result<(), AdminError> {
        sqlx::query("UPDATE console_sessions SET flash = $1 WHERE token_sha256 = $2")
            .bind(message)
            .bind(fingerprint(token))
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    /// The message kept for this page, cleared.
    pub async fn take_console_flash(&self, token: &str) -> Result<Option<String>, AdminError> {
        let row = sqlx::query("SELECT flash FROM console_sessions WHERE token_sha256 = $1")
            .bind(fingerprint(token))
            .fetch_optional(self.db.pool())
            .await?;
        let flash: Option<String> = match row {
            Some(row) => row.try_get("flash")?,
            None => None,
        };
        if flash.is_some() {
            sqlx::query("UPDATE console_sessions SET flash = NULL WHERE token_sha256 = $1")
                .bind(fingerprint(token))
                .execute(self.db.pool())
                .await?;
        }
        Ok(flash)
    }

    /// Ends the session (sign-out); audited.
    pub async fn close_console_session(
        &self,
        session: &ConsoleSession,
        token: &str,
    ) -> Result<(), AdminError> {
        let closed = sqlx::query("DELETE FROM console_sessions WHERE token_sha256 = $1")
            .bind(fingerprint(token))
            .execute(self.db.pool())
            .await
            .map(|_| ())
            .map_err(AdminError::from);
        self.audited(
            &session.actor(),
            "console.sign-out",
            "console",
            closed,
            |_| String::new(),
        )
        .await
    }
}
