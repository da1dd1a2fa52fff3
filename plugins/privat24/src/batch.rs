//! Transfer batches: document numbers derived from the idempotency key,
//! and the record that lets `get-batch-status` find the payments again.
//!
//! Privat24 has no batches, only payments, and it treats a repeated
//! `document_number` (at most 10 characters) as the same payment. So:
//!
//! - the batch id is 8 base-36 characters hashed from the idempotency key;
//! - transfer number `i` (from 0) of the batch gets the document number
//!   `<batch id><i in 2 base-36 digits>`: 10 characters, at most 1296
//!   transfers per batch;
//! - the record `batch/<batch id>` in plugin storage keeps the key, the
//!   ERP's transfer ids and the bank's payment refs.
//!
//! A retried batch hashes to the same id and document numbers, so the bank
//! returns the payments it already has instead of creating new ones. The
//! record is claimed with compare-and-swap before anything is sent; if
//! another key already holds that id (a hash collision), the next salt
//! gives another id.

use h2h_sdk::bank::{TransferState, TransferStatus};
use h2h_sdk::{Error, Result, storage};
use serde::{Deserialize, Serialize};

use crate::map;
use crate::model::{Payment, scalar};

const BASE36: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
/// Characters of the batch id; the rest of the document number is the
/// transfer's position.
const ID_LEN: u32 = 8;
const POSITION_LEN: u32 = 2;
/// Transfers a batch may hold: positions are two base-36 digits.
pub const MAX_TRANSFERS: usize = 36usize.pow(POSITION_LEN);
/// Salts tried before giving up on finding a free batch id.
const MAX_SALTS: u32 = 16;

/// FNV-1a, then the SplitMix64 finaliser: stable across Rust versions and
/// platforms (unlike `std`'s hasher), and well mixed in every bit.
fn hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        h ^= u64::from(*byte);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// `value` in exactly `len` base-36 digits (it must fit).
fn base36(mut value: u64, len: u32) -> String {
    let mut out = vec![b'0'; len as usize];
    for slot in out.iter_mut().rev() {
        *slot = BASE36[(value % 36) as usize];
        value /= 36;
    }
    out.into_iter().map(char::from).collect()
}

/// The batch id for `idempotency_key`; `salt` 0 unless a collision made
/// the earlier ids taken.
pub fn batch_id(idempotency_key: &str, salt: u32) -> String {
    let mut bytes = idempotency_key.as_bytes().to_vec();
    if salt > 0 {
        bytes.push(0);
        bytes.extend_from_slice(&salt.to_le_bytes());
    }
    base36(hash(&bytes) % 36u64.pow(ID_LEN), ID_LEN)
}

/// The document number of transfer `position` (from 0) of a batch.
pub fn document_number(batch_id: &str, position: usize) -> Result<String> {
    if position >= MAX_TRANSFERS {
        return Err(Error::invalid_input(format!(
            "a batch holds at most {MAX_TRANSFERS} transfers"
        )));
    }
    Ok(format!(
        "{batch_id}{}",
        base36(position as u64, POSITION_LEN)
    ))
}

/// What plugin storage keeps about a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchRecord {
    /// The host's idempotency key the batch id was derived from.
    pub idempotency_key: String,
    /// Source account.
    pub account: String,
    /// The transfers, in batch order (their position gives the document
    /// number).
    pub transfers: Vec<TransferRecord>,
}

/// One transfer of a stored batch, as last seen at the bank.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TransferRecord {
    /// The ERP's transfer id.
    pub id: String,
    /// The bank's payment reference, once created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_ref: Option<String>,
    /// The payment's `payment_status` when last asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The bank's status text, or why it refused the payment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The bank refused to create the payment: nothing exists there.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refused: bool,
}

impl TransferRecord {
    /// Whether the bank has made up its mind: refused, done or rejected.
    pub fn is_final(&self) -> bool {
        self.refused
            || matches!(
                map::transfer_state(self.status.as_deref().unwrap_or_default()),
                TransferState::Executed | TransferState::Rejected
            )
    }

    /// Whether a create request still has to be sent.
    pub fn is_unsent(&self) -> bool {
        self.payment_ref.is_none() && !self.refused
    }

    /// Records what the bank says about the payment.
    pub fn seen(&mut self, payment: &Payment) {
        self.payment_ref = Some(payment.payment_ref.clone());
        self.status = scalar(&payment.payment_status);
        self.message = payment
            .payment_status_text
            .clone()
            .filter(|text| !text.trim().is_empty());
    }

    /// Records that the bank refused to create the payment.
    pub fn refuse(&mut self, reason: String) {
        self.refused = true;
        self.message = Some(reason);
    }

    /// The contract's view of the transfer.
    pub fn transfer_status(&self) -> TransferStatus {
        let state = if self.refused {
            TransferState::Rejected
        } else if self.payment_ref.is_some() {
            map::transfer_state(self.status.as_deref().unwrap_or_default())
        } else {
            TransferState::Pending
        };
        let message = if self.is_unsent() {
            Some("not sent to Privat24 yet: submit the batch again".to_owned())
        } else {
            self.message.clone()
        };
        TransferStatus {
            transfer_id: self.id.clone(),
            state,
            bank_state: self.status.clone(),
            bank_reference: self.payment_ref.clone(),
            message,
        }
    }
}

fn key(batch_id: &str) -> String {
    format!("batch/{batch_id}")
}

/// The stored batch, if any.
pub fn load(batch_id: &str) -> Result<Option<BatchRecord>> {
    storage::get(&key(batch_id))
}

/// Stores the batch.
pub fn save(batch_id: &str, record: &BatchRecord) -> Result<()> {
    storage::set(&key(batch_id), record)
}

/// The batch id and record for this key: the stored one on a retry, or a
/// fresh one claimed atomically.
pub fn claim(
    idempotency_key: &str,
    account: &str,
    transfer_ids: &[String],
) -> Result<(String, BatchRecord)> {
    let fresh = BatchRecord {
        idempotency_key: idempotency_key.to_owned(),
        account: account.to_owned(),
        transfers: transfer_ids
            .iter()
            .map(|id| TransferRecord {
                id: id.clone(),
                ..TransferRecord::default()
            })
            .collect(),
    };
    for salt in 0..MAX_SALTS {
        let id = batch_id(idempotency_key, salt);
        // Twice: a concurrent submit of the same key may win the swap.
        for _ in 0..2 {
            match load(&id)? {
                Some(stored) if stored.idempotency_key == idempotency_key => {
                    let same = stored.account == fresh.account
                        && stored.transfers.len() == fresh.transfers.len()
                        && stored
                            .transfers
                            .iter()
                            .zip(&fresh.transfers)
                            .all(|(a, b)| a.id == b.id);
                    if !same {
                        return Err(Error::invalid_input(format!(
                            "idempotency key `{idempotency_key}` was used for batch {id} with \
                             another account or other transfers"
                        )));
                    }
                    return Ok((id, stored));
                }
                Some(_) => break,
                None => {
                    if storage::compare_and_swap(&key(&id), None, Some(&fresh))? {
                        return Ok((id, fresh));
                    }
                }
            }
        }
    }
    Err(Error::unavailable(format!(
        "no free batch id for idempotency key `{idempotency_key}`"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_fit_the_document_number() {
        let id = batch_id("0b6f1c2e-5a1d-4f1e-9a53-2f3c1d4e5f60", 0);
        assert_eq!(id, batch_id("0b6f1c2e-5a1d-4f1e-9a53-2f3c1d4e5f60", 0));
        assert_eq!(id.len(), 8);
        assert!(id.bytes().all(|b| BASE36.contains(&b)));
        assert_ne!(id, batch_id("0b6f1c2e-5a1d-4f1e-9a53-2f3c1d4e5f61", 0));
        assert_ne!(id, batch_id("0b6f1c2e-5a1d-4f1e-9a53-2f3c1d4e5f60", 1));
        let first = document_number(&id, 0).unwrap_or_default();
        let last = document_number(&id, MAX_TRANSFERS - 1).unwrap_or_default();
        assert_eq!(first, format!("{id}00"));
        assert_eq!(last, format!("{id}ZZ"));
        assert_eq!(last.len(), 10);
        assert!(document_number(&id, MAX_TRANSFERS).is_err());
    }

    #[test]
    fn the_hash_does_not_change() {
        // Document numbers already at the bank depend on these values.
        assert_eq!(batch_id("batch-1", 0), "CYSPWZI3");
        assert_eq!(batch_id("batch-1", 1), "G3CS5FHS");
        assert_eq!(
            batch_id("0b6f1c2e-5a1d-4f1e-9a53-2f3c1d4e5f60", 0),
            "ERNZ73IK"
        );
        assert_eq!(base36(0, 2), "00");
        assert_eq!(base36(35, 2), "0Z");
        assert_eq!(base36(36, 2), "10");
    }

    #[test]
    fn records_round_trip_compactly() {
        let mut record = BatchRecord {
            idempotency_key: "k".into(),
            account: "UA21".into(),
            transfers: vec![
                TransferRecord {
                    id: "t1".into(),
                    ..TransferRecord::default()
                },
                TransferRecord {
                    id: "t2".into(),
                    ..TransferRecord::default()
                },
            ],
        };
        let payment: Payment = serde_json::from_value(serde_json::json!({
            "payment_ref": "SIMW70LOL4S8CNAQ",
            "payment_status": "created",
            "payment_status_text": "Створено, очікує підпису"
        }))
        .expect("a payment");
        record.transfers[0].seen(&payment);
        record.transfers[1].refuse("Privat24 refused the payment (400): bad IBAN".into());
        let json = serde_json::to_string(&record).unwrap_or_default();
        assert_eq!(json.matches("refused").count(), 2, "{json}");
        let back: Option<BatchRecord> = serde_json::from_str(&json).ok();
        assert_eq!(back.as_ref(), Some(&record));

        let first = record.transfers[0].transfer_status();
        assert!(matches!(first.state, TransferState::AwaitingApproval));
        assert_eq!(first.bank_reference.as_deref(), Some("SIMW70LOL4S8CNAQ"));
        assert!(!record.transfers[0].is_final());
        let second = record.transfers[1].transfer_status();
        assert!(matches!(second.state, TransferState::Rejected));
        assert!(record.transfers[1].is_final());
        let unsent = TransferRecord::default().transfer_status();
        assert!(matches!(unsent.state, TransferState::Pending));
    }
}
