//! Queueing transfers: validated, keyed by the ERP's id so a retried request
//! is answered with the transfer it made the first time; read, list, cancel.

use chrono::NaiveDate;
use iban::IbanLike;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{TRANSFER_COLUMNS, Transfer, TransferError, TransferStatus, Transfers, transfer_from};
use crate::db::now_millis;
use crate::settlements::{Settlements, accounts, check_currency};

/// Longest title, counterparty name and address, in characters (SEPA's
/// unstructured remittance, Elixir's 4 × 35).
pub const MAX_TITLE_CHARS: usize = 140;
/// Longest ERP transfer id.
const MAX_ID_CHARS: usize = 64;
/// Longest non-IBAN counterparty account number.
const MAX_ACCOUNT_CHARS: usize = 64;

/// A transfer as the ERP asks for it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewTransfer {
    /// The ERP's id, unique per company (letters, digits, `.`, `_`, `-`,
    /// `:`; at most 64). A retry with the same body gets the same
    /// transfer; another body under the same id is 409 `transfer_conflict`.
    pub id: String,
    /// Source bank account id (of the company).
    pub account: String,
    /// Positive decimal string, `.` separator, no grouping: `"1234.50"`.
    pub amount: String,
    /// ISO 4217; must be the account's currency.
    pub currency: String,
    /// Beneficiary account: an IBAN (checksum verified) or the bank's own
    /// number format.
    pub counterparty_account: String,
    /// Beneficiary name (at most 140 characters).
    pub counterparty_name: String,
    /// Beneficiary address (at most 140 characters), when the bank needs
    /// one.
    #[serde(default)]
    pub counterparty_address: Option<String>,
    /// Payment title (at most 140 characters, one line).
    pub title: String,
    /// Requested execution date `YYYY-MM-DD`; absent for as soon as
    /// possible.
    #[serde(default)]
    pub execution_date: Option<String>,
}

/// What `enqueue` did.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Enqueued {
    /// The transfer.
    pub transfer: Transfer,
    /// False when the same request had queued it before.
    pub created: bool,
}

/// The request in its stored form.
#[derive(Debug, PartialEq, Eq)]
struct Canonical {
    account: String,
    amount: String,
    currency: String,
    counterparty_account: String,
    counterparty_name: String,
    counterparty_address: Option<String>,
    title: String,
    execution_date: Option<String>,
}

fn invalid(message: impl Into<String>) -> TransferError {
    TransferError::InvalidInput(message.into())
}

fn check_id(id: &str) -> Result<(), TransferError> {
    if id.is_empty() {
        return Err(invalid("a transfer id is required"));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':');
    if id.chars().count() > MAX_ID_CHARS || !id.chars().all(allowed) {
        return Err(invalid(format!(
            "transfer id `{id}` must be at most {MAX_ID_CHARS} letters, digits, `.`, `_`, `-` or `:`"
        )));
    }
    Ok(())
}

/// A positive decimal written plainly (`1234.50`), as its canonical string.
fn amount(text: &str) -> Result<String, TransferError> {
    let plain = match text.split_once('.') {
        Some((units, fraction)) => {
            !units.is_empty()
                && !fraction.is_empty()
                && units.bytes().all(|b| b.is_ascii_digit())
                && fraction.bytes().all(|b| b.is_ascii_digit())
        }
        None => !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()),
    };
    let value: Decimal = plain.then(|| text.parse().ok()).flatten().ok_or_else(|| {
        invalid(format!(
            "amount `{text}` is not a decimal number like 1234.50"
        ))
    })?;
    if value <= Decimal::ZERO {
        return Err(invalid(format!("the amount must be positive, not {text}")));
    }
    Ok(value.normalize().to_string())
}

/// An IBAN in electronic form, or another account number as given.
fn counterparty_account(text: &str) -> Result<String, TransferError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(invalid("a counterparty account is required"));
    }
    let compact: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    let bytes = compact.as_bytes();
    let looks_like_iban = bytes.len() >= 15
        && bytes[..2].iter().all(u8::is_ascii_alphabetic)
        && bytes[2..4].iter().all(u8::is_ascii_digit);
    if looks_like_iban {
        let iban: iban::Iban = compact.parse().map_err(|e| {
            invalid(format!(
                "counterparty account `{text}` is not a valid IBAN: {e}"
            ))
        })?;
        return Ok(iban.electronic_str().to_owned());
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '/' | '.');
    if text.chars().count() > MAX_ACCOUNT_CHARS || !text.chars().all(allowed) {
        return Err(invalid(format!(
            "counterparty account `{text}` must be an IBAN or at most {MAX_ACCOUNT_CHARS} letters, digits, spaces, `-`, `/` or `.`"
        )));
    }
    Ok(text.to_owned())
}

/// Required (or optional) free text of at most [`MAX_TITLE_CHARS`].
fn text(what: &str, value: &str) -> Result<String, TransferError> {
    let value = value.trim();
    let length = value.chars().count();
    if length > MAX_TITLE_CHARS {
        return Err(invalid(format!(
            "the {what} is {length} characters long; at most {MAX_TITLE_CHARS} are allowed"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(format!(
            "the {what} must not contain control characters such as line breaks"
        )));
    }
    Ok(value.to_owned())
}

fn execution_date(value: &str) -> Result<String, TransferError> {
    let parsed = (value.len() == 10)
        .then(|| NaiveDate::parse_from_str(value, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| {
            invalid(format!(
                "execution date `{value}` is not a date like 2026-11-30"
            ))
        })?;
    Ok(parsed.format("%Y-%m-%d").to_string())
}

/// Everything that needs no database, in the order the ERP reads it.
fn canonical(new: &NewTransfer) -> Result<Canonical, TransferError> {
    check_id(&new.id)?;
    if new.account.trim().is_empty() {
        return Err(invalid("a source account is required"));
    }
    let amount = amount(new.amount.trim())?;
    check_currency(&new.currency)?;
    let counterparty_account = counterparty_account(&new.counterparty_account)?;
    let counterparty_name = text("counterparty name", &new.counterparty_name)?;
    if counterparty_name.is_empty() {
        return Err(invalid("a counterparty name is required"));
    }
    let counterparty_address = match &new.counterparty_address {
        Some(address) => Some(text("counterparty address", address)?).filter(|a| !a.is_empty()),
        None => None,
    };
    let title = text("title", &new.title)?;
    if title.is_empty() {
        return Err(invalid("a transfer title is required"));
    }
    let execution_date = new
        .execution_date
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(execution_date)
        .transpose()?;
    Ok(Canonical {
        account: new.account.trim().to_owned(),
        amount,
        currency: new.currency.clone(),
        counterparty_account,
        counterparty_name,
        counterparty_address,
        title,
        execution_date,
    })
}

fn same_request(stored: &Transfer, wanted: &Canonical) -> bool {
    let stored = Canonical {
        account: stored.account.clone(),
        amount: stored.amount.clone(),
        currency: stored.currency.clone(),
        counterparty_account: stored.counterparty_account.clone(),
        counterparty_name: stored.counterparty_name.clone(),
        counterparty_address: stored.counterparty_address.clone(),
        title: stored.title.clone(),
        execution_date: stored.execution_date.clone(),
    };
    stored == *wanted
}

impl Transfers {
    /// Queues a transfer of `company`. The same id with the same details
    /// answers the transfer queued the first time (whatever it became);
    /// the same id with other details is a [`TransferError::Conflict`].
    pub async fn enqueue(
        &self,
        company: &str,
        new: &NewTransfer,
    ) -> Result<Enqueued, TransferError> {
        let wanted = canonical(new)?;
        accounts::require_company(&self.db, company).await?;
        let account = Settlements::new(self.db.clone())
            .account(&wanted.account)
            .await?;
        if account.company != company {
            return Err(TransferError::UnknownAccount(wanted.account));
        }
        if account.currency != wanted.currency {
            return Err(invalid(format!(
                "currency {} does not match account `{}`, which is in {}",
                wanted.currency, account.id, account.currency
            )));
        }
        let now = now_millis();
        let inserted = sqlx::query(
            "INSERT INTO transfers (company_id, id, account_id, amount, currency, \
               counterparty_account, counterparty_name, counterparty_address, title, \
               execution_date, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'queued', $11, $11) \
             ON CONFLICT (company_id, id) DO NOTHING RETURNING seq",
        )
        .bind(company)
        .bind(&new.id)
        .bind(&wanted.account)
        .bind(&wanted.amount)
        .bind(&wanted.currency)
        .bind(&wanted.counterparty_account)
        .bind(&wanted.counterparty_name)
        .bind(&wanted.counterparty_address)
        .bind(&wanted.title)
        .bind(&wanted.execution_date)
        .bind(now)
        .fetch_optional(self.db.pool())
        .await?;
        let transfer = self.transfer(company, &new.id).await?;
        if inserted.is_none() && !same_request(&transfer, &wanted) {
            return Err(TransferError::Conflict {
                company: company.to_owned(),
                id: new.id.clone(),
            });
        }
        Ok(Enqueued {
            transfer,
            created: inserted.is_some(),
        })
    }

    /// The transfer `id` of `company`.
    pub async fn transfer(&self, company: &str, id: &str) -> Result<Transfer, TransferError> {
        let row = sqlx::query(&format!(
            "SELECT {TRANSFER_COLUMNS} FROM transfers WHERE company_id = $1 AND id = $2"
        ))
        .bind(company)
        .bind(id)
        .fetch_optional(self.db.pool())
        .await?
        .ok_or_else(|| TransferError::UnknownTransfer {
            company: company.to_owned(),
            id: id.to_owned(),
        })?;
        transfer_from(&row)
    }

    /// The transfers of `company`, oldest first, of one status or all: at
    /// most `limit` after the one whose `seq` is `after`.
    pub async fn list(
        &self,
        company: &str,
        status: Option<TransferStatus>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<Transfer>, TransferError> {
        accounts::require_company(&self.db, company).await?;
        let rows = sqlx::query(&format!(
            "SELECT {TRANSFER_COLUMNS} FROM transfers \
             WHERE company_id = $1 AND ($2 = '' OR status = $2) AND seq > $3 \
             ORDER BY seq LIMIT $4"
        ))
        .bind(company)
        .bind(status.map_or("", TransferStatus::as_str))
        .bind(after)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(transfer_from).collect()
    }

    /// Cancels a queued transfer; cancelling it again answers the same.
    /// A transfer in a batch cannot be cancelled: the bank may have it.
    pub async fn cancel(&self, company: &str, id: &str) -> Result<Transfer, TransferError> {
        sqlx::query(
            "UPDATE transfers SET status = 'cancelled', updated_at = $3 \
             WHERE company_id = $1 AND id = $2 AND status = 'queued'",
        )
        .bind(company)
        .bind(id)
        .bind(now_millis())
        .execute(self.db.pool())
        .await?;
        let transfer = self.transfer(company, id).await?;
        match transfer.status {
            TransferStatus::Cancelled => Ok(transfer),
            status => Err(TransferError::NotCancellable {
                id: id.to_owned(),
                status,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_plain_positive_decimals() {
        assert_eq!(amount("1234.50").ok().as_deref(), Some("1234.5"));
        assert_eq!(amount("007").ok().as_deref(), Some("7"));
        for bad in [
            "", "1,00", "1e3", "-1", "+1", ".5", "5.", "1_000", "1.2.3", " 1",
        ] {
            assert!(amount(bad).is_err(), "{bad}");
        }
        assert_eq!(
            amount("0.00").err().map(|e| e.to_string()).as_deref(),
            Some("the amount must be positive, not 0.00")
        );
    }

    #[test]
    fn ibans_are_checked_other_numbers_kept() {
        assert_eq!(
            counterparty_account("pl61 1090 1014 0000 0712 1981 2874")
                .ok()
                .as_deref(),
            Some("PL61109010140000071219812874")
        );
        assert!(counterparty_account("PL61 1090 1014 0000 0712 1981 2875").is_err());
        assert_eq!(
            counterparty_account(" 26007233566001 ").ok().as_deref(),
            Some("26007233566001")
        );
    }
}
