//! Bytes to text: UTF-8 when the bytes are UTF-8, otherwise the single-byte
//! code page whose reading of the non-ASCII bytes looks most like Polish.
//!
//! Polish banks send MT940 in ISO-8859-2 (mBank), CP852 (older MultiCash
//! exports) or Windows-1250 (desktop exports, mt940-py). The three agree on
//! ASCII and disagree on almost every Polish letter, so a byte histogram of
//! the non-ASCII bytes tells them apart: each candidate reads every such
//! byte as a character, which scores
//!
//! | the character is | score |
//! |---|---|
//! | a Polish letter (`ąćęłńóśźż`, upper or lower case) | +4 |
//! | another letter | +1 |
//! | common text punctuation (no-break space, dashes, quotes, `§`, `°`, `€`, `…`) | 0 |
//! | any other symbol (box drawing, `˘`, `±`, `¶`, …) | −2 |
//! | a C1 control or a byte the code page leaves undefined | −8 |
//!
//! The highest total wins; a tie goes to ISO-8859-2, then Windows-1250, then
//! CP852 (ties mean the bytes read alike where it matters, e.g. `ł`, `ó`
//! and `ż` are the same bytes in ISO-8859-2 and Windows-1250).

use crate::error::{ErrorKind, ParseError};

/// The text encoding of a file: forced through
/// [`ParseOptions::encoding`](crate::ParseOptions::encoding), or reported
/// on each [`Statement`](crate::Statement) as detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Encoding {
    /// Detect (only as an option; never reported).
    #[default]
    Auto,
    /// UTF-8 (a byte-order mark is dropped).
    Utf8,
    /// Windows-1250 (Central European, Windows).
    Windows1250,
    /// ISO-8859-2 (Latin-2), as mBank sends it.
    Iso8859_2,
    /// IBM code page 852 (Latin-2, DOS), as older MultiCash exports send it.
    Cp852,
}

/// The decoded text and the encoding it was read in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The text.
    pub text: String,
    /// The encoding used: never [`Encoding::Auto`].
    pub encoding: Encoding,
}

/// Decodes `bytes`: in `encoding` when one is forced, otherwise by the
/// module's heuristic. Fails only when UTF-8 is forced and the bytes are not
/// UTF-8; single-byte code pages read any byte.
pub fn decode(bytes: &[u8], encoding: Encoding) -> Result<Decoded, ParseError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let encoding = match encoding {
        Encoding::Auto if std::str::from_utf8(bytes).is_ok() => Encoding::Utf8,
        Encoding::Auto => detect_single_byte(bytes),
        forced => forced,
    };
    let text = match encoding {
        Encoding::Auto | Encoding::Utf8 => match std::str::from_utf8(bytes) {
            Ok(text) => text.to_owned(),
            Err(e) => {
                let before = bytes.get(..e.valid_up_to()).unwrap_or_default();
                let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
                return Err(ParseError::new(line, ErrorKind::InvalidUtf8));
            }
        },
        Encoding::Windows1250 => encoding_rs::WINDOWS_1250
            .decode_without_bom_handling(bytes)
            .0
            .into_owned(),
        Encoding::Iso8859_2 => encoding_rs::ISO_8859_2
            .decode_without_bom_handling(bytes)
            .0
            .into_owned(),
        Encoding::Cp852 => bytes.iter().map(|&b| cp852_char(b)).collect(),
    };
    Ok(Decoded { text, encoding })
}

/// Chooses among the single-byte candidates by the score in the module docs.
fn detect_single_byte(bytes: &[u8]) -> Encoding {
    let mut counts = [0u64; 128];
    for &b in bytes {
        if let Some(slot) = b
            .checked_sub(0x80)
            .and_then(|i| counts.get_mut(usize::from(i)))
        {
            *slot += 1;
        }
    }
    // Order is the tie-break: the first of equal scores wins.
    let candidates = [Encoding::Iso8859_2, Encoding::Windows1250, Encoding::Cp852];
    let mut best = (Encoding::Iso8859_2, i64::MIN);
    for candidate in candidates {
        let score = score(candidate, &counts);
        if score > best.1 {
            best = (candidate, score);
        }
    }
    best.0
}

fn score(encoding: Encoding, counts: &[u64; 128]) -> i64 {
    (0x80u8..=0xFF)
        .zip(counts.iter())
        .filter(|(_, n)| **n > 0)
        .map(|(b, &n)| {
            char_score(single_byte_char(encoding, b)) * i64::try_from(n).unwrap_or(i64::MAX / 16)
        })
        .fold(0i64, i64::saturating_add)
}

/// One byte read in a single-byte encoding; `None` where it is undefined.
fn single_byte_char(encoding: Encoding, byte: u8) -> Option<char> {
    let table = match encoding {
        Encoding::Cp852 => return Some(cp852_char(byte)),
        Encoding::Windows1250 => encoding_rs::WINDOWS_1250,
        _ => encoding_rs::ISO_8859_2,
    };
    let bytes = [byte];
    let decoded = table.decode_without_bom_handling(&bytes).0;
    decoded
        .chars()
        .next()
        .filter(|&c| c != char::REPLACEMENT_CHARACTER)
}

fn cp852_char(byte: u8) -> char {
    match byte.checked_sub(0x80) {
        None => char::from(byte),
        Some(i) => oem_cp::code_table::DECODING_TABLE_CP852
            .get(usize::from(i))
            .copied()
            .unwrap_or(char::REPLACEMENT_CHARACTER),
    }
}

fn char_score(c: Option<char>) -> i64 {
    const POLISH: &str = "ąćęłńóśźżĄĆĘŁŃÓŚŹŻ";
    const PUNCTUATION: &str = "\u{a0}–—„”“’‚«»§°€…·";
    match c {
        None => -8,
        Some(c) if c.is_control() => -8,
        Some(c) if POLISH.contains(c) => 4,
        Some(c) if c.is_alphabetic() => 1,
        Some(c) if PUNCTUATION.contains(c) => 0,
        Some(_) => -2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLISH: &str = "Zażółć gęślą jaźń ĄĆĘŁŃÓŚŹŻ";

    fn encode_cp852(text: &str) -> Vec<u8> {
        text.chars()
            .map(|c| {
                if c.is_ascii() {
                    c as u8
                } else {
                    (0x80u8..=0xFF).find(|&b| cp852_char(b) == c).unwrap()
                }
            })
            .collect()
    }

    #[test]
    fn each_code_page_is_recognised_from_polish_letters() {
        let cp1250 = encoding_rs::WINDOWS_1250.encode(POLISH).0;
        let latin2 = encoding_rs::ISO_8859_2.encode(POLISH).0;
        let cp852 = encode_cp852(POLISH);
        for (bytes, expected) in [
            (&cp1250[..], Encoding::Windows1250),
            (&latin2[..], Encoding::Iso8859_2),
            (&cp852[..], Encoding::Cp852),
            (POLISH.as_bytes(), Encoding::Utf8),
        ] {
            let decoded = decode(bytes, Encoding::Auto).unwrap();
            assert_eq!(decoded.encoding, expected);
            assert_eq!(decoded.text, POLISH);
        }
    }

    #[test]
    fn forced_utf8_reports_the_line_of_the_bad_byte() {
        let err = decode(b"a\nb\n\xff", Encoding::Utf8).unwrap_err();
        assert_eq!(err.line, 3);
        assert_eq!(err.kind, ErrorKind::InvalidUtf8);
    }

    #[test]
    fn bom_is_dropped() {
        let decoded = decode(b"\xEF\xBB\xBF:20:X", Encoding::Auto).unwrap();
        assert_eq!(decoded.text, ":20:X");
    }
}
