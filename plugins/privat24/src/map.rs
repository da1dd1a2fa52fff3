//! Pure mapping between the bank's formats and the contract's: dates,
//! amounts, statement lines, payment states. Nothing here calls the host.

use h2h_sdk::bank::{Counterparty, Direction, Transaction, TransferState};
use h2h_sdk::{Error, Money, Result};

use crate::model::{BankBalance, BankTransaction, CreateAnswer, PaymentRequest, field, scalar};

/// `YYYY-MM-DD` split into numbers, if it is a valid calendar date.
fn iso_parts(date: &str) -> Option<(u32, u32, u32)> {
    let bytes = date.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let year = digits(&date[0..4])?;
    let month = digits(&date[5..7])?;
    let day = digits(&date[8..10])?;
    valid_date(year, month, day).then_some((year, month, day))
}

/// `dd.MM.yyyy` split into numbers, if it is a valid calendar date.
fn bank_parts(date: &str) -> Option<(u32, u32, u32)> {
    let bytes = date.as_bytes();
    if bytes.len() != 10 || bytes[2] != b'.' || bytes[5] != b'.' {
        return None;
    }
    let day = digits(&date[0..2])?;
    let month = digits(&date[3..5])?;
    let year = digits(&date[6..10])?;
    valid_date(year, month, day).then_some((year, month, day))
}

fn digits(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn is_leap(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

fn valid_date(year: u32, month: u32, day: u32) -> bool {
    (1..=9999).contains(&year) && day >= 1 && day <= days_in_month(year, month)
}

/// A contract date (`YYYY-MM-DD`) as the bank's query format (`dd-MM-yyyy`).
pub fn query_date(date: &str) -> Result<String> {
    let (year, month, day) = iso_parts(date.trim())
        .ok_or_else(|| Error::invalid_input(format!("`{date}` is not a date as YYYY-MM-DD")))?;
    Ok(format!("{day:02}-{month:02}-{year:04}"))
}

/// A contract date (`YYYY-MM-DD`) as the bank writes dates in bodies
/// (`dd.MM.yyyy`).
pub fn body_date(date: &str) -> Result<String> {
    let (year, month, day) = iso_parts(date.trim())
        .ok_or_else(|| Error::invalid_input(format!("`{date}` is not a date as YYYY-MM-DD")))?;
    Ok(format!("{day:02}.{month:02}.{year:04}"))
}

/// A bank date (`dd.MM.yyyy`, possibly followed by a time) as a contract
/// date (`YYYY-MM-DD`).
pub fn iso_date(bank_date: &str) -> Option<String> {
    let date = bank_date.trim().get(..10)?;
    let (year, month, day) = bank_parts(date)?;
    Some(format!("{year:04}-{month:02}-{day:02}"))
}

/// A bank date (`dd.MM.yyyy`) as the bank's query format (`dd-MM-yyyy`).
pub fn bank_to_query_date(bank_date: &str) -> Option<String> {
    let (year, month, day) = bank_parts(bank_date.trim().get(..10)?)?;
    Some(format!("{day:02}-{month:02}-{year:04}"))
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The day number of the last Sunday of `month`.
fn last_sunday(year: i64, month: i64) -> i64 {
    let last = days_from_civil(year, month + 1, 1) - 1;
    // 1970-01-01 was a Thursday: weekday 0 = Sunday is (days + 4) mod 7.
    last - (last + 4).rem_euclid(7)
}

/// Kyiv's UTC offset in hours at a local time: +3 from the last Sunday of
/// March, 03:00, to the last Sunday of October, 04:00; +2 otherwise.
fn kyiv_offset_hours(year: i64, month: i64, day: i64, hour: i64) -> i64 {
    let today = days_from_civil(year, month, day);
    let start = last_sunday(year, 3);
    let end = last_sunday(year, 10);
    let summer = (today > start || (today == start && hour >= 3))
        && (today < end || (today == end && hour < 4));
    if summer { 3 } else { 2 }
}

/// A bank time (`dd.MM.yyyy HH:mm:ss`, Kyiv) as an RFC 3339 timestamp.
pub fn kyiv_timestamp(bank_time: &str) -> Option<String> {
    let text = bank_time.trim();
    let (year, month, day) = bank_parts(text.get(..10)?)?;
    let time = text.get(10..)?.trim();
    let mut parts = time.split(':');
    let hour = digits(parts.next()?)?;
    let minute = digits(parts.next()?)?;
    let second = match parts.next() {
        Some(s) => digits(s)?,
        None => 0,
    };
    if parts.next().is_some() || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let offset = kyiv_offset_hours(
        i64::from(year),
        i64::from(month),
        i64::from(day),
        i64::from(hour),
    );
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}+{offset:02}:00"
    ))
}

/// Seconds since the Unix epoch as the UTC date, `YYYY-MM-DD`.
pub fn utc_date(unix_seconds: u64) -> String {
    h2h_sdk::time::rfc3339(unix_seconds)[..10].to_owned()
}

/// A decimal amount split up: sign, integer digits without leading zeros
/// (`"0"` for none), fraction digits without trailing zeros.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Decimal {
    negative: bool,
    int: String,
    frac: String,
}

/// Parses `-?digits(.digits)?`, also with a decimal comma.
fn decimal(text: &str) -> Option<Decimal> {
    let text = text.trim();
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (int, frac) = match unsigned.split_once(['.', ',']) {
        Some((int, frac)) => (int, frac),
        None => (unsigned, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !all_digits(int) || !all_digits(frac) {
        return None;
    }
    if unsigned.len() > int.len() && frac.is_empty() {
        return None;
    }
    let int = int.trim_start_matches('0');
    Some(Decimal {
        negative,
        int: if int.is_empty() { "0" } else { int }.to_owned(),
        frac: frac.trim_end_matches('0').to_owned(),
    })
}

impl Decimal {
    fn is_zero(&self) -> bool {
        self.int == "0" && self.frac.is_empty()
    }

    /// Without sign, at least `min_frac` fraction digits.
    fn magnitude(&self, min_frac: usize) -> String {
        let mut frac = self.frac.clone();
        while frac.len() < min_frac {
            frac.push('0');
        }
        if frac.is_empty() {
            self.int.clone()
        } else {
            format!("{}.{frac}", self.int)
        }
    }
}

/// The bank's `SUM` as a positive contract amount (`"1500.00"`); none for
/// zero. The sign is the direction's business, so a minus is dropped.
pub fn statement_amount(sum: &str) -> Result<Option<String>, String> {
    let value = decimal(sum).ok_or_else(|| format!("SUM `{sum}` is not a decimal"))?;
    Ok((!value.is_zero()).then(|| value.magnitude(2)))
}

/// A transfer amount as the bank takes it: positive, at most two decimals,
/// written `"1500.00"`.
pub fn payment_amount(amount: &str) -> Option<String> {
    let value = decimal(amount)?;
    if value.negative || value.is_zero() || value.frac.len() > 2 || amount.contains(',') {
        return None;
    }
    Some(value.magnitude(2))
}

/// A balance as a contract amount, sign kept (an overdraft is negative),
/// at least two decimals.
pub fn signed_amount(text: &str) -> Option<String> {
    let value = decimal(text)?;
    let magnitude = value.magnitude(2);
    Some(if value.negative && !value.is_zero() {
        format!("-{magnitude}")
    } else {
        magnitude
    })
}

/// True when two decimal texts (or numbers printed) are the same amount.
pub fn same_amount(a: &str, b: &str) -> bool {
    match (decimal(a), decimal(b)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// Whether a line is booked for real: `FL_REAL` `r` (not `i`,
/// informational) and `PR_PR` `r` (not `p`, in progress, `t`, reversed, or
/// `n`, rejected). A line without the flag is taken as real and done.
pub fn is_booked(line: &BankTransaction) -> bool {
    let is_r = |name: &str| {
        line.get(name)
            .is_none_or(|value| value.eq_ignore_ascii_case("r"))
    };
    is_r(field::FL_REAL) && is_r(field::PR_PR)
}

/// Fields mapped into the transaction's own fields; every other field goes
/// into `extra` under the bank's name.
const MAPPED: &[&str] = &[
    field::SUM,
    field::CCY,
    field::DAT_OD,
    field::OSND,
    field::AUT_CNTR_NAM,
    field::AUT_CNTR_ACC,
    field::AUT_CNTR_CRF,
];

/// The line's unique reference, `REF#REFN` (`REF` names the bank
/// document, `REFN` the line within it), as the bank's description keys a
/// line; `ID` only for a line without `REF`. Production clients report that
/// `ID` is not unique and was renumbered in March 2026 (capitalbank moved
/// to `REF#REFN` on 18 March 2026).
pub fn bank_reference(line: &BankTransaction) -> Option<String> {
    match (line.get(field::REF), line.get(field::REFN)) {
        (Some(reference), Some(n)) => Some(format!("{reference}#{n}")),
        (Some(reference), None) => Some(reference),
        _ => line.get(field::ID),
    }
}

/// The keys connector 1.0.0 stored the line under (its `ID`), so the host
/// finds lines it stored before the key changed.
pub fn former_references(line: &BankTransaction, reference: &str) -> Vec<String> {
    line.get(field::ID)
        .filter(|id| id != reference)
        .into_iter()
        .collect()
}

/// A statement line as a contract transaction; none for a line that is
/// not booked for real ([`is_booked`]) or moves no money.
pub fn transaction(line: &BankTransaction, currency: &str) -> Result<Option<Transaction>> {
    if !is_booked(line) {
        return Ok(None);
    }
    let reference = bank_reference(line)
        .ok_or_else(|| Error::protocol("a statement line has neither ID nor REF"))?;
    let bad = |what: String| Error::protocol(format!("statement line {reference}: {what}"));
    let direction = match line.get(field::TRANTYPE).as_deref() {
        Some("C" | "c") => Direction::Credit,
        Some("D" | "d") => Direction::Debit,
        other => return Err(bad(format!("TRANTYPE {other:?} is not C or D"))),
    };
    let sum = line
        .get(field::SUM)
        .ok_or_else(|| bad("no SUM".to_owned()))?;
    let Some(amount) = statement_amount(&sum).map_err(bad)? else {
        return Ok(None);
    };
    let booking_date = line
        .get(field::DAT_OD)
        .or_else(|| line.get("DATE_TIME_DAT_OD_TIM_P"))
        .and_then(|d| iso_date(&d))
        .ok_or_else(|| bad("no valid DAT_OD".to_owned()))?;
    // The bank's description calls DAT_OD the value date; the statement is
    // filtered and dated by it too, so it is both.
    let value_date = line.get(field::DAT_OD).and_then(|d| iso_date(&d));
    let own_reference = match direction {
        // Our own payments carry our document number.
        Direction::Debit => line.get(field::NUM_DOC),
        Direction::Credit => None,
    };
    let extra = line
        .0
        .iter()
        .filter(|(name, _)| !MAPPED.contains(&name.as_str()))
        .filter_map(|(name, value)| Some((name.clone(), scalar(value)?)))
        .collect();
    let former = former_references(line, &reference);
    let mut transaction = Transaction::new(
        reference,
        booking_date,
        direction,
        Money::new(
            amount,
            line.get(field::CCY).unwrap_or_else(|| currency.to_owned()),
        ),
        line.get(field::OSND).unwrap_or_default(),
    );
    transaction.counterparty = Counterparty {
        name: line.get(field::AUT_CNTR_NAM),
        account: line.get(field::AUT_CNTR_ACC),
        tax_id: line.get(field::AUT_CNTR_CRF),
        ..Counterparty::default()
    };
    transaction.former_references = former;
    transaction.value_date = value_date;
    transaction.own_reference = own_reference;
    transaction.extra = extra;
    Ok(Some(transaction))
}

/// The lines of a page that are booked, mapped, without repeats of a
/// reference already in `seen` (the bank may serve a page twice).
pub fn transactions(
    lines: &[BankTransaction],
    currency: &str,
    seen: &mut Vec<String>,
) -> Result<Vec<Transaction>> {
    let mut mapped = Vec::new();
    for line in lines {
        if let Some(transaction) = transaction(line, currency)? {
            if seen.contains(&transaction.bank_reference) {
                continue;
            }
            seen.push(transaction.bank_reference.clone());
            mapped.push(transaction);
        }
    }
    Ok(mapped)
}

/// The status words of a payment that public sources describe: only `new`
/// (created, waiting for a signature in Privat24). Any other word is
/// unknown: the payment is pending until the statement shows it booked.
pub fn known_state(status: &str) -> Option<TransferState> {
    match status.trim().to_ascii_lowercase().as_str() {
        "new" => Some(TransferState::AwaitingApproval),
        _ => None,
    }
}

/// The statement line that books our payment: an executed debit whose
/// `DLR` is the payment's pack reference, or whose `NUM_DOC` is its
/// document number (a payment created without an answer has no pack
/// reference yet). Its reference, `REF#REFN`.
pub fn booked_payment(
    lines: &[BankTransaction],
    document_number: &str,
    pack_ref: Option<&str>,
) -> Option<String> {
    lines
        .iter()
        .filter(|line| is_booked(line))
        .filter(|line| {
            line.get(field::TRANTYPE)
                .is_some_and(|t| t.eq_ignore_ascii_case("D"))
        })
        .find(|line| {
            let by_pack =
                pack_ref.is_some_and(|pack| line.get(field::DLR).as_deref() == Some(pack));
            by_pack || line.get(field::NUM_DOC).as_deref() == Some(document_number)
        })
        .and_then(bank_reference)
}

/// The record of `account` for `day` (`dd-MM-yyyy`) among a balance
/// answer's records: the one whose `dpd` is that day, else the account's
/// only record.
pub fn day_balance(records: Vec<BankBalance>, account: &str, day: &str) -> Result<BankBalance> {
    let mine: Vec<BankBalance> = records
        .into_iter()
        .filter(|b| scalar(&b.acc).is_none_or(|acc| compact_account(&acc) == account))
        .collect();
    let of_day = |b: &BankBalance| {
        scalar(&b.dpd)
            .and_then(|dpd| bank_to_query_date(&dpd))
            .is_some_and(|d| d == day)
    };
    if let Some(record) = mine.iter().find(|b| of_day(b)) {
        return Ok(record.clone());
    }
    match <[BankBalance; 1]>::try_from(mine) {
        Ok([only]) => Ok(only),
        Err(mine) if mine.is_empty() => Err(Error::protocol(format!(
            "Privat24 returned no balance for {account} on {day}"
        ))),
        Err(_) => Err(Error::protocol(format!(
            "Privat24 returned several balances of {account}, none for {day}"
        ))),
    }
}

/// The recipient's EDRPOU (8 digits) or tax number (10 digits), which the
/// contract's transfer has no field for: the transfer's
/// `counterparty-address` carries it (Ukrainian domestic payments need no
/// address). Spaces are ignored.
pub fn recipient_code(address: Option<&str>) -> Option<String> {
    let code: String = address?.chars().filter(|c| !c.is_whitespace()).collect();
    (matches!(code.len(), 8 | 10) && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

/// An account number without spaces, upper-case.
pub fn compact_account(account: &str) -> String {
    account
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase()
}

/// Whether the payment a create answered with is the one `request` asked
/// for. No public source says the bank answers a repeated document number
/// with the payment it already has; if it does, a different document
/// number, recipient or amount means another payment used the number.
pub fn is_same_payment(answer: &CreateAnswer, request: &PaymentRequest) -> bool {
    answer.payment_data.as_ref().is_none_or(|data| {
        let document =
            scalar(&data.document_number).is_none_or(|number| number == request.document_number);
        let account = scalar(&data.recipient_account)
            .is_none_or(|account| compact_account(&account) == request.recipient_account);
        let amount = scalar(&data.payment_amount)
            .is_none_or(|amount| same_amount(&amount, &request.payment_amount));
        document && account && amount
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn line(value: serde_json::Value) -> BankTransaction {
        serde_json::from_value(value).expect("a JSON object")
    }

    #[test]
    fn dates_convert_both_ways() {
        assert_eq!(query_date("2026-11-23").ok(), Some("23-11-2026".into()));
        assert_eq!(body_date("2026-02-01").ok(), Some("01.02.2026".into()));
        assert!(query_date("2026-02-30").is_err());
        assert!(query_date("23.11.2026").is_err());
        assert_eq!(iso_date("21.11.2026"), Some("2026-11-21".into()));
        assert_eq!(iso_date("21.11.2026 10:15:00"), Some("2026-11-21".into()));
        assert_eq!(iso_date("2026-11-21"), None);
        assert_eq!(bank_to_query_date("23.11.2026"), Some("23-11-2026".into()));
    }

    #[test]
    fn kyiv_time_has_its_offset() {
        assert_eq!(
            kyiv_timestamp("23.11.2026 09:37:56").as_deref(),
            Some("2026-11-23T09:37:56+02:00")
        );
        assert_eq!(
            kyiv_timestamp("01.07.2026 12:00:00").as_deref(),
            Some("2026-07-01T12:00:00+03:00")
        );
        // 2026: summer time from 29 March 03:00 to 25 October 04:00.
        assert_eq!(
            kyiv_timestamp("29.03.2026 02:59:59").as_deref(),
            Some("2026-03-29T02:59:59+02:00")
        );
        assert_eq!(
            kyiv_timestamp("29.03.2026 03:00:00").as_deref(),
            Some("2026-03-29T03:00:00+03:00")
        );
        assert_eq!(
            kyiv_timestamp("25.10.2026 04:00:00").as_deref(),
            Some("2026-10-25T04:00:00+02:00")
        );
        assert_eq!(kyiv_timestamp("23.11.2026"), None);
        assert_eq!(kyiv_timestamp("23.11.2026 25:00:00"), None);
    }

    #[test]
    fn utc_dates() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(1_795_425_476), "2026-11-23");
    }

    #[test]
    fn amounts() {
        assert_eq!(
            statement_amount("1500.00").ok(),
            Some(Some("1500.00".into()))
        );
        assert_eq!(statement_amount("-3.5").ok(), Some(Some("3.50".into())));
        assert_eq!(statement_amount("0.00").ok(), Some(None));
        assert_eq!(statement_amount("7").ok(), Some(Some("7.00".into())));
        assert_eq!(statement_amount("0.125").ok(), Some(Some("0.125".into())));
        assert!(statement_amount("1e3").is_err());
        assert!(statement_amount("").is_err());
        assert!(statement_amount("1.").is_err());
        assert_eq!(payment_amount("1234.5"), Some("1234.50".into()));
        assert_eq!(payment_amount("0012"), Some("12.00".into()));
        assert_eq!(payment_amount("0.00"), None);
        assert_eq!(payment_amount("-1.00"), None);
        assert_eq!(payment_amount("1.001"), None);
        assert_eq!(payment_amount("1,00"), None);
        assert!(same_amount("1500", "1500.00"));
        assert!(!same_amount("1500.01", "1500.00"));
    }

    #[test]
    fn a_line_maps_with_extra_fields() {
        let bank = line(json!({
            "AUT_MY_ACC": "UA213223130000026007233566001",
            "AUT_CNTR_ACC": "UA903052992990004149123456789",
            "AUT_CNTR_NAM": "ТОВ \"РОМАШКА\"",
            "AUT_CNTR_CRF": "12345678",
            "CCY": "UAH",
            "FL_REAL": "r",
            "PR_PR": "r",
            "NUM_DOC": "K3J9X0QZ00",
            "DAT_OD": "21.11.2026",
            "DATE_TIME_DAT_OD_TIM_P": "21.11.2026 10:15:00",
            "OSND": "Оплата рахунку FV/2026/11/0042",
            "SUM": "1500.00",
            "REF": "SIMREF1",
            "REFN": "1",
            "ID": "2318042030",
            "TRANTYPE": "C",
            "DLR": ""
        }));
        let t = transaction(&bank, "UAH")
            .ok()
            .flatten()
            .expect("a booked line");
        assert_eq!(t.bank_reference, "SIMREF1#1");
        assert_eq!(t.former_references, ["2318042030"]);
        assert_eq!(t.booking_date, "2026-11-21");
        assert_eq!(t.value_date.as_deref(), Some("2026-11-21"));
        assert!(matches!(t.direction, Direction::Credit));
        assert_eq!(t.amount.amount, "1500.00");
        assert_eq!(t.amount.currency, "UAH");
        assert_eq!(t.counterparty.tax_id.as_deref(), Some("12345678"));
        assert_eq!(t.title, "Оплата рахунку FV/2026/11/0042");
        // A credit's document number is the payer's, not ours.
        assert_eq!(t.own_reference, None);
        let names: Vec<&str> = t.extra.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "AUT_MY_ACC",
                "DATE_TIME_DAT_OD_TIM_P",
                "FL_REAL",
                "ID",
                "NUM_DOC",
                "PR_PR",
                "REF",
                "REFN",
                "TRANTYPE"
            ]
        );
    }

    #[test]
    fn debits_carry_our_document_number() {
        let bank = line(json!({
            "ID": "7", "TRANTYPE": "D", "SUM": "10.00", "DAT_OD": "21.11.2026",
            "NUM_DOC": "K3J9X0QZ00", "OSND": "x"
        }));
        let t = transaction(&bank, "UAH").ok().flatten().expect("booked");
        assert!(matches!(t.direction, Direction::Debit));
        assert_eq!(t.own_reference.as_deref(), Some("K3J9X0QZ00"));
    }

    #[test]
    fn lines_not_booked_for_real_are_skipped() {
        for (real, done) in [("i", "r"), ("r", "p"), ("r", "t")] {
            let bank = line(json!({
                "ID": "1", "TRANTYPE": "C", "SUM": "1.00", "DAT_OD": "21.11.2026",
                "FL_REAL": real, "PR_PR": done
            }));
            assert!(
                matches!(transaction(&bank, "UAH"), Ok(None)),
                "{real}/{done}"
            );
        }
    }

    #[test]
    fn reference_is_ref_and_refn_and_names_the_former_id() {
        let bank = line(json!({"REF": "ABC", "REFN": "2", "ID": "77"}));
        assert_eq!(bank_reference(&bank).as_deref(), Some("ABC#2"));
        assert_eq!(former_references(&bank, "ABC#2"), ["77"]);
        let no_id = line(json!({"REF": "ABC", "REFN": "2", "ID": ""}));
        assert!(former_references(&no_id, "ABC#2").is_empty());
        assert_eq!(
            bank_reference(&line(json!({"ID": 42}))).as_deref(),
            Some("42")
        );
        assert_eq!(bank_reference(&line(json!({}))), None);
    }

    #[test]
    fn malformed_lines_are_protocol_errors() {
        let bank = line(json!({"ID": "1", "TRANTYPE": "X", "SUM": "1.00", "DAT_OD": "21.11.2026"}));
        assert!(matches!(transaction(&bank, "UAH"), Err(Error::Protocol(_))));
        let bank = line(json!({"ID": "1", "TRANTYPE": "C", "SUM": "abc", "DAT_OD": "21.11.2026"}));
        assert!(matches!(transaction(&bank, "UAH"), Err(Error::Protocol(_))));
        let bank = line(json!({"ID": "1", "TRANTYPE": "C", "SUM": "1", "DAT_OD": "2026-11-21"}));
        assert!(matches!(transaction(&bank, "UAH"), Err(Error::Protocol(_))));
    }

    #[test]
    fn repeated_lines_are_dropped() {
        let a = line(json!({"ID": "1", "TRANTYPE": "C", "SUM": "1", "DAT_OD": "21.11.2026"}));
        let b = line(json!({"ID": "2", "TRANTYPE": "D", "SUM": "2", "DAT_OD": "21.11.2026"}));
        let mut seen = Vec::new();
        let page = transactions(&[a.clone(), b, a], "UAH", &mut seen).unwrap_or_default();
        assert_eq!(page.len(), 2);
    }

    #[test]
    fn recipient_codes() {
        assert_eq!(recipient_code(Some(" 1234 5678 ")), Some("12345678".into()));
        assert_eq!(
            recipient_code(Some("1234567890")),
            Some("1234567890".into())
        );
        assert_eq!(recipient_code(Some("123456789")), None);
        assert_eq!(recipient_code(Some("Kyiv, Khreshchatyk 1")), None);
        assert_eq!(recipient_code(None), None);
    }

    #[test]
    fn balances_keep_their_sign() {
        assert_eq!(signed_amount("250000.00").as_deref(), Some("250000.00"));
        assert_eq!(signed_amount("-12.5").as_deref(), Some("-12.50"));
        assert_eq!(signed_amount("-0.00").as_deref(), Some("0.00"));
        assert_eq!(signed_amount("x"), None);
    }

    fn request() -> PaymentRequest {
        PaymentRequest {
            document_number: "K3J9X0QZ00".into(),
            recipient_account: "UA903052992990004149123456789".into(),
            recipient_nceo: "12345678".into(),
            payment_naming: "ТОВ \"РОМАШКА\"".into(),
            payment_amount: "1500.00".into(),
            payment_destination: "Оплата".into(),
            payment_ccy: "UAH".into(),
            payer_account: "UA213223130000026007233566001".into(),
            payment_date: None,
        }
    }

    #[test]
    fn a_create_answer_for_another_payment_is_recognised() {
        let answer = |number: &str, amount: serde_json::Value| -> CreateAnswer {
            serde_json::from_value(json!({
                "payment_ref": "1123828417658092296",
                "payment_pack_ref": "PP1234567890",
                "payment_data": {
                    "document_number": number,
                    "recipient_account": "UA903052992990004149123456789",
                    "payment_amount": amount,
                    "payment_status": "new"
                }
            }))
            .expect("a create answer")
        };
        let same = answer("K3J9X0QZ00", json!("1500.00"));
        assert_eq!(same.status().as_deref(), Some("new"));
        assert!(is_same_payment(&same, &request()));
        assert!(is_same_payment(
            &answer("K3J9X0QZ00", json!(1500)),
            &request()
        ));
        assert!(!is_same_payment(
            &answer("K3J9X0QZ00", json!("15.00")),
            &request()
        ));
        assert!(!is_same_payment(
            &answer("OTHER", json!("1500.00")),
            &request()
        ));
    }

    #[test]
    fn only_new_is_a_known_payment_status() {
        assert!(matches!(
            known_state("new"),
            Some(TransferState::AwaitingApproval)
        ));
        assert!(matches!(
            known_state(" NEW "),
            Some(TransferState::AwaitingApproval)
        ));
        for unknown in ["created", "signed", "sent", "done", "rejected", ""] {
            assert!(known_state(unknown).is_none(), "{unknown}");
        }
    }

    #[test]
    fn our_payment_is_found_on_the_statement_by_pack_or_document_number() {
        let lines = vec![
            line(json!({"REF": "A", "REFN": "1", "TRANTYPE": "C", "NUM_DOC": "K3J9X0QZ00"})),
            line(
                json!({"REF": "B", "REFN": "1", "TRANTYPE": "D", "NUM_DOC": "K3J9X0QZ00", "PR_PR": "p"}),
            ),
            line(json!({"REF": "C", "REFN": "2", "TRANTYPE": "D", "NUM_DOC": "17", "DLR": "PP1"})),
            line(json!({"REF": "D", "REFN": "1", "TRANTYPE": "D", "NUM_DOC": "K3J9X0QZ00"})),
        ];
        // A credit or a line still in progress is not our executed payment.
        assert_eq!(
            booked_payment(&lines, "K3J9X0QZ00", None).as_deref(),
            Some("D#1")
        );
        assert_eq!(
            booked_payment(&lines, "NOPE", Some("PP1")).as_deref(),
            Some("C#2")
        );
        assert_eq!(booked_payment(&lines, "NOPE", Some("PP2")), None);
    }

    #[test]
    fn the_balance_of_a_day_is_the_record_of_that_day() {
        let record = |acc: &str, dpd: &str, out: &str| -> BankBalance {
            serde_json::from_value(json!({"acc": acc, "currency": "UAH", "balanceIn": "0",
                                          "balanceOut": out, "dpd": dpd}))
            .expect("a record")
        };
        let acc = "UA213223130000026007233566001";
        let records = vec![
            record(acc, "20.11.2026 00:00:00", "10.00"),
            record(acc, "21.11.2026 00:00:00", "20.00"),
            record("UA000", "22.11.2026 00:00:00", "30.00"),
        ];
        let day = day_balance(records.clone(), acc, "21-11-2026").expect("the day");
        assert_eq!(scalar(&day.balance_out).as_deref(), Some("20.00"));
        // Several records, none of the day: no guessing.
        assert!(day_balance(records.clone(), acc, "22-11-2026").is_err());
        // One record of the account: it is the answer, whatever its dpd.
        let only = day_balance(records[1..].to_vec(), acc, "25-11-2026").expect("only");
        assert_eq!(scalar(&only.balance_out).as_deref(), Some("20.00"));
        assert!(day_balance(Vec::new(), acc, "21-11-2026").is_err());
    }
}
