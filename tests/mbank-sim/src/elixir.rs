//! Elixir-O transfer files as the simulator takes them: one transfer a
//! line, comma-separated fields in a fixed order, text fields in double
//! quotes, each text up to 4 pieces of 35 characters joined by `|`,
//! ISO-8859-2, CRLF (LF also read).
//!
//! | # | field | check (code) |
//! |---|---|---|
//! | 1 | `110` | `BAD_TRANSACTION_TYPE` |
//! | 2 | execution date `YYYYMMDD` | `BAD_DATE` |
//! | 3 | amount in grosze | `BAD_AMOUNT` |
//! | 4 | sender's sort code | `BAD_SORT_CODE`, `SORT_CODE_MISMATCH` (≠ NRB digits 3–10) |
//! | 5 | `0` | `BAD_FIELD` |
//! | 6 | sender NRB | `BAD_NRB` |
//! | 7 | recipient NRB | `BAD_NRB` |
//! | 8 | sender name and address | `BAD_TEXT` |
//! | 9 | recipient name and address | `BAD_TEXT` |
//! | 10 | `0` | `BAD_FIELD` |
//! | 11 | recipient's sort code | `BAD_SORT_CODE`, `SORT_CODE_MISMATCH` |
//! | 12 | title | `BAD_TEXT`, `BAD_SPLIT_PAYMENT` for code 53 |
//! | 13, 14 | empty | `BAD_FIELD` |
//! | 15 | `51` or `53` (split payment) | `BAD_PAYMENT_CODE` |
//! | 16 | optional client reference | `BAD_REFERENCE`, `DUPLICATE_REFERENCE` |
//!
//! A line as a whole: `BAD_ENCODING` (bytes 0x80–0x9F: C1 controls in
//! ISO-8859-2, but letters such as `ś` in Windows-1250), `BAD_QUOTING`,
//! `FIELD_COUNT` (not 15 or 16 fields).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::iban::{is_valid_nrb, nrb_sort_code};
use crate::model::Amount;

/// Why one line was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineError {
    /// 1-based line number in the file.
    pub line: usize,
    /// The field at fault (1-based), when one is.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub field: Option<u8>,
    /// E.g. `BAD_NRB`.
    pub code: String,
    /// In words.
    pub message: String,
}

/// Split-payment fields of a code-53 title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitPayment {
    /// `/VAT/` amount.
    pub vat: Amount,
    /// `/IDC/` tax id of the supplier.
    pub tax_id: String,
    /// `/INV/` invoice number.
    pub invoice: String,
    /// `/TXT/` free text.
    pub text: String,
}

/// One well-formed line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// 1-based line number.
    pub line: usize,
    /// Field 2.
    pub date: NaiveDate,
    /// Field 3.
    pub amount: Amount,
    /// Field 6.
    pub sender_nrb: String,
    /// Field 7.
    pub recipient_nrb: String,
    /// Field 8, `|` kept.
    pub sender_name: String,
    /// Field 9, `|` kept.
    pub recipient_name: String,
    /// Field 12, `|` kept.
    pub title: String,
    /// Field 15.
    pub payment_code: String,
    /// Field 16, if not empty.
    pub reference: Option<String>,
    /// For code 53.
    pub split: Option<SplitPayment>,
}

/// The longest client reference (field 16) taken (assumed).
pub const MAX_REFERENCE: usize = 35;

/// A line's fields: text and whether it was quoted.
fn split_fields(text: &str) -> Result<Vec<(String, bool)>, String> {
    let mut fields = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        let mut value = String::new();
        let quoted = chars.peek() == Some(&'"');
        if quoted {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some(c) => value.push(c),
                    None => return Err(format!("field {} has no closing quote", fields.len() + 1)),
                }
            }
            match chars.next() {
                None => {
                    fields.push((value, true));
                    return Ok(fields);
                }
                Some(',') => fields.push((value, true)),
                Some(_) => {
                    return Err(format!(
                        "field {} has text after its closing quote",
                        fields.len() + 1
                    ));
                }
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push((value, false));
                        return Ok(fields);
                    }
                    Some(',') => {
                        fields.push((value, false));
                        break;
                    }
                    Some('"') => {
                        return Err(format!(
                            "field {} has a quote inside unquoted text",
                            fields.len() + 1
                        ));
                    }
                    Some(c) => value.push(c),
                }
            }
        }
    }
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

struct Line<'a> {
    no: usize,
    fields: &'a [(String, bool)],
}

impl Line<'_> {
    fn fail(&self, field: u8, code: &str, message: impl Into<String>) -> LineError {
        LineError {
            line: self.no,
            field: Some(field),
            code: code.into(),
            message: message.into(),
        }
    }

    fn get(&self, field: u8) -> &str {
        self.fields
            .get(usize::from(field) - 1)
            .map_or("", |f| f.0.as_str())
    }

    fn quoted(&self, field: u8) -> bool {
        self.fields.get(usize::from(field) - 1).is_some_and(|f| f.1)
    }

    /// A text field: quoted, 1–4 pieces of at most 35 characters.
    fn text(&self, field: u8, what: &str, required: bool) -> Result<String, LineError> {
        let v = self.get(field);
        if !self.quoted(field) {
            return Err(self.fail(field, "BAD_TEXT", format!("{what} must be in quotes")));
        }
        if v.is_empty() {
            if required {
                return Err(self.fail(field, "BAD_TEXT", format!("{what} is empty")));
            }
            return Ok(String::new());
        }
        let pieces: Vec<&str> = v.split('|').collect();
        if pieces.len() > 4 {
            return Err(self.fail(
                field,
                "BAD_TEXT",
                format!(
                    "{what} has {} pieces; at most 4 of 35 characters",
                    pieces.len()
                ),
            ));
        }
        if let Some((i, p)) = pieces
            .iter()
            .enumerate()
            .find(|(_, p)| p.chars().count() > 35)
        {
            return Err(self.fail(
                field,
                "BAD_TEXT",
                format!(
                    "{what}: piece {} has {} characters; at most 35",
                    i + 1,
                    p.chars().count()
                ),
            ));
        }
        Ok(v.to_string())
    }

    fn nrb(&self, field: u8, what: &str) -> Result<String, LineError> {
        let v = self.get(field);
        if !is_valid_nrb(v) {
            return Err(self.fail(
                field,
                "BAD_NRB",
                format!("{what} {v:?} is not a 26-digit NRB with valid check digits"),
            ));
        }
        Ok(v.to_string())
    }

    fn sort_code(&self, field: u8, nrb: &str) -> Result<(), LineError> {
        let v = self.get(field);
        if v.len() != 8 || !digits(v) {
            return Err(self.fail(field, "BAD_SORT_CODE", format!("{v:?} is not 8 digits")));
        }
        if v != nrb_sort_code(nrb) {
            return Err(self.fail(
                field,
                "SORT_CODE_MISMATCH",
                format!(
                    "sort code {v} differs from the account's {}",
                    nrb_sort_code(nrb)
                ),
            ));
        }
        Ok(())
    }

    fn zero(&self, field: u8) -> Result<(), LineError> {
        if self.get(field) != "0" {
            return Err(self.fail(field, "BAD_FIELD", format!("field {field} must be 0")));
        }
        Ok(())
    }
}

/// `/VAT/10,00/IDC/1234567890/INV/FV 1/2026/TXT/text` (the title's
/// pieces joined without `|`).
fn split_payment(title: &str, amount: Amount) -> Result<SplitPayment, String> {
    let joined: String = title.split('|').collect();
    let rest = joined
        .strip_prefix("/VAT/")
        .ok_or("a split payment title starts /VAT/")?;
    let (vat, rest) = rest.split_once("/IDC/").ok_or("no /IDC/")?;
    let (tax_id, rest) = rest.split_once("/INV/").ok_or("no /INV/")?;
    let (invoice, text) = match rest.split_once("/TXT/") {
        Some((i, t)) => (i, t),
        None => (rest, ""),
    };
    let vat: Amount = vat
        .replace(',', ".")
        .parse()
        .map_err(|_| format!("VAT amount {vat:?} is not an amount (e.g. 23,00)"))?;
    if vat > amount {
        return Err(format!("VAT {vat} exceeds the amount {amount}"));
    }
    if tax_id.is_empty() || tax_id.chars().count() > 14 {
        return Err(format!("IDC {tax_id:?} must be 1-14 characters"));
    }
    if invoice.is_empty() || invoice.chars().count() > 35 {
        return Err(format!("INV {invoice:?} must be 1-35 characters"));
    }
    Ok(SplitPayment {
        vat,
        tax_id: tax_id.into(),
        invoice: invoice.into(),
        text: text.into(),
    })
}

fn check_line(no: usize, raw: &[u8]) -> Result<Transfer, LineError> {
    let whole = |code: &str, message: String| LineError {
        line: no,
        field: None,
        code: code.into(),
        message,
    };
    if let Some(b) = raw.iter().find(|b| (0x80..=0x9F).contains(*b)) {
        return Err(whole(
            "BAD_ENCODING",
            format!("byte 0x{b:02X} is not ISO-8859-2 text (a Windows-1250 file?)"),
        ));
    }
    let (text, _, _) = encoding_rs::ISO_8859_2.decode(raw);
    let fields = split_fields(&text).map_err(|m| whole("BAD_QUOTING", m))?;
    if !(15..=16).contains(&fields.len()) {
        return Err(whole(
            "FIELD_COUNT",
            format!("{} fields; Elixir-O needs 15 or 16", fields.len()),
        ));
    }
    let l = Line {
        no,
        fields: &fields,
    };
    if l.get(1) != "110" {
        return Err(l.fail(
            1,
            "BAD_TRANSACTION_TYPE",
            format!("{:?}: only 110 (transfer) is taken", l.get(1)),
        ));
    }
    let date = Some(l.get(2))
        .filter(|d| d.len() == 8 && digits(d))
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y%m%d").ok())
        .ok_or_else(|| {
            l.fail(
                2,
                "BAD_DATE",
                format!("{:?} is not a YYYYMMDD date", l.get(2)),
            )
        })?;
    let amount = Some(l.get(3))
        .filter(|a| digits(a) && a.len() <= 15)
        .and_then(|a| a.parse::<i64>().ok())
        .filter(|a| *a > 0)
        .map(Amount)
        .ok_or_else(|| {
            l.fail(
                3,
                "BAD_AMOUNT",
                format!("{:?} is not a positive amount in grosze", l.get(3)),
            )
        })?;
    l.zero(5)?;
    let sender_nrb = l.nrb(6, "sender account")?;
    l.sort_code(4, &sender_nrb)?;
    let recipient_nrb = l.nrb(7, "recipient account")?;
    let sender_name = l.text(8, "sender name", true)?;
    let recipient_name = l.text(9, "recipient name", true)?;
    l.zero(10)?;
    l.sort_code(11, &recipient_nrb)?;
    let title = l.text(12, "title", true)?;
    for f in [13, 14] {
        if !l.get(f).is_empty() {
            return Err(l.fail(f, "BAD_FIELD", format!("field {f} must be empty")));
        }
    }
    let payment_code = l.get(15).to_string();
    let split = match payment_code.as_str() {
        "51" => None,
        "53" => {
            Some(split_payment(&title, amount).map_err(|m| l.fail(12, "BAD_SPLIT_PAYMENT", m))?)
        }
        other => {
            return Err(l.fail(
                15,
                "BAD_PAYMENT_CODE",
                format!("{other:?}: 51 (standard) or 53 (split payment)"),
            ));
        }
    };
    let reference = if fields.len() == 16 {
        let r = l.get(16);
        let ok = r.len() <= MAX_REFERENCE
            && r.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
        if !ok {
            return Err(l.fail(
                16,
                "BAD_REFERENCE",
                format!("{r:?}: at most {MAX_REFERENCE} of A-Z a-z 0-9 - . _"),
            ));
        }
        (!r.is_empty()).then(|| r.to_string())
    } else {
        None
    };
    Ok(Transfer {
        line: no,
        date,
        amount,
        sender_nrb,
        recipient_nrb,
        sender_name,
        recipient_name,
        title,
        payment_code,
        reference,
        split,
    })
}

/// Every non-blank line of a file, checked: a transfer or why not. Blank
/// lines are skipped (they keep their number). Two lines with the same
/// reference: the later one is `DUPLICATE_REFERENCE`.
pub fn check(file: &[u8]) -> Vec<Result<Transfer, LineError>> {
    let mut out: Vec<Result<Transfer, LineError>> = Vec::new();
    for (i, raw) in file.split(|b| *b == b'\n').enumerate() {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        let mut outcome = check_line(i + 1, raw);
        if let Ok(t) = &outcome
            && let Some(r) = &t.reference
            && out
                .iter()
                .any(|o| o.as_ref().is_ok_and(|p| p.reference.as_ref() == Some(r)))
        {
            outcome = Err(LineError {
                line: i + 1,
                field: Some(16),
                code: "DUPLICATE_REFERENCE".into(),
                message: format!("reference {r:?} is already on an earlier line"),
            });
        }
        out.push(outcome);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = "110,20261130,12345,11402004,0,\"81114020040000320212345678\",\"61109010140000071219812874\",\"FIRMA TESTOWA SP. Z O.O.|UL. DŁUGA 1\",\"Dostawca Wałbrzych|ul. Krótka 2\",0,10901014,\"FV/1/2026\",\"\",\"\",\"51\",\"ERP-1\"";

    fn code(line: &str) -> (String, Option<u8>) {
        let bytes = crate::api::latin2(line);
        match check(&bytes).remove(0) {
            Ok(_) => ("OK".into(), None),
            Err(e) => (e.code, e.field),
        }
    }

    #[test]
    fn a_good_line() {
        let t = check(&crate::api::latin2(OK)).remove(0).unwrap();
        assert_eq!(t.amount, Amount(12345));
        assert_eq!(t.reference.as_deref(), Some("ERP-1"));
        assert_eq!(t.recipient_name, "Dostawca Wałbrzych|ul. Krótka 2");
    }

    #[test]
    fn each_rule() {
        let sub = |from: &str, to: &str| code(&OK.replacen(from, to, 1));
        assert_eq!(
            sub("110,", "120,"),
            ("BAD_TRANSACTION_TYPE".into(), Some(1))
        );
        assert_eq!(sub("20261130", "20261131"), ("BAD_DATE".into(), Some(2)));
        assert_eq!(sub("12345", "12.45"), ("BAD_AMOUNT".into(), Some(3)));
        assert_eq!(
            sub("11402004,0", "11402005,0"),
            ("SORT_CODE_MISMATCH".into(), Some(4))
        );
        assert_eq!(
            sub("11402004,0", "1140200,0"),
            ("BAD_SORT_CODE".into(), Some(4))
        );
        assert_eq!(sub("81114020", "82114020"), ("BAD_NRB".into(), Some(6)));
        assert_eq!(
            sub("0,10901014", "0,10901015"),
            ("SORT_CODE_MISMATCH".into(), Some(11))
        );
        assert_eq!(
            sub("\"FV/1/2026\"", "\"a|b|c|d|e\""),
            ("BAD_TEXT".into(), Some(12))
        );
        assert_eq!(
            sub("\"FV/1/2026\"", &format!("\"{}\"", "x".repeat(36))),
            ("BAD_TEXT".into(), Some(12))
        );
        assert_eq!(
            sub("\"51\"", "\"52\""),
            ("BAD_PAYMENT_CODE".into(), Some(15))
        );
        assert_eq!(
            sub("\"51\"", "\"53\""),
            ("BAD_SPLIT_PAYMENT".into(), Some(12))
        );
        assert_eq!(
            sub(
                "\"FV/1/2026\",\"\",\"\",\"51\"",
                "\"/VAT/23,00/IDC/5250001009|/INV/FV/1/TXT/X\",\"\",\"\",\"53\""
            ),
            ("OK".into(), None)
        );
        assert_eq!(
            sub(
                "\"FV/1/2026\",\"\",\"\",\"51\"",
                "\"/VAT/223,00/IDC/5250001009|/INV/FV/1\",\"\",\"\",\"53\""
            ),
            ("BAD_SPLIT_PAYMENT".into(), Some(12))
        );
        assert_eq!(sub(",\"ERP-1\"", ""), ("OK".into(), None));
        assert_eq!(
            sub(",\"ERP-1\"", ",\"\",\"x\""),
            ("FIELD_COUNT".into(), None)
        );
        assert_eq!(
            sub("\"ERP-1\"", "\"ERP 1\""),
            ("BAD_REFERENCE".into(), Some(16))
        );
        assert_eq!(
            sub("\"FV/1/2026\"", "\"FV\"1\""),
            ("BAD_QUOTING".into(), None)
        );
        assert_eq!(sub("\"FV/1/2026\"", "FV"), ("BAD_TEXT".into(), Some(12)));
        assert_eq!(sub("0,\"8111", "1,\"8111"), ("BAD_FIELD".into(), Some(5)));
    }

    #[test]
    fn windows_1250_bytes_and_duplicates() {
        let mut bytes = crate::api::latin2(OK);
        bytes.extend_from_slice(b"\r\n\r\n");
        bytes.extend(crate::api::latin2(OK));
        bytes.extend_from_slice(b"\r\n");
        let mut cp1250 = crate::api::latin2(OK);
        // "ś" in Windows-1250.
        cp1250.push(0x9C);
        bytes.extend(cp1250);
        let out = check(&bytes);
        assert_eq!(out.len(), 3);
        assert!(out[0].is_ok());
        let e = out[1].clone().unwrap_err();
        assert_eq!((e.line, e.code.as_str()), (3, "DUPLICATE_REFERENCE"));
        let e = out[2].clone().unwrap_err();
        assert_eq!((e.line, e.code.as_str()), (4, "BAD_ENCODING"));
    }
}
