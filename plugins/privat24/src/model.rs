//! The bank's JSON, as the Autoclient API writes it. Field names are the
//! bank's; values the bank documents as strings are read leniently (a
//! number or `null` instead of a string does not fail a whole page).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The text of a scalar JSON value: strings as they are, numbers and
/// booleans printed; `null`, empty strings and containers are absent.
pub fn scalar(value: &Value) -> Option<String> {
    let text = match value {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null | Value::Array(_) | Value::Object(_) => return None,
    };
    (!text.is_empty()).then_some(text)
}

/// `true`, or the strings `"true"` / `"Y"`, are true.
fn flag(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::String(s) => matches!(s.trim(), "true" | "TRUE" | "Y" | "y" | "1"),
        _ => false,
    }
}

/// The envelope every answer carries: `{"status":"SUCCESS"|"ERROR", ...}`;
/// errors add `code` and `message`.
#[derive(Debug, Default, Deserialize)]
pub struct Envelope {
    /// `SUCCESS` or `ERROR`; absent in payment answers.
    #[serde(default)]
    pub status: Option<String>,
    /// The HTTP-like error code of an `ERROR`.
    #[serde(default)]
    pub code: Value,
    /// What the bank said.
    #[serde(default)]
    pub message: Option<String>,
    /// The bank's own, finer error code, kept in the error's message.
    #[serde(default, rename = "serviceCode")]
    pub service_code: Value,
    /// The bank's id of the request, for its support.
    #[serde(default, rename = "requestId")]
    pub request_id: Value,
}

impl Envelope {
    /// True when the bank says `ERROR`.
    pub fn is_error(&self) -> bool {
        self.status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("ERROR"))
    }

    /// The error code as a number, when it is one.
    pub fn code(&self) -> Option<u16> {
        scalar(&self.code).and_then(|c| c.parse().ok())
    }
}

/// `GET /api/statements/settings`.
#[derive(Debug, Deserialize)]
pub struct SettingsAnswer {
    /// The bank's statement settings.
    pub settings: Settings,
}

/// The bank's statement settings: its phase and business day.
#[derive(Debug, Deserialize)]
pub struct Settings {
    /// `WRK` when statements may be fetched; anything else means the bank
    /// is closing the day (statements may be incomplete).
    pub phase: String,
    /// The bank's business day, `dd.MM.yyyy`.
    #[serde(default)]
    pub today: Option<String>,
    /// The bank's clock, Kyiv time, `dd.MM.yyyy HH:mm:ss`.
    #[serde(default)]
    pub server_date_time: Option<String>,
    /// `Y` when the bank asks clients not to call now (it is recomputing
    /// balances); honoured like a phase other than `WRK`.
    #[serde(default)]
    pub work_balance: Option<String>,
    /// The last day whose statement is final, `dd.MM.yyyy HH:mm:ss`.
    #[serde(default)]
    pub date_final_statement: Option<String>,
}

/// The phase in which statements are complete and may be fetched.
pub const WORKING_PHASE: &str = "WRK";

/// How a paged answer names its next page (statements and balances).
#[derive(Debug, Default, Deserialize)]
pub struct Paging {
    /// Whether another page follows.
    #[serde(default)]
    pub exist_next_page: Value,
    /// The position after this page, for `followId`.
    #[serde(default)]
    pub next_page_id: Value,
}

impl Paging {
    /// `next_page_id` when `exist_next_page` is true.
    pub fn next_page(&self) -> Option<String> {
        if flag(&self.exist_next_page) {
            scalar(&self.next_page_id)
        } else {
            None
        }
    }
}

/// `GET /api/statements/transactions`: one page.
#[derive(Debug, Deserialize)]
pub struct TransactionsPage {
    /// The next page, if any.
    #[serde(flatten)]
    pub paging: Paging,
    /// The page's lines.
    #[serde(default)]
    pub transactions: Vec<BankTransaction>,
}

impl TransactionsPage {
    /// `next_page_id` when `exist_next_page` is true.
    pub fn next_page(&self) -> Option<String> {
        self.paging.next_page()
    }
}

/// One statement line: every field under the bank's name (`ID`, `SUM`,
/// `TRANTYPE`, `AUT_CNTR_NAM`, ...), kept whole so unknown fields reach
/// the ERP too.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct BankTransaction(pub BTreeMap<String, Value>);

impl BankTransaction {
    /// The non-empty text of field `name`.
    pub fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).and_then(scalar)
    }
}

/// Field names of a statement line, as the bank writes them.
pub mod field {
    /// Unique line id: the bank reference.
    pub const ID: &str = "ID";
    /// Bank reference of the document (with `REFN`, the fallback key).
    pub const REF: &str = "REF";
    /// Sequence number within `REF`.
    pub const REFN: &str = "REFN";
    /// `C` credit, `D` debit.
    pub const TRANTYPE: &str = "TRANTYPE";
    /// Amount, positive, in `CCY`.
    pub const SUM: &str = "SUM";
    /// Currency, ISO 4217.
    pub const CCY: &str = "CCY";
    /// Booking date, `dd.MM.yyyy`.
    pub const DAT_OD: &str = "DAT_OD";
    /// Purpose of payment.
    pub const OSND: &str = "OSND";
    /// Counterparty name.
    pub const AUT_CNTR_NAM: &str = "AUT_CNTR_NAM";
    /// Counterparty account.
    pub const AUT_CNTR_ACC: &str = "AUT_CNTR_ACC";
    /// Counterparty EDRPOU or tax number.
    pub const AUT_CNTR_CRF: &str = "AUT_CNTR_CRF";
    /// Document number (the payer's own).
    pub const NUM_DOC: &str = "NUM_DOC";
    /// A payment created through the API: its `payment_pack_ref`.
    pub const DLR: &str = "DLR";
    /// `r` real, `i` informational.
    pub const FL_REAL: &str = "FL_REAL";
    /// `r` done, `p` in progress, `t` reversed, `n` rejected.
    pub const PR_PR: &str = "PR_PR";
}

/// `GET /api/statements/balance`: one page.
#[derive(Debug, Deserialize)]
pub struct BalanceAnswer {
    /// The next page, if any.
    #[serde(flatten)]
    pub paging: Paging,
    /// One record per account and day.
    #[serde(default)]
    pub balances: Vec<BankBalance>,
}

/// The balance of one account on one day.
#[derive(Debug, Clone, Deserialize)]
pub struct BankBalance {
    /// Account number.
    #[serde(default)]
    pub acc: Value,
    /// Currency, ISO 4217.
    #[serde(default)]
    pub currency: Value,
    /// Balance at the start of the day.
    #[serde(rename = "balanceIn", default)]
    pub balance_in: Value,
    /// Balance at the end of the day.
    #[serde(rename = "balanceOut", default)]
    pub balance_out: Value,
    /// True when `balanceOut` is final (the day is closed).
    #[serde(default)]
    pub is_final_bal: Value,
    /// The day the record is for, `dd.MM.yyyy HH:mm:ss`.
    #[serde(default)]
    pub dpd: Value,
}

impl BankBalance {
    /// `is_final_bal`; absent counts as final.
    pub fn is_final(&self) -> bool {
        self.is_final_bal.is_null() || flag(&self.is_final_bal)
    }
}

/// The body of `POST /api/proxy/payment/create`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentRequest {
    /// The client's document number, 1 to 10 characters: the bank's
    /// idempotency key for payments.
    pub document_number: String,
    /// Recipient IBAN.
    pub recipient_account: String,
    /// Recipient EDRPOU (8 digits) or tax number (10 digits).
    pub recipient_nceo: String,
    /// Recipient name.
    pub payment_naming: String,
    /// Amount, `"1500.00"`.
    pub payment_amount: String,
    /// Purpose of payment.
    pub payment_destination: String,
    /// Currency of the amount.
    pub payment_ccy: String,
    /// Payer IBAN.
    pub payer_account: String,
    /// The debit date, `dd.MM.yyyy` (`payment_accept_date` would be the
    /// crediting date).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_date: Option<String>,
}

/// The answer to `payment/create` (HTTP 201): the payment's references and
/// the request as the bank keeps it, with its status.
#[derive(Debug, Clone, Deserialize)]
pub struct CreateAnswer {
    /// The bank's reference, for `payment/get` and `payment/delete`.
    pub payment_ref: String,
    /// The pack's reference: the executed line's `DLR` on the statement.
    #[serde(default)]
    pub payment_pack_ref: Value,
    /// The request as the bank keeps it.
    #[serde(default)]
    pub payment_data: Option<PaymentData>,
}

impl CreateAnswer {
    /// The status the bank gave the new payment (`new`).
    pub fn status(&self) -> Option<String> {
        self.payment_data
            .as_ref()
            .and_then(|data| scalar(&data.payment_status))
    }
}

/// The parts of a stored payment request this connector reads.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PaymentData {
    /// The document number the payment was created with.
    #[serde(default)]
    pub document_number: Value,
    /// Recipient IBAN.
    #[serde(default)]
    pub recipient_account: Value,
    /// Amount, a string or a number.
    #[serde(default)]
    pub payment_amount: Value,
    /// `new` when just created.
    #[serde(default)]
    pub payment_status: Value,
}

/// A payment, as `payment/get` returns it (also its references, document
/// number, amount and signature levels, which this connector does not read).
#[derive(Debug, Clone, Deserialize)]
pub struct Payment {
    /// Where it stands: `new` waits for a signature; later words are not
    /// public.
    #[serde(default)]
    pub payment_status: Value,
}
