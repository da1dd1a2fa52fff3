//! The bank's data as the handle and the control API show it: amounts,
//! accounts, statement lines, users, mobile logins, sessions, batches.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// An amount in grosze (1/100 PLN). Serialised as `"1234.56"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(pub i64);

impl Amount {
    /// `units` złoty and `grosze`.
    pub const fn new(units: i64, grosze: i64) -> Amount {
        Amount(units * 100 + grosze)
    }

    /// MT940's form: decimal comma, no sign (`1234,56`).
    pub fn mt940(self) -> String {
        let a = self.0.unsigned_abs();
        format!("{},{:02}", a / 100, a % 100)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", a / 100, a % 100)
    }
}

/// `"12"`, `"12.3"`, `"12.30"`: digits, optionally a dot and one or two
/// decimals.
impl FromStr for Amount {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("not an amount: {s:?}");
        let (units, frac) = s.split_once('.').unwrap_or((s, ""));
        let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if units.is_empty() || units.len() > 15 || frac.len() > 2 || !digits(units) || !digits(frac)
        {
            return Err(bad());
        }
        let units: i64 = units.parse().map_err(|_| bad())?;
        let frac: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
        Ok(Amount(units * 100 + frac))
    }
}

impl Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A company's PLN account, under one DIK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// `PL` + NRB.
    pub iban: String,
    /// The holder's name.
    pub holder: String,
    /// The company identifier (DIK) the account belongs to.
    pub dik: String,
}

/// Money in (credit) or out (debit).
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
    /// The account (`PL` IBAN).
    pub account: String,
    /// In or out.
    pub direction: Direction,
    /// Positive.
    pub amount: Amount,
    /// Booking date; default the business day (then it is intraday: on
    /// the MT942 until the day closes).
    #[serde(default)]
    pub booking_date: Option<NaiveDate>,
    /// Title (`TYT.:`).
    pub title: String,
    /// The other side's name (`OD:` / `DO:`).
    pub counterparty_name: String,
    /// The other side's account, IBAN or NRB (`Z RACH.:` / `NA RACH.:`).
    pub counterparty_account: String,
    /// The payer's own reference: `:61:` customer reference (cut to 16)
    /// and `REF. KLIENTA:`; `None` serves `NONREF`.
    #[serde(default)]
    pub customer_reference: Option<String>,
}

impl NewTransaction {
    /// An incoming transfer on the business day.
    pub fn credit(
        account: &str,
        amount: Amount,
        title: &str,
        counterparty_name: &str,
        counterparty_account: &str,
    ) -> NewTransaction {
        NewTransaction {
            account: account.into(),
            direction: Direction::Credit,
            amount,
            booking_date: None,
            title: title.into(),
            counterparty_name: counterparty_name.into(),
            counterparty_account: counterparty_account.into(),
            customer_reference: None,
        }
    }

    /// An outgoing transfer on the business day.
    pub fn debit(
        account: &str,
        amount: Amount,
        title: &str,
        counterparty_name: &str,
        counterparty_account: &str,
    ) -> NewTransaction {
        NewTransaction {
            direction: Direction::Debit,
            ..NewTransaction::credit(
                account,
                amount,
                title,
                counterparty_name,
                counterparty_account,
            )
        }
    }

    /// Booked on this date instead.
    pub fn on(mut self, date: NaiveDate) -> NewTransaction {
        self.booking_date = Some(date);
        self
    }

    /// With the payer's own reference.
    pub fn reference(mut self, reference: &str) -> NewTransaction {
        self.customer_reference = Some(reference.into());
        self
    }
}

/// A booked line, as MT942 (its booking day) and MT940 (after the day
/// closed) serve it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    /// The account.
    pub account: String,
    /// In or out.
    pub direction: Direction,
    /// Positive.
    pub amount: Amount,
    /// Booking (entry) date.
    pub booking_date: NaiveDate,
    /// Value date (= booking date here).
    pub value_date: NaiveDate,
    /// mBank's transaction number, e.g. `261130000000007.000001`: the same
    /// in MT942 and MT940.
    pub tnr: String,
    /// `:61:` bank reference after `//`, e.g. `MB261130000007`.
    pub bank_reference: String,
    /// The payer's own reference, if any.
    pub customer_reference: Option<String>,
    /// The 3-digit operation code (`:86:` start and the line after `:61:`).
    pub type_code: String,
    /// Its text.
    pub type_text: String,
    /// Title.
    pub title: String,
    /// The other side's name.
    pub counterparty_name: String,
    /// The other side's account as given.
    pub counterparty_account: String,
}

/// A registered bank user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    /// The user id in mBank.
    pub user_id: String,
    /// The signing certificate's subject.
    pub subject: String,
    /// The DIKs the user may act for.
    pub diks: Vec<String>,
    /// Whether the user has the mobile app (mobile-token login).
    pub mobile: bool,
}

/// Where a mobile-token login stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MobileStatus {
    /// Waiting for the user in the app.
    Pending,
    /// Confirmed: a session exists.
    Confirmed,
    /// Rejected in the app.
    Rejected,
    /// Not confirmed in time.
    Expired,
}

/// A mobile-token login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MobileLoginView {
    /// Its id (what the client polls).
    pub login_id: String,
    /// Who.
    pub user_id: String,
    /// The DIKs asked for.
    pub diks: Vec<String>,
    /// Where it stands.
    pub status: MobileStatus,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
    /// When a pending one expires.
    pub expires_at: DateTime<Utc>,
    /// The session's token, once confirmed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub token: Option<String>,
}

/// How a session was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SessionKind {
    /// Long-lived, by a qualified signature over a challenge.
    Signature,
    /// Confirmed in the mobile app; ends when idle.
    Mobile,
}

/// Where a session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SessionState {
    /// Usable.
    Active,
    /// Past `validUntil`.
    Expired,
    /// A mobile session left idle too long.
    IdleTimeout,
    /// Ended by the bank.
    Revoked,
}

/// A session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    /// The bearer token.
    pub token: String,
    /// Whose.
    pub user_id: String,
    /// How it was opened.
    pub kind: SessionKind,
    /// The DIKs it covers.
    pub diks: Vec<String>,
    /// When it ends at the latest.
    pub valid_until: DateTime<Utc>,
    /// Its last authenticated request.
    pub last_activity: DateTime<Utc>,
    /// Where it stands now.
    pub state: SessionState,
}

/// One transfer (one Elixir-O line) of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TransferStatus {
    /// Well-formed and taken; waits to be executed.
    Accepted,
    /// Refused: malformed line, or rejected by the bank later.
    Rejected,
    /// Booked on the sender account.
    Executed,
}

/// A batch's state, from its transfers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BatchStatus {
    /// Some transfer is still `ACCEPTED`.
    Pending,
    /// Every transfer is `EXECUTED` or `REJECTED`.
    Processed,
}

/// A transfer as `GET batches/{id}` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferView {
    /// Its line in the file (1-based): the transfer's id within the batch.
    pub line: usize,
    /// Field 16, the client's reference, if given.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reference: Option<String>,
    /// Where it stands.
    pub status: TransferStatus,
    /// Why it was rejected: a code (`BAD_NRB`, …, or `BANK_REJECTED`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub code: Option<String>,
    /// Why, in words.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
    /// The field at fault (1–16), for a malformed line.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub field: Option<u8>,
    /// Amount (absent for a line too malformed to read it).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub amount: Option<Amount>,
    /// Sender NRB (field 6).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sender_account: Option<String>,
    /// Recipient NRB (field 7).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub recipient_account: Option<String>,
    /// Recipient name (field 9, `|` kept).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub recipient_name: Option<String>,
    /// Title (field 12, `|` kept).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub title: Option<String>,
    /// `51` standard or `53` split payment (field 15).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub payment_code: Option<String>,
    /// The TNR of its statement line, once executed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tnr: Option<String>,
    /// The day it was booked, once executed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub booking_date: Option<NaiveDate>,
}

/// A batch as `GET batches/{id}` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchView {
    /// The bank's id, `EX00000001`, ….
    pub batch_id: String,
    /// From its transfers.
    pub status: BatchStatus,
    /// The company.
    pub dik: String,
    /// As sent.
    pub file_name: String,
    /// The user whose certificate signed the file.
    pub signed_by: String,
    /// When the bank took it.
    pub received_at: DateTime<Utc>,
    /// One per non-blank line, in file order.
    pub transfers: Vec<TransferView>,
}

impl BatchView {
    pub(crate) fn restate(&mut self) {
        self.status = if self
            .transfers
            .iter()
            .any(|t| t.status == TransferStatus::Accepted)
        {
            BatchStatus::Pending
        } else {
            BatchStatus::Processed
        };
    }

    /// The transfer on this line.
    pub fn transfer(&self, line: usize) -> Option<&TransferView> {
        self.transfers.iter().find(|t| t.line == line)
    }
}
