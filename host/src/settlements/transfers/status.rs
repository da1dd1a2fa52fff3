//! The bank's word on each transfer: applied from a submission's answer
//! and from `bank.get-batch-status`. Each status names the transfer by the
//! ERP's id; ids not in the batch are ignored. `executed` and `rejected`
//! are final: a later, staler answer does not undo them.

use std::collections::HashMap;

use serde_json::json;
use sqlx::Row;

use super::{
    Batch, BatchState, Connectors, TRANSFER_COLUMNS, Transfer, TransferError, TransferStatus,
    Transfers, transfer_from,
};
use crate::db::now_millis;
use crate::runtime::model::bank as wire;
use crate::sessions;
use crate::settlements::events;

fn from_bank(state: wire::TransferState) -> TransferStatus {
    match state {
        wire::TransferState::Pending => TransferStatus::Submitted,
        wire::TransferState::AwaitingApproval => TransferStatus::AwaitingApproval,
        wire::TransferState::Accepted => TransferStatus::Accepted,
        wire::TransferState::Executed => TransferStatus::Executed,
        wire::TransferState::Rejected => TransferStatus::Rejected,
        wire::TransferState::Cancelled => TransferStatus::Cancelled,
        wire::TransferState::NeedsReview => TransferStatus::NeedsReview,
    }
}

/// Applies the bank's `statuses` to the transfers of `batch`; with
/// `submitted`, the batch was just taken and every transfer still
/// `batched` becomes at least `submitted`. Each change appends a
/// `transfer.updated` event. Answers how many transfers changed.
pub(super) async fn apply_statuses(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    batch: &Batch,
    statuses: &[wire::TransferStatus],
    submitted: bool,
) -> Result<usize, TransferError> {
    let rows = sqlx::query(&format!(
        "SELECT {TRANSFER_COLUMNS} FROM transfers WHERE batch_id = $1 ORDER BY seq"
    ))
    .bind(batch.id)
    .fetch_all(&mut **tx)
    .await?;
    let reported: HashMap<&str, &wire::TransferStatus> = statuses
        .iter()
        .map(|s| (s.transfer_id.as_str(), s))
        .collect();
    let mut changed = 0;
    let mut known = 0;
    for row in &rows {
        let seq: i64 = row.try_get("seq")?;
        let current = transfer_from(row)?;
        let said = reported.get(current.id.as_str()).copied();
        known += usize::from(said.is_some());
        if current.status.is_final() || current.status == TransferStatus::Queued {
            continue;
        }
        let (status, reference, message) = match said {
            Some(s) => (
                from_bank(s.state),
                s.bank_reference.clone().or(current.bank_reference.clone()),
                s.message.clone().or(current.bank_message.clone()),
            ),
            None if submitted && current.status == TransferStatus::Batched => (
                TransferStatus::Submitted,
                current.bank_reference.clone(),
                current.bank_message.clone(),
            ),
            None => continue,
        };
        if (status, &reference, &message)
            == (
                current.status,
                &current.bank_reference,
                &current.bank_message,
            )
        {
            continue;
        }
        sqlx::query(
            "UPDATE transfers SET status = $2, bank_reference = $3, bank_message = $4, \
               updated_at = $5 WHERE seq = $1",
        )
        .bind(seq)
        .bind(status.as_str())
        .bind(&reference)
        .bind(&message)
        .bind(now_millis())
        .execute(&mut **tx)
        .await?;
        events::append(
            tx,
            &batch.company,
            "transfer.updated",
            &json!({
                "transfer": current.id,
                "batch": batch.id,
                "previous": current.status,
                "status": status,
                "bank_reference": reference,
                "message": message,
            }),
        )
        .await?;
        changed += 1;
    }
    if known < statuses.len() {
        tracing::warn!(
            batch = batch.id,
            ignored = statuses.len() - known,
            "the bank reported transfers that are not in the batch"
        );
    }
    Ok(changed)
}

impl Transfers {
    /// The transfers batch `id` carried, as they stand now (a transfer of a
    /// failed batch may be queued again, or in a later batch).
    pub async fn batch_transfers(&self, id: i64) -> Result<Vec<Transfer>, TransferError> {
        let rows = sqlx::query(&format!(
            "SELECT {TRANSFER_COLUMNS} FROM transfers WHERE seq IN \
               (SELECT transfer_seq FROM transfer_batch_items WHERE batch_id = $1) ORDER BY seq"
        ))
        .bind(id)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(transfer_from).collect()
    }

    /// Asks the connector for the status of submitted batch `id`
    /// (`bank.get-batch-status`) on behalf of `user` and applies it. A
    /// failed call changes nothing and is the error.
    pub async fn refresh(
        &self,
        connectors: &Connectors,
        id: i64,
        user: Option<&str>,
    ) -> Result<Batch, TransferError> {
        self.ask_bank(connectors, id, user, BankCall::Status).await
    }

    /// Withdraws submitted batch `id` from the bank (`bank.withdraw-batch`):
    /// what the bank has not executed becomes `cancelled`; transfers past
    /// recall keep the state the connector reports. A failed call changes
    /// nothing and is the error.
    pub async fn withdraw(
        &self,
        connectors: &Connectors,
        id: i64,
        user: Option<&str>,
    ) -> Result<Batch, TransferError> {
        self.ask_bank(connectors, id, user, BankCall::Withdraw)
            .await
    }

    async fn ask_bank(
        &self,
        connectors: &Connectors,
        id: i64,
        user: Option<&str>,
        call: BankCall,
    ) -> Result<Batch, TransferError> {
        let batch = self.batch(id).await?;
        let bank_batch_id = match (&batch.state, &batch.bank_batch_id) {
            (BatchState::Submitted, Some(bank_id)) => bank_id.clone(),
            (state, _) => {
                return Err(TransferError::BatchState {
                    id,
                    state: *state,
                    why: call.needs_submitted(),
                });
            }
        };
        let loaded = connectors.get(&batch.plugin).await?;
        let ctx =
            sessions::call_context(connectors, &loaded, &self.db, &batch.company, user).await?;
        let status = match call {
            BankCall::Status => loaded.plugin.get_batch_status(ctx, &bank_batch_id).await?,
            BankCall::Withdraw => loaded.plugin.withdraw_batch(ctx, &bank_batch_id).await?,
        };
        if status.batch_id != bank_batch_id {
            tracing::warn!(
                batch = id,
                asked = %bank_batch_id,
                answered = %status.batch_id,
                "the connector answered about another batch id"
            );
        }
        // Write first: SQLite then holds its write lock for the whole
        // transaction instead of failing to upgrade a read.
        let mut tx = self.db.pool().begin().await?;
        sqlx::query("UPDATE transfer_batches SET updated_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now_millis())
            .execute(&mut *tx)
            .await?;
        apply_statuses(&mut tx, &batch, &status.transfers, false).await?;
        tx.commit().await?;
        self.batch(id).await
    }
}

/// What the host asks the connector about a submitted batch.
#[derive(Debug, Clone, Copy)]
enum BankCall {
    Status,
    Withdraw,
}

impl BankCall {
    fn needs_submitted(self) -> &'static str {
        match self {
            BankCall::Status => {
                "only a submitted batch has a status at the bank (submit an unknown one again)"
            }
            BankCall::Withdraw => {
                "only a submitted batch can be withdrawn from the bank (submit an unknown one \
                 again first: the bank may have it)"
            }
        }
    }
}
