//! Storing what a connector fetched: each transaction once per account,
//! keyed by the bank's reference, so an overlapping range or a page served
//! twice adds nothing; new incoming payments are matched when the company
//! asked for it. One database transaction per page: a failure keeps none
//! of it, and the next fetch brings it again.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use super::matching::{self, Decision};
use super::{Settlements, SettlementsError, check_currency, events, receivables};
use crate::db::now_millis;

/// Money in or out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Incoming.
    Credit,
    /// Outgoing.
    Debit,
}

impl Direction {
    fn as_str(self) -> &'static str {
        match self {
            Direction::Credit => "credit",
            Direction::Debit => "debit",
        }
    }
}

/// A transaction as a connector reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingTransaction {
    /// The bank's unique reference: the dedupe key.
    pub bank_reference: String,
    /// Booking date.
    pub booking_date: NaiveDate,
    /// In or out.
    pub direction: Direction,
    /// Positive amount.
    pub amount: Decimal,
    /// ISO 4217.
    pub currency: String,
    /// Payment title.
    pub title: String,
    /// Counterparty name.
    pub counterparty_name: Option<String>,
    /// Counterparty account.
    pub counterparty_account: Option<String>,
    /// Keys the same line may be stored under already (an earlier
    /// connector build's key): a line stored under one of them is this
    /// line, and each becomes an alias of it, so a rollback to the older
    /// build finds it too.
    pub former_references: Vec<String>,
    /// What else the bank said of the line.
    pub details: LineDetails,
}

/// What a statement line says beyond the basics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineDetails {
    /// Value date as the bank wrote it (`YYYY-MM-DD`, possibly a day that
    /// does not exist, such as 30 February).
    pub value_date: Option<String>,
    /// The payer's own reference: for a debit, the ERP's id of the
    /// transfer it books.
    pub own_reference: Option<String>,
    /// The bank's type code.
    pub type_code: Option<String>,
    /// The counterparty's bank (BIC or national code).
    pub counterparty_bank: Option<String>,
    /// Further fields, name and value.
    pub extra: Vec<(String, String)>,
}

/// What recording a page did.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct RecordReport {
    /// Transactions stored for the first time.
    pub new: usize,
    /// Transactions already stored (or repeated in the page).
    pub duplicates: usize,
    /// Of the duplicates, lines found under a former reference, which now
    /// know their new key too.
    pub rekeyed: usize,
    /// Invoices settled by new payments.
    pub settled: Vec<String>,
    /// Invoices flagged for review.
    pub review: Vec<String>,
    /// ERP ids of sent transfers that new debits booked, found by their
    /// own reference.
    pub booked_transfers: Vec<String>,
}

impl Settlements {
    /// Stores a fetched page of `account`'s transactions.
    pub async fn record(
        &self,
        account: &str,
        page: &[IncomingTransaction],
    ) -> Result<RecordReport, SettlementsError> {
        let account = self.account(account).await?;
        for t in page {
            check(t)?;
        }
        let mut tx = self.db.begin_write().await?;
        let auto =
            sqlx::query("SELECT auto_matching FROM settlement_settings WHERE company_id = $1")
                .bind(&account.company)
                .fetch_optional(&mut *tx)
                .await?
                .map(|row| row.try_get::<i64, _>("auto_matching"))
                .transpose()?
                == Some(1);
        let mut report = RecordReport::default();
        for t in page {
            if let Some(id) = stored_under_former_key(&mut tx, &account.id, t).await? {
                alias(&mut tx, &account.id, &t.bank_reference, id).await?;
                report.duplicates += 1;
                report.rekeyed += 1;
                continue;
            }
            // One statement per line: stored under this key, or known by it
            // as an alias, means a duplicate.
            let inserted = sqlx::query(
                "INSERT INTO bank_transactions (account_id, dedupe_key, booking_date, direction, \
                   amount, currency, title, counterparty_name, counterparty_account, received_at, \
                   value_date, own_reference, type_code, counterparty_bank, extra) \
                 SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15 \
                 WHERE NOT EXISTS (SELECT 1 FROM bank_transaction_aliases \
                   WHERE account_id = $1 AND alias = $2) \
                 ON CONFLICT (account_id, dedupe_key) DO NOTHING RETURNING id",
            )
            .bind(&account.id)
            .bind(&t.bank_reference)
            .bind(t.booking_date.to_string())
            .bind(t.direction.as_str())
            .bind(t.amount.normalize().to_string())
            .bind(&t.currency)
            .bind(&t.title)
            .bind(&t.counterparty_name)
            .bind(&t.counterparty_account)
            .bind(now_millis())
            .bind(&t.details.value_date)
            .bind(&t.details.own_reference)
            .bind(&t.details.type_code)
            .bind(&t.details.counterparty_bank)
            .bind(extra_json(&t.details.extra))
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = inserted else {
                report.duplicates += 1;
                continue;
            };
            report.new += 1;
            let id: i64 = row.try_get("id")?;
            for former in t
                .former_references
                .iter()
                .filter(|f| **f != t.bank_reference)
            {
                alias(&mut tx, &account.id, former, id).await?;
            }
            let payment = json!({
                "transaction": id,
                "account": account.id,
                "bank_reference": t.bank_reference,
                "direction": t.direction,
                "amount": crate::values::Currency::show(&t.currency, &t.amount.normalize().to_string()),
                "currency": t.currency,
                "title": t.title,
                "booking_date": t.booking_date.to_string(),
            });
            events::append(&mut tx, &account.company, "payment.received", &payment).await?;
            if t.direction == Direction::Debit
                && let Some(transfer) = book_sent_transfer(&mut tx, &account, id, t).await?
            {
                report.booked_transfers.push(transfer);
            }
            if auto && t.direction == Direction::Credit {
                let open = receivables::open_of(&mut tx, &account.company).await?;
                let decision = matching::decide(&t.title, t.amount, &t.currency, &open);
                apply(
                    &mut tx,
                    &account.company,
                    id,
                    &decision,
                    &open,
                    &payment,
                    &mut report,
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(report)
    }
}

/// The extra fields as stored: a JSON array of `[name, value]`, none when
/// empty.
fn extra_json(extra: &[(String, String)]) -> Option<String> {
    (!extra.is_empty()).then(|| json!(extra).to_string())
}

/// Links a new debit to the sent transfer its own reference names (same
/// account, amount and currency, not yet booked, not refused) and marks
/// that transfer executed: the ERP sees which of its transfers the bank
/// booked. Answers the transfer's ERP id.
async fn book_sent_transfer(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    account: &super::BankAccount,
    transaction: i64,
    t: &IncomingTransaction,
) -> Result<Option<String>, SettlementsError> {
    let Some(reference) = t.details.own_reference.as_deref().map(str::trim) else {
        return Ok(None);
    };
    let candidate = sqlx::query(
        "SELECT seq, amount, currency, batch_id FROM transfers \
         WHERE company_id = $1 AND account_id = $2 AND id = $3 \
           AND booked_transaction_id IS NULL \
           AND status IN ('submitted', 'awaiting-approval', 'accepted', 'executed')",
    )
    .bind(&account.company)
    .bind(&account.id)
    .bind(reference)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = candidate else {
        return Ok(None);
    };
    let amount: String = row.try_get("amount")?;
    let currency: String = row.try_get("currency")?;
    let same_amount = amount.parse::<Decimal>().ok() == Some(t.amount);
    if !same_amount || currency != t.currency {
        tracing::warn!(
            transfer = reference,
            sent = %format!("{amount} {currency}"),
            booked = %format!("{} {}", t.amount, t.currency),
            "a debit names a sent transfer by its own reference but not its amount; not linked"
        );
        return Ok(None);
    }
    let seq: i64 = row.try_get("seq")?;
    let batch: Option<i64> = row.try_get("batch_id")?;
    sqlx::query(
        "UPDATE transfers SET status = 'executed', booked_transaction_id = $2, updated_at = $3 \
         WHERE seq = $1",
    )
    .bind(seq)
    .bind(transaction)
    .bind(now_millis())
    .execute(&mut **tx)
    .await?;
    events::append(
        tx,
        &account.company,
        "transfer.booked",
        &json!({
            "transfer": reference,
            "batch": batch,
            "account": account.id,
            "transaction": transaction,
            "bank_reference": t.bank_reference,
            "booking_date": t.booking_date.to_string(),
        }),
    )
    .await?;
    Ok(Some(reference.to_owned()))
}

/// The stored transaction `key` names on `account`, as its key or an alias.
async fn stored_id(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    account: &str,
    key: &str,
) -> Result<Option<i64>, SettlementsError> {
    let row = sqlx::query(
        "SELECT id FROM bank_transactions WHERE account_id = $1 AND dedupe_key = $2 \
         UNION ALL \
         SELECT transaction_id FROM bank_transaction_aliases WHERE account_id = $1 AND alias = $2",
    )
    .bind(account)
    .bind(key)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|row| row.try_get::<i64, _>(0)).transpose()?)
}

/// The transaction `t` is stored as under one of its former references,
/// when it is not stored under its own key; only lines that name former
/// references pay for the look-up.
async fn stored_under_former_key(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    account: &str,
    t: &IncomingTransaction,
) -> Result<Option<i64>, SettlementsError> {
    if t.former_references.is_empty() || stored_id(tx, account, &t.bank_reference).await?.is_some()
    {
        return Ok(None);
    }
    for former in t
        .former_references
        .iter()
        .filter(|f| **f != t.bank_reference)
    {
        if let Some(id) = stored_id(tx, account, former).await? {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// Records `key` as another name of stored transaction `id`.
async fn alias(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    account: &str,
    key: &str,
    id: i64,
) -> Result<(), SettlementsError> {
    sqlx::query(
        "INSERT INTO bank_transaction_aliases (account_id, alias, transaction_id) \
         VALUES ($1, $2, $3) ON CONFLICT (account_id, alias) DO NOTHING",
    )
    .bind(account)
    .bind(key)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn check(t: &IncomingTransaction) -> Result<(), SettlementsError> {
    if t.bank_reference.trim().is_empty() {
        return Err(SettlementsError::InvalidInput(
            "a transaction without a bank reference cannot be deduplicated".to_owned(),
        ));
    }
    if t.amount <= Decimal::ZERO {
        return Err(SettlementsError::InvalidInput(format!(
            "transaction {}: the amount must be positive, not {}",
            t.bank_reference, t.amount
        )));
    }
    check_currency(&t.currency)
}

async fn apply(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    company: &str,
    transaction: i64,
    decision: &Decision,
    open: &[matching::Open],
    payment: &serde_json::Value,
    report: &mut RecordReport,
) -> Result<(), SettlementsError> {
    let invoice = |id: &i64| {
        open.iter()
            .find(|o| o.id == *id)
            .map(|o| o.invoice_number.clone())
            .unwrap_or_default()
    };
    let (ids, mut outcome, mut reason, status) = match decision {
        Decision::Unmatched => return Ok(()),
        Decision::Settles(id) => (vec![*id], "settled", "exact", "settled"),
        Decision::Review(why, ids) => (ids.clone(), "review", why.as_str(), "review"),
    };
    for id in &ids {
        let open_amount = if status == "settled" { "0" } else { "" };
        // Only an invoice still open moves: a concurrent sync may have
        // settled it since this payment was matched (PostgreSQL re-reads
        // the row once the other transaction commits).
        let moved = sqlx::query(
            "UPDATE receivables SET status = $1, \
               open_amount = CASE WHEN $2 = '' THEN open_amount ELSE $2 END \
             WHERE id = $3 AND status = 'open'",
        )
        .bind(status)
        .bind(open_amount)
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if moved == 0 && outcome == "settled" {
            // Never settled twice: the second payment is for a person.
            outcome = "review";
            reason = "already-settled";
        }
        sqlx::query(
            "INSERT INTO payment_matches (transaction_id, receivable_id, outcome, reason, matched_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(transaction)
        .bind(id)
        .bind(outcome)
        .bind(reason)
        .bind(now_millis())
        .execute(&mut **tx)
        .await?;
    }
    let invoices: Vec<String> = ids.iter().map(invoice).collect();
    let kind = if outcome == "settled" {
        report.settled.extend(invoices.iter().cloned());
        "payment.settled"
    } else {
        report.review.extend(invoices.iter().cloned());
        "payment.review"
    };
    let event = json!({ "payment": payment, "invoices": invoices, "reason": reason });
    Ok(events::append(tx, company, kind, &event).await?)
}
