//! Reading what the settlements core stored, for the ERP API and the
//! webhooks: accounts of a company, an account's transactions and the
//! events feed with cursor paging, receivables with their matched payments.
//!
//! Cursors are row ids. On PostgreSQL a row with a smaller id can commit
//! after one with a greater id (each transaction draws its id when it
//! inserts, and they commit in any order), so a reader that saw id 11 and
//! moved its cursor past it would never see id 10. Readers of a cursor
//! therefore take `SHARE` on the table first: it waits for every
//! transaction that has inserted into it to end and holds new inserts off
//! for the read, so every id up to the greatest one read is final. SQLite
//! has one writer at a time, which commits its ids in order.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;

use super::receivables::decimal;
use super::{BankAccount, Receivable, Settlements, SettlementsError};
use crate::db::{Backend, format_millis};

/// Largest page.
pub const MAX_LIMIT: i64 = 1000;

/// A stored bank transaction.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct StoredTransaction {
    /// Increasing id: the cursor (`after`).
    pub id: i64,
    /// The bank account.
    pub account: String,
    /// The bank's reference (the dedupe key).
    pub bank_reference: String,
    /// Booking date, `YYYY-MM-DD`.
    pub booking_date: String,
    /// `credit` (in) or `debit` (out).
    pub direction: String,
    /// Positive decimal string in the currency's minor units, e.g.
    /// `1500.50` (as the bank sent it when it has more decimals).
    pub amount: String,
    /// ISO 4217.
    pub currency: String,
    /// Payment title.
    pub title: String,
    /// Counterparty name.
    pub counterparty_name: Option<String>,
    /// Counterparty account.
    pub counterparty_account: Option<String>,
    /// Counterparty's bank (BIC or national code).
    pub counterparty_bank: Option<String>,
    /// Value date as the bank wrote it (it may be a day that does not
    /// exist, such as 30 February).
    pub value_date: Option<String>,
    /// The payer's own reference (for a debit: the ERP's transfer id).
    pub own_reference: Option<String>,
    /// The bank's type code.
    pub type_code: Option<String>,
    /// Further fields the connector gave.
    pub extra: Vec<ExtraField>,
    /// When the host stored it, RFC 3339 UTC.
    pub received_at: String,
}

/// A bank-specific field of a statement line.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ExtraField {
    /// Name, e.g. `mt940.86.00`.
    pub name: String,
    /// Value, as sent.
    pub value: String,
}

/// A row's `amount` in its `currency`'s minor units.
fn shown_amount(row: &sqlx::any::AnyRow) -> Result<String, sqlx::Error> {
    let amount: String = row.try_get("amount")?;
    let currency: String = row.try_get("currency")?;
    Ok(crate::values::Currency::show(&currency, &amount))
}

/// The stored extra fields (a JSON array of `[name, value]`).
fn extra_fields(stored: Option<String>) -> Vec<ExtraField> {
    stored
        .and_then(|text| serde_json::from_str::<Vec<(String, String)>>(&text).ok())
        .unwrap_or_default()
        .into_iter()
        .map(|(name, value)| ExtraField { name, value })
        .collect()
}

/// Which transactions of an account to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransactionFilter {
    /// Booked on or after.
    pub from: Option<NaiveDate>,
    /// Booked on or before.
    pub to: Option<NaiveDate>,
    /// Only ids greater than this (0: from the start).
    pub after: i64,
    /// At most this many (1 to [`MAX_LIMIT`]).
    pub limit: i64,
}

/// One page of transactions.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct TransactionPage {
    /// In id order (the order the host stored them).
    pub transactions: Vec<StoredTransaction>,
    /// The cursor for the next page: the last id here, or `after` when the
    /// page is empty.
    pub next: i64,
    /// Whether more transactions match now.
    pub more: bool,
}

/// A payment matched to a receivable.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct MatchedPayment {
    /// The transaction id.
    pub transaction: i64,
    /// Its account.
    pub account: String,
    /// The bank's reference.
    pub bank_reference: String,
    /// Booking date.
    pub booking_date: String,
    /// Decimal string in the currency's minor units.
    pub amount: String,
    /// ISO 4217.
    pub currency: String,
    /// Payment title.
    pub title: String,
    /// `settled` or `review`.
    pub outcome: String,
    /// `exact`, `partial`, `overpayment` or `ambiguous`.
    pub reason: String,
    /// When it was matched, RFC 3339 UTC.
    pub matched_at: String,
}

/// An event with the ERP users to notify about it.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct NotifiedEvent {
    /// Increasing id: the cursor.
    pub id: i64,
    /// The company it concerns.
    pub company: String,
    /// `payment.received`, `payment.settled`, `payment.review`, ...
    pub kind: String,
    /// Details, by kind.
    #[schema(value_type = Object)]
    pub payload: Value,
    /// When, RFC 3339 UTC.
    pub at: String,
    /// The enabled ERP users with access to the company, as of reading.
    pub notify: Vec<String>,
}

/// One page of events.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct EventPage {
    /// In order.
    pub events: Vec<NotifiedEvent>,
    /// Pass as `after` next time: the last id here, or the `after` given
    /// when nothing is new.
    pub next: i64,
}

/// `$first, $first+1, ...` for `count` values.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn check_limit(limit: i64) -> Result<(), SettlementsError> {
    if (1..=MAX_LIMIT).contains(&limit) {
        Ok(())
    } else {
        Err(SettlementsError::InvalidInput(format!(
            "limit must be 1 to {MAX_LIMIT}, not {limit}"
        )))
    }
}

impl Settlements {
    /// Runs a cursor page's `query` on `table` where every insert it can
    /// see has ended: on PostgreSQL inside a transaction holding a share
    /// lock (see the module documentation); on SQLite as the one statement
    /// it is, whose snapshot already is that (writers commit in id order),
    /// saving a BEGIN and a COMMIT on every page.
    async fn cursor_fetch<'q>(
        &self,
        table: &str,
        query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> Result<Vec<sqlx::any::AnyRow>, SettlementsError> {
        if self.db.kind() == Backend::Sqlite {
            return Ok(query.fetch_all(self.db.pool()).await?);
        }
        let mut tx = self.db.pool().begin().await?;
        sqlx::query("SET LOCAL lock_timeout = '10s'")
            .execute(&mut *tx)
            .await?;
        sqlx::query(&format!("LOCK TABLE {table} IN SHARE MODE"))
            .execute(&mut *tx)
            .await?;
        let rows = query.fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// The bank accounts of `company`.
    pub async fn accounts_of(&self, company: &str) -> Result<Vec<BankAccount>, SettlementsError> {
        let rows = sqlx::query(
            "SELECT id, company_id, plugin_id, iban, currency, name FROM bank_accounts \
             WHERE company_id = $1 ORDER BY id",
        )
        .bind(company)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(BankAccount {
                    id: row.try_get("id")?,
                    company: row.try_get("company_id")?,
                    plugin: row.try_get("plugin_id")?,
                    iban: row.try_get("iban")?,
                    currency: row.try_get("currency")?,
                    name: row.try_get("name")?,
                })
            })
            .collect()
    }

    /// A page of `account`'s stored transactions, in id order.
    pub async fn transactions(
        &self,
        account: &str,
        filter: &TransactionFilter,
    ) -> Result<TransactionPage, SettlementsError> {
        check_limit(filter.limit)?;
        self.account(account).await?;
        self.transactions_page(account, filter).await
    }

    /// [`Settlements::transactions`] of an account the caller has read
    /// already (the ERP route, which authorized its company).
    pub async fn transactions_of(
        &self,
        account: &BankAccount,
        filter: &TransactionFilter,
    ) -> Result<TransactionPage, SettlementsError> {
        check_limit(filter.limit)?;
        self.transactions_page(&account.id, filter).await
    }

    async fn transactions_page(
        &self,
        account: &str,
        filter: &TransactionFilter,
    ) -> Result<TransactionPage, SettlementsError> {
        if let (Some(from), Some(to)) = (filter.from, filter.to)
            && from > to
        {
            return Err(SettlementsError::InvalidInput(format!(
                "from {from} is after to {to}"
            )));
        }
        let query = sqlx::query(
            "SELECT id, account_id, dedupe_key, booking_date, direction, amount, currency, title, \
               counterparty_name, counterparty_account, received_at, counterparty_bank, \
               value_date, own_reference, type_code, extra \
             FROM bank_transactions \
             WHERE account_id = $1 AND id > $2 AND booking_date >= $3 AND booking_date <= $4 \
             ORDER BY id LIMIT $5",
        )
        .bind(account)
        .bind(filter.after)
        .bind(
            filter
                .from
                .map_or_else(|| "0000-01-01".to_owned(), |d| d.to_string()),
        )
        .bind(
            filter
                .to
                .map_or_else(|| "9999-12-31".to_owned(), |d| d.to_string()),
        )
        .bind(filter.limit + 1);
        let rows = self.cursor_fetch("bank_transactions", query).await?;
        let mut transactions = rows
            .iter()
            .map(|row| {
                Ok(StoredTransaction {
                    id: row.try_get("id")?,
                    account: row.try_get("account_id")?,
                    bank_reference: row.try_get("dedupe_key")?,
                    booking_date: row.try_get("booking_date")?,
                    direction: row.try_get("direction")?,
                    amount: shown_amount(row)?,
                    currency: row.try_get("currency")?,
                    title: row.try_get("title")?,
                    counterparty_name: row.try_get("counterparty_name")?,
                    counterparty_account: row.try_get("counterparty_account")?,
                    counterparty_bank: row.try_get("counterparty_bank")?,
                    value_date: row.try_get("value_date")?,
                    own_reference: row.try_get("own_reference")?,
                    type_code: row.try_get("type_code")?,
                    extra: extra_fields(row.try_get("extra")?),
                    received_at: format_millis(row.try_get("received_at")?),
                })
            })
            .collect::<Result<Vec<_>, SettlementsError>>()?;
        let more = transactions.len() as i64 > filter.limit;
        transactions.truncate(usize::try_from(filter.limit).unwrap_or(0));
        let next = transactions.last().map_or(filter.after, |t| t.id);
        Ok(TransactionPage {
            transactions,
            next,
            more,
        })
    }

    /// Receivables of `company`, optionally of one status, after the
    /// receivable id `after`, at most `limit`.
    pub async fn receivables_of(
        &self,
        company: &str,
        status: Option<&str>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<Receivable>, SettlementsError> {
        check_limit(limit)?;
        if let Some(status) = status
            && !matches!(status, "open" | "settled" | "review")
        {
            return Err(SettlementsError::InvalidInput(format!(
                "status `{status}` is not open, settled or review"
            )));
        }
        let rows = sqlx::query(
            "SELECT id, company_id, invoice_number, amount, open_amount, currency, counterparty, status \
             FROM receivables WHERE company_id = $1 AND ($2 = '' OR status = $2) AND id > $3 \
             ORDER BY id LIMIT $4",
        )
        .bind(company)
        .bind(status.unwrap_or(""))
        .bind(after)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(receivable_from_row).collect()
    }

    /// The receivable of `company` with that invoice number and the
    /// payments matched to it, if there is one.
    pub async fn receivable_with_payments(
        &self,
        company: &str,
        invoice_number: &str,
    ) -> Result<Option<(Receivable, Vec<MatchedPayment>)>, SettlementsError> {
        let row = sqlx::query(
            "SELECT id, company_id, invoice_number, amount, open_amount, currency, counterparty, status \
             FROM receivables WHERE company_id = $1 AND invoice_number = $2",
        )
        .bind(company)
        .bind(invoice_number)
        .fetch_optional(self.db.pool())
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let receivable = receivable_from_row(&row)?;
        let rows = sqlx::query(
            "SELECT m.transaction_id, m.outcome, m.reason, m.matched_at, t.account_id, t.dedupe_key, \
               t.booking_date, t.amount, t.currency, t.title \
             FROM payment_matches m JOIN bank_transactions t ON t.id = m.transaction_id \
             WHERE m.receivable_id = $1 ORDER BY m.transaction_id",
        )
        .bind(receivable.id)
        .fetch_all(self.db.pool())
        .await?;
        let payments = rows
            .iter()
            .map(|row| {
                Ok(MatchedPayment {
                    transaction: row.try_get("transaction_id")?,
                    account: row.try_get("account_id")?,
                    bank_reference: row.try_get("dedupe_key")?,
                    booking_date: row.try_get("booking_date")?,
                    amount: shown_amount(row)?,
                    currency: row.try_get("currency")?,
                    title: row.try_get("title")?,
                    outcome: row.try_get("outcome")?,
                    reason: row.try_get("reason")?,
                    matched_at: format_millis(row.try_get("matched_at")?),
                })
            })
            .collect::<Result<Vec<_>, SettlementsError>>()?;
        Ok(Some((receivable, payments)))
    }

    /// Whether automatic matching is on for `company`.
    pub async fn auto_matching(&self, company: &str) -> Result<bool, SettlementsError> {
        let row =
            sqlx::query("SELECT auto_matching FROM settlement_settings WHERE company_id = $1")
                .bind(company)
                .fetch_optional(self.db.pool())
                .await?;
        Ok(match row {
            Some(row) => row.try_get::<i64, _>("auto_matching")? != 0,
            None => false,
        })
    }

    /// Events of `companies` after the cursor `after`, at most `limit`, in
    /// order, each with the ERP users to notify. No companies, no events.
    pub async fn events_of(
        &self,
        after: i64,
        limit: i64,
        companies: &[String],
    ) -> Result<EventPage, SettlementsError> {
        check_limit(limit)?;
        if after < 0 {
            return Err(SettlementsError::InvalidInput(format!(
                "after must be 0 or an event id, not {after}"
            )));
        }
        if companies.is_empty() {
            return Ok(EventPage {
                events: Vec::new(),
                next: after,
            });
        }
        let sql = format!(
            "SELECT id, company_id, kind, payload, created_at FROM events \
             WHERE id > $1 AND company_id IN ({}) ORDER BY id LIMIT $2",
            placeholders(3, companies.len())
        );
        let mut query = sqlx::query(&sql).bind(after).bind(limit);
        for company in companies {
            query = query.bind(company);
        }
        let rows = self.cursor_fetch("events", query).await?;
        let notify = self.notify_lists(companies).await?;
        let events = rows
            .iter()
            .map(|row| {
                let payload: String = row.try_get("payload")?;
                let company: String = row.try_get("company_id")?;
                Ok(NotifiedEvent {
                    id: row.try_get("id")?,
                    notify: notify.get(&company).cloned().unwrap_or_default(),
                    company,
                    kind: row.try_get("kind")?,
                    payload: serde_json::from_str(&payload)
                        .map_err(|e| SettlementsError::Corrupt(format!("event payload: {e}")))?,
                    at: format_millis(row.try_get("created_at")?),
                })
            })
            .collect::<Result<Vec<_>, SettlementsError>>()?;
        let next = events.last().map_or(after, |e| e.id);
        Ok(EventPage { events, next })
    }

    /// Per company, the enabled ERP users with access to it.
    async fn notify_lists(
        &self,
        companies: &[String],
    ) -> Result<BTreeMap<String, Vec<String>>, SettlementsError> {
        let sql = format!(
            "SELECT a.company_id, a.user_id FROM erp_user_companies a \
             JOIN erp_users u ON u.id = a.user_id \
             WHERE u.enabled = 1 AND a.company_id IN ({}) ORDER BY a.company_id, a.user_id",
            placeholders(1, companies.len())
        );
        let mut query = sqlx::query(&sql);
        for company in companies {
            query = query.bind(company);
        }
        let mut lists: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for row in query.fetch_all(self.db.pool()).await? {
            lists
                .entry(row.try_get("company_id")?)
                .or_default()
                .push(row.try_get("user_id")?);
        }
        Ok(lists)
    }
}

fn receivable_from_row(row: &sqlx::any::AnyRow) -> Result<Receivable, SettlementsError> {
    Ok(Receivable {
        id: row.try_get("id")?,
        company: row.try_get("company_id")?,
        invoice_number: row.try_get("invoice_number")?,
        amount: decimal(&row.try_get::<String, _>("amount")?)?,
        open_amount: decimal(&row.try_get::<String, _>("open_amount")?)?,
        currency: row.try_get("currency")?,
        counterparty: row.try_get("counterparty")?,
        status: row.try_get("status")?,
    })
}
