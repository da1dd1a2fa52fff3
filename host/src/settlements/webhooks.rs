//! Webhook delivery: each company's new events, posted in order to the
//! company's webhook, one event per request, signed with the webhook's
//! secret.
//!
//! - Request: `POST <url>`, `Content-Type: application/json`, the body is
//!   the event as `GET /erp/v1/events` lists it; headers `X-H2H-Event-Id`,
//!   `X-H2H-Timestamp` (Unix seconds) and `X-H2H-Signature:
//!   sha256=<hex of HMAC-SHA256(secret, "<timestamp>.<body>")>`.
//! - A 2xx moves the webhook's cursor (`delivered_through`, in the
//!   database) past the event before the next one is sent, so an
//!   acknowledged event is not sent again, after a restart either. Anything
//!   else (another status, a redirect, no answer within the attempt
//!   timeout) leaves the cursor and retries the same event later, with
//!   exponential backoff. Delivery is at least once: a host that dies
//!   between the receiver's 2xx and the cursor update sends that event
//!   again, so receivers deduplicate by `X-H2H-Event-Id`.
//! - One process at a time delivers a webhook: it holds a lease on the
//!   webhook's row, renewed before each request.

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::Row;

use super::{NotifiedEvent, Settlements, SettlementsError};
use crate::admin::{Admin, private_literal, redacted_url, webhook_secret_entry};
use crate::capabilities::http::GuardedResolver;
use crate::db::now_millis;

/// Header naming the event.
pub const EVENT_ID_HEADER: &str = "X-H2H-Event-Id";
/// Header with the signing time, Unix seconds.
pub const TIMESTAMP_HEADER: &str = "X-H2H-Timestamp";
/// Header with `sha256=<hex>`.
pub const SIGNATURE_HEADER: &str = "X-H2H-Signature";

/// Delivery timing.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// How often due webhooks are looked for.
    pub tick: Duration,
    /// How long one request may take.
    pub attempt_timeout: Duration,
    /// The wait after the first failure; it doubles with each failure in a
    /// row.
    pub backoff_base: Duration,
    /// The longest wait between attempts.
    pub backoff_max: Duration,
    /// Events read per pass.
    pub batch: i64,
    /// How long a process holds a webhook without renewing.
    pub lease: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            tick: Duration::from_secs(1),
            attempt_timeout: Duration::from_secs(10),
            backoff_base: Duration::from_secs(2),
            backoff_max: Duration::from_secs(600),
            batch: 100,
            lease: Duration::from_secs(60),
        }
    }
}

/// Why the delivery worker could not work.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The HTTP client could not be built.
    #[error("webhook HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    /// Reading events or the database failed.
    #[error(transparent)]
    Settlements(#[from] SettlementsError),
}

impl From<sqlx::Error> for WebhookError {
    fn from(e: sqlx::Error) -> Self {
        WebhookError::Settlements(SettlementsError::Database(e))
    }
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Events acknowledged with a 2xx.
    pub delivered: usize,
    /// Attempts that failed (each stops its webhook until its backoff ends).
    pub failed: usize,
}

/// `sha256=<hex>` of HMAC-SHA256 with `secret` over `"<timestamp>.<body>"`.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length; new_from_slice cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// How long the oldest event any webhook has yet to receive has waited;
/// zero when every webhook is up to date.
pub async fn delivery_lag(db: &crate::db::Database) -> Result<Duration, SettlementsError> {
    let row = sqlx::query(
        "SELECT MIN(e.created_at) AS oldest FROM webhooks w \
         JOIN events e ON e.company_id = w.company_id AND e.id > w.delivered_through",
    )
    .fetch_one(db.pool())
    .await?;
    let oldest: Option<i64> = row.try_get("oldest")?;
    Ok(oldest.map_or(Duration::ZERO, |at| {
        Duration::from_millis(u64::try_from(now_millis().saturating_sub(at)).unwrap_or(0))
    }))
}

/// Posts new events to the webhooks. Cheap to clone.
#[derive(Clone)]
pub struct WebhookWorker {
    inner: Arc<Inner>,
}

struct Inner {
    admin: Admin,
    settlements: Settlements,
    /// Reaches public addresses only.
    client: reqwest::Client,
    /// For webhooks the admin allowed onto private addresses.
    private_client: reqwest::Client,
    config: WebhookConfig,
    owner: String,
}

/// A webhook's row as a pass reads it.
struct Due {
    company: String,
    url: String,
    delivered_through: i64,
    attempts: i64,
    allow_private: bool,
}

impl WebhookWorker {
    /// A worker of the host process `owner`.
    pub fn new(admin: Admin, owner: &str, config: WebhookConfig) -> Result<Self, WebhookError> {
        // No proxy from the environment: a proxy would hide the address
        // actually reached. Names resolve through the same guard as
        // plugins' requests.
        let client = |allow_private| {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .dns_resolver(Arc::new(GuardedResolver { allow_private }))
                .timeout(config.attempt_timeout)
                .connect_timeout(config.attempt_timeout)
                .user_agent(concat!("h2h/", env!("CARGO_PKG_VERSION")))
                .build()
        };
        Ok(Self {
            inner: Arc::new(Inner {
                settlements: Settlements::new(admin.db().clone()),
                client: client(false)?,
                private_client: client(true)?,
                admin,
                config,
                owner: owner.to_owned(),
            }),
        })
    }

    /// Delivers every `tick` until aborted.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(self.inner.config.tick);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                if let Err(e) = self.deliver_due().await {
                    tracing::warn!(error = %e, "webhook delivery pass failed");
                }
            }
        })
    }

    /// One pass: each webhook that has new events and is not waiting out a
    /// backoff gets them, in order, until one fails; webhooks are served
    /// concurrently.
    pub async fn deliver_due(&self) -> Result<DeliveryReport, WebhookError> {
        let now = now_millis();
        let rows = sqlx::query(
            "SELECT w.company_id FROM webhooks w \
             WHERE w.next_attempt_at <= $1 AND (w.lease_until < $1 OR w.lease_owner = $2) \
               AND EXISTS (SELECT 1 FROM events e \
                           WHERE e.company_id = w.company_id AND e.id > w.delivered_through) \
             ORDER BY w.company_id",
        )
        .bind(now)
        .bind(&self.inner.owner)
        .fetch_all(self.db())
        .await?;
        let mut passes = tokio::task::JoinSet::new();
        for row in rows {
            let company: String = row.try_get("company_id")?;
            let this = self.clone();
            passes.spawn(async move { this.serve(&company).await });
        }
        let mut report = DeliveryReport::default();
        let mut error = None;
        while let Some(done) = passes.join_next().await {
            match done {
                Ok(Ok(one)) => {
                    report.delivered += one.delivered;
                    report.failed += one.failed;
                }
                Ok(Err(e)) => error = Some(e),
                Err(e) => tracing::error!(error = %e, "a webhook delivery task panicked"),
            }
        }
        match error {
            Some(e) if report == DeliveryReport::default() => Err(e),
            Some(e) => {
                tracing::warn!(error = %e, "webhook delivery failed for a company");
                Ok(report)
            }
            None => Ok(report),
        }
    }

    fn db(&self) -> &sqlx::AnyPool {
        self.inner.admin.db().pool()
    }

    fn lease_millis(&self) -> i64 {
        i64::try_from(self.inner.config.lease.as_millis()).unwrap_or(i64::MAX / 2)
    }

    /// Takes or renews the lease on `company`'s webhook; false when another
    /// process holds it or the webhook is gone.
    async fn lease(&self, company: &str) -> Result<bool, WebhookError> {
        let now = now_millis();
        let taken = sqlx::query(
            "UPDATE webhooks SET lease_owner = $1, lease_until = $2 \
             WHERE company_id = $3 AND (lease_until < $4 OR lease_owner = $1)",
        )
        .bind(&self.inner.owner)
        .bind(now + self.lease_millis())
        .bind(company)
        .bind(now)
        .execute(self.db())
        .await?;
        Ok(taken.rows_affected() == 1)
    }

    async fn release(&self, company: &str) {
        let released = sqlx::query(
            "UPDATE webhooks SET lease_owner = NULL, lease_until = 0 \
             WHERE company_id = $1 AND lease_owner = $2",
        )
        .bind(company)
        .bind(&self.inner.owner)
        .execute(self.db())
        .await;
        if let Err(e) = released {
            tracing::warn!(%company, error = %e, "cannot release a webhook lease; it expires");
        }
    }

    /// Delivers `company`'s due events under the lease.
    async fn serve(&self, company: &str) -> Result<DeliveryReport, WebhookError> {
        if !self.lease(company).await? {
            return Ok(DeliveryReport::default());
        }
        let result = self.deliver(company).await;
        self.release(company).await;
        result
    }

    async fn deliver(&self, company: &str) -> Result<DeliveryReport, WebhookError> {
        let mut report = DeliveryReport::default();
        let row = sqlx::query(
            "SELECT company_id, url, delivered_through, attempts, allow_private FROM webhooks \
             WHERE company_id = $1 AND lease_owner = $2",
        )
        .bind(company)
        .bind(&self.inner.owner)
        .fetch_optional(self.db())
        .await?;
        let Some(row) = row else {
            return Ok(report);
        };
        let mut due = Due {
            company: row.try_get("company_id")?,
            url: row.try_get("url")?,
            delivered_through: row.try_get("delivered_through")?,
            attempts: row.try_get("attempts")?,
            allow_private: row.try_get::<i64, _>("allow_private")? != 0,
        };
        let secret = match self
            .inner
            .admin
            .vault()
            .get(&webhook_secret_entry(company))
            .await
        {
            Ok(Some(secret)) => secret,
            Ok(None) => {
                self.failed(&due, None, "the webhook's secret is missing from the vault")
                    .await?;
                report.failed += 1;
                return Ok(report);
            }
            Err(e) => {
                self.failed(&due, None, &format!("the webhook's secret: {e}"))
                    .await?;
                report.failed += 1;
                return Ok(report);
            }
        };
        let page = self
            .inner
            .settlements
            .events_of(
                due.delivered_through,
                self.inner.config.batch,
                std::slice::from_ref(&due.company),
            )
            .await?;
        for event in &page.events {
            if !self.lease(company).await? {
                break;
            }
            match self.post(&due, &secret, event).await {
                Ok(()) => {
                    let moved = sqlx::query(
                        "UPDATE webhooks SET delivered_through = $1, attempts = 0, next_attempt_at = 0, \
                           last_status = 200, last_error = NULL, last_delivered_at = $2 \
                         WHERE company_id = $3 AND delivered_through = $4 AND lease_owner = $5",
                    )
                    .bind(event.id)
                    .bind(now_millis())
                    .bind(&due.company)
                    .bind(due.delivered_through)
                    .bind(&self.inner.owner)
                    .execute(self.db())
                    .await?;
                    report.delivered += 1;
                    if moved.rows_affected() == 0 {
                        // Removed, or set again meanwhile: start over next pass.
                        break;
                    }
                    due.delivered_through = event.id;
                    due.attempts = 0;
                }
                Err((status, why)) => {
                    tracing::warn!(
                        company = %due.company,
                        url = %redacted_url(&due.url),
                        event = event.id,
                        status,
                        error = %why,
                        "webhook delivery failed; retrying later"
                    );
                    self.failed(&due, status, &why).await?;
                    report.failed += 1;
                    break;
                }
            }
        }
        Ok(report)
    }

    /// Sends one event; the error has the status, if one came, and why.
    async fn post(
        &self,
        due: &Due,
        secret: &[u8],
        event: &NotifiedEvent,
    ) -> Result<(), (Option<i64>, String)> {
        let url = reqwest::Url::parse(&due.url).map_err(|e| (None, e.to_string()))?;
        let client = if due.allow_private {
            &self.inner.private_client
        } else {
            // The resolver guards names; an IP literal is never resolved.
            if let Some(refused) = private_literal(&url) {
                return Err((None, format!("refused: {refused}")));
            }
            &self.inner.client
        };
        let body = serde_json::to_vec(event).map_err(|e| (None, e.to_string()))?;
        let timestamp = chrono::Utc::now().timestamp();
        let sent = client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(EVENT_ID_HEADER, event.id.to_string())
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, signature(secret, timestamp, &body))
            .body(body)
            .send()
            .await
            .map_err(|e| (None, error_chain(&e.without_url())))?;
        let status = sent.status();
        // Read (and drop) the answer so the connection can be reused.
        let _ = sent.bytes().await;
        if status.is_success() {
            Ok(())
        } else {
            Err((
                Some(i64::from(status.as_u16())),
                format!("the receiver answered {status}"),
            ))
        }
    }

    async fn failed(&self, due: &Due, status: Option<i64>, why: &str) -> Result<(), WebhookError> {
        let attempts = due.attempts + 1;
        let config = &self.inner.config;
        let wait = config
            .backoff_base
            .saturating_mul(2u32.saturating_pow(u32::try_from(attempts - 1).unwrap_or(u32::MAX)))
            .min(config.backoff_max);
        let next = now_millis() + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2);
        sqlx::query(
            "UPDATE webhooks SET attempts = $1, next_attempt_at = $2, last_status = $3, last_error = $4 \
             WHERE company_id = $5 AND lease_owner = $6",
        )
        .bind(attempts)
        .bind(next)
        .bind(status)
        .bind(why)
        .bind(&due.company)
        .bind(&self.inner.owner)
        .execute(self.db())
        .await?;
        Ok(())
    }
}

/// An error with its causes, so a refused address says why.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
