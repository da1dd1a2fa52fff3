//! `:86:` information: kept raw, and read as structure when it has one.
//!
//! Two structures occur in Polish files:
//! - ZBP/MultiCash subfields: an operation code, then a separator (`~`, `^`,
//!   `<` or `?`, per bank) and a 2-digit number before each subfield
//!   (`~20` title … `~32` name … `~38` IBAN);
//! - mBank free text: parts separated by `;`, most of them `KEY: value`
//!   (`TYT.: …; TNR: …`).
//!
//! Banks wrap `:86:` at 65 (or 27) characters wherever the limit falls, even
//! inside a subfield number (`~3` / `2Name`), and keep the spaces at the
//! break, so the lines are joined with nothing between them before the
//! structure is read.

use crate::lexer::Field;
use crate::split_payment::SplitPayment;

/// Separators that may introduce a numbered subfield.
const SEPARATORS: [char; 4] = ['~', '^', '<', '?'];

/// A `:86:` field, kept raw and read as structure.
///
/// Some writers send `:86:` more than once for one line (mt940-py: `SD95`
/// then `SD95~00…`; Danske Bank: four fields of free text). A field whose
/// text starts with the previous one's replaces it (it repeats and extends
/// it); one that the previous starts with is a repeat and is dropped; any
/// other is appended, its lines following in [`Details::raw`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Details {
    /// 1-based line of the (first kept) `:86:` tag.
    pub line: usize,
    /// The text as sent, lines joined with `\n`.
    pub raw: String,
    /// The leading code: what precedes the first subfield (`020`, `SD95`),
    /// or, in free text, three leading digits (`911`).
    pub operation_code: Option<String>,
    /// The subfield separator found, if the text has subfields.
    pub separator: Option<char>,
    /// Numbered subfields in order of appearance.
    pub subfields: Vec<Subfield>,
    /// `;`-separated parts of free text (mBank); empty when there are
    /// subfields or no `;`.
    pub parts: Vec<Part>,
}

/// One numbered subfield (`~20Zapłata` is number 20, value `Zapłata`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subfield {
    /// 0–99.
    pub number: u8,
    /// The value as sent, line breaks removed, not trimmed.
    pub value: String,
}

/// One `;`-separated part of free text: `TNR: 1234` has key `TNR` and
/// value `1234`; a part without `KEY:` has no key. A keyless part after a
/// keyed one is a `;` inside that value and is appended to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The key without the colon, e.g. `TYT.`, `Z RACH.`, `TNR`.
    pub key: Option<String>,
    /// The value, trimmed.
    pub value: String,
}

impl Details {
    /// The text with line breaks removed (wrapped lines re-joined).
    pub fn text(&self) -> String {
        unwrap_lines(&self.raw)
    }

    /// The value of subfield `number`, the values of a repeated number
    /// concatenated; `None` if absent.
    pub fn subfield(&self, number: u8) -> Option<String> {
        self.join(number..=number)
    }

    /// Subfields whose number is in `numbers`, concatenated in order and
    /// trimmed; `None` if none is present or the result is blank.
    pub fn join(&self, numbers: std::ops::RangeInclusive<u8>) -> Option<String> {
        let mut out = String::new();
        let mut any = false;
        for s in self
            .subfields
            .iter()
            .filter(|s| numbers.contains(&s.number))
        {
            out.push_str(&s.value);
            any = true;
        }
        let trimmed = out.trim();
        (any && !trimmed.is_empty()).then(|| trimmed.to_owned())
    }

    /// `~00`: the bank's text for the transaction type.
    pub fn transaction_text(&self) -> Option<String> {
        self.subfield(0)
    }

    /// Payment title: subfields 20–25 then 26–29, joined; in mBank free
    /// text, the `TYT.` part.
    pub fn title(&self) -> Option<String> {
        self.join(20..=29)
            .or_else(|| self.part("TYT.").map(str::to_owned))
    }

    /// Counterparty name: subfields 32 and 33; in mBank free text, the
    /// `OD` part (name and address).
    pub fn counterparty_name(&self) -> Option<String> {
        self.join(32..=33)
            .or_else(|| self.part("OD").map(str::to_owned))
    }

    /// Counterparty account: subfield 38 (IBAN), else 31; in mBank free
    /// text, the `Z RACH.` part.
    pub fn counterparty_account(&self) -> Option<String> {
        self.subfield(38)
            .or_else(|| self.subfield(31))
            .or_else(|| self.part("Z RACH.").map(str::to_owned))
    }

    /// Counterparty bank sort code: subfield 30.
    pub fn bank_code(&self) -> Option<String> {
        self.subfield(30)
    }

    /// More text or address: subfields 60–63.
    pub fn more_text(&self) -> Option<String> {
        self.join(60..=63)
    }

    /// The value of the first free-text part with this key (exact, e.g.
    /// `"TNR"`, `"Z RACH."`).
    pub fn part(&self, key: &str) -> Option<&str> {
        self.parts
            .iter()
            .find(|p| p.key.as_deref() == Some(key))
            .map(|p| p.value.as_str())
    }

    /// mBank's transaction number (`TNR:`), unique across MT942 and MT940.
    pub fn tnr(&self) -> Option<&str> {
        self.part("TNR")
    }

    /// The split-payment fields of the title (`/VAT/…/IDC/…/INV/…/TXT/…`),
    /// if the title has that form.
    pub fn split_payment(&self) -> Option<SplitPayment> {
        SplitPayment::parse(&self.title()?)
    }

    /// Reads the structure of `raw` (lines joined with `\n`).
    pub(crate) fn from_raw(line: usize, raw: String) -> Details {
        let text = unwrap_lines(&raw);
        let mut details = Details {
            line,
            raw,
            operation_code: None,
            separator: None,
            subfields: Vec::new(),
            parts: Vec::new(),
        };
        if let Some((code, separator, body)) = subfield_start(&text) {
            details.operation_code = (!code.is_empty()).then(|| code.to_owned());
            details.separator = Some(separator);
            details.subfields = split_subfields(body, separator);
        } else {
            details.operation_code = leading_code(&text);
            if text.contains(';') {
                details.parts = split_parts(&text);
            }
        }
        details
    }
}

fn unwrap_lines(raw: &str) -> String {
    raw.split('\n').collect()
}

/// If `text` is `<code><sep><2 digits>…` with a short alphanumeric code:
/// the code, the separator and the text from the separator on.
fn subfield_start(text: &str) -> Option<(&str, char, &str)> {
    let at = text.find(SEPARATORS)?;
    let code = text.get(..at)?;
    let body = text.get(at..)?;
    let separator = body.chars().next()?;
    let numbered = body
        .as_bytes()
        .get(1..3)
        .is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let short_code = code.len() <= 8 && code.bytes().all(|b| b.is_ascii_alphanumeric());
    (numbered && short_code).then_some((code, separator, body))
}

/// Splits `~20abc~21def` at each separator followed by two digits; a
/// separator not followed by two digits is text.
fn split_subfields(body: &str, separator: char) -> Vec<Subfield> {
    let mut out: Vec<Subfield> = Vec::new();
    let mut rest = body;
    while let Some(at) = find_marker(rest, separator) {
        if let Some(last) = out.last_mut() {
            last.value.push_str(rest.get(..at).unwrap_or_default());
        }
        let number = rest
            .get(at + 1..at + 3)
            .and_then(|d| d.parse().ok())
            .unwrap_or_default();
        out.push(Subfield {
            number,
            value: String::new(),
        });
        rest = rest.get(at + 3..).unwrap_or_default();
    }
    if let Some(last) = out.last_mut() {
        last.value.push_str(rest);
    }
    out
}

/// Byte offset of the next `<sep><digit><digit>` in `text`.
fn find_marker(text: &str, separator: char) -> Option<usize> {
    text.match_indices(separator).map(|(at, _)| at).find(|&at| {
        text.as_bytes()
            .get(at + 1..at + 3)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    })
}

/// Three leading digits standing alone (`911 TRANSAKCJA`, `911;`).
fn leading_code(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let three = b.get(..3).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let alone = b.get(3).is_none_or(|c| !c.is_ascii_alphanumeric());
    (three && alone).then(|| text.get(..3).unwrap_or_default().to_owned())
}

fn split_parts(text: &str) -> Vec<Part> {
    let mut out: Vec<Part> = Vec::new();
    for piece in text.split(';') {
        let piece = piece.trim();
        match split_key(piece) {
            Some((key, value)) => out.push(Part {
                key: Some(key.to_owned()),
                value: value.trim().to_owned(),
            }),
            None => match out.last_mut() {
                Some(last) if last.key.is_some() => {
                    if !piece.is_empty() {
                        last.value.push_str("; ");
                        last.value.push_str(piece);
                    }
                }
                _ if piece.is_empty() => {}
                _ => out.push(Part {
                    key: None,
                    value: piece.to_owned(),
                }),
            },
        }
    }
    out
}

/// `KEY: value` where KEY is short, starts with a letter and has no lower
/// case (`TYT.`, `Z RACH.`, `ID IPH`, `DATA STEMPLA`).
fn split_key(piece: &str) -> Option<(&str, &str)> {
    let (key, value) = piece.split_once(':')?;
    let key = key.trim_end();
    let first_is_letter = key.chars().next().is_some_and(char::is_alphabetic);
    let shape = key.chars().count() <= 24
        && key
            .chars()
            .all(|c| c.is_uppercase() || c.is_ascii_digit() || matches!(c, ' ' | '.' | '-' | '/'));
    (first_is_letter && shape).then_some((key, value))
}

/// Collects the `:86:` fields given for one statement line (or for the
/// statement) and merges them as [`Details`] describes.
#[derive(Debug, Default)]
pub(crate) struct DetailsBuilder {
    line: usize,
    fields: Vec<(usize, String)>,
}

impl DetailsBuilder {
    pub(crate) fn push(&mut self, field: &Field<'_>) {
        let raw: Vec<&str> = field.lines().map(|l| l.text).collect();
        let raw = raw.join("\n");
        let text = unwrap_lines(&raw);
        match self.fields.last_mut() {
            Some((line, last)) if text.starts_with(unwrap_lines(last).as_str()) => {
                *line = field.line;
                *last = raw;
            }
            Some((_, last)) if unwrap_lines(last).starts_with(text.as_str()) => {}
            _ => self.fields.push((field.line, raw)),
        }
        self.line = self.fields.first().map_or(field.line, |(line, _)| *line);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    pub(crate) fn build(self) -> Option<Details> {
        if self.fields.is_empty() {
            return None;
        }
        let raw: Vec<&str> = self.fields.iter().map(|(_, r)| r.as_str()).collect();
        Some(Details::from_raw(self.line, raw.join("\n")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn details(raw: &str) -> Details {
        Details::from_raw(1, raw.to_owned())
    }

    #[test]
    fn zbp_subfields_across_lines_and_inside_numbers() {
        let d =
            details("020~00PRZELEW~20Zapłata za ~2\n1fakturę 1/2026~3\n2Jan ~33Kowalski~38PL12");
        assert_eq!(d.operation_code.as_deref(), Some("020"));
        assert_eq!(d.separator, Some('~'));
        assert_eq!(d.title().as_deref(), Some("Zapłata za fakturę 1/2026"));
        assert_eq!(d.counterparty_name().as_deref(), Some("Jan Kowalski"));
        assert_eq!(d.counterparty_account().as_deref(), Some("PL12"));
        assert_eq!(d.transaction_text().as_deref(), Some("PRZELEW"));
    }

    #[test]
    fn each_separator() {
        for sep in SEPARATORS {
            let d = details(&format!("105{sep}20a{sep}b{sep}21c{sep}31123"));
            assert_eq!(d.separator, Some(sep));
            assert_eq!(d.title(), Some(format!("a{sep}bc")));
            assert_eq!(d.counterparty_account().as_deref(), Some("123"));
        }
    }

    #[test]
    fn free_text_is_not_subfields() {
        let d = details("Invoice no. 12 <33 items> paid");
        assert!(d.subfields.is_empty() && d.separator.is_none());
        let d = details("911 TRANSAKCJA; TYT.: FV 1; FV 2; TNR: \n1793.01");
        assert_eq!(d.operation_code.as_deref(), Some("911"));
        assert_eq!(d.title().as_deref(), Some("FV 1; FV 2"));
        assert_eq!(d.tnr(), Some("1793.01"));
        assert_eq!(d.parts[0].key, None);
    }

    #[test]
    fn merge_repeated_fields() {
        let mut b = DetailsBuilder::default();
        let lines = crate::lexer::lines(":86:SD95\n:86:SD95~20x\n:86:SD95\n:86:other\n");
        for item in crate::lexer::items(&lines) {
            if let crate::lexer::Item::Field(f) = item {
                b.push(&f);
            }
        }
        let d = b.build().unwrap();
        assert_eq!(d.raw, "SD95~20x\nother");
        assert_eq!(d.line, 2);
    }
}
