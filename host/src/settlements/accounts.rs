//! Bank accounts: an IBAN in a currency, owned by a company and served by
//! one connector plugin.

use iban::IbanLike;
use serde::Serialize;
use sqlx::Row;

use super::{MAX_NAME_CHARS, Settlements, SettlementsError, optional_line};
use crate::db::{Database, now_millis};
use crate::packages::manifest::is_slug;
use crate::values::Currency;

/// A bank account.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BankAccount {
    /// Slug id.
    pub id: String,
    /// The owning company.
    pub company: String,
    /// The connector that serves it.
    pub plugin: String,
    /// The IBAN, electronic form (no spaces).
    pub iban: String,
    /// ISO 4217.
    pub currency: String,
    /// Display name.
    pub name: String,
}

impl Settlements {
    /// Adds an account; the IBAN's checksum and the currency are checked.
    pub async fn add_account(
        &self,
        account: &BankAccount,
    ) -> Result<BankAccount, SettlementsError> {
        if !is_slug(&account.id) {
            return Err(SettlementsError::InvalidInput(format!(
                "account id `{}` must be lowercase letters, digits and inner dashes",
                account.id
            )));
        }
        let iban: iban::Iban = account.iban.parse().map_err(|e| {
            SettlementsError::InvalidInput(format!("`{}` is not a valid IBAN: {e}", account.iban))
        })?;
        let currency = Currency::parse(&account.currency)?;
        let name = optional_line("name", &account.name, MAX_NAME_CHARS)?;
        require_company(&self.db, &account.company).await?;
        crate::catalog::admit_company(&self.db, &account.plugin, &account.company)
            .await
            .map_err(|e| match e {
                e @ crate::catalog::CatalogError::CompanyCap { .. } => {
                    SettlementsError::CompanyCap(e)
                }
                e => SettlementsError::Corrupt(e.to_string()),
            })?;
        let stored = BankAccount {
            iban: iban.electronic_str().to_owned(),
            currency: currency.code().to_owned(),
            name,
            ..account.clone()
        };
        let inserted = sqlx::query(
            "INSERT INTO bank_accounts (id, company_id, plugin_id, iban, currency, name, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(&stored.id)
        .bind(&stored.company)
        .bind(&stored.plugin)
        .bind(&stored.iban)
        .bind(&stored.currency)
        .bind(&stored.name)
        .bind(now_millis())
        .execute(self.db.pool())
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(SettlementsError::Exists(format!(
                "bank account `{}` or {} for {}",
                stored.id, stored.iban, stored.plugin
            )));
        }
        Ok(stored)
    }

    /// The account `id`.
    pub async fn account(&self, id: &str) -> Result<BankAccount, SettlementsError> {
        let row = sqlx::query(
            "SELECT id, company_id, plugin_id, iban, currency, name FROM bank_accounts WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.db.pool())
        .await?
        .ok_or_else(|| SettlementsError::UnknownAccount(id.to_owned()))?;
        Ok(BankAccount {
            id: row.try_get("id")?,
            company: row.try_get("company_id")?,
            plugin: row.try_get("plugin_id")?,
            iban: row.try_get("iban")?,
            currency: row.try_get("currency")?,
            name: row.try_get("name")?,
        })
    }
}

pub(super) async fn require_company(db: &Database, company: &str) -> Result<(), SettlementsError> {
    let found = sqlx::query("SELECT id FROM companies WHERE id = $1")
        .bind(company)
        .fetch_optional(db.pool())
        .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(SettlementsError::UnknownCompany(company.to_owned())),
    }
}
