//! Webhooks: per company, a URL the host posts each new event to, signed
//! with a shared secret sealed in the vault. The secret is never returned
//! nor logged; listings show the URL and the delivery state. Delivery is
//! [`crate::settlements::webhooks`].

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use sqlx::Row;

use super::{Actor, Admin, AdminError};
use crate::capabilities::http::forbidden;
use crate::db::{Backend, format_millis, now_millis};
use crate::vault::EntryId;

/// The vault owner of webhook secrets: not a slug, so never a plugin id.
pub const WEBHOOK_SECRET_OWNER: &str = "h2h:webhook";

/// Shortest accepted secret, in bytes.
pub const MIN_SECRET_LEN: usize = 16;

/// The vault entry holding `company`'s webhook secret.
pub fn webhook_secret_entry(company: &str) -> EntryId {
    EntryId::secret(company, WEBHOOK_SECRET_OWNER, "secret")
}

/// A company's webhook, without its secret.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct WebhookInfo {
    /// The company whose events it receives.
    pub company: String,
    /// Where events are posted (http or https).
    pub url: String,
    /// Id of the last event the receiver acknowledged with a 2xx.
    pub delivered_through: i64,
    /// Failed attempts in a row at the next event.
    pub attempts: i64,
    /// When the next attempt is due after failures, RFC 3339 UTC.
    pub next_attempt_at: Option<String>,
    /// The HTTP status of the last attempt, if it got one.
    pub last_status: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When an event was last delivered, RFC 3339 UTC.
    pub last_delivered_at: Option<String>,
    /// When the webhook was set, RFC 3339 UTC.
    pub updated_at: String,
    /// Who set it.
    pub updated_by: String,
    /// Whether it may reach loopback, private and link-local addresses.
    pub allow_private: bool,
}

/// Checks a webhook URL: absolute http(s) with a host, no credentials.
pub fn check_url(url: &str) -> Result<reqwest::Url, AdminError> {
    let parsed = reqwest::Url::parse(url.trim())
        .map_err(|e| AdminError::InvalidInput(format!("webhook URL `{url}`: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(AdminError::InvalidInput(format!(
            "webhook URL `{url}`: the scheme must be http or https, not {}",
            parsed.scheme()
        )));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(AdminError::InvalidInput(format!(
            "webhook URL `{url}` has no host"
        )));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(AdminError::InvalidInput(
            "a webhook URL must not carry credentials; the receiver verifies the signature"
                .to_owned(),
        ));
    }
    Ok(parsed)
}

/// Why the URL's host, when it is an IP literal, is off limits without
/// `allow_private` (names are checked on what they resolve to, at
/// delivery).
pub fn private_literal(url: &reqwest::Url) -> Option<String> {
    let host = url.host_str()?;
    let ip: std::net::IpAddr = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()?;
    forbidden(ip).map(|kind| format!("{ip} is {kind}"))
}

/// The URL without its query, for logs and the audit log (a query may
/// carry a token of the receiver's).
pub fn redacted_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.query().is_some() {
                parsed.set_query(Some("***"));
            }
            parsed.set_fragment(None);
            parsed.to_string()
        }
        Err(_) => "(unparsable URL)".to_owned(),
    }
}

fn info_from_row(row: &sqlx::any::AnyRow) -> Result<WebhookInfo, AdminError> {
    let next: i64 = row.try_get("next_attempt_at")?;
    Ok(WebhookInfo {
        company: row.try_get("company_id")?,
        url: row.try_get("url")?,
        delivered_through: row.try_get("delivered_through")?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: (next > 0).then(|| format_millis(next)),
        last_status: row.try_get("last_status")?,
        last_error: row.try_get("last_error")?,
        last_delivered_at: row
            .try_get::<Option<i64>, _>("last_delivered_at")?
            .map(format_millis),
        updated_at: format_millis(row.try_get("updated_at")?),
        updated_by: row.try_get("updated_by")?,
        allow_private: row.try_get::<i64, _>("allow_private")? != 0,
    })
}

const COLUMNS: &str = "company_id, url, delivered_through, attempts, next_attempt_at, \
     last_status, last_error, last_delivered_at, updated_at, updated_by, allow_private";

impl Admin {
    /// Sets `company`'s webhook: events after the newest one now are posted
    /// to `url`, signed with `secret` (sealed in the vault). Setting it
    /// again changes URL and secret and keeps the delivery cursor. Unless
    /// `allow_private`, it may reach only public addresses: a loopback,
    /// private or link-local address (written in the URL, or what its name
    /// resolves to at delivery) is refused.
    pub async fn set_webhook(
        &self,
        actor: &Actor,
        company: &str,
        url: &str,
        secret: &SecretString,
        allow_private: bool,
    ) -> Result<WebhookInfo, AdminError> {
        let result = async {
            let url = check_url(url)?;
            if !allow_private && let Some(refused) = private_literal(&url) {
                return Err(AdminError::InvalidInput(format!(
                    "webhook URL {}: {refused}; set it with allow_private if the ERP \
                     really listens there",
                    redacted_url(url.as_str())
                )));
            }
            let length = secret.expose_secret().len();
            if !(MIN_SECRET_LEN..=1024).contains(&length) {
                return Err(AdminError::InvalidInput(format!(
                    "a webhook secret has {MIN_SECRET_LEN} to 1024 bytes, not {length}"
                )));
            }
            crate::catalog::require_company(&self.db, company).await?;
            self.vault
                .put(
                    &webhook_secret_entry(company),
                    secret.expose_secret().as_bytes(),
                    actor.as_str(),
                )
                .await?;
            let mut tx = self.db.begin().await?;
            if self.db.kind() == Backend::Postgres {
                // Events committed from here on have greater ids than the
                // cursor (see settlements::queries).
                sqlx::query("LOCK TABLE events IN SHARE MODE")
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(
                "INSERT INTO webhooks (company_id, url, delivered_through, attempts, next_attempt_at, \
                   lease_until, updated_at, updated_by, allow_private) \
                 VALUES ($1, $2, (SELECT COALESCE(MAX(id), 0) FROM events), 0, 0, 0, $3, $4, $5) \
                 ON CONFLICT (company_id) DO UPDATE SET url = excluded.url, attempts = 0, \
                   next_attempt_at = 0, updated_at = excluded.updated_at, \
                   updated_by = excluded.updated_by, allow_private = excluded.allow_private",
            )
            .bind(company)
            .bind(url.as_str())
            .bind(now_millis())
            .bind(actor.as_str())
            .bind(i64::from(allow_private))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            self.webhook(company).await
        }
        .await;
        self.audited(actor, "webhook.set", company, result, |w| {
            format!(
                "{} (secret sealed in the vault), events after {}{}",
                redacted_url(&w.url),
                w.delivered_through,
                if w.allow_private {
                    ", private addresses allowed"
                } else {
                    ""
                }
            )
        })
        .await
    }

    /// Removes `company`'s webhook and its secret.
    pub async fn remove_webhook(&self, actor: &Actor, company: &str) -> Result<(), AdminError> {
        let result = async {
            let removed = sqlx::query("DELETE FROM webhooks WHERE company_id = $1")
                .bind(company)
                .execute(self.db.pool())
                .await?;
            self.vault.delete(&webhook_secret_entry(company)).await?;
            if removed.rows_affected() == 0 {
                return Err(AdminError::NoWebhook(company.to_owned()));
            }
            Ok(())
        }
        .await;
        self.audited(actor, "webhook.remove", company, result, |()| {
            "removed, secret deleted".to_owned()
        })
        .await
    }

    /// Every webhook, without secrets.
    pub async fn webhooks(&self) -> Result<Vec<WebhookInfo>, AdminError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM webhooks ORDER BY company_id"
        ))
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(info_from_row).collect()
    }

    /// `company`'s webhook.
    pub async fn webhook(&self, company: &str) -> Result<WebhookInfo, AdminError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM webhooks WHERE company_id = $1"
        ))
        .bind(company)
        .fetch_optional(self.db.pool())
        .await?
        .ok_or_else(|| AdminError::NoWebhook(company.to_owned()))?;
        info_from_row(&row)
    }
}
