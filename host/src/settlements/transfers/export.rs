//! The export: each account's queued transfers become a batch with a fresh
//! idempotency key, in one database transaction, so two exports running at
//! once never put a transfer in two batches; then each new batch is
//! submitted.

use sqlx::Row;

use super::{Batch, Connectors, TransferError, Transfers};
use crate::db::now_millis;
use crate::settlements::{BankAccount, Settlements, accounts};

/// Most transfers in one batch; an account with more gets several.
pub const MAX_TRANSFERS_PER_BATCH: i64 = 500;

/// 128 random bits, hex: a key no batch had before.
fn new_idempotency_key() -> Result<String, TransferError> {
    let mut random = [0u8; 16];
    getrandom::getrandom(&mut random)
        .map_err(|e| TransferError::Corrupt(format!("the OS random generator failed: {e}")))?;
    Ok(hex::encode(random))
}

impl Transfers {
    /// What an export of `company` would batch: the account named (which
    /// must be the company's), or every account of the company with queued
    /// transfers. The API authorizes each account's plugin before exporting.
    pub async fn accounts_to_export(
        &self,
        company: &str,
        account: Option<&str>,
    ) -> Result<Vec<BankAccount>, TransferError> {
        accounts::require_company(&self.db, company).await?;
        let settlements = Settlements::new(self.db.clone());
        if let Some(id) = account {
            let account = settlements.account(id).await?;
            if account.company != company {
                return Err(TransferError::UnknownAccount(id.to_owned()));
            }
            return Ok(vec![account]);
        }
        let rows = sqlx::query(
            "SELECT DISTINCT account_id FROM transfers \
             WHERE company_id = $1 AND status = 'queued' ORDER BY account_id",
        )
        .bind(company)
        .fetch_all(self.db.pool())
        .await?;
        let mut found = Vec::with_capacity(rows.len());
        for row in &rows {
            found.push(
                settlements
                    .account(&row.try_get::<String, _>("account_id")?)
                    .await?,
            );
        }
        Ok(found)
    }

    /// Moves up to [`MAX_TRANSFERS_PER_BATCH`] of the account's queued
    /// transfers, oldest first, into a new batch; none queued, no batch.
    ///
    /// One transaction whose first statement writes (SQLite then takes its
    /// write lock before reading anything), and the move re-checks
    /// `status = 'queued'` on each row it updates (PostgreSQL re-evaluates
    /// it after waiting for a concurrent export's row locks), so a transfer
    /// lands in exactly one batch.
    pub async fn create_batch(
        &self,
        account: &BankAccount,
    ) -> Result<Option<Batch>, TransferError> {
        let key = new_idempotency_key()?;
        let now = now_millis();
        let mut tx = self.db.pool().begin().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO transfer_batches (company_id, account_id, plugin_id, idempotency_key, \
               state, attempts, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'created', 0, $5, $5) RETURNING id",
        )
        .bind(&account.company)
        .bind(&account.id)
        .bind(&account.plugin)
        .bind(&key)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        let moved = sqlx::query(
            "UPDATE transfers SET status = 'batched', batch_id = $1, last_error = NULL, updated_at = $2 \
             WHERE company_id = $3 AND account_id = $4 AND status = 'queued' AND seq IN \
               (SELECT seq FROM transfers WHERE company_id = $3 AND account_id = $4 \
                  AND status = 'queued' ORDER BY seq LIMIT $5)",
        )
        .bind(id)
        .bind(now)
        .bind(&account.company)
        .bind(&account.id)
        .bind(MAX_TRANSFERS_PER_BATCH)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        sqlx::query(
            "INSERT INTO transfer_batch_items (batch_id, transfer_seq) \
             SELECT batch_id, seq FROM transfers WHERE batch_id = $1",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(
            batch = id,
            account = %account.id,
            transfers = moved.rows_affected(),
            "transfer batch created"
        );
        self.batch(id).await.map(Some)
    }

    /// Batches the queued transfers of `accounts` (see
    /// [`Transfers::accounts_to_export`]) and submits each new batch; the
    /// answer is every batch made, in its state after its submission.
    pub async fn export_accounts(
        &self,
        connectors: &Connectors,
        accounts: &[BankAccount],
        user: Option<&str>,
    ) -> Result<Vec<Batch>, TransferError> {
        let mut created = Vec::new();
        for account in accounts {
            while let Some(batch) = self.create_batch(account).await? {
                created.push(batch.id);
            }
        }
        let mut batches = Vec::with_capacity(created.len());
        for id in created {
            batches.push(self.submit(connectors, id, user).await?);
        }
        Ok(batches)
    }

    /// Exports `company`'s queued transfers (of `account` only, if named).
    pub async fn export(
        &self,
        connectors: &Connectors,
        company: &str,
        account: Option<&str>,
        user: Option<&str>,
    ) -> Result<Vec<Batch>, TransferError> {
        let accounts = self.accounts_to_export(company, account).await?;
        self.export_accounts(connectors, &accounts, user).await
    }
}
