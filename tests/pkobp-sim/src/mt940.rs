//! MT940 as the simulator writes it: the ZBP variant PKO BP uses (`:86:`
//! with a 3-digit operation code and `~` subfields), CRLF, lines of at
//! most 65 characters, encoded ISO-8859-2 by the caller.

use chrono::Datelike;

use crate::iban::{account_part, is_valid_pl_iban, sort_code};
use crate::model::{Account, Transaction};
use crate::state::DayStatement;

/// `C261130PLN250000,00`.
fn balance(date: chrono::NaiveDate, grosze: i64) -> String {
    let mark = if grosze < 0 { 'D' } else { 'C' };
    format!(
        "{mark}{}PLN{}",
        date.format("%y%m%d"),
        crate::model::Amount(grosze).mt940()
    )
}

/// Up to `n` pieces of at most `width` characters.
fn pieces(s: &str, width: usize, n: usize) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    chars
        .chunks(width)
        .take(n)
        .map(|c| c.iter().collect())
        .collect()
}

/// Strips the separator so data cannot open a subfield.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c == '~' || c == '\r' || c == '\n' {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// The `:61:` customer reference: at most 16 characters (SWIFT `16x`).
pub(crate) fn customer_reference(t: &Transaction) -> String {
    match &t.customer_reference {
        Some(r) => r.chars().take(16).collect(),
        None => "NONREF".into(),
    }
}

/// The `:86:` content, unwrapped.
pub(crate) fn details(t: &Transaction) -> String {
    let mut s = format!("{}~00{}", t.type_code, clean(&t.type_text));
    for (i, p) in pieces(&clean(&t.title), 27, 6).iter().enumerate() {
        s.push_str(&format!("~{}{p}", 20 + i));
    }
    if is_valid_pl_iban(&t.counterparty_iban) {
        s.push_str(&format!(
            "~30{}~31{}",
            sort_code(&t.counterparty_iban),
            account_part(&t.counterparty_iban)
        ));
    }
    for (i, p) in pieces(&clean(&t.counterparty_name), 27, 2)
        .iter()
        .enumerate()
    {
        s.push_str(&format!("~{}{p}", 32 + i));
    }
    s.push_str(&format!("~38{}", t.counterparty_iban));
    if let Some(r) = &t.customer_reference {
        s.push_str(&format!("~60REF:{}", clean(r)));
    }
    s
}

/// `:86:` + content wrapped at 65 characters per line (the tag counts on
/// the first line, as the written PKO fixture of `formats/mt940` does).
fn wrap86(content: &str, out: &mut String) {
    let mut line = String::from(":86:");
    let mut len = 4;
    for c in content.chars() {
        if len == 65 {
            out.push_str(&line);
            out.push_str("\r\n");
            line.clear();
            len = 0;
        }
        line.push(c);
        len += 1;
    }
    out.push_str(&line);
    out.push_str("\r\n");
}

/// `:61:` line.
fn line61(t: &Transaction) -> String {
    format!(
        ":61:{}{}{}{}N{}{}//{}",
        t.value_date.format("%y%m%d"),
        t.booking_date.format("%m%d"),
        t.direction.mark(),
        t.amount.mt940(),
        t.type_code,
        customer_reference(t),
        t.bank_reference
    )
}

/// The statements of one account, one per day, as text (CRLF).
/// `account_no` (1-based, the account's place at the bank) ends `:20:`, so
/// a day's statement keeps its reference whatever range is asked for.
/// `duplicate_first` serves every day's first line twice (a fault).
pub(crate) fn render(
    account: &Account,
    account_no: usize,
    days: &[DayStatement],
    duplicate_first: bool,
    out: &mut String,
) {
    for day in days {
        out.push_str(&format!(
            ":20:MT940/{}/{}\r\n",
            day.date.format("%Y%m%d"),
            account_no
        ));
        out.push_str(&format!(":25:/{}\r\n", account.iban));
        out.push_str(&format!(":28C:{}/1\r\n", day.date.ordinal()));
        out.push_str(&format!(":60F:{}\r\n", balance(day.date, day.opening)));
        for (i, t) in day.lines.iter().enumerate() {
            let times = if duplicate_first && i == 0 { 2 } else { 1 };
            for _ in 0..times {
                out.push_str(&line61(t));
                out.push_str("\r\n");
                wrap86(&details(t), out);
            }
        }
        out.push_str(&format!(":62F:{}\r\n", balance(day.date, day.closing)));
        out.push_str("-\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Amount, Direction};

    #[test]
    fn lines_are_wrapped_at_65() {
        let t = Transaction {
            account: "PL61109010140000071219812874".into(),
            direction: Direction::Debit,
            amount: Amount(123_456),
            booking_date: chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
            value_date: chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(),
            type_code: "073".into(),
            type_text: "PRZELEW WYCHODZĄCY".into(),
            customer_reference: Some("ERP-REF-0000000000042".into()),
            bank_reference: "PKO261130000001".into(),
            title: "Czynsz za grudzień, lokal użytkowy nr 12 w Łodzi".into(),
            counterparty_name: "Żółta Łódź Spółka z ograniczoną odpowiedzialnością".into(),
            counterparty_iban: "PL61109010140000071219812874".into(),
        };
        assert_eq!(
            line61(&t),
            ":61:2611291130D1234,56N073ERP-REF-00000000//PKO261130000001"
        );
        let mut out = String::new();
        wrap86(&details(&t), &mut out);
        for l in out.split("\r\n") {
            assert!(l.chars().count() <= 65, "{l}");
        }
        let joined: String = out.replace("\r\n", "");
        assert!(
            joined.starts_with(":86:073~00PRZELEW WYCHODZĄCY~20Czynsz za grudzień, lokal u~21")
        );
        assert!(joined.contains("~3010901014~310000071219812874~32Żółta Łódź Spółka z ogranic~33"));
        assert!(joined.ends_with("~38PL61109010140000071219812874~60REF:ERP-REF-0000000000042"));
    }
}
