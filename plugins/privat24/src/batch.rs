//! Transfer batches: document numbers derived from the idempotency key,
//! and the record that lets `get-batch-status` find the payments again.
//!
//! Privat24 has no batches, only payments, and no public source says it
//! treats a repeated `document_number` (at most 10 characters) as the same
//! payment. So:
//!
//! - the batch id is 8 base-36 characters hashed from the idempotency key;
//! - transfer number `i` (from 0) of the batch gets the document number
//!   `<batch id><i in 2 base-36 digits>`: 10 characters, at most 1296
//!   transfers per batch;
//! - the record `batch/<batch id>` in plugin storage keeps the key, the
//!   ERP's transfer ids and each payment's [`Stage`]; it is saved before
//!   each create is sent and after each answer.
//!
//! A retried batch hashes to the same id and finds its record, so a payment
//! the bank created is never sent again. A create whose answer never came
//! is looked for on the statement (by document number) instead of being
//! sent again; if it is not there, a person must look in Privat24. The
//! record is claimed with compare-and-swap before anything is sent; if
//! another key already holds that id (a hash collision), the next salt
//! gives another id.

use h2h_sdk::bank::{TransferState, TransferStatus};
use h2h_sdk::{Error, Result, storage};
use serde::{Deserialize, Serialize};

use crate::map;

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
    /// The first day (`YYYY-MM-DD`, UTC) the batch's payments can be on
    /// the statement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_on: Option<String>,
    /// The transfers, in batch order (their position gives the document
    /// number).
    pub transfers: Vec<TransferRecord>,
}

/// Where one payment of a batch stands, as far as the connector knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// Nothing sent yet.
    #[default]
    Unsent,
    /// A create was sent and its answer never came: the bank may have the
    /// payment, and offers no lookup by document number.
    Sending,
    /// The bank created it (`payment_ref`); `status` is its last word.
    Created,
    /// On the statement: executed. Final.
    Booked,
    /// The bank refused to create it: nothing exists there. Final.
    Refused,
    /// Deleted at the bank, or withdrawn before it was sent. Final.
    Withdrawn,
    /// The connector cannot tell and stopped asking; `message` says what
    /// to look for. Final.
    NeedsReview,
}

/// Checks with a status word no public source describes before a person
/// is asked to look.
pub const MAX_UNKNOWN_POLLS: u32 = 48;
/// Time with such a word before a person is asked to look.
pub const MAX_UNKNOWN_SECONDS: u64 = 24 * 3600;

/// One transfer of a stored batch, as last seen at the bank.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TransferRecord {
    /// The ERP's transfer id.
    pub id: String,
    /// Where it stands.
    #[serde(default)]
    pub stage: Stage,
    /// The bank's payment reference, once created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_ref: Option<String>,
    /// The payment's pack reference: its statement line's `DLR`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack_ref: Option<String>,
    /// The payment's `payment_status` when last asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The statement line (`REF#REFN`) that booked it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booked: Option<String>,
    /// Why the bank refused it, or what a person should look for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Checks in a row that answered an unknown status word.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unknown_polls: u32,
    /// When the first of them was, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown_since: Option<u64>,
    /// Written by connector 1.1.0, which had no stage; read by [`Self::upgrade`].
    #[serde(default, skip_serializing)]
    refused: bool,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl TransferRecord {
    /// A transfer not sent yet.
    pub fn unsent(id: &str) -> Self {
        TransferRecord {
            id: id.to_owned(),
            ..TransferRecord::default()
        }
    }

    /// Gives a record stored by connector 1.1.0 its stage.
    fn upgrade(&mut self) {
        if self.stage == Stage::Unsent {
            if self.refused {
                self.stage = Stage::Refused;
            } else if self.payment_ref.is_some() {
                self.stage = Stage::Created;
            }
        }
        self.refused = false;
    }

    /// Whether the connector will say nothing new about it.
    pub fn is_final(&self) -> bool {
        matches!(
            self.stage,
            Stage::Booked | Stage::Refused | Stage::Withdrawn | Stage::NeedsReview
        )
    }

    /// Records the bank's answer to the create.
    pub fn created(
        &mut self,
        payment_ref: String,
        pack_ref: Option<String>,
        status: Option<String>,
    ) {
        self.stage = Stage::Created;
        self.payment_ref = Some(payment_ref);
        self.pack_ref = pack_ref;
        self.status = status;
        self.message = None;
    }

    /// Records the payment's status word from `payment/get`, at `now` (Unix
    /// seconds). A word no public source describes keeps the payment
    /// pending; after [`MAX_UNKNOWN_POLLS`] checks or
    /// [`MAX_UNKNOWN_SECONDS`] with such words, a person is asked to look.
    pub fn status_seen(&mut self, status: Option<String>, now: u64) {
        let known = status.as_deref().and_then(map::known_state).is_some();
        self.status = status;
        if known {
            self.unknown_polls = 0;
            self.unknown_since = None;
            return;
        }
        self.unknown_polls += 1;
        let since = *self.unknown_since.get_or_insert(now);
        let waited = now.saturating_sub(since);
        if self.unknown_polls >= MAX_UNKNOWN_POLLS || waited >= MAX_UNKNOWN_SECONDS {
            self.review(format!(
                "Privat24 answers status `{}` for payment {}, which no public source describes, \
                 and it is not on the statement after {} checks over {} h; the connector stopped \
                 asking: look at the payment in Privat24",
                self.status.as_deref().unwrap_or(""),
                self.payment_ref.as_deref().unwrap_or("?"),
                self.unknown_polls,
                waited / 3600
            ));
        }
    }

    /// Records that the statement books it.
    pub fn book(&mut self, line: String) {
        self.stage = Stage::Booked;
        self.booked = Some(line);
        self.message = None;
    }

    /// Records that the bank refused to create the payment.
    pub fn refuse(&mut self, reason: String) {
        self.stage = Stage::Refused;
        self.message = Some(reason);
    }

    /// Records that it was deleted at the bank or never sent.
    pub fn withdraw(&mut self, why: &str) {
        self.stage = Stage::Withdrawn;
        self.message = Some(why.to_owned());
    }

    /// Asks a person to look.
    pub fn review(&mut self, what: String) {
        self.stage = Stage::NeedsReview;
        self.message = Some(what);
    }

    /// The contract's view of the transfer.
    pub fn transfer_status(&self) -> TransferStatus {
        let state = match self.stage {
            Stage::Unsent | Stage::Sending => TransferState::Pending,
            Stage::Created => self
                .status
                .as_deref()
                .and_then(map::known_state)
                .unwrap_or(TransferState::Pending),
            Stage::Booked => TransferState::Executed,
            Stage::Refused => TransferState::Rejected,
            Stage::Withdrawn => TransferState::Cancelled,
            Stage::NeedsReview => TransferState::NeedsReview,
        };
        let message = match self.stage {
            Stage::Unsent => Some("not sent to Privat24 yet: submit the batch again".to_owned()),
            Stage::Sending => Some(
                "Privat24 did not answer the create request; the next submit looks for the \
                 payment on the statement"
                    .to_owned(),
            ),
            _ => self.message.clone(),
        };
        TransferStatus {
            transfer_id: self.id.clone(),
            state,
            bank_state: self.status.clone(),
            bank_reference: self.payment_ref.clone().or_else(|| self.booked.clone()),
            message,
        }
    }
}

impl BatchRecord {
    /// The contract's view of every transfer.
    pub fn statuses(&self) -> Vec<TransferStatus> {
        self.transfers
            .iter()
            .map(TransferRecord::transfer_status)
            .collect()
    }
}

fn key(batch_id: &str) -> String {
    format!("batch/{batch_id}")
}

/// The stored batch, if any.
pub fn load(batch_id: &str) -> Result<Option<BatchRecord>> {
    let mut record: Option<BatchRecord> = storage::get(&key(batch_id))?;
    for transfer in record.iter_mut().flat_map(|r| r.transfers.iter_mut()) {
        transfer.upgrade();
    }
    Ok(record)
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
    created_on: &str,
) -> Result<(String, BatchRecord)> {
    let fresh = BatchRecord {
        idempotency_key: idempotency_key.to_owned(),
        account: account.to_owned(),
        created_on: Some(created_on.to_owned()),
        transfers: transfer_ids
            .iter()
            .map(|id| TransferRecord::unsent(id))
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
            created_on: Some("2026-11-29".into()),
            transfers: vec![TransferRecord::unsent("t1"), TransferRecord::unsent("t2")],
        };
        record.transfers[0].created(
            "1123828417658092296".into(),
            Some("PP1".into()),
            Some("new".into()),
        );
        record.transfers[1].refuse("Privat24 refused the payment (400): bad IBAN".into());
        let json = serde_json::to_string(&record).unwrap_or_default();
        assert!(!json.contains("unknown_polls"), "{json}");
        let back: Option<BatchRecord> = serde_json::from_str(&json).ok();
        assert_eq!(back.as_ref(), Some(&record));

        let first = record.transfers[0].transfer_status();
        assert!(matches!(first.state, TransferState::AwaitingApproval));
        assert_eq!(first.bank_reference.as_deref(), Some("1123828417658092296"));
        assert!(!record.transfers[0].is_final());
        let second = record.transfers[1].transfer_status();
        assert!(matches!(second.state, TransferState::Rejected));
        assert!(record.transfers[1].is_final());
        let unsent = TransferRecord::default().transfer_status();
        assert!(matches!(unsent.state, TransferState::Pending));
    }

    #[test]
    fn records_of_connector_1_1_get_their_stage() {
        let mut old: TransferRecord = serde_json::from_value(serde_json::json!({
            "id": "t1", "payment_ref": "SIM1", "status": "created"
        }))
        .expect("1.1.0 record");
        old.upgrade();
        assert_eq!(old.stage, Stage::Created);
        let mut refused: TransferRecord =
            serde_json::from_value(serde_json::json!({"id": "t2", "refused": true}))
                .expect("1.1.0 record");
        refused.upgrade();
        assert_eq!(refused.stage, Stage::Refused);
        assert!(
            !serde_json::to_string(&refused)
                .unwrap_or_default()
                .contains("\"refused\":")
        );
    }

    #[test]
    fn an_unknown_status_is_pending_until_48_checks_or_a_day() {
        let mut t = TransferRecord::unsent("t1");
        t.created("R1".into(), None, Some("new".into()));
        let start = 1_000_000;
        for poll in 1..MAX_UNKNOWN_POLLS {
            t.status_seen(Some("signed".into()), start + u64::from(poll));
            assert!(matches!(t.transfer_status().state, TransferState::Pending));
            assert_eq!(t.transfer_status().bank_state.as_deref(), Some("signed"));
        }
        t.status_seen(Some("signed".into()), start + 100);
        let status = t.transfer_status();
        assert!(matches!(status.state, TransferState::NeedsReview));
        assert!(t.is_final());
        let message = status.message.unwrap_or_default();
        assert!(
            message.contains("`signed`") && message.contains("48 checks"),
            "{message}"
        );

        // A day is enough, however few the checks; `new` starts over.
        let mut t = TransferRecord::unsent("t2");
        t.created("R2".into(), None, Some("new".into()));
        t.status_seen(Some("queued".into()), start);
        t.status_seen(Some("new".into()), start + 10);
        assert_eq!((t.unknown_polls, t.unknown_since), (0, None));
        t.status_seen(Some("queued".into()), start + 20);
        t.status_seen(Some("queued".into()), start + 20 + MAX_UNKNOWN_SECONDS - 1);
        assert_eq!(t.stage, Stage::Created);
        t.status_seen(Some("queued".into()), start + 20 + MAX_UNKNOWN_SECONDS);
        assert_eq!(t.stage, Stage::NeedsReview);
    }
}
