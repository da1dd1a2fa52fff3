//! The bank's data: amounts, accounts, statement lines, batches.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// An amount in grosze (1/100 PLN).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(pub i64);

impl Amount {
    /// `units` złoty and `grosze`.
    pub const fn new(units: i64, grosze: i64) -> Amount {
        Amount(units * 100 + grosze)
    }

    /// `1234,56`: MT940's decimal comma, no sign.
    pub fn mt940(self) -> String {
        let a = self.0.unsigned_abs();
        format!("{},{:02}", a / 100, a % 100)
    }

    /// Parses `123.45`: digits, a dot, exactly two decimals (the form
    /// pain.001 amounts must have here).
    pub fn parse_two_decimals(s: &str) -> Option<Amount> {
        let (units, frac) = s.split_once('.')?;
        if units.is_empty()
            || units.len() > 15
            || frac.len() != 2
            || !units.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        Some(Amount(
            units.parse::<i64>().ok()? * 100 + frac.parse::<i64>().ok()?,
        ))
    }

    /// Parses a decimal with at most two decimals (`10`, `10.5`, `10.50`).
    pub fn parse_decimal(s: &str) -> Option<Amount> {
        let (units, frac) = s.split_once('.').unwrap_or((s, ""));
        if units.is_empty()
            || units.len() > 15
            || frac.len() > 2
            || !units.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let frac = format!("{frac:0<2}");
        Some(Amount(
            units.parse::<i64>().ok()? * 100 + frac.parse::<i64>().ok()?,
        ))
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", a / 100, a % 100)
    }
}

/// `Amount::from_str("12.30")`: a decimal with at most two decimals.
impl FromStr for Amount {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Amount::parse_decimal(s).ok_or_else(|| format!("not an amount: {s:?}"))
    }
}

impl Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A company's account at the bank (PLN).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// `PL` + NRB.
    pub iban: String,
    /// The holder, as `~32`/`~33` show it on the other side.
    pub holder: String,
    /// The company (ContextId) it belongs to.
    pub context_id: String,
}

/// Credit (money in) or debit (money out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Direction {
    /// `C`.
    Credit,
    /// `D`.
    Debit,
}

impl Direction {
    /// `C` or `D`.
    pub fn mark(self) -> char {
        match self {
            Direction::Credit => 'C',
            Direction::Debit => 'D',
        }
    }
}

/// A line to book with [`crate::SimHandle::add_transaction`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewTransaction {
    /// The account booked (`PL` IBAN).
    pub account: String,
    /// In or out.
    pub direction: Direction,
    /// Positive.
    pub amount: Amount,
    /// Entry date; default the bank's business day.
    #[serde(default)]
    pub booking_date: Option<NaiveDate>,
    /// Value date; default the booking date.
    #[serde(default)]
    pub value_date: Option<NaiveDate>,
    /// The payment title (`~20`–`~25`).
    pub title: String,
    /// The other side's name (`~32`/`~33`).
    pub counterparty_name: String,
    /// The other side's IBAN (`~38`, and `~30`/`~31` for a PL one).
    pub counterparty_iban: String,
    /// The customer reference in `:61:`; `None` serves `NONREF`.
    #[serde(default)]
    pub customer_reference: Option<String>,
}

impl NewTransaction {
    /// An incoming transfer.
    pub fn credit(
        account: &str,
        amount: Amount,
        title: &str,
        counterparty_name: &str,
        counterparty_iban: &str,
    ) -> NewTransaction {
        NewTransaction {
            account: account.into(),
            direction: Direction::Credit,
            amount,
            booking_date: None,
            value_date: None,
            title: title.into(),
            counterparty_name: counterparty_name.into(),
            counterparty_iban: counterparty_iban.into(),
            customer_reference: None,
        }
    }

    /// An outgoing transfer.
    pub fn debit(
        account: &str,
        amount: Amount,
        title: &str,
        counterparty_name: &str,
        counterparty_iban: &str,
    ) -> NewTransaction {
        NewTransaction {
            direction: Direction::Debit,
            ..NewTransaction::credit(account, amount, title, counterparty_name, counterparty_iban)
        }
    }

    /// On this date (booking and value).
    pub fn on(mut self, date: NaiveDate) -> NewTransaction {
        self.booking_date = Some(date);
        self
    }
}

/// A booked statement line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    /// The account booked.
    pub account: String,
    /// In or out.
    pub direction: Direction,
    /// Positive.
    pub amount: Amount,
    /// Entry date.
    pub booking_date: NaiveDate,
    /// Value date.
    pub value_date: NaiveDate,
    /// ZBP operation code (`:86:` first 3 digits, and `N` + code in `:61:`).
    pub type_code: String,
    /// The `~00` text.
    pub type_text: String,
    /// `:61:` customer reference; `None` serves `NONREF`.
    pub customer_reference: Option<String>,
    /// `:61:` bank reference after `//`, unique.
    pub bank_reference: String,
    /// Payment title.
    pub title: String,
    /// Other side's name.
    pub counterparty_name: String,
    /// Other side's IBAN.
    pub counterparty_iban: String,
}

/// A batch's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BatchStatus {
    /// Signed and taken; not executed yet.
    Accepted,
    /// Sent as editable: waits for a signature in the bank's own
    /// application ([`crate::SimHandle::sign_batch`]).
    WaitingForSignature,
    /// Executed (its accepted transactions booked).
    Executed,
}

/// One transfer's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TransferStatus {
    /// Its batch waits for a signature.
    WaitingForSignature,
    /// Taken, to be executed.
    Accepted,
    /// Booked on the debtor's statement.
    Executed,
    /// Refused by the bank; see the reason.
    Rejected,
}

/// One transfer of a batch, as `GET batches/{id}` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferView {
    /// The payer's reference (`PmtId/EndToEndId`).
    pub end_to_end_id: String,
    /// Where it stands.
    pub status: TransferStatus,
    /// Why it was rejected.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
    /// Amount, PLN.
    pub amount: Amount,
    /// Debtor IBAN.
    pub debtor_iban: String,
    /// Creditor IBAN.
    pub creditor_iban: String,
    /// Creditor name.
    pub creditor_name: String,
    /// Title (`RmtInf/Ustrd`).
    pub title: String,
}

/// A batch, as `GET batches/{id}` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchView {
    /// The bank's id.
    pub batch_id: String,
    /// Where it stands.
    pub status: BatchStatus,
    /// The company.
    pub context_id: String,
    /// `GrpHdr/MsgId`.
    pub msg_id: String,
    /// As sent.
    pub file_name: String,
    /// Sent as editable.
    pub editable: bool,
    /// The user whose certificate signed it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub signed_by: Option<String>,
    /// Its transfers, in file order.
    pub transactions: Vec<TransferView>,
}
