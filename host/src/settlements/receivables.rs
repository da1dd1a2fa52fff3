//! Open receivables the ERP registers: what the customer owes, by invoice.

use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::Row;

use super::matching::Open;
use super::{
    MAX_INVOICE_CHARS, MAX_NAME_CHARS, Settlements, SettlementsError, accounts, optional_line,
};
use crate::db::now_millis;
use crate::values::{Currency, line};

/// A receivable.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Receivable {
    /// Row id.
    pub id: i64,
    /// The company owed.
    pub company: String,
    /// Invoice number, unique per company.
    pub invoice_number: String,
    /// The invoice amount.
    pub amount: Decimal,
    /// What remains open.
    pub open_amount: Decimal,
    /// ISO 4217.
    pub currency: String,
    /// Who owes it.
    pub counterparty: String,
    /// `open`, `settled` or `review`.
    pub status: String,
}

impl Settlements {
    /// Registers an open receivable: `amount` in the money grammar of
    /// `currency` ([`Currency::amount`]), the invoice number one line of at
    /// most [`MAX_INVOICE_CHARS`], the counterparty at most
    /// [`MAX_NAME_CHARS`].
    pub async fn add_receivable(
        &self,
        company: &str,
        invoice_number: &str,
        amount: &str,
        currency: &str,
        counterparty: &str,
    ) -> Result<Receivable, SettlementsError> {
        let invoice_number = line("invoice_number", invoice_number, MAX_INVOICE_CHARS)?;
        let currency = Currency::parse(currency)?;
        let amount = currency.amount(amount)?;
        let counterparty = optional_line("counterparty", counterparty, MAX_NAME_CHARS)?;
        accounts::require_company(&self.db, company).await?;
        let inserted = sqlx::query(
            "INSERT INTO receivables \
               (company_id, invoice_number, amount, open_amount, currency, counterparty, status, created_at) \
             VALUES ($1, $2, $3, $3, $4, $5, 'open', $6) ON CONFLICT DO NOTHING",
        )
        .bind(company)
        .bind(&invoice_number)
        .bind(amount.to_string())
        .bind(currency.code())
        .bind(&counterparty)
        .bind(now_millis())
        .execute(self.db.pool())
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(SettlementsError::Exists(format!(
                "invoice {invoice_number} of {company}"
            )));
        }
        self.receivable(company, &invoice_number).await
    }

    /// The receivable of `company` with that invoice number.
    pub async fn receivable(
        &self,
        company: &str,
        invoice_number: &str,
    ) -> Result<Receivable, SettlementsError> {
        let row = sqlx::query(
            "SELECT id, company_id, invoice_number, amount, open_amount, currency, counterparty, status \
             FROM receivables WHERE company_id = $1 AND invoice_number = $2",
        )
        .bind(company)
        .bind(invoice_number)
        .fetch_optional(self.db.pool())
        .await?
        .ok_or_else(|| {
            SettlementsError::InvalidInput(format!("{company} has no invoice {invoice_number}"))
        })?;
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
}

/// The company's receivables still open, for matching.
pub(super) async fn open_of(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    company: &str,
) -> Result<Vec<Open>, SettlementsError> {
    let rows = sqlx::query(
        "SELECT id, invoice_number, open_amount, currency FROM receivables \
         WHERE company_id = $1 AND status = 'open' ORDER BY id",
    )
    .bind(company)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Open {
                id: row.try_get("id")?,
                invoice_number: row.try_get("invoice_number")?,
                open_amount: decimal(&row.try_get::<String, _>("open_amount")?)?,
                currency: row.try_get("currency")?,
            })
        })
        .collect()
}

pub(super) fn decimal(text: &str) -> Result<Decimal, SettlementsError> {
    text.parse()
        .map_err(|e| SettlementsError::Corrupt(format!("amount `{text}`: {e}")))
}
