//! Queueing transfers: validated, keyed by the ERP's id so a retried request
//! is answered with the transfer it made the first time; read, list, cancel.

use chrono::NaiveDate;
use iban::IbanLike;
use serde::{Deserialize, Serialize};

use super::{TRANSFER_COLUMNS, Transfer, TransferError, TransferStatus, Transfers, transfer_from};
use crate::db::now_millis;
use crate::settlements::{Settlements, accounts};
use crate::values::{Currency, line};

/// Longest title, counterparty name and address, in characters (SEPA's
/// unstructured remittance, Elixir's 4 × 35).
pub const MAX_TITLE_CHARS: usize = 140;
/// Longest ERP transfer id.
const MAX_ID_CHARS: usize = 64;
/// Longest non-IBAN counterparty account number.
const MAX_ACCOUNT_CHARS: usize = 64;
/// Furthest execution date ahead, in days: banks book a year ahead at most.
pub const MAX_DAYS_AHEAD: u64 = 365;

/// A transfer as the ERP asks for it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({
    "id": "erp-pay-2026-0042",
    "account": "main-pln",
    "amount": "1234.50",
    "currency": "PLN",
    "counterparty_account": "PL61109010140000071219812874",
    "counterparty_name": "Dostawca Sp. z o.o.",
    "title": "FV/2026/11/0042"
}))]
pub struct NewTransfer {
    /// The ERP's id, unique per company (letters, digits, `.`, `_`, `-`,
    /// `:`; at most 64). A retry with the same body gets the same
    /// transfer; another body under the same id is 409 `transfer_conflict`.
    #[schema(pattern = "^[A-Za-z0-9._:-]{1,64}$")]
    pub id: String,
    /// Source bank account id (of the company).
    pub account: String,
    /// More than zero, written `digits[.digits]` with at most the
    /// currency's minor units of decimals and 12 digits before the point:
    /// no sign, exponent, grouping or spaces (`"1234.50"`).
    #[schema(pattern = r"^[0-9]{1,12}(\.[0-9]{1,3})?$")]
    pub amount: String,
    /// ISO 4217 with minor units; must be the account's currency.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: String,
    /// Beneficiary account: an IBAN (checksum verified) or the bank's own
    /// number format.
    #[schema(min_length = 1, max_length = 64)]
    pub counterparty_account: String,
    /// Beneficiary name: one line of at most 140 characters, no control or
    /// bidirectional formatting characters.
    #[schema(min_length = 1, max_length = 140)]
    pub counterparty_name: String,
    /// Beneficiary address (one line, at most 140 characters), when the
    /// bank needs one.
    #[serde(default)]
    #[schema(max_length = 140)]
    pub counterparty_address: Option<String>,
    /// Payment title (one line, at most 140 characters).
    #[schema(min_length = 1, max_length = 140)]
    pub title: String,
    /// Requested execution date `YYYY-MM-DD`, from yesterday (UTC) to 365
    /// days ahead; absent for as soon as possible.
    #[serde(default)]
    #[schema(format = Date)]
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

/// Free text of at most [`MAX_TITLE_CHARS`], one line, nothing hidden.
fn text(field: &'static str, value: &str) -> Result<String, TransferError> {
    line(field, value, MAX_TITLE_CHARS).map_err(|e| invalid(e.to_string()))
}

fn execution_date(value: &str) -> Result<NaiveDate, TransferError> {
    (value.len() == 10)
        .then(|| NaiveDate::parse_from_str(value, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| {
            invalid(format!(
                "execution date `{value}` is not a date like 2026-11-30"
            ))
        })
}

/// Whether a bank would take `date` as an execution date asked for on
/// `today` (UTC): from yesterday (the ERP's day may still be yesterday
/// in UTC-12) to [`MAX_DAYS_AHEAD`] ahead.
fn bookable(date: NaiveDate, today: NaiveDate) -> Result<(), TransferError> {
    let earliest = today - chrono::Days::new(1);
    let latest = today + chrono::Days::new(MAX_DAYS_AHEAD);
    if date < earliest || date > latest {
        return Err(invalid(format!(
            "execution date {date} is outside what a bank books today: {earliest} to {latest}"
        )));
    }
    Ok(())
}

/// Everything that needs no database, in the order the ERP reads it.
fn canonical(new: &NewTransfer) -> Result<Canonical, TransferError> {
    check_id(&new.id)?;
    if new.account.trim().is_empty() {
        return Err(invalid("a source account is required"));
    }
    let currency = Currency::parse(&new.currency).map_err(|e| invalid(e.to_string()))?;
    let amount = currency
        .amount(&new.amount)
        .map_err(|e| invalid(e.to_string()))?
        .to_string();
    let counterparty_account = counterparty_account(&new.counterparty_account)?;
    let counterparty_name = text("counterparty_name", &new.counterparty_name)?;
    let counterparty_address = match &new.counterparty_address {
        Some(address) if !address.trim().is_empty() => Some(text("counterparty_address", address)?),
        _ => None,
    };
    let title = text("title", &new.title)?;
    let execution_date = new
        .execution_date
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(execution_date)
        .transpose()?
        .map(|d| d.format("%Y-%m-%d").to_string());
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
        // Shown in minor units (`1500.00`), kept canonical (`1500`).
        amount: stored
            .amount
            .parse::<rust_decimal::Decimal>()
            .map_or_else(|_| stored.amount.clone(), |a| a.normalize().to_string()),
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
        if let Some(date) = &wanted.execution_date {
            let today = chrono::Utc::now().date_naive();
            let date = execution_date(date)?;
            if let Err(refused) = bookable(date, today) {
                // A retry of a transfer queued while its date was bookable
                // still gets that transfer.
                return match self.transfer(company, &new.id).await {
                    Ok(transfer) if same_request(&transfer, &wanted) => Ok(Enqueued {
                        transfer,
                        created: false,
                    }),
                    _ => Err(refused),
                };
            }
        }
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
    fn execution_dates_run_from_yesterday_to_a_year_ahead() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        for fine in [day(2026, 12, 1), today, day(2027, 12, 2)] {
            assert!(bookable(fine, today).is_ok(), "{fine}");
        }
        for refused in [
            day(2026, 11, 30),
            day(2001, 1, 1),
            day(2027, 12, 3),
            day(9999, 12, 31),
        ] {
            assert_eq!(
                bookable(refused, today).map_err(|e| e.to_string()),
                Err(format!(
                    "execution date {refused} is outside what a bank books today: 2026-12-01 to 2027-12-02"
                ))
            );
        }
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
