//! Elixir-O, the Polish clearing file, as this connector writes it for
//! mBank: one transfer a line, CRLF, ISO-8859-2, fields comma-separated in
//! a fixed order, text fields in double quotes:
//!
//! | # | field |
//! |---|---|
//! | 1 | `110` (transfer) |
//! | 2 | execution date `YYYYMMDD` |
//! | 3 | amount in grosze |
//! | 4 | sender's sort code (NRB digits 3–10) |
//! | 5 | `0` |
//! | 6 | sender NRB, quoted |
//! | 7 | recipient NRB, quoted |
//! | 8 | sender name and address, quoted, ≤ 4 pieces of ≤ 35 joined by `\|` |
//! | 9 | recipient name and address, as 8 |
//! | 10 | `0` |
//! | 11 | recipient's sort code |
//! | 12 | title, as 8 (split payment: `/VAT/…/IDC/…/INV/…/TXT/…`) |
//! | 13, 14 | `""` |
//! | 15 | `"51"` standard, `"53"` split payment |
//! | 16 | the ERP's transfer id as client reference, quoted |
//!
//! (polish-bank-formats.md and the simulator's README; the reference field
//! and its character set are assumed.) Everything here is pure: the batch
//! module feeds it the transfers.

use h2h_sdk::{Error, Result};

use crate::latin2;

/// The longest piece of a text field.
pub const PIECE: usize = 35;
/// At most this many pieces.
pub const PIECES: usize = 4;
/// The longest client reference (assumed).
pub const MAX_REFERENCE: usize = 35;

/// One transfer, ready to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// `YYYYMMDD`.
    pub date: String,
    /// Amount in grosze, > 0.
    pub grosze: u64,
    /// 26 digits.
    pub sender_nrb: String,
    /// 26 digits.
    pub recipient_nrb: String,
    /// Pieces of ≤ 35 characters.
    pub sender: Vec<String>,
    /// Pieces of ≤ 35 characters.
    pub recipient: Vec<String>,
    /// Pieces of ≤ 35 characters.
    pub title: Vec<String>,
    /// Split payment (code 53).
    pub split_payment: bool,
    /// The client reference.
    pub reference: Option<String>,
}

/// `"150.00"` (or `"150"`, `"150.5"`, `"150.5000"`) in grosze; none for
/// anything else (a sign, a comma, a third significant decimal, zero).
pub fn grosze(amount: &str) -> Option<u64> {
    let text = amount.trim();
    let (units, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if units.is_empty() || !digits(units) || !digits(fraction) {
        return None;
    }
    let kept = fraction.get(..2).unwrap_or(fraction);
    if fraction
        .get(2..)
        .unwrap_or_default()
        .bytes()
        .any(|b| b != b'0')
    {
        return None;
    }
    let units: u64 = units.parse().ok()?;
    let cents: u64 = format!("{kept:0<2}").parse().ok()?;
    let total = units.checked_mul(100)?.checked_add(cents)?;
    (total > 0 && total < 10u64.pow(15)).then_some(total)
}

/// Grosze as the split-payment title writes an amount: `23,00`.
pub fn comma_amount(grosze: u64) -> String {
    format!("{},{:02}", grosze / 100, grosze % 100)
}

/// The 26-digit NRB of a Polish IBAN or NRB as the ERP wrote it (spaces
/// and `PL` allowed); the check digits are the bank's to judge.
pub fn nrb(account: &str) -> Option<String> {
    let compact: String = account
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_ascii_uppercase();
    let digits = compact.strip_prefix("PL").unwrap_or(&compact);
    (digits.len() == 26 && digits.bytes().all(|b| b.is_ascii_digit())).then(|| digits.to_owned())
}

/// The sort code in an NRB: digits 3–10.
pub fn sort_code(nrb: &str) -> &str {
    nrb.get(2..10).unwrap_or_default()
}

/// Text made safe for a quoted field: no quote (it would end the field),
/// no `|` (it joins pieces), no line breaks; runs of spaces made one.
pub fn clean(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' => '\'',
            '|' | '\r' | '\n' | '\t' => ' ',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `text` wrapped into pieces of at most 35 characters at spaces (the
/// space at a break is dropped: the bank reads `|` as one), a word longer
/// than a piece cut; none when more than 4 pieces are needed.
pub fn wrap(text: &str) -> Option<Vec<String>> {
    let mut pieces: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in clean(text).split(' ').filter(|w| !w.is_empty()) {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let used = current.chars().count();
            let room = if used == 0 {
                PIECE
            } else {
                PIECE.saturating_sub(used + 1)
            };
            if word.len() <= room {
                if used > 0 {
                    current.push(' ');
                }
                current.extend(word.iter());
                break;
            }
            if used == 0 {
                pieces.push(word.drain(..PIECE).collect());
            } else {
                pieces.push(std::mem::take(&mut current));
            }
        }
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    (!pieces.is_empty() && pieces.len() <= PIECES).then_some(pieces)
}

/// A name (and address) as pieces: the name wrapped, then the address's
/// pieces while they fit; none when the name alone is too long.
pub fn name_and_address(name: &str, address: Option<&str>) -> Option<Vec<String>> {
    let mut pieces = wrap(name)?;
    if let Some(more) = address.and_then(wrap) {
        for piece in more {
            if pieces.len() == PIECES {
                break;
            }
            pieces.push(piece);
        }
    }
    Some(pieces)
}

/// The split-payment title `/VAT/<vat>/IDC/<nip>/INV/<invoice>/TXT/<text>`
/// cut into pieces of exactly 35 characters (the bank joins them with
/// nothing between), the free text shortened to fit 4 pieces.
pub fn split_payment_title(
    vat_grosze: u64,
    tax_id: &str,
    invoice: &str,
    text: &str,
) -> Option<Vec<String>> {
    let tax_id: String = clean(tax_id)
        .chars()
        .filter(|c| *c != ' ' && *c != '-')
        .collect();
    let invoice = clean(invoice);
    if tax_id.is_empty() || tax_id.chars().count() > 14 {
        return None;
    }
    if invoice.is_empty() || invoice.chars().count() > 35 {
        return None;
    }
    let head = format!(
        "/VAT/{}/IDC/{tax_id}/INV/{invoice}",
        comma_amount(vat_grosze)
    );
    let room = (PIECE * PIECES).checked_sub(head.chars().count())?;
    let text = clean(text);
    let title = if text.is_empty() || room <= 5 {
        head
    } else {
        format!(
            "{head}/TXT/{}",
            text.chars().take(room - 5).collect::<String>()
        )
    };
    let chars: Vec<char> = title.chars().collect();
    Some(chars.chunks(PIECE).map(|c| c.iter().collect()).collect())
}

/// Whether `reference` may be field 16: 1–35 of `A-Z a-z 0-9 - . _`.
pub fn valid_reference(reference: &str) -> bool {
    !reference.is_empty()
        && reference.len() <= MAX_REFERENCE
        && reference
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
}

fn quoted(pieces: &[String]) -> String {
    format!("\"{}\"", pieces.join("|"))
}

impl Line {
    /// The line's text (without CRLF).
    pub fn text(&self) -> String {
        let mut fields = vec![
            "110".to_owned(),
            self.date.clone(),
            self.grosze.to_string(),
            sort_code(&self.sender_nrb).to_owned(),
            "0".to_owned(),
            format!("\"{}\"", self.sender_nrb),
            format!("\"{}\"", self.recipient_nrb),
            quoted(&self.sender),
            quoted(&self.recipient),
            "0".to_owned(),
            sort_code(&self.recipient_nrb).to_owned(),
            quoted(&self.title),
            "\"\"".to_owned(),
            "\"\"".to_owned(),
            if self.split_payment {
                "\"53\""
            } else {
                "\"51\""
            }
            .to_owned(),
        ];
        if let Some(reference) = &self.reference {
            fields.push(format!("\"{reference}\""));
        }
        fields.join(",")
    }
}

/// The file: every line, CRLF-terminated, in ISO-8859-2.
pub fn file(lines: &[Line]) -> Result<Vec<u8>> {
    if lines.is_empty() {
        return Err(Error::invalid_input("an Elixir-O file without transfers"));
    }
    let mut text = String::new();
    for line in lines {
        text.push_str(&line.text());
        text.push_str("\r\n");
    }
    Ok(latin2::encode(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line() -> Line {
        Line {
            date: "20261130".to_owned(),
            grosze: 12345,
            sender_nrb: "81114020040000320212345678".to_owned(),
            recipient_nrb: "61109010140000071219812874".to_owned(),
            sender: vec![
                "FIRMA TESTOWA SP. Z O.O.".to_owned(),
                "UL. DŁUGA 1".to_owned(),
            ],
            recipient: vec!["Dostawca Wałbrzych".to_owned(), "ul. Krótka 2".to_owned()],
            title: vec!["FV/1/2026".to_owned()],
            split_payment: false,
            reference: Some("ERP-1".to_owned()),
        }
    }

    #[test]
    fn fields_come_in_elixir_order_and_quoting() {
        // The simulator's own well-formed line, byte for byte.
        assert_eq!(
            line().text(),
            "110,20261130,12345,11402004,0,\"81114020040000320212345678\",\"61109010140000071219812874\",\"FIRMA TESTOWA SP. Z O.O.|UL. DŁUGA 1\",\"Dostawca Wałbrzych|ul. Krótka 2\",0,10901014,\"FV/1/2026\",\"\",\"\",\"51\",\"ERP-1\""
        );
        let mut unreferenced = line();
        unreferenced.reference = None;
        unreferenced.split_payment = true;
        assert!(unreferenced.text().ends_with(",\"\",\"\",\"53\""));
        assert_eq!(unreferenced.text().split(',').count(), 15);
    }

    #[test]
    fn the_file_is_latin2_with_crlf() {
        let bytes = file(&[line(), line()]).expect("file");
        assert!(bytes.ends_with(b"\"ERP-1\"\r\n"));
        assert_eq!(bytes.iter().filter(|b| **b == b'\n').count(), 2);
        assert!(bytes.contains(&0xA3), "Ł as 0xA3");
        assert!(!bytes.iter().any(|b| (0x80..=0x9F).contains(b)));
        assert!(file(&[]).is_err());
    }

    #[test]
    fn amounts_are_grosze() {
        assert_eq!(grosze("150.00"), Some(15000));
        assert_eq!(grosze("0.05"), Some(5));
        assert_eq!(grosze("7.1000"), Some(710));
        assert_eq!(grosze("12"), Some(1200));
        assert_eq!(grosze("2400.5"), Some(240_050));
        for bad in [
            "1.001",
            "-5.00",
            "0.00",
            "1,50",
            "",
            ".5",
            "1e3",
            "99999999999999999",
        ] {
            assert_eq!(grosze(bad), None, "{bad}");
        }
        assert_eq!(comma_amount(2300), "23,00");
        assert_eq!(comma_amount(5), "0,05");
    }

    #[test]
    fn accounts_become_nrbs_and_sort_codes() {
        let nrb = nrb("PL61 1090 1014 0000 0712 1981 2874").expect("nrb");
        assert_eq!(nrb, "61109010140000071219812874");
        assert_eq!(sort_code(&nrb), "10901014");
        assert_eq!(
            super::nrb("61109010140000071219812875").as_deref(),
            Some("61109010140000071219812875")
        );
        assert_eq!(super::nrb("DE89370400440532013000"), None);
        assert_eq!(super::nrb("PL6110901014"), None);
    }

    #[test]
    fn texts_wrap_into_four_pieces_of_35() {
        let title = "Zapłata za fakturę FV/2026/11/0042 oraz FV/2026/11/0043, dostawa części zamiennych do maszyn";
        let pieces = wrap(title).expect("fits");
        assert!(
            pieces.iter().all(|p| p.chars().count() <= PIECE),
            "{pieces:?}"
        );
        assert_eq!(pieces.join(" "), title);
        assert_eq!(wrap("x".repeat(80).as_str()).expect("cut").len(), 3);
        assert_eq!(wrap(&"słowo ".repeat(30)), None);
        assert_eq!(wrap("  "), None);
        assert_eq!(clean("A \"B\" | C\r\nD"), "A 'B' C D");
        let name = name_and_address(
            "Dostawca Wałbrzych Sp. z o.o.",
            Some("ul. Krótka 2, 58-300 Wałbrzych"),
        )
        .expect("name");
        assert_eq!(
            name,
            [
                "Dostawca Wałbrzych Sp. z o.o.",
                "ul. Krótka 2, 58-300 Wałbrzych"
            ]
        );
    }

    #[test]
    fn split_payment_titles_are_cut_exactly() {
        let pieces = split_payment_title(2300, "526-025-09-95", "FV/1/2026", "Zapłata za fakturę")
            .expect("title");
        assert_eq!(
            pieces.concat(),
            "/VAT/23,00/IDC/5260250995/INV/FV/1/2026/TXT/Zapłata za fakturę"
        );
        assert!(pieces.iter().all(|p| p.chars().count() <= PIECE));
        let long =
            split_payment_title(100, "5260250995", "FV/1", &"x".repeat(300)).expect("shortened");
        assert_eq!(long.len(), PIECES);
        assert_eq!(long.concat().chars().count(), PIECE * PIECES);
        assert_eq!(split_payment_title(1, "123456789012345", "FV", ""), None);
        assert_eq!(split_payment_title(1, "5260250995", "", ""), None);
    }

    #[test]
    fn references_are_checked() {
        assert!(valid_reference("FV-2026-0042"));
        assert!(valid_reference("a.b_c"));
        assert!(!valid_reference("FV/2026/42"));
        assert!(!valid_reference(&"x".repeat(36)));
        assert!(!valid_reference(""));
    }
}
