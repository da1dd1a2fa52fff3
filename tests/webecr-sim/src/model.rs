//! The public types: intent statuses and results (numbered as the seed
//! numbers them), the views the API serves and the handle returns, and the
//! outcome table by amount.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where an intent is (the seed's "Intent status").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IntentStatus {
    /// 1: registered, pending to be sent to the device.
    Pending,
    /// 2: sent to the device.
    Sent,
    /// 3: completed by the device, results registered.
    Completed,
}

impl IntentStatus {
    /// The number the API uses (1–3).
    pub fn code(self) -> u8 {
        match self {
            IntentStatus::Pending => 1,
            IntentStatus::Sent => 2,
            IntentStatus::Completed => 3,
        }
    }

    /// `PENDING`, `SENT`, `COMPLETED`.
    pub fn name(self) -> &'static str {
        match self {
            IntentStatus::Pending => "PENDING",
            IntentStatus::Sent => "SENT",
            IntentStatus::Completed => "COMPLETED",
        }
    }
}

/// How a completed intent ended (the seed's "Intent result").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IntentResult {
    /// 1: completed and approved by the authorization system.
    Approved,
    /// 2: completed and declined by the authorization system.
    Declined,
    /// 3: cancelled by the POS user before completion.
    Cancelled,
    /// 4: failed to complete.
    Failed,
    /// 5: unknown (the device did not answer with results).
    Unknown,
    /// 6: the POS is busy (another transaction, maintenance).
    Busy,
    /// 7: the batch is full; close the batch on the device first.
    MaxTransactions,
}

impl IntentResult {
    /// The number the API uses (1–7).
    pub fn code(self) -> u8 {
        match self {
            IntentResult::Approved => 1,
            IntentResult::Declined => 2,
            IntentResult::Cancelled => 3,
            IntentResult::Failed => 4,
            IntentResult::Unknown => 5,
            IntentResult::Busy => 6,
            IntentResult::MaxTransactions => 7,
        }
    }

    /// `APPROVED`, `DECLINED`, … as the seed writes them.
    pub fn name(self) -> &'static str {
        match self {
            IntentResult::Approved => "APPROVED",
            IntentResult::Declined => "DECLINED",
            IntentResult::Cancelled => "CANCELLED",
            IntentResult::Failed => "FAILED",
            IntentResult::Unknown => "UNKNOWN",
            IntentResult::Busy => "BUSY",
            IntentResult::MaxTransactions => "MAX_TRANSACTIONS",
        }
    }

    /// From the number (1–7).
    pub fn from_code(code: u8) -> Option<IntentResult> {
        use IntentResult::*;
        [
            Approved,
            Declined,
            Cancelled,
            Failed,
            Unknown,
            Busy,
            MaxTransactions,
        ]
        .into_iter()
        .find(|r| r.code() == code)
    }

    /// Whether the card host saw it (a transaction record exists).
    pub(crate) fn has_transaction(self) -> bool {
        matches!(self, IntentResult::Approved | IntentResult::Declined)
    }
}

/// What an intent of a given amount does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// How it ends.
    pub result: IntentResult,
    /// Simulated time from creation to COMPLETED (SENT comes after
    /// [`SEND_SECS`] or at completion, whichever is first).
    pub after: Duration,
    /// The `txninit` request that created it gets no HTTP answer: its
    /// connection is closed (the intent still completes as planned).
    pub drop_connection: bool,
}

impl Outcome {
    /// `result` after `after`, answered normally.
    pub fn new(result: IntentResult, after: Duration) -> Outcome {
        Outcome {
            result,
            after,
            drop_connection: false,
        }
    }
}

/// Simulated seconds from creation to SENT (assumed).
pub const SEND_SECS: u64 = 1;
/// Simulated seconds from creation to COMPLETED for an ordinary amount
/// (assumed).
pub const DEFAULT_APPROVAL_SECS: u64 = 5;
/// 22.22 is approved only after this many simulated seconds (the
/// certification scenario, "about 150 s").
pub const SLOW_APPROVAL_SECS: u64 = 150;

/// The built-in outcome table: amount in cents → outcome. 9.99, 22.22 and
/// 13.13 come from the certification scenarios; the others are the
/// simulator's own choice. Every other amount is approved after
/// [`DEFAULT_APPROVAL_SECS`].
pub fn default_outcomes() -> Vec<(i64, Outcome)> {
    let quick = Duration::from_secs(DEFAULT_APPROVAL_SECS);
    let device = Duration::from_secs(SEND_SECS);
    vec![
        (999, Outcome::new(IntentResult::Declined, quick)),
        (
            2222,
            Outcome::new(
                IntentResult::Approved,
                Duration::from_secs(SLOW_APPROVAL_SECS),
            ),
        ),
        (
            1313,
            Outcome {
                result: IntentResult::Approved,
                after: quick,
                drop_connection: true,
            },
        ),
        (3333, Outcome::new(IntentResult::Cancelled, quick)),
        (4444, Outcome::new(IntentResult::Failed, quick)),
        (5555, Outcome::new(IntentResult::Unknown, quick)),
        (6666, Outcome::new(IntentResult::Busy, device)),
        (7777, Outcome::new(IntentResult::MaxTransactions, device)),
    ]
}

/// A terminal to pair (the handle's and control API's input).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TerminalSpec {
    /// The TID printed on the device, e.g. `"12345678"`.
    pub tid: String,
    /// The merchant id (MID), e.g. `"000000012345"`.
    pub mid: String,
    /// The device model, e.g. `"DX8000"`.
    #[serde(default = "default_model")]
    pub model: String,
    /// The call id (the terminal's `id` in the API); `None` picks the next.
    #[serde(default)]
    pub call_id: Option<u64>,
    /// Acquirer number (default 1).
    #[serde(default = "default_acquirer")]
    pub acquirer: u32,
    /// A friendly name (default `"POS <tid>"`).
    #[serde(default)]
    pub friendly_name: Option<String>,
}

fn default_model() -> String {
    "DX8000".into()
}

fn default_acquirer() -> u32 {
    1
}

impl TerminalSpec {
    /// A DX8000 with this TID and MID.
    pub fn new(tid: &str, mid: &str) -> TerminalSpec {
        TerminalSpec {
            tid: tid.into(),
            mid: mid.into(),
            model: default_model(),
            call_id: None,
            acquirer: 1,
            friendly_name: None,
        }
    }
}

/// A terminal as `GET v2/terminal/` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalView {
    /// The call id: what the `terminal/{id}/…` paths take.
    pub id: u64,
    /// The TID.
    #[serde(rename = "TerminalID")]
    pub terminal_id: String,
    /// A name for people.
    #[serde(rename = "FriendlyName")]
    pub friendly_name: String,
    /// Always 1 (assumed).
    #[serde(rename = "TerminalType")]
    pub terminal_type: u32,
    /// The MID.
    #[serde(rename = "Merchant")]
    pub merchant: String,
    /// The acquirer number.
    #[serde(rename = "Acquirer")]
    pub acquirer: u32,
    /// The device model.
    #[serde(rename = "Model")]
    pub model: String,
    /// Always false.
    #[serde(rename = "Locked")]
    pub locked: bool,
    /// The device's open batch.
    #[serde(rename = "CurrentBatchNumber")]
    pub current_batch_number: u32,
}

/// What the card host recorded for an approved or declined intent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionView {
    /// The transaction's own id (what `InitialTransaction` and
    /// `OriginalTxnId` take).
    #[serde(rename = "TxnId")]
    pub txn_id: u64,
    /// 0 sale, 1 refund; a void's record carries the voided sale's type.
    #[serde(rename = "TransactionType")]
    pub transaction_type: u8,
    /// When the host answered.
    #[serde(rename = "Timestamp")]
    pub timestamp: DateTime<Utc>,
    /// Masked card number.
    #[serde(rename = "CardPAN")]
    pub card_pan: String,
    /// Approved by the host.
    #[serde(rename = "Approved")]
    pub approved: bool,
    /// A void of it has been approved.
    #[serde(rename = "Voided")]
    pub voided: bool,
    /// Whether this record is a void (assumed field).
    #[serde(rename = "IsVoid")]
    pub is_void: bool,
    /// System trace audit number (6 digits).
    #[serde(rename = "STAN")]
    pub stan: String,
    /// The device's batch.
    #[serde(rename = "BatchNumber")]
    pub batch_number: u32,
    /// Terminal id.
    #[serde(rename = "TID")]
    pub tid: String,
    /// Merchant id.
    #[serde(rename = "MID")]
    pub mid: String,
    /// Amount in cents.
    #[serde(rename = "Amount")]
    pub amount: i64,
    /// Tip in cents.
    #[serde(rename = "TipAmount")]
    pub tip_amount: i64,
    /// Instalments.
    #[serde(rename = "Instalments")]
    pub instalments: u32,
    /// ISO 4217 numeric (978).
    #[serde(rename = "CurrencyCode")]
    pub currency_code: u16,
    /// `"00"` approved, `"05"` declined.
    #[serde(rename = "HostResponseCode")]
    pub host_response_code: String,
    /// Retrieval reference number (12 digits; the receipt number).
    #[serde(rename = "RRN")]
    pub rrn: String,
    /// Authorisation code (6 digits); `None` when declined.
    #[serde(rename = "AuthCode")]
    pub auth_code: Option<String>,
    /// The sale's RRN, for a refund or void.
    #[serde(rename = "OriginalRRN")]
    pub original_rrn: Option<String>,
    /// The sale's auth code, for a refund or void.
    #[serde(rename = "OriginalAuthCode")]
    pub original_auth_code: Option<String>,
    /// The receipt text.
    #[serde(rename = "Voucher")]
    pub voucher: String,
}

/// An intent as the API serves it (`txninit`, `txnvoid`,
/// `transactionintent/`) and the handle returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntentView {
    /// The intent's id.
    pub id: u64,
    /// `"TXN"` (sale or refund) or `"VOID"` (assumed field).
    #[serde(rename = "Kind")]
    pub kind: String,
    /// 1 PENDING, 2 SENT, 3 COMPLETED.
    #[serde(rename = "Status")]
    pub status: u8,
    /// `PENDING`, `SENT`, `COMPLETED` (assumed field).
    #[serde(rename = "StatusText")]
    pub status_text: String,
    /// 1–7 once COMPLETED, else `null`.
    #[serde(rename = "Result")]
    pub result: Option<u8>,
    /// `APPROVED`, … once COMPLETED (assumed field).
    #[serde(rename = "ResultText")]
    pub result_text: Option<String>,
    /// 0 sale, 1 refund (a void carries its sale's type).
    #[serde(rename = "TxnType")]
    pub txn_type: u8,
    /// Cents.
    #[serde(rename = "Amount")]
    pub amount: i64,
    /// Cents.
    #[serde(rename = "TipAmount")]
    pub tip_amount: i64,
    /// 978.
    #[serde(rename = "CurrencyCode")]
    pub currency_code: u16,
    /// Instalments.
    #[serde(rename = "Instalments")]
    pub instalments: u32,
    /// The caller's reference.
    #[serde(rename = "CustomerReference")]
    pub customer_reference: Option<String>,
    /// The terminal's call id.
    #[serde(rename = "Terminal")]
    pub terminal: u64,
    /// `"075;RRN;AuthCode"` once approved, else `null`.
    #[serde(rename = "TransactionId")]
    pub transaction_id: Option<String>,
    /// The host's record once approved or declined, else `null`.
    #[serde(rename = "Transaction")]
    pub transaction: Option<TransactionView>,
    /// For a refund or void: the sale it names.
    #[serde(rename = "InitialTransaction")]
    pub initial_transaction: Option<TransactionView>,
    /// When it was registered (simulated clock).
    #[serde(rename = "Created")]
    pub created: DateTime<Utc>,
    /// When it completed, once it has.
    #[serde(rename = "Completed")]
    pub completed: Option<DateTime<Utc>>,
}

impl IntentView {
    /// The status as an enum.
    pub fn status(&self) -> IntentStatus {
        match self.status {
            1 => IntentStatus::Pending,
            2 => IntentStatus::Sent,
            _ => IntentStatus::Completed,
        }
    }

    /// The result as an enum, once completed.
    pub fn result(&self) -> Option<IntentResult> {
        self.result.and_then(IntentResult::from_code)
    }
}

/// An approved sale: money taken from a card. Tests count these to assert
/// "exactly one charge".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Charge {
    /// The sale's intent.
    pub intent_id: u64,
    /// Its transaction id.
    pub txn_id: u64,
    /// The terminal's call id.
    pub terminal: u64,
    /// TID.
    pub tid: String,
    /// MID.
    pub mid: String,
    /// The caller's reference.
    pub customer_reference: Option<String>,
    /// Cents (tip included).
    pub amount: i64,
    /// RRN.
    pub rrn: String,
    /// An approved void cancelled it.
    pub voided: bool,
    /// Cents refunded by approved refunds.
    pub refunded: i64,
}

/// A pairing code issued for a terminal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pairing {
    /// The 8-digit code the device shows.
    pub code: String,
    /// Valid until (simulated clock).
    pub expires: DateTime<Utc>,
    /// The terminal it pairs.
    pub terminal: TerminalView,
}
