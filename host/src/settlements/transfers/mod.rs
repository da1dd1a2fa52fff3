//! The transfer waiting room: the ERP queues outgoing transfers; an export
//! groups the queued transfers of each source account into a batch with a
//! fresh idempotency key, submits it through the account's connector and
//! tracks the batch's and each transfer's state. A batch whose submission
//! ended without a clear answer (timeout, bank unavailable, plugin stopped)
//! is submitted again only with the same key, so the bank sees one batch.
//!
//! - `queue`: enqueue (validated, idempotent per ERP id), read, list, cancel;
//! - `export`: queued transfers of one account into one batch, atomically;
//! - `submit`: the batch state machine around `bank.submit-batch`;
//! - `status`: bank statuses applied to transfers, `bank.get-batch-status`.
//!
//! States (host/docs/settlements.md, "Transfer waiting room"):
//! transfer `queued → batched → submitted → awaiting-approval | accepted |
//! executed | rejected`, or `cancelled` from `queued`; batch `created →
//! submitting → submitted | unknown | failed`.

mod export;
mod queue;
mod status;
mod submit;

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::SettlementsError;
use crate::catalog::CatalogError;
use crate::connectors::{Connectors, UnavailableError};
use crate::db::{Database, format_millis};
use crate::runtime::CallError;

pub use export::MAX_TRANSFERS_PER_BATCH;
pub use queue::{MAX_TITLE_CHARS, NewTransfer};
pub use submit::STALE_SUBMISSION_MILLIS;

/// Why a transfer operation failed.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// An argument was invalid.
    #[error("{0}")]
    InvalidInput(String),
    /// The company does not exist.
    #[error("company `{0}` does not exist")]
    UnknownCompany(String),
    /// No such account for the company.
    #[error("bank account `{0}` does not exist")]
    UnknownAccount(String),
    /// No such transfer.
    #[error("transfer `{id}` of {company} does not exist")]
    UnknownTransfer {
        /// The company.
        company: String,
        /// The ERP's id.
        id: String,
    },
    /// No such batch.
    #[error("transfer batch {0} does not exist")]
    UnknownBatch(i64),
    /// The ERP id is taken by a transfer with other details.
    #[error(
        "transfer `{id}` of {company} already exists with different details; a retried request must repeat the same body"
    )]
    Conflict {
        /// The company.
        company: String,
        /// The ERP's id.
        id: String,
    },
    /// The transfer cannot be cancelled any more.
    #[error("transfer `{id}` is {status}; only a queued transfer can be cancelled")]
    NotCancellable {
        /// The ERP's id.
        id: String,
        /// Where it stands.
        status: TransferStatus,
    },
    /// The batch is not in a state that allows the operation.
    #[error("transfer batch {id} is {state}; {why}")]
    BatchState {
        /// The batch.
        id: i64,
        /// Its state.
        state: BatchState,
        /// What the operation needs.
        why: &'static str,
    },
    /// Another submission of the batch is running.
    #[error("transfer batch {0} is being submitted right now; ask again when it is done")]
    BatchBusy(i64),
    /// The connector cannot be called.
    #[error(transparent)]
    Unavailable(#[from] UnavailableError),
    /// Settings or vault could not give the call context.
    #[error(transparent)]
    Context(#[from] CatalogError),
    /// The connector call failed (status refresh).
    #[error(transparent)]
    Call(#[from] CallError),
    /// The call's bank session could not be read.
    #[error(transparent)]
    Session(#[from] crate::sessions::SessionError),
    /// Stored data could not be read back.
    #[error("stored transfer data is damaged: {0}")]
    Corrupt(String),
    /// The database failed.
    #[error("transfers database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl TransferError {
    /// Stable code for APIs.
    pub fn kind(&self) -> &'static str {
        match self {
            TransferError::InvalidInput(_) => "invalid_input",
            TransferError::UnknownCompany(_) => "unknown_company",
            TransferError::UnknownAccount(_) => "unknown_account",
            TransferError::UnknownTransfer { .. } => "unknown_transfer",
            TransferError::UnknownBatch(_) => "unknown_batch",
            TransferError::Conflict { .. } => "transfer_conflict",
            TransferError::NotCancellable { .. } => "not_cancellable",
            TransferError::BatchState { .. } => "batch_state",
            TransferError::BatchBusy(_) => "batch_busy",
            TransferError::Unavailable(_) => "plugin_unavailable",
            TransferError::Context(e) => e.kind(),
            TransferError::Call(_) => "plugin_call_failed",
            TransferError::Session(e) => e.kind(),
            TransferError::Corrupt(_) => "corrupt_data",
            TransferError::Database(_) => "database_error",
        }
    }
}

impl From<SettlementsError> for TransferError {
    fn from(e: SettlementsError) -> Self {
        match e {
            SettlementsError::InvalidInput(m) => TransferError::InvalidInput(m),
            SettlementsError::UnknownAccount(a) => TransferError::UnknownAccount(a),
            SettlementsError::UnknownCompany(c) => TransferError::UnknownCompany(c),
            SettlementsError::Exists(m) => {
                TransferError::InvalidInput(format!("{m} already exists"))
            }
            SettlementsError::Corrupt(m) => TransferError::Corrupt(m),
            // Transfers never look documents up by id, nor add accounts.
            e @ (SettlementsError::UnknownDocument(_) | SettlementsError::CompanyCap(_)) => {
                TransferError::Corrupt(e.to_string())
            }
            SettlementsError::Database(e) => TransferError::Database(e),
        }
    }
}

/// Declares a string enum with its wire names.
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident ($label:literal) { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        // The wire names are the variants in kebab-case (a test checks
        // each against `as_str`): written as `rename_all`, which the
        // OpenAPI derive reads, unlike a per-variant rename built from a
        // macro fragment.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
        #[serde(rename_all = "kebab-case")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The wire name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = TransferError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == text)
                    .ok_or_else(|| {
                        let names: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                        TransferError::InvalidInput(format!(
                            "unknown {} `{text}`; one of: {}",
                            $label,
                            names.join(", ")
                        ))
                    })
            }
        }
    };
}

named_enum! {
    /// Where a transfer stands.
    TransferStatus("transfer status") {
        /// Waiting for an export; can still be cancelled.
        Queued = "queued",
        /// In a batch that is not (yet, or not surely) at the bank.
        Batched = "batched",
        /// At the bank, not yet processed.
        Submitted = "submitted",
        /// The bank waits for a signature or approval.
        AwaitingApproval = "awaiting-approval",
        /// Accepted for execution.
        Accepted = "accepted",
        /// Money left the account. Final.
        Executed = "executed",
        /// Refused by the bank. Final.
        Rejected = "rejected",
        /// Cancelled by the ERP while queued, or withdrawn from the bank
        /// before execution. Final.
        Cancelled = "cancelled",
        /// The connector cannot tell what the bank did with it and stopped
        /// asking (`bank_message` says what to look for): a person checks
        /// at the bank. Final.
        NeedsReview = "needs-review",
    }
}

impl TransferStatus {
    /// Nothing changes a transfer in this state any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            TransferStatus::Executed
                | TransferStatus::Rejected
                | TransferStatus::Cancelled
                | TransferStatus::NeedsReview
        )
    }
}

named_enum! {
    /// Where a batch stands.
    BatchState("batch state") {
        /// Created by an export, never handed to the connector.
        Created = "created",
        /// A submission is running (or its process died: stale after
        /// [`STALE_SUBMISSION_MILLIS`]).
        Submitting = "submitting",
        /// The bank took it and named it (`bank_batch_id`).
        Submitted = "submitted",
        /// The last submission ended without a clear answer; the bank may
        /// have it. Submitted again only with the same idempotency key.
        Unknown = "unknown",
        /// The bank surely refused it; its transfers went back to the queue.
        Failed = "failed",
    }
}

/// A queued or sent transfer.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Transfer {
    /// Its place in the company's queue: the cursor of `GET /transfers`.
    pub seq: i64,
    /// The ERP's id, unique per company.
    pub id: String,
    /// The company.
    pub company: String,
    /// Source bank account id.
    pub account: String,
    /// Positive decimal string in the currency's minor units (`1500.00`).
    pub amount: String,
    /// ISO 4217, the account's currency.
    pub currency: String,
    /// Beneficiary account (an IBAN in electronic form when it is one).
    pub counterparty_account: String,
    /// Beneficiary name.
    pub counterparty_name: String,
    /// Beneficiary address.
    pub counterparty_address: Option<String>,
    /// Payment title.
    pub title: String,
    /// Requested execution date, `YYYY-MM-DD`.
    pub execution_date: Option<String>,
    /// Where it stands.
    pub status: TransferStatus,
    /// The batch carrying it now (none while queued or cancelled).
    pub batch: Option<i64>,
    /// The bank's reference, once it gave one.
    pub bank_reference: Option<String>,
    /// The bank's message (mostly for `rejected`).
    pub bank_message: Option<String>,
    /// Why its last batch failed, when it went back to the queue.
    pub last_error: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
    /// The statement line that booked it, found by its own reference.
    pub booked_transaction: Option<i64>,
}

/// A batch of one account's transfers.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Batch {
    /// Row id.
    pub id: i64,
    /// The company.
    pub company: String,
    /// Source bank account id.
    pub account: String,
    /// The connector that submits it (the account's, when it was created).
    pub plugin: String,
    /// Sent with every submission; never renewed.
    pub idempotency_key: String,
    /// Where it stands.
    pub state: BatchState,
    /// The bank's id for it, once submitted.
    pub bank_batch_id: Option<String>,
    /// Connector calls made to submit it.
    pub attempts: i64,
    /// Why the last attempt did not submit it.
    pub last_error: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
    /// RFC 3339, the last submission attempt's start.
    pub last_attempt_at: Option<String>,
    /// RFC 3339, when the bank took it.
    pub submitted_at: Option<String>,
    /// The ERP ids of its transfers, in order.
    #[serde(rename = "transfer_ids")]
    pub transfers: Vec<String>,
}

/// The transfer waiting room over the host database.
#[derive(Debug, Clone)]
pub struct Transfers {
    db: Database,
}

impl Transfers {
    /// The waiting room over `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

const TRANSFER_COLUMNS: &str = "seq, company_id, id, account_id, amount, currency, \
    counterparty_account, counterparty_name, counterparty_address, title, execution_date, \
    status, batch_id, bank_reference, bank_message, last_error, created_at, updated_at, \
    booked_transaction_id";

const BATCH_COLUMNS: &str = "id, company_id, account_id, plugin_id, idempotency_key, state, \
    bank_batch_id, attempts, last_error, created_at, updated_at, last_attempt_at, submitted_at";

fn corrupt(what: &str, e: impl fmt::Display) -> TransferError {
    TransferError::Corrupt(format!("{what}: {e}"))
}

fn transfer_from(row: &AnyRow) -> Result<Transfer, TransferError> {
    let status: String = row.try_get("status")?;
    Ok(Transfer {
        seq: row.try_get("seq")?,
        id: row.try_get("id")?,
        company: row.try_get("company_id")?,
        account: row.try_get("account_id")?,
        amount: crate::values::Currency::show(
            &row.try_get::<String, _>("currency")?,
            &row.try_get::<String, _>("amount")?,
        ),
        currency: row.try_get("currency")?,
        counterparty_account: row.try_get("counterparty_account")?,
        counterparty_name: row.try_get("counterparty_name")?,
        counterparty_address: row.try_get("counterparty_address")?,
        title: row.try_get("title")?,
        execution_date: row.try_get("execution_date")?,
        status: status.parse().map_err(|e| corrupt("transfer status", e))?,
        batch: row.try_get("batch_id")?,
        bank_reference: row.try_get("bank_reference")?,
        bank_message: row.try_get("bank_message")?,
        last_error: row.try_get("last_error")?,
        created_at: format_millis(row.try_get("created_at")?),
        updated_at: format_millis(row.try_get("updated_at")?),
        booked_transaction: row.try_get("booked_transaction_id")?,
    })
}

fn batch_from(row: &AnyRow, transfers: Vec<String>) -> Result<Batch, TransferError> {
    let state: String = row.try_get("state")?;
    let millis = |column: &str| -> Result<Option<String>, TransferError> {
        Ok(row.try_get::<Option<i64>, _>(column)?.map(format_millis))
    };
    Ok(Batch {
        id: row.try_get("id")?,
        company: row.try_get("company_id")?,
        account: row.try_get("account_id")?,
        plugin: row.try_get("plugin_id")?,
        idempotency_key: row.try_get("idempotency_key")?,
        state: state.parse().map_err(|e| corrupt("batch state", e))?,
        bank_batch_id: row.try_get("bank_batch_id")?,
        attempts: row.try_get("attempts")?,
        last_error: row.try_get("last_error")?,
        created_at: format_millis(row.try_get("created_at")?),
        updated_at: format_millis(row.try_get("updated_at")?),
        last_attempt_at: millis("last_attempt_at")?,
        submitted_at: millis("submitted_at")?,
        transfers,
    })
}

impl Transfers {
    /// The batch `id` with its transfers' ids.
    pub async fn batch(&self, id: i64) -> Result<Batch, TransferError> {
        let row = sqlx::query(&format!(
            "SELECT {BATCH_COLUMNS} FROM transfer_batches WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.db.pool())
        .await?
        .ok_or(TransferError::UnknownBatch(id))?;
        let items = sqlx::query(
            "SELECT t.id FROM transfer_batch_items i JOIN transfers t ON t.seq = i.transfer_seq \
             WHERE i.batch_id = $1 ORDER BY t.seq",
        )
        .bind(id)
        .fetch_all(self.db.pool())
        .await?;
        let transfers = items
            .iter()
            .map(|r| r.try_get::<String, _>("id"))
            .collect::<Result<_, _>>()?;
        batch_from(&row, transfers)
    }

    /// The batches of `company`, newest first, at most `limit`.
    pub async fn batches(&self, company: &str, limit: i64) -> Result<Vec<Batch>, TransferError> {
        let ids = sqlx::query(
            "SELECT id FROM transfer_batches WHERE company_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(company)
        .bind(limit.clamp(1, 1000))
        .fetch_all(self.db.pool())
        .await?;
        let mut batches = Vec::with_capacity(ids.len());
        for row in &ids {
            batches.push(self.batch(row.try_get("id")?).await?);
        }
        Ok(batches)
    }
}

#[cfg(test)]
mod tests {
    use super::{BatchState, TransferStatus};

    #[test]
    fn wire_names_are_what_serde_and_the_document_say() {
        for status in TransferStatus::ALL {
            assert_eq!(
                serde_json::to_value(status).ok(),
                Some(serde_json::json!(status.as_str()))
            );
        }
        for state in BatchState::ALL {
            assert_eq!(
                serde_json::to_value(state).ok(),
                Some(serde_json::json!(state.as_str()))
            );
        }
        let schema = serde_json::to_value(<TransferStatus as utoipa::PartialSchema>::schema())
            .expect("schema");
        let names: Vec<&str> = TransferStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(schema["enum"], serde_json::json!(names));
    }
}
