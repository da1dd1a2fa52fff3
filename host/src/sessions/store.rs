//! Bank session rows: reading, writing what a connector answered, and the
//! secret sealed in the vault beside them.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{BankSession, ChallengeView, SessionError};
use crate::db::{Database, now_millis};
use crate::pkcs11::SignMechanism;
use crate::runtime::model::bank::{Challenge, LoginMethod, Session, SessionState};
use crate::vault::{EntryId, VaultStore};

const COLUMNS: &str = "id, plugin_id, company_id, bank_user_id, login_method, \
    connector_session_id, state, company_ids, expires_at, refresh_every_seconds, \
    refresh_by_bot, challenge, message, signing_key, opened_by, opened_at, updated_at, \
    last_refresh_at, failures, last_error, shared_from";

const STATES: [(SessionState, &str); 6] = [
    (SessionState::Active, "active"),
    (SessionState::AwaitingSignature, "awaiting-signature"),
    (SessionState::PendingConfirmation, "pending-confirmation"),
    (SessionState::Rejected, "rejected"),
    (SessionState::Expired, "expired"),
    (SessionState::Closed, "closed"),
];

const METHODS: [(LoginMethod, &str); 3] = [
    (LoginMethod::Signature, "signature"),
    (LoginMethod::MobileConfirmation, "mobile-confirmation"),
    (LoginMethod::StoredCredentials, "stored-credentials"),
];

const MECHANISMS: [SignMechanism; 3] = [
    SignMechanism::RsaPkcs1Sha256,
    SignMechanism::RsaPssSha256,
    SignMechanism::EcdsaP256Sha256,
];

/// The name of `state` in the database and the API.
pub(super) fn state_name(state: SessionState) -> &'static str {
    STATES
        .iter()
        .find(|(s, _)| *s == state)
        .map_or("closed", |(_, name)| name)
}

fn state_from(name: &str) -> Result<SessionState, SessionError> {
    STATES
        .iter()
        .find(|(_, n)| *n == name)
        .map(|(s, _)| *s)
        .ok_or_else(|| SessionError::Corrupt(format!("state `{name}`")))
}

pub(super) fn method_name(method: LoginMethod) -> &'static str {
    METHODS
        .iter()
        .find(|(m, _)| *m == method)
        .map_or("signature", |(_, name)| name)
}

/// The login method named `name` (`signature`, `mobile-confirmation`,
/// `stored-credentials`).
pub fn method_from(name: &str) -> Option<LoginMethod> {
    METHODS.iter().find(|(_, n)| *n == name).map(|(m, _)| *m)
}

/// The challenge as stored and shown.
#[derive(Serialize, Deserialize)]
struct StoredChallenge {
    data: String,
    mechanism: String,
    message: Option<String>,
}

/// The stored challenge of a session, as the connector gave it.
pub(super) fn challenge_from(view: &ChallengeView) -> Result<Challenge, SessionError> {
    let data = STANDARD
        .decode(&view.data)
        .map_err(|e| SessionError::Corrupt(format!("challenge: {e}")))?;
    let mechanism = MECHANISMS
        .into_iter()
        .find(|m| m.to_string() == view.mechanism)
        .ok_or_else(|| SessionError::Corrupt(format!("mechanism `{}`", view.mechanism)))?;
    Ok(Challenge {
        data,
        mechanism,
        message: view.message.clone(),
    })
}

fn challenge_view(challenge: &Challenge) -> ChallengeView {
    ChallengeView {
        data: STANDARD.encode(&challenge.data),
        mechanism: challenge.mechanism.to_string(),
        message: challenge.message.clone(),
    }
}

/// An RFC 3339 instant as Unix millis.
pub(super) fn millis(plugin: &str, instant: &str) -> Result<i64, SessionError> {
    chrono::DateTime::parse_from_rfc3339(instant)
        .map(|at| at.timestamp_millis())
        .map_err(|_| SessionError::BadAnswer {
            plugin: plugin.to_owned(),
            reason: format!("expires-at `{instant}`, which is not an RFC 3339 instant"),
        })
}

fn session_from(row: &AnyRow) -> Result<BankSession, SessionError> {
    let corrupt =
        |what: &str, e: &dyn std::fmt::Display| SessionError::Corrupt(format!("{what}: {e}"));
    let company_ids: String = row.try_get("company_ids")?;
    let challenge: Option<String> = row.try_get("challenge")?;
    let method: String = row.try_get("login_method")?;
    let refresh_every: Option<i64> = row.try_get("refresh_every_seconds")?;
    Ok(BankSession {
        id: row.try_get("id")?,
        plugin: row.try_get("plugin_id")?,
        company: row.try_get("company_id")?,
        bank_user_id: row.try_get("bank_user_id")?,
        connector_session_id: row.try_get("connector_session_id")?,
        login_method: method_from(&method)
            .ok_or_else(|| SessionError::Corrupt(format!("login method `{method}`")))?,
        state: state_from(&row.try_get::<String, _>("state")?)?,
        company_ids: serde_json::from_str(&company_ids).map_err(|e| corrupt("company ids", &e))?,
        expires_at: row.try_get("expires_at")?,
        refresh_every_seconds: refresh_every.and_then(|s| u32::try_from(s).ok()),
        refresh_by_bot: row.try_get::<i64, _>("refresh_by_bot")? != 0,
        challenge: challenge
            .map(|c| serde_json::from_str::<StoredChallenge>(&c))
            .transpose()
            .map_err(|e| corrupt("challenge", &e))?
            .map(|c| ChallengeView {
                data: c.data,
                mechanism: c.mechanism,
                message: c.message,
            }),
        message: row.try_get("message")?,
        signing_key: row.try_get("signing_key")?,
        opened_by: row.try_get("opened_by")?,
        opened_at: row.try_get("opened_at")?,
        updated_at: row.try_get("updated_at")?,
        last_refresh_at: row.try_get("last_refresh_at")?,
        failures: row.try_get("failures")?,
        last_error: row.try_get("last_error")?,
        shared_from: row.try_get("shared_from")?,
    })
}

pub(super) async fn get(db: &Database, id: i64) -> Result<BankSession, SessionError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM bank_sessions WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db.pool())
    .await?
    .ok_or(SessionError::UnknownSession(id))?;
    session_from(&row)
}

pub(super) async fn list(
    db: &Database,
    company: Option<&str>,
    limit: i64,
) -> Result<Vec<BankSession>, SessionError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM bank_sessions WHERE ($1 = '' OR company_id = $1) \
         ORDER BY id DESC LIMIT $2"
    ))
    .bind(company.unwrap_or(""))
    .bind(limit.clamp(1, 1000))
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(session_from).collect()
}

/// Sessions of `plugin` for `company` the bot looks after: by bot, and
/// active or waiting for a confirmation.
pub(super) async fn kept_by_bot(
    db: &Database,
    plugin: &str,
    company: &str,
) -> Result<Vec<BankSession>, SessionError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM bank_sessions WHERE plugin_id = $1 AND company_id = $2 \
           AND refresh_by_bot = 1 AND state IN ('active', 'pending-confirmation') ORDER BY id"
    ))
    .bind(plugin)
    .bind(company)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(session_from).collect()
}

/// Companies with a session of `plugin` the bot looks after.
pub(super) async fn bot_companies(
    db: &Database,
    plugin: &str,
) -> Result<Vec<String>, SessionError> {
    let rows = sqlx::query(
        "SELECT DISTINCT company_id FROM bank_sessions WHERE plugin_id = $1 \
           AND refresh_by_bot = 1 AND state IN ('active', 'pending-confirmation') \
         ORDER BY company_id",
    )
    .bind(plugin)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| r.try_get("company_id").map_err(SessionError::from))
        .collect()
}

/// The newest active session of `plugin` opened by `user` that has not
/// run past its expiry: for `company` when sessions of `plugin` live per
/// company, else the user's one in the database. A session shared here
/// serves only the company it was shared to.
pub(super) async fn active_of(
    db: &Database,
    plugin: &str,
    company: &str,
    user: &str,
) -> Result<Option<BankSession>, SessionError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM bank_sessions WHERE plugin_id = $1 \
           AND (company_id = $2 OR ({IN_DATABASE} AND shared_from IS NULL)) \
           AND opened_by = $3 AND state = 'active' \
           AND (expires_at IS NULL OR expires_at > $4) \
         ORDER BY CASE WHEN company_id = $2 THEN 0 ELSE 1 END, id DESC LIMIT 1"
    ))
    .bind(plugin)
    .bind(company)
    .bind(user)
    .bind(now_millis())
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(session_from).transpose()
}

/// The other live sessions of `session`'s user and connector in its
/// context (the company, or the database; opened here: a session shared
/// here is its origin's to end).
pub(super) async fn others_of(
    db: &Database,
    session: &BankSession,
) -> Result<Vec<BankSession>, SessionError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM bank_sessions WHERE plugin_id = $1 \
           AND (company_id = $2 OR {IN_DATABASE}) \
           AND opened_by = $3 AND id <> $4 AND shared_from IS NULL \
           AND state IN ('active', 'pending-confirmation', 'awaiting-signature') ORDER BY id"
    ))
    .bind(&session.plugin)
    .bind(&session.company)
    .bind(&session.opened_by)
    .bind(session.id)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(session_from).collect()
}

/// What a new session row starts with.
pub(super) struct NewRow<'a> {
    pub plugin: &'a str,
    pub company: &'a str,
    pub bank_user_id: &'a str,
    pub method: LoginMethod,
    pub refresh_by_bot: bool,
    pub signing_key: Option<&'a str>,
    pub opened_by: &'a str,
}

/// Inserts a session in the connector's first answer; seals its secret.
pub(super) async fn insert(
    db: &Database,
    vault: &VaultStore,
    new: &NewRow<'_>,
    session: &Session,
) -> Result<BankSession, SessionError> {
    let now = now_millis();
    let expires_at = session
        .expires_at
        .as_deref()
        .map(|at| millis(new.plugin, at))
        .transpose()?;
    let row = sqlx::query(
        "INSERT INTO bank_sessions (plugin_id, company_id, bank_user_id, login_method, \
           connector_session_id, state, company_ids, expires_at, refresh_every_seconds, \
           refresh_by_bot, challenge, message, signing_key, opened_by, opened_at, updated_at, \
           last_refresh_at, failures) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 0) \
         RETURNING id",
    )
    .bind(new.plugin)
    .bind(new.company)
    .bind(new.bank_user_id)
    .bind(method_name(new.method))
    .bind(&session.id)
    .bind(state_name(session.state))
    .bind(ids_json(&session.company_ids))
    .bind(expires_at)
    .bind(session.refresh_every_seconds.map(i64::from))
    .bind(i64::from(new.refresh_by_bot))
    .bind(challenge_json(session))
    .bind(&session.message)
    .bind(new.signing_key)
    .bind(new.opened_by)
    .bind(now)
    .bind(now)
    .bind((session.state == SessionState::Active).then_some(now))
    .fetch_one(db.pool())
    .await?;
    let id: i64 = row.try_get("id")?;
    if let Some(secret) = &session.secret {
        vault
            .put(
                &EntryId::bank_session(new.company, new.plugin, id),
                secret.as_bytes(),
                new.opened_by,
            )
            .await?;
    }
    get(db, id).await
}

/// Applies the connector's latest answer about `current`: state, ids,
/// expiry, challenge, message, and a new secret if it gave one.
pub(super) async fn apply(
    db: &Database,
    vault: &VaultStore,
    current: &BankSession,
    session: &Session,
    by: &str,
) -> Result<BankSession, SessionError> {
    let now = now_millis();
    let expires_at = session
        .expires_at
        .as_deref()
        .map(|at| millis(&current.plugin, at))
        .transpose()?;
    let refreshed = (session.state == SessionState::Active).then_some(now);
    sqlx::query(
        "UPDATE bank_sessions SET connector_session_id = $2, state = $3, company_ids = $4, \
           expires_at = $5, refresh_every_seconds = $6, challenge = $7, message = $8, \
           updated_at = $9, last_refresh_at = COALESCE($10, last_refresh_at), failures = 0, \
           last_error = NULL \
         WHERE id = $1",
    )
    .bind(current.id)
    .bind(&session.id)
    .bind(state_name(session.state))
    .bind(ids_json(&session.company_ids))
    .bind(expires_at)
    .bind(session.refresh_every_seconds.map(i64::from))
    .bind(challenge_json(session))
    .bind(&session.message)
    .bind(now)
    .bind(refreshed)
    .execute(db.pool())
    .await?;
    let entry = EntryId::bank_session(&current.company, &current.plugin, current.id);
    if let Some(secret) = &session.secret {
        vault.put(&entry, secret.as_bytes(), by).await?;
    }
    if matches!(
        session.state,
        SessionState::Closed | SessionState::Expired | SessionState::Rejected
    ) {
        vault.delete(&entry).await?;
    }
    get(db, current.id).await
}

/// Records a failed refresh or call: one more failure in a row, and why.
pub(super) async fn record_failure(
    db: &Database,
    id: i64,
    error: &str,
) -> Result<(), SessionError> {
    sqlx::query(
        "UPDATE bank_sessions SET failures = failures + 1, last_error = $2, updated_at = $3 \
         WHERE id = $1",
    )
    .bind(id)
    .bind(error)
    .bind(now_millis())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Moves the session to `state` without the connector (closed on request,
/// expired by the clock); forgets its secret.
pub(super) async fn end(
    db: &Database,
    vault: &VaultStore,
    current: &BankSession,
    state: SessionState,
    error: Option<&str>,
) -> Result<BankSession, SessionError> {
    sqlx::query(
        "UPDATE bank_sessions SET state = $2, challenge = NULL, updated_at = $3, \
           last_error = COALESCE($4, last_error) WHERE id = $1",
    )
    .bind(current.id)
    .bind(state_name(state))
    .bind(now_millis())
    .bind(error)
    .execute(db.pool())
    .await?;
    vault
        .delete(&EntryId::bank_session(
            &current.company,
            &current.plugin,
            current.id,
        ))
        .await?;
    get(db, current.id).await
}

/// SQL: sessions of plugin `$1` live per database (no per-company row),
/// read in the same query that needs it, so a call costs no extra trip.
const IN_DATABASE: &str = "NOT EXISTS (SELECT 1 FROM bank_session_contexts c \
    WHERE c.plugin_id = $1 AND c.per_company <> 0)";

/// Whether sessions of `plugin` live per company (else per database).
pub(super) async fn per_company(db: &Database, plugin: &str) -> Result<bool, SessionError> {
    let row = sqlx::query("SELECT per_company FROM bank_session_contexts WHERE plugin_id = $1")
        .bind(plugin)
        .fetch_optional(db.pool())
        .await?;
    Ok(match row {
        Some(row) => row.try_get::<i64, _>("per_company")? != 0,
        None => false,
    })
}

pub(super) async fn set_per_company(
    db: &Database,
    plugin: &str,
    per_company: bool,
    by: &str,
) -> Result<(), SessionError> {
    sqlx::query(
        "INSERT INTO bank_session_contexts (plugin_id, per_company, updated_at, updated_by) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (plugin_id) DO UPDATE SET \
           per_company = excluded.per_company, updated_at = excluded.updated_at, \
           updated_by = excluded.updated_by",
    )
    .bind(plugin)
    .bind(i64::from(per_company))
    .bind(now_millis())
    .bind(by)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// The login method `bank_user` uses by default, if one was set.
pub(super) async fn login_method_of(
    db: &Database,
    company: &str,
    plugin: &str,
    bank_user: &str,
) -> Result<Option<LoginMethod>, SessionError> {
    let row = sqlx::query(
        "SELECT method FROM bank_user_login_methods \
         WHERE company_id = $1 AND plugin_id = $2 AND bank_user_id = $3",
    )
    .bind(company)
    .bind(plugin)
    .bind(bank_user)
    .fetch_optional(db.pool())
    .await?;
    row.map(|row| {
        let name: String = row.try_get("method")?;
        method_from(&name).ok_or_else(|| SessionError::Corrupt(format!("login method `{name}`")))
    })
    .transpose()
}

pub(super) async fn set_login_method(
    db: &Database,
    company: &str,
    plugin: &str,
    bank_user: &str,
    method: LoginMethod,
    by: &str,
) -> Result<(), SessionError> {
    sqlx::query(
        "INSERT INTO bank_user_login_methods \
           (company_id, plugin_id, bank_user_id, method, updated_at, updated_by) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (company_id, plugin_id, bank_user_id) DO UPDATE SET \
           method = excluded.method, updated_at = excluded.updated_at, \
           updated_by = excluded.updated_by",
    )
    .bind(company)
    .bind(plugin)
    .bind(bank_user)
    .bind(method_name(method))
    .bind(now_millis())
    .bind(by)
    .execute(db.pool())
    .await?;
    Ok(())
}

pub(super) async fn set_default_user(
    db: &Database,
    company: &str,
    plugin: &str,
    user: &str,
) -> Result<(), SessionError> {
    sqlx::query(
        "INSERT INTO bank_session_defaults (company_id, plugin_id, erp_user) VALUES ($1, $2, $3) \
         ON CONFLICT (company_id, plugin_id) DO UPDATE SET erp_user = excluded.erp_user",
    )
    .bind(company)
    .bind(plugin)
    .bind(user)
    .execute(db.pool())
    .await?;
    Ok(())
}

pub(super) async fn default_user(
    db: &Database,
    company: &str,
    plugin: &str,
) -> Result<Option<String>, SessionError> {
    let row = sqlx::query(
        "SELECT erp_user FROM bank_session_defaults WHERE company_id = $1 AND plugin_id = $2",
    )
    .bind(company)
    .bind(plugin)
    .fetch_optional(db.pool())
    .await?;
    Ok(row.map(|r| r.try_get("erp_user")).transpose()?)
}

fn ids_json(ids: &[String]) -> String {
    serde_json::Value::from(ids.to_vec()).to_string()
}

fn challenge_json(session: &Session) -> Option<String> {
    let view = challenge_view(session.challenge.as_ref()?);
    let stored = StoredChallenge {
        data: view.data,
        mechanism: view.mechanism,
        message: view.message,
    };
    serde_json::to_string(&stored).ok()
}
