//! The bank's data: merchants, money, statement transactions (serialised
//! with the bank's own field names) and payments.

use std::fmt;
use std::str::FromStr;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// PrivatBank's bank code (MFO), name and EDRPOU code: the merchant's side of
/// every statement line.
pub const PRIVATBANK_MFO: &str = "305299";
/// PrivatBank's legal name as statements print it.
pub const PRIVATBANK_NAME: &str = "АТ КБ \"ПРИВАТБАНК\"";
/// PrivatBank's EDRPOU code.
pub const PRIVATBANK_EDRPOU: &str = "14360570";

/// `dd.MM.yyyy`: dates inside answers.
pub(crate) const DATE_FMT: &str = "%d.%m.%Y";
/// `dd-MM-yyyy`: dates in query strings (`startDate`, `endDate`).
pub(crate) const QUERY_DATE_FMT: &str = "%d-%m-%Y";
/// `dd.MM.yyyy HH:mm:ss`.
pub(crate) const DATE_TIME_FMT: &str = "%d.%m.%Y %H:%M:%S";
/// `HH:mm`.
pub(crate) const TIME_FMT: &str = "%H:%M";

/// Parses a `dd.MM.yyyy` date as the bank prints it.
pub fn parse_bank_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, DATE_FMT).ok()
}

/// Formats a date as a `startDate`/`endDate` query value (`dd-MM-yyyy`).
pub fn query_date(d: NaiveDate) -> String {
    d.format(QUERY_DATE_FMT).to_string()
}

/// One Autoclient profile: credentials plus the account it serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Merchant {
    /// The `id` header value (older request format).
    pub id: String,
    /// The `token` header value.
    pub token: String,
    /// The account's IBAN.
    pub account: String,
    /// The account's currency, e.g. `UAH`.
    pub currency: String,
    /// The account holder, printed as `AUT_MY_NAM`.
    pub name: String,
    /// The holder's EDRPOU code, printed as `AUT_MY_CRF`.
    pub edrpou: String,
}

impl Merchant {
    /// A merchant with a placeholder company name and EDRPOU code.
    pub fn new(
        id: impl Into<String>,
        token: impl Into<String>,
        account: impl Into<String>,
        currency: impl Into<String>,
    ) -> Self {
        Merchant {
            id: id.into(),
            token: token.into(),
            account: account.into(),
            currency: currency.into(),
            name: "ТОВ \"ТЕСТОВА КОМПАНІЯ\"".into(),
            edrpou: "38765432".into(),
        }
    }

    /// The clearly fake development merchant the binary and the README use.
    pub fn demo() -> Self {
        Merchant {
            name: "ТОВ \"ДЕМО ТРЕЙД\"".into(),
            ..Merchant::new(
                "sim-demo-merchant",
                "sim-demo-token-NOT-A-SECRET",
                "UA213223130000026007233566001",
                "UAH",
            )
        }
    }
}

/// An amount in minor units (kopiykas): exact arithmetic, printed the way
/// the bank prints sums (`"1500.00"`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i64);

/// Largest absolute amount accepted from text: far beyond any real payment,
/// small enough that sums of many never overflow.
const MAX_MINOR: i64 = 1_000_000_000_000_000;

impl Money {
    /// Zero.
    pub const ZERO: Money = Money(0);

    /// From minor units (kopiykas).
    pub const fn from_minor(minor: i64) -> Self {
        Money(minor)
    }

    /// From whole units and kopiykas, e.g. `Money::new(1500, 0)`.
    pub const fn new(units: i64, cents: i64) -> Self {
        Money(units * 100 + cents)
    }

    /// In minor units.
    pub const fn minor(self) -> i64 {
        self.0
    }

    /// True when above zero.
    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// Formatted with a decimal comma, as payment titles write sums.
    pub fn with_comma(self) -> String {
        self.to_string().replace('.', ",")
    }
}

impl std::ops::Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl std::ops::Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0 - rhs.0)
    }
}

impl std::ops::AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        self.0 += rhs.0;
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, |a, b| a + b)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

/// Why a text is not an amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid amount {0:?}: expected digits with at most two decimals, like 1500.00")]
pub struct MoneyParseError(pub String);

impl FromStr for Money {
    type Err = MoneyParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || MoneyParseError(s.to_string());
        let t = s.trim();
        let (negative, digits) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t),
        };
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || whole.len() > 16 || !all_digits(whole) {
            return Err(err());
        }
        if frac.len() > 2 || !all_digits(frac) || (digits.contains('.') && frac.is_empty()) {
            return Err(err());
        }
        let units: i64 = whole.parse().map_err(|_| err())?;
        let cents: i64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().map_err(|_| err())? * 10,
            _ => frac.parse().map_err(|_| err())?,
        };
        let minor = units
            .checked_mul(100)
            .and_then(|u| u.checked_add(cents))
            .filter(|m| *m <= MAX_MINOR)
            .ok_or_else(err)?;
        Ok(Money(if negative { -minor } else { minor }))
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    /// Accepts `"1500.00"` and `1500.00`: clients send both.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Number(serde_json::Number),
        }
        let text = match Raw::deserialize(d)? {
            Raw::Text(t) => t,
            Raw::Number(n) => n.to_string(),
        };
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// `TRANTYPE`: money in or out of the merchant's account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Direction {
    /// `C`: incoming.
    #[serde(rename = "C")]
    Credit,
    /// `D`: outgoing.
    #[serde(rename = "D")]
    Debit,
}

impl Direction {
    /// The bank's one-letter code.
    pub fn code(self) -> &'static str {
        match self {
            Direction::Credit => "C",
            Direction::Debit => "D",
        }
    }
}

/// `PR_PR`: how far the bank got with a statement line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TxStatus {
    /// `r`: done.
    #[serde(rename = "r")]
    Done,
    /// `p`: in progress.
    #[serde(rename = "p")]
    InProgress,
    /// `t`: reversed (storno).
    #[serde(rename = "t")]
    Reversed,
    /// `n`: rejected.
    #[serde(rename = "n")]
    Rejected,
}

impl TxStatus {
    /// The bank's one-letter code.
    pub fn code(self) -> &'static str {
        match self {
            TxStatus::Done => "r",
            TxStatus::InProgress => "p",
            TxStatus::Reversed => "t",
            TxStatus::Rejected => "n",
        }
    }
}

/// The other side of a statement line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counterparty {
    /// Company or person name (`AUT_CNTR_NAM`).
    pub name: String,
    /// EDRPOU (8 digits) or tax number (10 digits) (`AUT_CNTR_CRF`).
    pub edrpou: String,
    /// IBAN (`AUT_CNTR_ACC`).
    pub account: String,
    /// Bank code (`AUT_CNTR_MFO`).
    pub mfo: String,
    /// Bank name (`AUT_CNTR_MFO_NAME`).
    pub bank_name: String,
}

/// A statement line as the simulator keeps it: typed, one per movement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// `ID`: unique across the simulator.
    pub id: u64,
    /// `TRANTYPE`.
    pub direction: Direction,
    /// `SUM`, always positive.
    pub amount: Money,
    /// `CCY`.
    pub currency: String,
    /// `DAT_OD`: the operational (booking) date the date filters use.
    pub date: NaiveDate,
    /// `TIM_P`.
    pub time: NaiveTime,
    /// `DAT_KL`: the document's date.
    pub doc_date: NaiveDate,
    /// `OSND`: the payment title.
    pub purpose: String,
    /// `NUM_DOC`.
    pub doc_number: String,
    /// `DOC_TYP`: `p` payment order, `m` memorial order (bank fees).
    pub doc_type: String,
    /// The other side.
    pub counterparty: Counterparty,
    /// `PR_PR`.
    pub status: TxStatus,
    /// `FL_REAL`: `true` real (`r`), `false` informational (`i`).
    pub real: bool,
    /// `REF`.
    pub reference: String,
    /// `DLR`: the originating service's reference (the payment pack for
    /// payments made through this API).
    pub dlr: String,
}

impl Transaction {
    /// Statement order: booking time, then id.
    pub(crate) fn sort_key(&self) -> (NaiveDateTime, u64) {
        (self.date.and_time(self.time), self.id)
    }

    /// Only real, completed lines move the balance.
    pub fn moves_balance(&self) -> bool {
        self.real && self.status == TxStatus::Done
    }

    /// The line as the bank serialises it for `merchant`.
    pub fn to_statement(&self, merchant: &Merchant) -> StatementTransaction {
        let date = self.date.format(DATE_FMT).to_string();
        let amount = self.amount.to_string();
        StatementTransaction {
            my_crf: merchant.edrpou.clone(),
            my_mfo: account_mfo(&merchant.account),
            my_acc: merchant.account.clone(),
            my_nam: merchant.name.clone(),
            my_mfo_name: PRIVATBANK_NAME.into(),
            my_mfo_city: "Київ".into(),
            cntr_crf: self.counterparty.edrpou.clone(),
            cntr_mfo: self.counterparty.mfo.clone(),
            cntr_acc: self.counterparty.account.clone(),
            cntr_nam: self.counterparty.name.clone(),
            cntr_mfo_name: self.counterparty.bank_name.clone(),
            cntr_mfo_city: "Київ".into(),
            ccy: self.currency.clone(),
            fl_real: if self.real { "r" } else { "i" }.into(),
            pr_pr: self.status.code().into(),
            doc_typ: self.doc_type.clone(),
            num_doc: self.doc_number.clone(),
            dat_kl: self.doc_date.format(DATE_FMT).to_string(),
            dat_od: date,
            osnd: self.purpose.clone(),
            sum_e: equivalent(self.amount, &self.currency).to_string(),
            sum: amount,
            reference: self.reference.clone(),
            refn: "1".into(),
            tim_p: self.time.format(TIME_FMT).to_string(),
            date_time: self
                .date
                .and_time(self.time)
                .format(DATE_TIME_FMT)
                .to_string(),
            id: self.id.to_string(),
            trantype: self.direction.code().into(),
            dlr: self.dlr.clone(),
            technical_id: format!("{}_online", self.id),
        }
    }
}

/// The bank code inside the merchant's IBAN, so the line agrees with the
/// account; PrivatBank's when the account is not an IBAN.
fn account_mfo(account: &str) -> String {
    let mfo = crate::data::mfo_of(account);
    if mfo.len() == 6 && mfo.bytes().all(|b| b.is_ascii_digit()) {
        mfo
    } else {
        PRIVATBANK_MFO.into()
    }
}

/// UAH equivalent by a fixed demo rate table: the simulator has no rates
/// feed, and tests need stable numbers.
pub(crate) fn equivalent(amount: Money, currency: &str) -> Money {
    let rate_x100: i64 = match currency {
        "USD" => 4150,
        "EUR" => 4820,
        _ => 100,
    };
    let v = amount.minor() * rate_x100;
    // Round half away from zero.
    Money::from_minor((v + v.signum() * 50) / 100)
}

/// A statement line on the wire: every value a string, every name the
/// bank's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementTransaction {
    /// Merchant's EDRPOU.
    #[serde(rename = "AUT_MY_CRF")]
    pub my_crf: String,
    /// Merchant's bank code.
    #[serde(rename = "AUT_MY_MFO")]
    pub my_mfo: String,
    /// Merchant's IBAN.
    #[serde(rename = "AUT_MY_ACC")]
    pub my_acc: String,
    /// Merchant's name.
    #[serde(rename = "AUT_MY_NAM")]
    pub my_nam: String,
    /// Merchant's bank name.
    #[serde(rename = "AUT_MY_MFO_NAME")]
    pub my_mfo_name: String,
    /// Merchant's bank city.
    #[serde(rename = "AUT_MY_MFO_CITY", default)]
    pub my_mfo_city: String,
    /// Counterparty's EDRPOU / tax number.
    #[serde(rename = "AUT_CNTR_CRF")]
    pub cntr_crf: String,
    /// Counterparty's bank code.
    #[serde(rename = "AUT_CNTR_MFO")]
    pub cntr_mfo: String,
    /// Counterparty's IBAN.
    #[serde(rename = "AUT_CNTR_ACC")]
    pub cntr_acc: String,
    /// Counterparty's name.
    #[serde(rename = "AUT_CNTR_NAM")]
    pub cntr_nam: String,
    /// Counterparty's bank name.
    #[serde(rename = "AUT_CNTR_MFO_NAME")]
    pub cntr_mfo_name: String,
    /// Counterparty's bank city.
    #[serde(rename = "AUT_CNTR_MFO_CITY", default)]
    pub cntr_mfo_city: String,
    /// Currency.
    #[serde(rename = "CCY")]
    pub ccy: String,
    /// `r` real, `i` informational.
    #[serde(rename = "FL_REAL")]
    pub fl_real: String,
    /// `r` done, `p` in progress, `t` rejected.
    #[serde(rename = "PR_PR")]
    pub pr_pr: String,
    /// Document type.
    #[serde(rename = "DOC_TYP")]
    pub doc_typ: String,
    /// Document number.
    #[serde(rename = "NUM_DOC")]
    pub num_doc: String,
    /// Document date, `dd.MM.yyyy`.
    #[serde(rename = "DAT_KL")]
    pub dat_kl: String,
    /// Booking date, `dd.MM.yyyy`.
    #[serde(rename = "DAT_OD")]
    pub dat_od: String,
    /// Payment title.
    #[serde(rename = "OSND")]
    pub osnd: String,
    /// Amount, `"1500.00"`.
    #[serde(rename = "SUM")]
    pub sum: String,
    /// UAH equivalent.
    #[serde(rename = "SUM_E")]
    pub sum_e: String,
    /// Bank reference.
    #[serde(rename = "REF")]
    pub reference: String,
    /// Reference sequence number.
    #[serde(rename = "REFN")]
    pub refn: String,
    /// Booking time, `HH:mm`.
    #[serde(rename = "TIM_P")]
    pub tim_p: String,
    /// Booking date and time, `dd.MM.yyyy HH:mm:ss`.
    #[serde(rename = "DATE_TIME_DAT_OD_TIM_P")]
    pub date_time: String,
    /// Unique id, numeric.
    #[serde(rename = "ID")]
    pub id: String,
    /// `C` credit, `D` debit.
    #[serde(rename = "TRANTYPE")]
    pub trantype: String,
    /// Originating service reference.
    #[serde(rename = "DLR")]
    pub dlr: String,
    /// Technical id.
    #[serde(rename = "TECHNICAL_TRANSACTION_ID")]
    pub technical_id: String,
}

impl StatementTransaction {
    /// `SUM` parsed.
    pub fn amount(&self) -> Option<Money> {
        self.sum.parse().ok()
    }

    /// `DAT_OD` parsed.
    pub fn date(&self) -> Option<NaiveDate> {
        parse_bank_date(&self.dat_od)
    }

    /// True for `TRANTYPE` `C`.
    pub fn is_credit(&self) -> bool {
        self.trantype == "C"
    }
}

/// A statement line a test adds: `NewTransaction::credit(amount, date,
/// title)` plus optional details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTransaction {
    /// In or out.
    pub direction: Direction,
    /// Positive amount in the account's currency.
    pub amount: Money,
    /// Booking date (`DAT_OD`).
    pub date: NaiveDate,
    /// Booking time; 12:00 when not given.
    pub time: Option<NaiveTime>,
    /// Payment title (`OSND`).
    pub purpose: String,
    /// The other side; a deterministic one from the generator's pool when
    /// not given.
    pub counterparty: Option<Counterparty>,
    /// `PR_PR`; done by default.
    pub status: TxStatus,
    /// `FL_REAL`; real by default.
    pub real: bool,
    /// `NUM_DOC`; generated when not given.
    pub doc_number: Option<String>,
}

impl NewTransaction {
    /// An incoming payment.
    pub fn credit(amount: Money, date: NaiveDate, purpose: impl Into<String>) -> Self {
        Self::with_direction(Direction::Credit, amount, date, purpose)
    }

    /// An outgoing payment.
    pub fn debit(amount: Money, date: NaiveDate, purpose: impl Into<String>) -> Self {
        Self::with_direction(Direction::Debit, amount, date, purpose)
    }

    fn with_direction(
        direction: Direction,
        amount: Money,
        date: NaiveDate,
        purpose: impl Into<String>,
    ) -> Self {
        NewTransaction {
            direction,
            amount,
            date,
            time: None,
            purpose: purpose.into(),
            counterparty: None,
            status: TxStatus::Done,
            real: true,
            doc_number: None,
        }
    }

    /// Booked at `time`.
    pub fn at(mut self, time: NaiveTime) -> Self {
        self.time = Some(time);
        self
    }

    /// With this counterparty.
    pub fn counterparty(mut self, c: Counterparty) -> Self {
        self.counterparty = Some(c);
        self
    }

    /// With this `PR_PR` status.
    pub fn status(mut self, s: TxStatus) -> Self {
        self.status = s;
        self
    }

    /// Informational (`FL_REAL` = `i`): listed, but moves no balance.
    pub fn informational(mut self) -> Self {
        self.real = false;
        self
    }

    /// With this document number.
    pub fn doc_number(mut self, n: impl Into<String>) -> Self {
        self.doc_number = Some(n.into());
        self
    }
}

/// Where a payment made through the API stands, as `payment_status`
/// names it.
///
/// Only `new` is public: the bank creates payments unsigned, with status
/// `new` (sashalenz/privat24-business-api `tests/Feature/PaymentsTest.php`,
/// `src/ApiModels/Payments.php`, `src/ResponseData/Payments/GetPaymentResponse.php`,
/// which says the full vocabulary is not published). The later words
/// `signed`, `sent`, `done` and `rejected` are ASSUMED: the simulator's own
/// vocabulary, which no public source names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaymentStatus {
    /// `new` (documented): created, waiting for a signature; until signed
    /// it can be deleted.
    New,
    /// `signed` (assumed word): signed, waiting to be sent.
    Signed,
    /// `sent` (assumed word): sent, being processed.
    Sent,
    /// `done` (assumed word): settled; it is on the statement as a debit.
    Done,
    /// `rejected` (assumed word): rejected by the bank.
    Rejected,
}

impl PaymentStatus {
    /// All statuses, in order.
    pub const ALL: [PaymentStatus; 5] = [
        PaymentStatus::New,
        PaymentStatus::Signed,
        PaymentStatus::Sent,
        PaymentStatus::Done,
        PaymentStatus::Rejected,
    ];

    /// The wire word (`new` is documented, the others assumed).
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::New => "new",
            PaymentStatus::Signed => "signed",
            PaymentStatus::Sent => "sent",
            PaymentStatus::Done => "done",
            PaymentStatus::Rejected => "rejected",
        }
    }

    /// A human description, in Ukrainian (the simulator's own wording).
    pub fn description(self) -> &'static str {
        match self {
            PaymentStatus::New => "Створено, очікує підпису",
            PaymentStatus::Signed => "Підписано",
            PaymentStatus::Sent => "Відправлено в банк",
            PaymentStatus::Done => "Проведено",
            PaymentStatus::Rejected => "Відхилено банком",
        }
    }

    /// No further change.
    pub fn is_final(self) -> bool {
        matches!(self, PaymentStatus::Done | PaymentStatus::Rejected)
    }

    /// Whether the client may still delete it: only while `new`, that is
    /// unsigned (sashalenz/privat24-business-api `src/ApiModels/Payments.php`).
    pub fn can_be_deleted(self) -> bool {
        self == PaymentStatus::New
    }

    /// Whether reaching this status means someone signed the payment.
    pub(crate) fn is_signed(self) -> bool {
        matches!(
            self,
            PaymentStatus::Signed | PaymentStatus::Sent | PaymentStatus::Done
        )
    }

    /// The step the bank takes next on its own.
    pub(crate) fn next(self) -> Option<PaymentStatus> {
        match self {
            PaymentStatus::New => Some(PaymentStatus::Signed),
            PaymentStatus::Signed => Some(PaymentStatus::Sent),
            PaymentStatus::Sent => Some(PaymentStatus::Done),
            PaymentStatus::Done | PaymentStatus::Rejected => None,
        }
    }

    fn rank(self) -> u8 {
        match self {
            PaymentStatus::New => 0,
            PaymentStatus::Signed => 1,
            PaymentStatus::Sent => 2,
            PaymentStatus::Done | PaymentStatus::Rejected => 3,
        }
    }

    /// Statuses only move forward, and final ones never move; skipping a
    /// step is allowed so a test can jump straight to `done`.
    pub fn can_move_to(self, to: PaymentStatus) -> bool {
        !self.is_final() && to.rank() > self.rank()
    }
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PaymentStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        PaymentStatus::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("unknown payment status {s:?}"))
    }
}

/// The body of `POST /api/proxy/payment/create`. Unknown fields are
/// ignored, as the bank accepts many optional ones. Serialised, it is the
/// `payment_data` of the create answer (amount as a string, `"1500.00"`;
/// absent optional fields left out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRequest {
    /// The client's document number. Not a key: a repeated number makes a
    /// new payment unless the `deduplicate_document_numbers` switch is on.
    pub document_number: String,
    /// Recipient IBAN.
    pub recipient_account: String,
    /// Recipient EDRPOU (8 digits) or tax number (10 digits).
    pub recipient_nceo: String,
    /// Recipient name.
    pub payment_naming: String,
    /// Amount, as a string or a number.
    pub payment_amount: Money,
    /// Payment title.
    pub payment_destination: String,
    /// Currency; the account's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_ccy: Option<String>,
    /// Payer IBAN; the merchant's account when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_account: Option<String>,
    /// Recipient bank code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_ifi: Option<String>,
    /// Recipient bank name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_ifi_text: Option<String>,
    /// Document date, `dd.MM.yyyy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_date: Option<String>,
    /// Value date, `dd.MM.yyyy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_accept_date: Option<String>,
}

/// A payment as the simulator's control side shows it
/// ([`crate::SimHandle::payment`], `GET /__control/payments`): richer than
/// the bank's answers, for tests. Its status is `payment_status`, not
/// `status`, which answers reserve for `SUCCESS`/`ERROR`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentView {
    /// The bank's reference for the payment.
    pub payment_ref: String,
    /// The bank's reference for the pack it was created in.
    pub payment_pack_ref: String,
    /// The client's document number.
    pub document_number: String,
    /// Where it stands.
    pub payment_status: PaymentStatus,
    /// The same, for people.
    pub payment_status_text: String,
    /// When created, `dd.MM.yyyy HH:mm:ss`.
    pub created: String,
    /// When the status last changed, `dd.MM.yyyy HH:mm:ss`.
    pub status_changed: String,
    /// The statement line's `ID` once done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// The request as the bank keeps it.
    pub payment_data: PaymentRequest,
}

/// The answer to `POST /api/proxy/payment/create` (HTTP 201):
/// `payment_ref` and `payment_pack_ref` (sashalenz/privat24-business-api
/// `tests/Feature/PaymentsTest.php`) and `payment_data` with the stored
/// request and its `payment_status` (shared research notes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct CreatedPayment {
    pub(crate) payment_ref: String,
    pub(crate) payment_pack_ref: String,
    pub(crate) payment_data: CreatedPaymentData,
}

/// `payment_data` of [`CreatedPayment`]: the request's fields, plus
/// `payment_status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct CreatedPaymentData {
    #[serde(flatten)]
    pub(crate) request: PaymentRequest,
    pub(crate) payment_status: PaymentStatus,
}

/// The answer to `GET /api/proxy/payment/get`, in the shape of
/// sashalenz/privat24-business-api `tests/Feature/PaymentsTest.php`
/// (`payment_pack_ref` added: assumed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct PaymentAnswer {
    pub(crate) payment_ref: String,
    pub(crate) payment_pack_ref: String,
    pub(crate) payment_status: PaymentStatus,
    pub(crate) document_number: String,
    pub(crate) payment_amount: Money,
    pub(crate) level_sign: LevelSign,
    pub(crate) fields_for_sign: FieldsForSign,
}

/// `level_sign`: which signatures the payment has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct LevelSign {
    #[serde(rename = "1_sign_level")]
    pub(crate) first: bool,
    #[serde(rename = "2_sign_level")]
    pub(crate) second: bool,
}

/// `fields_for_sign`: what a signature covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct FieldsForSign {
    pub(crate) version: &'static str,
    pub(crate) fields: [&'static str; 1],
}

impl FieldsForSign {
    /// The values of the public example.
    pub(crate) const DOCUMENTED: FieldsForSign = FieldsForSign {
        version: "v3.5.0",
        fields: ["payment_ref"],
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_parses_and_prints_bank_sums() {
        let cases = [
            ("1500.00", 150_000, "1500.00"),
            ("1500", 150_000, "1500.00"),
            ("0.5", 50, "0.50"),
            ("-3.07", -307, "-3.07"),
            (" 12.34 ", 1234, "12.34"),
        ];
        for (text, minor, printed) in cases {
            let m: Money = text.parse().unwrap();
            assert_eq!(m.minor(), minor, "{text}");
            assert_eq!(m.to_string(), printed);
        }
        for bad in [
            "",
            "1,50",
            "1.234",
            "abc",
            "1.",
            ".5",
            "--1",
            "1e3",
            "99999999999999999",
        ] {
            assert!(bad.parse::<Money>().is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn money_deserialises_from_string_or_number() {
        let a: Money = serde_json::from_str("\"250.10\"").unwrap();
        let b: Money = serde_json::from_str("250.1").unwrap();
        assert_eq!(a, Money::from_minor(25_010));
        assert_eq!(a, b);
        assert!(serde_json::from_str::<Money>("true").is_err());
    }

    #[test]
    fn payment_status_moves_only_forward() {
        use PaymentStatus::*;
        assert!(New.can_move_to(Signed));
        assert!(New.can_move_to(Done));
        assert!(New.can_move_to(Rejected));
        assert!(Sent.can_move_to(Rejected));
        assert!(!Signed.can_move_to(New));
        assert!(!Done.can_move_to(Rejected));
        assert!(!Rejected.can_move_to(Done));
        assert_eq!("sent".parse::<PaymentStatus>(), Ok(Sent));
    }

    #[test]
    fn a_new_payment_is_new_on_the_wire_and_only_it_can_be_deleted() {
        use PaymentStatus::*;
        assert_eq!(New.as_str(), "new");
        assert_eq!(serde_json::to_value(New).unwrap(), "new");
        assert_eq!("new".parse::<PaymentStatus>(), Ok(New));
        assert!("created".parse::<PaymentStatus>().is_err());
        assert_eq!(New.description(), "Створено, очікує підпису");
        let deletable: Vec<_> = PaymentStatus::ALL
            .into_iter()
            .filter(|s| s.can_be_deleted())
            .collect();
        assert_eq!(deletable, [New]);
    }

    #[test]
    fn payment_answers_have_the_documented_shape() {
        let request: PaymentRequest = serde_json::from_value(serde_json::json!({
            "document_number": "7",
            "recipient_account": "UA903052992990004149123456789",
            "recipient_nceo": "41234567",
            "payment_naming": "ТОВ \"АГРОТЕХ\"",
            "payment_amount": 1500,
            "payment_destination": "Оплата",
            "payer_account": "UA213223130000026007233566001",
            "unknown": "ignored",
        }))
        .unwrap();
        let created = CreatedPayment {
            payment_ref: "R".into(),
            payment_pack_ref: "P".into(),
            payment_data: CreatedPaymentData {
                request,
                payment_status: PaymentStatus::New,
            },
        };
        assert_eq!(
            serde_json::to_value(&created).unwrap(),
            serde_json::json!({
                "payment_ref": "R",
                "payment_pack_ref": "P",
                "payment_data": {
                    "document_number": "7",
                    "recipient_account": "UA903052992990004149123456789",
                    "recipient_nceo": "41234567",
                    "payment_naming": "ТОВ \"АГРОТЕХ\"",
                    "payment_amount": "1500.00",
                    "payment_destination": "Оплата",
                    "payer_account": "UA213223130000026007233566001",
                    "payment_status": "new",
                }
            })
        );
        let answer = PaymentAnswer {
            payment_ref: "R".into(),
            payment_pack_ref: "P".into(),
            payment_status: PaymentStatus::Signed,
            document_number: "7".into(),
            payment_amount: Money::new(1, 2),
            level_sign: LevelSign {
                first: true,
                second: false,
            },
            fields_for_sign: FieldsForSign::DOCUMENTED,
        };
        assert_eq!(
            serde_json::to_value(&answer).unwrap(),
            serde_json::json!({
                "payment_ref": "R",
                "payment_pack_ref": "P",
                "payment_status": "signed",
                "document_number": "7",
                "payment_amount": "1.02",
                "level_sign": {"1_sign_level": true, "2_sign_level": false},
                "fields_for_sign": {"version": "v3.5.0", "fields": ["payment_ref"]},
            })
        );
    }
}
