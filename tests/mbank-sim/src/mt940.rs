//! MT940 and MT942 the mBank CompanyNet way: each account block framed by
//! SOH (0x01) … `-` ETX (0x03), `:20:STyyMMddCYC/n`, `:25:` the IBAN,
//! `:61:` with the currency letter (`N` = PLN) and a `NNN-TEXT` line after
//! it, `:86:` as `;`-separated free text ending with the TNR, wrapped at 65
//! characters wherever the limit falls; CRLF. Encoded ISO-8859-2 by the
//! caller.

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};

use crate::model::{Account, Amount, Direction, Transaction};

/// One day of one account's statement.
pub(crate) struct DayStatement {
    pub(crate) date: NaiveDate,
    pub(crate) opening: i64,
    pub(crate) lines: Vec<Transaction>,
    pub(crate) closing: i64,
}

const SOH: char = '\u{1}';
const ETX: char = '\u{3}';

fn balance(date: NaiveDate, grosze: i64) -> String {
    let mark = if grosze < 0 { 'D' } else { 'C' };
    format!(
        "{mark}{}PLN{}",
        date.format("%y%m%d"),
        Amount(grosze).mt940()
    )
}

/// Data must not open a new `;` part or break a line.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if matches!(c, ';' | '\r' | '\n') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// The account digits as mBank prints them in `Z RACH.:` (an NRB without
/// `PL`; anything else as given).
fn account_digits(a: &str) -> String {
    let compact: String = a.chars().filter(|c| !c.is_whitespace()).collect();
    match compact.strip_prefix("PL") {
        Some(nrb) if nrb.len() == 26 => nrb.to_string(),
        _ => compact,
    }
}

/// The `:61:` customer reference: at most 16 characters (SWIFT `16x`).
pub(crate) fn customer_reference(t: &Transaction) -> String {
    t.customer_reference
        .as_deref()
        .filter(|r| !r.is_empty())
        .map_or_else(|| "NONREF".into(), |r| r.chars().take(16).collect())
}

/// The `:86:` text, unwrapped.
pub(crate) fn details(t: &Transaction) -> String {
    let (acct_key, name_key) = match t.direction {
        Direction::Credit => ("Z RACH.", "OD"),
        Direction::Debit => ("NA RACH.", "DO"),
    };
    let mut s = format!(
        "{} {}; {acct_key}: {}; {name_key}: {}; TYT.: {}; DATA STEMPLA: {}",
        t.type_code,
        clean(&t.type_text),
        account_digits(&t.counterparty_account),
        clean(&t.counterparty_name).replace('|', " "),
        clean(&t.title).replace('|', " "),
        t.booking_date.format("%Y-%m-%d"),
    );
    if let Some(r) = t.customer_reference.as_deref().filter(|r| !r.is_empty()) {
        s.push_str(&format!("; REF. KLIENTA: {}", clean(r)));
    }
    s.push_str(&format!("; TNR: {}", t.tnr));
    s
}

fn wrap86(content: &str, out: &mut String) {
    let mut width = 4;
    out.push_str(":86:");
    for c in content.chars() {
        if width == 65 {
            out.push_str("\r\n");
            width = 0;
        }
        out.push(c);
        width += 1;
    }
    out.push_str("\r\n");
}

fn line(t: &Transaction, out: &mut String) {
    out.push_str(&format!(
        ":61:{}{}{}N{}NTRF{}//{}\r\n",
        t.value_date.format("%y%m%d"),
        t.booking_date.format("%m%d"),
        t.direction.mark(),
        t.amount.mt940(),
        customer_reference(t),
        t.bank_reference,
    ));
    let supplementary: String = format!("{}-{}", t.type_code, clean(&t.type_text))
        .chars()
        .take(34)
        .collect();
    out.push_str(&supplementary);
    out.push_str("\r\n");
    wrap86(&details(t), out);
}

fn lines(ts: &[Transaction], duplicate_first: bool, out: &mut String) {
    for (i, t) in ts.iter().enumerate() {
        line(t, out);
        if duplicate_first && i == 0 {
            line(t, out);
        }
    }
}

/// End-of-day statements, one block per day. `account_no` (the account's
/// place at the bank, from 1) ends `:20:`.
pub(crate) fn render_mt940(
    account: &Account,
    account_no: usize,
    days: &[DayStatement],
    duplicate_first: bool,
) -> String {
    let mut out = String::new();
    for d in days {
        out.push(SOH);
        out.push_str("\r\n");
        out.push_str(&format!(
            ":20:ST{}CYC/{account_no}\r\n:25:{}\r\n:28C:{}/1\r\n:60F:{}\r\n",
            d.date.format("%y%m%d"),
            account.iban,
            d.date.ordinal(),
            balance(d.date, d.opening)
        ));
        lines(&d.lines, duplicate_first, &mut out);
        let close = balance(d.date, d.closing);
        out.push_str(&format!(":62F:{close}\r\n:64:{close}\r\n-{ETX}\r\n"));
    }
    out
}

/// The intraday report of the business day: its lines so far.
pub(crate) fn render_mt942(
    account: &Account,
    account_no: usize,
    day: NaiveDate,
    now: DateTime<Utc>,
    ts: &[Transaction],
    duplicate_first: bool,
) -> String {
    // Polish winter time, fixed (assumed: no DST switch).
    let local = now + TimeDelta::hours(1);
    let mut out = String::new();
    out.push(SOH);
    out.push_str("\r\n");
    out.push_str(&format!(
        ":20:ST{}CYC/{account_no}\r\n:25:{}\r\n:28C:{}/1\r\n:34F:PLND0,\r\n:34F:PLNC0,\r\n:13D:{}+0100\r\n",
        day.format("%y%m%d"),
        account.iban,
        day.ordinal(),
        local.format("%y%m%d%H%M"),
    ));
    lines(ts, duplicate_first, &mut out);
    let mut served: Vec<&Transaction> = ts.iter().collect();
    if duplicate_first && let Some(first) = ts.first() {
        served.push(first);
    }
    for dir in [Direction::Debit, Direction::Credit] {
        let of: Vec<&&Transaction> = served.iter().filter(|t| t.direction == dir).collect();
        let sum: i64 = of.iter().map(|t| t.amount.0).sum();
        out.push_str(&format!(
            ":90{}:{}PLN{}\r\n",
            dir.mark(),
            of.len(),
            Amount(sum).mt940()
        ));
    }
    out.push('-');
    out.push(ETX);
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx() -> Transaction {
        let d = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        Transaction {
            account: "PL81114020040000320212345678".into(),
            direction: Direction::Debit,
            amount: Amount(123_456),
            booking_date: d,
            value_date: d,
            tnr: "263340000000042.000001".into(),
            bank_reference: "MB261130000042".into(),
            customer_reference: Some("ERP-FV-2026-11-000042".into()),
            type_code: "920".into(),
            type_text: "PRZELEW ZEWNĘTRZNY WYCHODZĄCY".into(),
            title: "Zapłata; za fakturę FV/1|w Łodzi".into(),
            counterparty_name: "Żółta Łódź Sp. z o.o.".into(),
            counterparty_account: "PL61109010140000071219812874".into(),
        }
    }

    #[test]
    fn a_line_as_mbank_writes_it() {
        let mut out = String::new();
        line(&tx(), &mut out);
        let ls: Vec<&str> = out.split("\r\n").collect();
        assert_eq!(
            ls[0],
            ":61:2611301130DN1234,56NTRFERP-FV-2026-11-0//MB261130000042"
        );
        assert_eq!(ls[1], "920-PRZELEW ZEWNĘTRZNY WYCHODZĄCY");
        assert!(ls.iter().all(|l| l.chars().count() <= 65));
        let joined: String = ls[2..].concat();
        assert_eq!(
            joined,
            ":86:920 PRZELEW ZEWNĘTRZNY WYCHODZĄCY; NA RACH.: 61109010140000071219812874; \
             DO: Żółta Łódź Sp. z o.o.; TYT.: Zapłata  za fakturę FV/1 w Łodzi; \
             DATA STEMPLA: 2026-11-30; REF. KLIENTA: ERP-FV-2026-11-000042; TNR: 263340000000042.000001"
        );
    }
}
