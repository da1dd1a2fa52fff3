//! Text to lines to fields: line breaks, transport framing, tags.
//!
//! A tag is `:` + two digits or capitals + an optional letter + `:` at the
//! very start of a line; any other line continues the field before it.
//!
//! Framing that is dropped: SOH (0x01), ETX (0x03), SUB (0x1A, the DOS end
//! of file) and NUL at either end of a line (mBank frames each account as
//! SOH … `-` ETX); SWIFT FIN block headers `{1:…}{2:…}{3:…}{4:` (what
//! follows `{4:` on the same line is kept) and `{5:…}` trailers. A statement
//! ends at a `-` line, at `-}`, or at the next `:20:`.

use crate::statement::Kind;

/// One physical line after framing was stripped.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line<'a> {
    /// 1-based line number.
    pub number: usize,
    pub text: &'a str,
}

/// A tag with its value: the rest of the tag's line plus the lines after it
/// that are not tags.
#[derive(Debug, Clone)]
pub(crate) struct Field<'a> {
    /// E.g. `61`, `60F`.
    pub tag: &'a str,
    pub line: usize,
    /// Text after the tag on its own line.
    pub first: &'a str,
    /// Continuation lines, blank ones left out.
    pub more: Vec<Line<'a>>,
}

impl Field<'_> {
    /// All value lines, the tag's own first.
    pub fn lines(&self) -> impl Iterator<Item = Line<'_>> {
        std::iter::once(Line {
            number: self.line,
            text: self.first,
        })
        .chain(self.more.iter().copied())
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Item<'a> {
    Field(Field<'a>),
    /// A `-` or `-}` trailer.
    End,
    /// A SWIFT block 2 naming the message type.
    KindHint(Kind),
    /// A line outside any field (a bank's header text, a file comment).
    Stray,
}

/// Splits text into lines: `\n` ends a line and trailing `\r`s are
/// dropped; a text with `\r` and no `\n` (classic Mac) splits on `\r`.
pub(crate) fn lines(text: &str) -> Vec<Line<'_>> {
    let breaker = if !text.contains('\n') && text.contains('\r') {
        '\r'
    } else {
        '\n'
    };
    text.split(breaker)
        .enumerate()
        .map(|(i, raw)| Line {
            number: i + 1,
            text: strip_framing(raw),
        })
        .collect()
}

fn strip_framing(raw: &str) -> &str {
    let framing = |c: char| matches!(c, '\u{1}' | '\u{3}' | '\u{1a}' | '\0');
    raw.trim_end_matches('\r')
        .trim_matches(framing)
        .trim_end_matches('\r')
}

/// `:NN:` or `:NNa:` at the start of a line: the tag and the rest.
pub(crate) fn split_tag(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix(':')?;
    let b = rest.as_bytes();
    // Two digits (`61`), or two capitals for non-SWIFT tags some banks add
    // (`:NS:`), which are then kept as unknown tags.
    let name = |c: &u8| c.is_ascii_digit() || c.is_ascii_uppercase();
    if !(name(b.first()?) && name(b.get(1)?)) {
        return None;
    }
    let tag_len = match b.get(2)? {
        b':' => 2,
        c if c.is_ascii_alphabetic() && b.get(3) == Some(&b':') => 3,
        _ => return None,
    };
    Some((rest.get(..tag_len)?, rest.get(tag_len + 1..)?))
}

/// Groups lines into fields, trailers and stray lines.
pub(crate) fn items<'a>(lines: &[Line<'a>]) -> Vec<Item<'a>> {
    let mut out = Vec::new();
    let mut field: Option<Field<'a>> = None;
    for (index, line) in lines.iter().enumerate() {
        let mut text = line.text;
        if is_block_header(text) {
            if let Some(kind) = block2_kind(text) {
                flush(&mut field, &mut out);
                out.push(Item::KindHint(kind));
            }
            match text.find("{4:").and_then(|at| text.get(at + 3..)) {
                Some(rest) if !rest.trim().is_empty() => text = rest,
                _ => continue,
            }
        }
        // Blank lines carry nothing; a lone `}` closes a SWIFT block 4.
        if text.trim().is_empty() || text.trim() == "}" {
            continue;
        }
        if let Some((tag, first)) = split_tag(text) {
            flush(&mut field, &mut out);
            field = Some(Field {
                tag,
                line: line.number,
                first,
                more: Vec::new(),
            });
        } else if is_trailer(text, lines.get(index + 1..).unwrap_or_default()) {
            flush(&mut field, &mut out);
            out.push(Item::End);
        } else if let Some(open) = field.as_mut() {
            open.more.push(Line {
                number: line.number,
                text,
            });
        } else {
            out.push(Item::Stray);
        }
    }
    flush(&mut field, &mut out);
    out
}

fn flush<'a>(field: &mut Option<Field<'a>>, out: &mut Vec<Item<'a>>) {
    if let Some(done) = field.take() {
        out.push(Item::Field(done));
    }
}

/// `{1:`, `{2:`, … at the start of a line.
fn is_block_header(text: &str) -> bool {
    let b = text.as_bytes();
    b.first() == Some(&b'{') && b.get(1).is_some_and(u8::is_ascii_digit) && b.get(2) == Some(&b':')
}

/// `{2:I940…}` / `{2:O942…}`: the message type.
fn block2_kind(text: &str) -> Option<Kind> {
    let at = text.find("{2:")?;
    let mt = text.get(at + 4..at + 7)?;
    match mt {
        "940" | "950" => Some(Kind::Mt940),
        "942" => Some(Kind::Mt942),
        _ => None,
    }
}

/// `-` alone and `-}…` always end a statement. `-` followed by other text
/// (ING's `-XXX`) does only when nothing but the end of the input, a new
/// `:20:` or a block header follows, so that a wrapped `:86:` line that
/// happens to start with `-` stays text.
fn is_trailer(text: &str, following: &[Line<'_>]) -> bool {
    let Some(rest) = text.strip_prefix('-') else {
        return false;
    };
    if rest.trim().is_empty() || rest.starts_with('}') {
        return true;
    }
    match following.iter().find(|l| !l.text.trim().is_empty()) {
        None => true,
        Some(next) => next.text.starts_with(":20:") || is_block_header(next.text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        assert_eq!(split_tag(":20:ABC"), Some(("20", "ABC")));
        assert_eq!(split_tag(":60F:C1"), Some(("60F", "C1")));
        assert_eq!(split_tag(":6:x"), None);
        assert_eq!(split_tag(":601:x"), None);
        assert_eq!(split_tag(":NS:22x"), Some(("NS", "22x")));
        assert_eq!(split_tag(":ab:x"), None);
        assert_eq!(split_tag(":61"), None);
        assert_eq!(split_tag("?20:x"), None);
    }

    #[test]
    fn swift_blocks_and_framing() {
        let text = "\u{1}{1:F01BANK}{2:O9421200}{4:\r\n:20:X\r\n:25:Y\r\n-}{5:{CHK:1}}\u{3}\r\n";
        let lines = lines(text);
        let items = items(&lines);
        assert!(matches!(items.first(), Some(Item::KindHint(Kind::Mt942))));
        assert!(
            matches!(items.get(1), Some(Item::Field(f)) if f.tag == "20" && f.first == "X" && f.line == 2)
        );
        assert!(matches!(items.get(3), Some(Item::End)));
        assert_eq!(items.len(), 4);
    }

    #[test]
    fn dash_text_is_a_trailer_only_at_the_end() {
        let lines = lines(":20:A\n:86:x\n-y\n:61:z\n-XXX\n");
        let items = items(&lines);
        assert!(matches!(&items[1], Item::Field(f) if f.tag == "86" && f.more.len() == 1));
        assert!(matches!(items.last(), Some(Item::End)));
    }
}
