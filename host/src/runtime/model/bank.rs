//! Bank connector calls: sessions, statements, balances, transfer batches.

use std::fmt;

use serde::Serialize;

use super::{Document, Money};
use crate::pkcs11::SignMechanism;

/// How a user proves who they are when opening a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoginMethod {
    /// A challenge signed with the user's card or qualified certificate.
    Signature,
    /// A confirmation in the bank's mobile app.
    MobileConfirmation,
    /// The credentials stored for the company.
    StoredCredentials,
}

/// A request to open a bank session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionRequest {
    /// The user's identifier at the bank.
    pub bank_user_id: String,
    /// How the user authenticates.
    pub method: LoginMethod,
    /// Company identifiers the session should cover (DIKs, ContextId).
    pub company_ids: Vec<String>,
    /// When the session should end, if the bank lets the user choose.
    pub valid_until: Option<String>,
    /// For `Signature`: the user's certificate, DER.
    pub certificate: Option<Vec<u8>>,
    /// For `Signature` with a 1.0 connector, which signs the challenge
    /// itself: the opaque key id to sign with.
    pub signing_key: Option<String>,
}

/// What the bank asks to be signed to open a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Challenge {
    /// The exact bytes to sign.
    pub data: Vec<u8>,
    /// The mechanism the bank verifies with.
    pub mechanism: SignMechanism,
    /// What the user is signing.
    pub message: Option<String>,
}

/// A signature over a challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChallengeSignature {
    /// The signature.
    pub signature: Vec<u8>,
    /// The signer's certificate, DER.
    pub certificate: Vec<u8>,
}

/// State of a bank session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SessionState {
    /// Usable now.
    Active,
    /// Waiting for the challenge's signature.
    AwaitingSignature,
    /// Waiting for the user to confirm in the app.
    PendingConfirmation,
    /// The user refused the confirmation.
    Rejected,
    /// Timed out at the bank.
    Expired,
    /// Closed by the user or the bank.
    Closed,
}

/// A bank session as the connector describes it.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Session {
    /// The connector's handle.
    pub id: String,
    /// The user's identifier at the bank.
    pub bank_user_id: String,
    /// Current state.
    pub state: SessionState,
    /// Company identifiers the session covers.
    pub company_ids: Vec<String>,
    /// When it ends unless refreshed.
    pub expires_at: Option<String>,
    /// How often the bot should refresh it.
    pub refresh_every_seconds: Option<u32>,
    /// For `AwaitingSignature`: what to sign.
    pub challenge: Option<Challenge>,
    /// The bank's token; the host seals it. Never printed.
    #[serde(skip)]
    pub secret: Option<String>,
    /// A message for the user.
    pub message: Option<String>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("bank_user_id", &self.bank_user_id)
            .field("state", &self.state)
            .field("company_ids", &self.company_ids)
            .field("expires_at", &self.expires_at)
            .field("refresh_every_seconds", &self.refresh_every_seconds)
            .field("challenge", &self.challenge)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("message", &self.message)
            .finish()
    }
}

/// Which transactions to fetch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementQuery {
    /// Account number.
    pub account: String,
    /// First booking date, inclusive.
    pub from: String,
    /// Last booking date, inclusive.
    pub to: String,
    /// Continuation from the previous page.
    pub continuation: Option<String>,
}

/// Direction of a transaction, seen from the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// Money came in.
    Credit,
    /// Money went out.
    Debit,
}

/// The other side of a transaction or transfer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counterparty {
    /// Name.
    pub name: Option<String>,
    /// Account number.
    pub account: Option<String>,
    /// BIC or national bank code.
    pub bank: Option<String>,
    /// Tax id.
    pub tax_id: Option<String>,
    /// Address.
    pub address: Option<String>,
}

/// One booked transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transaction {
    /// The bank's unique reference: the dedupe key.
    pub bank_reference: String,
    /// Keys earlier connector versions stored the same line under.
    pub former_references: Vec<String>,
    /// Booking date.
    pub booking_date: String,
    /// Value date, as the bank wrote it.
    pub value_date: Option<String>,
    /// Credit or debit.
    pub direction: Direction,
    /// The amount, positive.
    pub amount: Money,
    /// The other side.
    pub counterparty: Counterparty,
    /// Payment title.
    pub title: String,
    /// The ordering customer's own reference.
    pub own_reference: Option<String>,
    /// The bank's transaction type code.
    pub type_code: Option<String>,
    /// Further bank-specific fields.
    pub extra: Vec<(String, String)>,
}

/// Whether the bank may still change a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Finality {
    /// Lines may still come.
    Interim,
    /// The days are closed.
    Final,
}

/// One page of transactions of one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    /// Account number.
    pub account: String,
    /// Account currency.
    pub currency: String,
    /// Balance at the start of the range.
    pub opening_balance: Option<Money>,
    /// Balance at the end of the range.
    pub closing_balance: Option<Money>,
    /// Interim or final.
    pub finality: Finality,
    /// The last day the bank has closed.
    pub final_through: Option<String>,
    /// Transactions of this page, oldest first.
    pub transactions: Vec<Transaction>,
    /// The bank's original files.
    pub documents: Vec<Document>,
    /// Where the next page starts.
    pub continuation: Option<String>,
}

/// The balance of an account now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Balance {
    /// Account number.
    pub account: String,
    /// Booked balance.
    pub booked: Money,
    /// Available funds.
    pub available: Option<Money>,
    /// When the bank computed it.
    pub as_of: String,
}

/// Polish split payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SplitPayment {
    /// The VAT part.
    pub vat_amount: Money,
    /// The invoice issuer's tax id.
    pub tax_id: String,
    /// The invoice number.
    pub invoice_number: String,
}

/// One transfer to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transfer {
    /// The ERP's id.
    pub id: String,
    /// The beneficiary: `account` and `name` are required.
    pub counterparty: Counterparty,
    /// Amount, positive.
    pub amount: Money,
    /// Payment title.
    pub title: String,
    /// Requested execution date.
    pub execution_date: Option<String>,
    /// Split payment.
    pub split_payment: Option<SplitPayment>,
}

/// Transfers from one account, sent together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransferBatch {
    /// The host's idempotency key.
    pub idempotency_key: String,
    /// Source account.
    pub account: String,
    /// The transfers.
    pub transfers: Vec<Transfer>,
    /// Sent unsigned, to be edited and signed in the bank.
    pub editable_in_bank: bool,
    /// The signer's key id.
    pub signing_key: Option<String>,
}

/// Where a transfer stands at the bank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransferState {
    /// Received, not processed.
    Pending,
    /// Waiting for a signature or approval.
    AwaitingApproval,
    /// Accepted for execution.
    Accepted,
    /// Executed.
    Executed,
    /// Refused.
    Rejected,
    /// Withdrawn before execution.
    Cancelled,
    /// The connector cannot tell; a person must look at the bank.
    NeedsReview,
}

/// The state of one transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransferStatus {
    /// The ERP's transfer id.
    pub transfer_id: String,
    /// Current state.
    pub state: TransferState,
    /// The bank's own word for the state.
    pub bank_state: Option<String>,
    /// The bank's reference.
    pub bank_reference: Option<String>,
    /// The bank's explanation.
    pub message: Option<String>,
}

/// The state of a batch and of each of its transfers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchStatus {
    /// The bank's id for the batch.
    pub batch_id: String,
    /// Per-transfer states.
    pub transfers: Vec<TransferStatus>,
    /// The file sent to the bank.
    pub documents: Vec<Document>,
}

/// The active bank session a call runs with, handed to the connector in
/// `config.current().session`.
#[derive(Clone)]
pub struct SessionContext {
    /// The connector's handle.
    pub id: String,
    /// The user's identifier at the bank.
    pub bank_user_id: String,
    /// Company identifiers it covers.
    pub company_ids: Vec<String>,
    /// The bank's token, unsealed for this call only.
    pub secret: Option<secrecy::SecretString>,
}

impl fmt::Debug for SessionContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionContext")
            .field("id", &self.id)
            .field("bank_user_id", &self.bank_user_id)
            .field("company_ids", &self.company_ids)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}
