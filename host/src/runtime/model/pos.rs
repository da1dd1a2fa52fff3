//! Card-terminal connector calls: pairing, terminals, payment intents.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::Money;

/// The result of redeeming a pairing code.
#[derive(Clone, PartialEq, Eq)]
pub struct Pairing {
    /// The device's API key; the host seals it. Never printed.
    pub api_key: String,
    /// The provider's name for the device.
    pub label: Option<String>,
}

impl fmt::Debug for Pairing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pairing")
            .field("api_key", &"<redacted>")
            .field("label", &self.label)
            .finish()
    }
}

/// A card terminal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Terminal {
    /// The provider's entry id.
    pub id: String,
    /// TID.
    pub terminal_id: String,
    /// POS or call id.
    pub pos_id: Option<String>,
    /// MID.
    pub merchant_id: Option<String>,
    /// Display name.
    pub name: String,
    /// Device model.
    pub model: Option<String>,
}

/// Sale or refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IntentKind {
    /// Take money from the card.
    Sale,
    /// Give money back.
    Refund,
}

/// Where an intent stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IntentStatus {
    /// Registered, not sent.
    Pending,
    /// Sent to the device.
    Sent,
    /// Finished with a result.
    Completed,
}

/// How a completed intent ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IntentResult {
    /// Approved.
    Approved,
    /// Declined.
    Declined,
    /// Cancelled on the terminal.
    Cancelled,
    /// Failed.
    Failed,
    /// The device did not report.
    Unknown,
    /// The terminal was busy.
    Busy,
    /// The terminal's batch is full.
    MaxTransactions,
}

/// A card payment as the acquirer booked it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CardPayment {
    /// Retrieval reference number.
    pub rrn: String,
    /// MID.
    pub merchant_id: Option<String>,
    /// TID.
    pub terminal_id: Option<String>,
    /// Authorisation code.
    pub auth_code: Option<String>,
    /// Masked card number.
    pub masked_pan: Option<String>,
    /// Card scheme.
    pub scheme: Option<String>,
    /// STAN.
    pub stan: Option<String>,
    /// Batch number.
    pub batch_number: Option<String>,
}

/// An e-invoicing provider's data for the receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EInvoicing {
    /// The provider's id.
    pub provider_id: Option<String>,
    /// The signed input.
    pub input: String,
    /// The signature, base64.
    pub signature: String,
}

/// A request to take or give back money.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IntentRequest {
    /// The provider's terminal entry id.
    pub terminal: String,
    /// Sale or refund.
    pub kind: IntentKind,
    /// Amount, positive.
    pub amount: Money,
    /// Tip.
    pub tip: Option<Money>,
    /// The ERP's reference, also the idempotency key.
    pub reference: String,
    /// Instalments.
    pub instalments: Option<u8>,
    /// For a refund: the original payment.
    pub original: Option<CardPayment>,
    /// E-invoicing provider data.
    pub e_invoicing: Option<EInvoicing>,
}

/// A payment intent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentIntent {
    /// The provider's intent id.
    pub id: String,
    /// The provider's terminal entry id.
    pub terminal: String,
    /// Sale or refund.
    pub kind: IntentKind,
    /// Amount.
    pub amount: Money,
    /// The ERP's reference.
    pub reference: String,
    /// Current status.
    pub status: IntentStatus,
    /// The provider's status number.
    pub status_code: u32,
    /// The result, once completed.
    pub result: Option<IntentResult>,
    /// The provider's result number.
    pub result_code: Option<u32>,
    /// The card payment.
    pub payment: Option<CardPayment>,
    /// Created at.
    pub created_at: String,
    /// Last changed at.
    pub updated_at: String,
    /// The provider's full answer.
    pub provider_response: String,
}

/// Which intents to list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IntentQuery {
    /// Created at or after.
    pub from: String,
    /// Created before.
    pub to: String,
    /// Only this status.
    pub status: Option<IntentStatus>,
    /// Only this terminal entry.
    pub terminal: Option<String>,
}

/// What to void.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VoidTarget {
    /// An intent by id.
    Intent(String),
    /// A payment by its RRN (and MID).
    Payment(CardPayment),
}
