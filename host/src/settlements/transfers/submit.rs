//! Submitting a batch through its connector, and what each outcome does:
//!
//! - the connector answers a batch status: `submitted`, transfers take the
//!   bank's states;
//! - the first call into the connector fails in a way that proves the bank
//!   did not take the batch (`rejected`, `invalid-input`,
//!   `session-required`, `unauthorized`, `unsupported`): `failed`, and the
//!   transfers go back to the queue, to be batched again under a new key;
//! - anything else (`timeout`, `unavailable`, `busy`, a `protocol` answer,
//!   the call stopped at its deadline or trapped), or any error after an
//!   earlier call that may have reached the bank: `unknown`. Such a batch
//!   is only ever submitted again with the same idempotency key.
//!
//! Nothing is recorded as an attempt when the connector cannot even be
//! called (not installed, disabled, unlicensed): the batch keeps its state
//! and notes the reason in `last_error`.

use rust_decimal::Decimal;
use serde_json::json;
use sqlx::Row;

use super::status::apply_statuses;
use super::{Batch, BatchState, Connectors, TransferError, Transfers};
use crate::db::now_millis;
use crate::runtime::CallError;
use crate::runtime::model::bank as wire;
use crate::runtime::model::{ConnectorError, Money};
use crate::sessions;
use crate::settlements::{Settlements, events};

/// A batch left in `submitting` this long (its process died mid-call) may
/// be submitted again, with the same key. Longer than any call's deadline.
pub const STALE_SUBMISSION_MILLIS: i64 = 120_000;

/// True when the error proves the bank did not take the batch.
fn surely_not_taken(error: &CallError) -> bool {
    match error {
        CallError::Connector { error, .. } => matches!(
            error,
            ConnectorError::Rejected(_)
                | ConnectorError::InvalidInput(_)
                | ConnectorError::SessionRequired(_)
                | ConnectorError::Unauthorized(_)
                | ConnectorError::Unsupported(_)
        ),
        CallError::WrongWorld { .. } => true,
        _ => false,
    }
}

/// The amount as banks expect it: at least two fraction digits.
fn wire_amount(stored: &str) -> Result<String, TransferError> {
    let mut value: Decimal = stored
        .parse()
        .map_err(|e| TransferError::Corrupt(format!("amount `{stored}`: {e}")))?;
    if value.scale() < 2 {
        value.rescale(2);
    }
    Ok(value.to_string())
}

impl Transfers {
    /// What the connector receives: the same transfers under the same key
    /// at every attempt (a batched transfer cannot change or leave).
    async fn wire_batch(&self, batch: &Batch) -> Result<wire::TransferBatch, TransferError> {
        let account = Settlements::new(self.db.clone())
            .account(&batch.account)
            .await?;
        let rows = sqlx::query(
            "SELECT id, amount, currency, counterparty_account, counterparty_name, \
               counterparty_address, title, execution_date \
             FROM transfers WHERE batch_id = $1 AND status = 'batched' ORDER BY seq",
        )
        .bind(batch.id)
        .fetch_all(self.db.pool())
        .await?;
        let transfers = rows
            .iter()
            .map(|row| {
                Ok(wire::Transfer {
                    id: row.try_get("id")?,
                    counterparty: wire::Counterparty {
                        account: Some(row.try_get("counterparty_account")?),
                        name: Some(row.try_get("counterparty_name")?),
                        address: row.try_get("counterparty_address")?,
                        ..wire::Counterparty::default()
                    },
                    split_payment: None,
                    amount: Money {
                        amount: wire_amount(&row.try_get::<String, _>("amount")?)?,
                        currency: row.try_get("currency")?,
                    },
                    title: row.try_get("title")?,
                    execution_date: row.try_get("execution_date")?,
                })
            })
            .collect::<Result<Vec<_>, TransferError>>()?;
        Ok(wire::TransferBatch {
            idempotency_key: batch.idempotency_key.clone(),
            account: account.iban,
            transfers,
            editable_in_bank: false,
            signing_key: None,
        })
    }

    /// Submits batch `id` (state `created` or `unknown`, or `submitting`
    /// left stale) through its connector on behalf of `user`, always with
    /// the batch's own idempotency key, and answers the batch as it stands
    /// after. A batch being submitted right now is [`TransferError::BatchBusy`];
    /// a `submitted` or `failed` one is [`TransferError::BatchState`].
    pub async fn submit(
        &self,
        connectors: &Connectors,
        id: i64,
        user: Option<&str>,
    ) -> Result<Batch, TransferError> {
        let batch = self.batch(id).await?;
        let stale_before = now_millis() - STALE_SUBMISSION_MILLIS;
        match batch.state {
            BatchState::Created | BatchState::Unknown => {}
            BatchState::Submitting => {
                let started =
                    sqlx::query("SELECT last_attempt_at FROM transfer_batches WHERE id = $1")
                        .bind(id)
                        .fetch_one(self.db.pool())
                        .await?
                        .try_get::<Option<i64>, _>("last_attempt_at")?;
                if started.is_some_and(|at| at >= stale_before) {
                    return Err(TransferError::BatchBusy(id));
                }
            }
            state @ (BatchState::Submitted | BatchState::Failed) => {
                return Err(TransferError::BatchState {
                    id,
                    state,
                    why: "only a created or unknown batch is submitted",
                });
            }
        }
        let wire = self.wire_batch(&batch).await?;
        let prepared = async {
            let loaded = connectors.get(&batch.plugin).await?;
            let ctx =
                sessions::call_context(connectors, &loaded, &self.db, &batch.company, user).await?;
            Ok::<_, TransferError>((loaded, ctx))
        }
        .await;
        let (loaded, ctx) = match prepared {
            Ok(prepared) => prepared,
            Err(e) => {
                tracing::warn!(batch = id, error = %e, "transfer batch not submitted");
                sqlx::query(
                    "UPDATE transfer_batches SET last_error = $2, updated_at = $3 \
                     WHERE id = $1 AND state IN ('created', 'unknown')",
                )
                .bind(id)
                .bind(format!("not submitted: {e}"))
                .bind(now_millis())
                .execute(self.db.pool())
                .await?;
                return self.batch(id).await;
            }
        };
        // Claim the batch: exactly one caller moves it to `submitting` from
        // the state (and attempt count) it read.
        let now = now_millis();
        let claimed = sqlx::query(
            "UPDATE transfer_batches SET state = 'submitting', attempts = attempts + 1, \
               last_attempt_at = $3, updated_at = $3 \
             WHERE id = $1 AND attempts = $2 AND (state IN ('created', 'unknown') \
               OR (state = 'submitting' AND last_attempt_at < $4))",
        )
        .bind(id)
        .bind(batch.attempts)
        .bind(now)
        .bind(stale_before)
        .execute(self.db.pool())
        .await?;
        if claimed.rows_affected() == 0 {
            let now = self.batch(id).await?;
            return Err(match now.state {
                BatchState::Submitting => TransferError::BatchBusy(id),
                state => TransferError::BatchState {
                    id,
                    state,
                    why: "another request submitted it meanwhile",
                },
            });
        }
        let first_call = batch.attempts == 0;
        tracing::info!(
            batch = id,
            plugin = %batch.plugin,
            key = %batch.idempotency_key,
            attempt = batch.attempts + 1,
            "submitting transfer batch"
        );
        let outcome = loaded.plugin.submit_batch(ctx, &wire).await;
        self.record_submission(&batch, first_call, outcome).await?;
        self.batch(id).await
    }

    async fn record_submission(
        &self,
        batch: &Batch,
        first_call: bool,
        outcome: Result<wire::BatchStatus, CallError>,
    ) -> Result<(), TransferError> {
        let now = now_millis();
        let documents = outcome
            .as_ref()
            .map(|status| status.documents.clone())
            .unwrap_or_default();
        let mut tx = self.db.pool().begin().await?;
        match outcome {
            Ok(status) => {
                sqlx::query(
                    "UPDATE transfer_batches SET state = 'submitted', bank_batch_id = $2, \
                       last_error = NULL, submitted_at = $3, updated_at = $3 \
                     WHERE id = $1 AND state <> 'submitted'",
                )
                .bind(batch.id)
                .bind(&status.batch_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                events::append(
                    &mut tx,
                    &batch.company,
                    "batch.submitted",
                    &json!({
                        "batch": batch.id,
                        "account": batch.account,
                        "idempotency_key": batch.idempotency_key,
                        "bank_batch_id": status.batch_id,
                    }),
                )
                .await?;
                apply_statuses(&mut tx, batch, &status.transfers, true).await?;
                tracing::info!(batch = batch.id, bank_batch = %status.batch_id, "transfer batch submitted");
            }
            Err(error @ CallError::Busy { .. }) => {
                // No instance was free: the connector never ran and the bank
                // saw nothing, so the batch goes back to where it stood.
                let back_to = match batch.state {
                    BatchState::Created => BatchState::Created,
                    _ => BatchState::Unknown,
                };
                let message = format!("not submitted: {error}; submit it again");
                sqlx::query(
                    "UPDATE transfer_batches SET state = $2, attempts = attempts - 1, \
                       last_error = $3, updated_at = $4 WHERE id = $1 AND state = 'submitting'",
                )
                .bind(batch.id)
                .bind(back_to.as_str())
                .bind(&message)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                tracing::warn!(batch = batch.id, error = %message, "transfer batch not taken; the host was at capacity");
            }
            Err(error) if first_call && surely_not_taken(&error) => {
                let message = error.to_string();
                let failed = sqlx::query(
                    "UPDATE transfer_batches SET state = 'failed', last_error = $2, updated_at = $3 \
                     WHERE id = $1 AND state = 'submitting'",
                )
                .bind(batch.id)
                .bind(&message)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                if failed.rows_affected() == 1 {
                    let requeued = sqlx::query(
                        "UPDATE transfers SET status = 'queued', batch_id = NULL, last_error = $2, \
                           updated_at = $3 WHERE batch_id = $1 AND status = 'batched' RETURNING id",
                    )
                    .bind(batch.id)
                    .bind(format!("batch {} failed: {message}", batch.id))
                    .bind(now)
                    .fetch_all(&mut *tx)
                    .await?;
                    for row in &requeued {
                        let transfer: String = row.try_get("id")?;
                        events::append(
                            &mut tx,
                            &batch.company,
                            "transfer.updated",
                            &json!({
                                "transfer": transfer,
                                "batch": batch.id,
                                "previous": "batched",
                                "status": "queued",
                                "message": message,
                            }),
                        )
                        .await?;
                    }
                    events::append(
                        &mut tx,
                        &batch.company,
                        "batch.failed",
                        &json!({ "batch": batch.id, "account": batch.account, "error": message }),
                    )
                    .await?;
                }
                tracing::warn!(batch = batch.id, error = %message, "transfer batch refused; transfers queued again");
            }
            Err(error) => {
                let mut message = error.to_string();
                if !first_call && surely_not_taken(&error) {
                    message.push_str(
                        " (an earlier attempt may have reached the bank: check the batch there before anything else)",
                    );
                }
                let unknown = sqlx::query(
                    "UPDATE transfer_batches SET state = 'unknown', last_error = $2, updated_at = $3 \
                     WHERE id = $1 AND state = 'submitting'",
                )
                .bind(batch.id)
                .bind(&message)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                if unknown.rows_affected() == 1 {
                    events::append(
                        &mut tx,
                        &batch.company,
                        "batch.unknown",
                        &json!({ "batch": batch.id, "account": batch.account, "error": message }),
                    )
                    .await?;
                }
                tracing::warn!(batch = batch.id, error = %message, "transfer batch outcome unknown; submit it again (same key)");
            }
        }
        tx.commit().await?;
        // The file as sent (pain.001), kept with the batch; a retry that
        // sent the same bytes adds nothing.
        Settlements::new(self.db.clone())
            .keep_documents(&batch.account, Some(batch.id), &documents)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_go_out_with_two_fraction_digits() {
        assert_eq!(wire_amount("7").ok().as_deref(), Some("7.00"));
        assert_eq!(wire_amount("1234.5").ok().as_deref(), Some("1234.50"));
        assert_eq!(wire_amount("0.125").ok().as_deref(), Some("0.125"));
    }
}
