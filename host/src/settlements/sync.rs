//! Statement sync: the host asks an account's connector for its statement
//! page by page and records each page, so the connector never touches the
//! settlements tables and deduplication lives in one place.
//!
//! Every bank connector gets the host task [`SYNC_TASK`] at install (daily,
//! [`DEFAULT_SYNC_CRON`], set by the admin like any task); the ERP can run
//! it on demand. A sync reads from a few days before the last complete day
//! ([`OVERLAP_DAYS`]: banks book late) to today, so overlap is the normal
//! case and the dedupe key makes it exact. A failure keeps the pages already
//! recorded and leaves `synced_through` where it was: the next sync reads
//! the range again and nothing is lost or doubled.

use std::str::FromStr;

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::Row;

use super::record::{Direction, IncomingTransaction, LineDetails};
use super::{BankAccount, Settlements, SettlementsError};
use crate::catalog::CatalogError;
use crate::connectors::{Connectors, UnavailableError};
use crate::db::{Database, now_millis};
use crate::packages::host_tasks::STATEMENT_SYNC;
use crate::runtime::CallError;
use crate::runtime::model::{self, bank};
use crate::scheduler::{HostTask, RunError};
use crate::sessions::{self, SessionError};

/// The host task every bank connector gets.
pub const SYNC_TASK: &str = STATEMENT_SYNC.name;
/// Its default schedule: daily at 06:00 UTC.
pub const DEFAULT_SYNC_CRON: &str = STATEMENT_SYNC.default_cron;
/// Days re-read before the last complete day.
pub const OVERLAP_DAYS: u64 = 3;
/// How far back the first sync of an account reads.
pub const FIRST_SYNC_DAYS: u64 = 30;
/// A connector that keeps handing out continuations is stopped here.
pub const MAX_PAGES: usize = 10_000;

/// Why a sync failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The connector is not available (not installed, disabled, unlicensed).
    #[error(transparent)]
    Unavailable(#[from] UnavailableError),
    /// The connector call failed (bank down, timeout, trap, ...).
    #[error("account {account}: {source}")]
    Call {
        /// The account.
        account: String,
        /// The failure, naming plugin and export.
        source: CallError,
    },
    /// The connector returned something the host refuses to store.
    #[error("account {account}: {plugin} returned {reason}")]
    BadStatement {
        /// The account.
        account: String,
        /// The connector.
        plugin: String,
        /// What was wrong.
        reason: String,
    },
    /// The connector never stopped paging.
    #[error("account {0}: more than {MAX_PAGES} pages; the connector's continuation never ends")]
    TooManyPages(String),
    /// Settings or vault could not give the call context.
    #[error(transparent)]
    Context(#[from] CatalogError),
    /// The call's bank session could not be read.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// Storing failed.
    #[error(transparent)]
    Settlements(#[from] SettlementsError),
}

impl From<sqlx::Error> for SyncError {
    fn from(e: sqlx::Error) -> Self {
        SyncError::Settlements(e.into())
    }
}

impl SyncError {
    /// Stable code for APIs.
    pub fn kind(&self) -> &'static str {
        match self {
            SyncError::Unavailable(_) => "plugin_unavailable",
            SyncError::Call { .. } => "bank_call_failed",
            SyncError::BadStatement { .. } => "bad_statement",
            SyncError::TooManyPages(_) => "too_many_pages",
            SyncError::Context(e) => e.kind(),
            SyncError::Session(e) => e.kind(),
            SyncError::Settlements(e) => e.kind(),
        }
    }
}

/// What one account's sync did.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct SyncReport {
    /// The account.
    pub account: String,
    /// First date read.
    pub from: String,
    /// Last date read.
    pub to: String,
    /// Pages fetched.
    pub pages: usize,
    /// Transactions stored for the first time.
    pub new: usize,
    /// Transactions already stored.
    pub duplicates: usize,
    /// Invoices settled.
    pub settled: Vec<String>,
    /// Invoices flagged for review.
    pub review: Vec<String>,
    /// The last day the bank has closed, when the connector says.
    pub final_through: Option<String>,
    /// Bank files (MT940) kept for the first time.
    pub documents: usize,
    /// ERP ids of sent transfers that new debits booked.
    pub booked_transfers: Vec<String>,
}

/// Where an account's sync stands.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct SyncState {
    /// The account.
    pub account: String,
    /// Statements are complete up to this date.
    pub synced_through: Option<String>,
    /// The last day the bank has closed, as its connector last said; later
    /// days may still change and are read again by the next sync.
    pub final_through: Option<String>,
    /// Last attempt, Unix milliseconds.
    pub last_attempt_at: Option<i64>,
    /// Last success, Unix milliseconds.
    pub last_success_at: Option<i64>,
    /// The last attempt's error; none after a success.
    pub last_error: Option<String>,
    /// Booked balance from the bank's last answer.
    pub balance_booked: Option<String>,
    /// Available balance, when the bank gives it.
    pub balance_available: Option<String>,
    /// When the bank computed the balance.
    pub balance_as_of: Option<String>,
}

impl Settlements {
    /// Syncs every account of `company` served by `plugin`. All accounts are
    /// tried; the first failure is returned after the others ran.
    pub async fn sync_company(
        &self,
        connectors: &Connectors,
        plugin: &str,
        company: &str,
        today: NaiveDate,
        user: Option<&str>,
    ) -> Result<Vec<SyncReport>, SyncError> {
        let rows = sqlx::query(
            "SELECT id FROM bank_accounts WHERE company_id = $1 AND plugin_id = $2 ORDER BY id",
        )
        .bind(company)
        .bind(plugin)
        .fetch_all(self.db.pool())
        .await?;
        let mut reports = Vec::new();
        let mut first_error = None;
        for row in rows {
            let id: String = row.try_get("id")?;
            match self.sync_account(connectors, &id, today, user).await {
                Ok(report) => reports.push(report),
                Err(e) => {
                    tracing::warn!(account = %id, error = %e, "statement sync failed");
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(reports),
        }
    }

    /// Syncs one account up to `today`: fetches every page, records each,
    /// then reads the balance.
    pub async fn sync_account(
        &self,
        connectors: &Connectors,
        account_id: &str,
        today: NaiveDate,
        user: Option<&str>,
    ) -> Result<SyncReport, SyncError> {
        let account = self.account(account_id).await?;
        let state = self.sync_state(account_id).await?;
        let from = sync_start(state.synced_through.as_deref(), today);
        self.mark_attempt(account_id).await?;
        let result = self
            .fetch_all(connectors, &account, from, today, user)
            .await;
        match &result {
            Ok(report) => {
                let final_through = report
                    .final_through
                    .as_deref()
                    .and_then(|d| NaiveDate::from_str(d).ok());
                self.mark_success(account_id, today, final_through).await?
            }
            Err(e) => self.mark_failure(account_id, &e.to_string()).await?,
        }
        result
    }

    async fn fetch_all(
        &self,
        connectors: &Connectors,
        account: &BankAccount,
        from: NaiveDate,
        to: NaiveDate,
        user: Option<&str>,
    ) -> Result<SyncReport, SyncError> {
        let loaded = connectors.get(&account.plugin).await?;
        let mut report = SyncReport {
            account: account.id.clone(),
            from: from.to_string(),
            to: to.to_string(),
            ..SyncReport::default()
        };
        let call_failed = |source| SyncError::Call {
            account: account.id.clone(),
            source,
        };
        let mut continuation = None;
        loop {
            if report.pages == MAX_PAGES {
                return Err(SyncError::TooManyPages(account.id.clone()));
            }
            let query = bank::StatementQuery {
                account: account.iban.clone(),
                from: from.to_string(),
                to: to.to_string(),
                continuation: continuation.take(),
            };
            let ctx = sessions::call_context(connectors, &loaded, &self.db, &account.company, user)
                .await?;
            let page = loaded
                .plugin
                .fetch_statement(ctx, &query)
                .await
                .map_err(call_failed)?;
            let incoming = page
                .transactions
                .iter()
                .map(incoming)
                .collect::<Result<Vec<_>, String>>()
                .map_err(|reason| SyncError::BadStatement {
                    account: account.id.clone(),
                    plugin: account.plugin.clone(),
                    reason,
                })?;
            let recorded = self.record(&account.id, &incoming).await?;
            report.documents += self
                .keep_documents(&account.id, None, &page.documents)
                .await?;
            report.booked_transfers.extend(recorded.booked_transfers);
            report.pages += 1;
            report.new += recorded.new;
            report.duplicates += recorded.duplicates;
            report.settled.extend(recorded.settled);
            report.review.extend(recorded.review);
            if let Some(day) = &page.final_through {
                let day = NaiveDate::from_str(day).map_err(|_| SyncError::BadStatement {
                    account: account.id.clone(),
                    plugin: account.plugin.clone(),
                    reason: format!("final-through `{day}` is not YYYY-MM-DD"),
                })?;
                report.final_through = report.final_through.clone().max(Some(day.to_string()));
            }
            match page.continuation {
                Some(next) if !next.is_empty() => continuation = Some(next),
                _ => break,
            }
        }
        let ctx =
            sessions::call_context(connectors, &loaded, &self.db, &account.company, user).await?;
        // A connector without balances (`unsupported`, the SDK's default)
        // still syncs: the statement is what the sync is for.
        match loaded.plugin.get_balance(ctx, &account.iban).await {
            Ok(balance) => self.store_balance(&account.id, &balance).await?,
            Err(CallError::Connector {
                error: model::ConnectorError::Unsupported(_),
                ..
            }) => {}
            Err(e) => return Err(call_failed(e)),
        }
        Ok(report)
    }

    /// Where `account`'s sync stands (empty if it never ran).
    pub async fn sync_state(&self, account: &str) -> Result<SyncState, SettlementsError> {
        let row = sqlx::query(
            "SELECT synced_through, final_through, last_attempt_at, last_success_at, last_error, \
               balance_booked, balance_available, balance_as_of \
             FROM account_sync WHERE account_id = $1",
        )
        .bind(account)
        .fetch_optional(self.db.pool())
        .await?;
        let Some(row) = row else {
            return Ok(SyncState {
                account: account.to_owned(),
                ..SyncState::default()
            });
        };
        Ok(SyncState {
            account: account.to_owned(),
            synced_through: row.try_get("synced_through")?,
            final_through: row.try_get("final_through")?,
            last_attempt_at: row.try_get("last_attempt_at")?,
            last_success_at: row.try_get("last_success_at")?,
            last_error: row.try_get("last_error")?,
            balance_booked: row.try_get("balance_booked")?,
            balance_available: row.try_get("balance_available")?,
            balance_as_of: row.try_get("balance_as_of")?,
        })
    }

    async fn mark_attempt(&self, account: &str) -> Result<(), SettlementsError> {
        sqlx::query(
            "INSERT INTO account_sync (account_id, last_attempt_at) VALUES ($1, $2) \
             ON CONFLICT (account_id) DO UPDATE SET last_attempt_at = excluded.last_attempt_at",
        )
        .bind(account)
        .bind(now_millis())
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    async fn mark_success(
        &self,
        account: &str,
        through: NaiveDate,
        final_through: Option<NaiveDate>,
    ) -> Result<(), SettlementsError> {
        // Today is not complete yet, nor any day after the last one the bank
        // closed: the next sync starts from the overlap before them.
        let complete = through.pred_opt().unwrap_or(through);
        let complete = final_through.map_or(complete, |day| day.min(complete));
        sqlx::query(
            "UPDATE account_sync SET synced_through = $1, final_through = $2, \
               last_success_at = $3, last_error = NULL \
             WHERE account_id = $4",
        )
        .bind(complete.to_string())
        .bind(final_through.map(|d| d.to_string()))
        .bind(now_millis())
        .bind(account)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    async fn mark_failure(&self, account: &str, error: &str) -> Result<(), SettlementsError> {
        sqlx::query("UPDATE account_sync SET last_error = $1 WHERE account_id = $2")
            .bind(error)
            .bind(account)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    async fn store_balance(
        &self,
        account: &str,
        balance: &bank::Balance,
    ) -> Result<(), SettlementsError> {
        let amount = |money: &model::Money| {
            Decimal::from_str(&money.amount)
                .map(|d| d.normalize().to_string())
                .map_err(|_| {
                    SettlementsError::InvalidInput(format!(
                        "the balance `{}` is not a decimal number",
                        money.amount
                    ))
                })
        };
        let booked = amount(&balance.booked)?;
        let available = balance.available.as_ref().map(amount).transpose()?;
        sqlx::query(
            "UPDATE account_sync SET balance_booked = $1, balance_available = $2, balance_as_of = $3 \
             WHERE account_id = $4",
        )
        .bind(booked)
        .bind(available)
        .bind(&balance.as_of)
        .bind(account)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }
}

/// The first date a sync reads.
pub fn sync_start(synced_through: Option<&str>, today: NaiveDate) -> NaiveDate {
    let complete = synced_through.and_then(|d| NaiveDate::from_str(d).ok());
    match complete {
        Some(day) => day.checked_sub_days(Days::new(OVERLAP_DAYS)),
        None => today.checked_sub_days(Days::new(FIRST_SYNC_DAYS)),
    }
    .unwrap_or(today)
    .min(today)
}

/// A value date as the bank wrote it: `YYYY-MM-DD` in shape, though the
/// day may not exist (banks send 30 February).
fn value_date(text: &str) -> Result<String, String> {
    let b = text.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if shaped {
        Ok(text.to_owned())
    } else {
        Err(format!("value date `{text}` is not YYYY-MM-DD"))
    }
}

/// A connector's transaction as the settlements core stores it.
fn incoming(t: &bank::Transaction) -> Result<IncomingTransaction, String> {
    let booking_date = NaiveDate::from_str(&t.booking_date).map_err(|_| {
        format!(
            "transaction {}: booking date `{}` is not YYYY-MM-DD",
            t.bank_reference, t.booking_date
        )
    })?;
    let amount = Decimal::from_str(&t.amount.amount).map_err(|_| {
        format!(
            "transaction {}: amount `{}` is not a decimal number",
            t.bank_reference, t.amount.amount
        )
    })?;
    Ok(IncomingTransaction {
        bank_reference: t.bank_reference.clone(),
        booking_date,
        direction: match t.direction {
            bank::Direction::Credit => Direction::Credit,
            bank::Direction::Debit => Direction::Debit,
        },
        amount,
        currency: t.amount.currency.clone(),
        title: t.title.clone(),
        counterparty_name: t.counterparty.name.clone(),
        counterparty_account: t.counterparty.account.clone(),
        former_references: t.former_references.clone(),
        details: LineDetails {
            value_date: t.value_date.as_deref().map(value_date).transpose()?,
            own_reference: t.own_reference.clone().filter(|r| !r.trim().is_empty()),
            type_code: t.type_code.clone(),
            counterparty_bank: t.counterparty.bank.clone(),
            extra: t.extra.clone(),
        },
    })
}

/// The statement sync as the scheduler runs it: registered by whoever
/// builds a scheduler ([`crate::scheduler::Scheduler::with_host_task`]).
pub struct StatementSync {
    db: Database,
    connectors: std::sync::Arc<Connectors>,
}

impl StatementSync {
    /// The sync over `db`, calling through `connectors`.
    pub fn new(db: Database, connectors: std::sync::Arc<Connectors>) -> Self {
        Self { db, connectors }
    }
}

#[async_trait::async_trait]
impl HostTask for StatementSync {
    fn name(&self) -> &str {
        SYNC_TASK
    }

    /// The companies with an account the plugin serves.
    async fn companies(&self, plugin: &str) -> Result<Vec<String>, String> {
        let rows = sqlx::query(
            "SELECT DISTINCT company_id FROM bank_accounts WHERE plugin_id = $1 ORDER BY company_id",
        )
        .bind(plugin)
        .fetch_all(self.db.pool())
        .await
        .map_err(|e| e.to_string())?;
        rows.iter()
            .map(|row| row.try_get("company_id").map_err(|e| e.to_string()))
            .collect()
    }

    async fn run(&self, plugin: &str, company: &str, user: Option<&str>) -> Result<(), RunError> {
        let today = chrono::Utc::now().date_naive();
        let reports = Settlements::new(self.db.clone())
            .sync_company(&self.connectors, plugin, company, today, user)
            .await
            .map_err(|e| match e {
                // No instance was free: the bank was not asked for this
                // account (those before it are stored; a retry skips them).
                SyncError::Call {
                    source: CallError::Busy { .. },
                    ..
                } => RunError::NotTaken(e.to_string()),
                e => RunError::Failed(e.to_string()),
            })?;
        for r in reports {
            tracing::info!(account = %r.account, pages = r.pages, new = r.new,
                duplicates = r.duplicates, "statements synced");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::from_str(s).unwrap()
    }

    #[test]
    fn first_sync_reads_thirty_days() {
        assert_eq!(sync_start(None, day("2026-11-23")), day("2026-10-24"));
    }

    #[test]
    fn later_syncs_overlap_three_days() {
        assert_eq!(
            sync_start(Some("2026-11-22"), day("2026-11-23")),
            day("2026-11-19")
        );
    }

    #[test]
    fn a_future_mark_never_starts_after_today() {
        assert_eq!(
            sync_start(Some("2027-01-10"), day("2026-11-23")),
            day("2026-11-23")
        );
    }
}
