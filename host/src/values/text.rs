//! Free text the ERP sends (invoice numbers, names, titles): one line, a
//! length cap, and none of the characters that make stored text lie when
//! it is shown again: control characters (NUL, line breaks, ANSI escapes)
//! and bidirectional formatting (right-to-left overrides and isolates,
//! which can make `evil.exe` read as `exe.live`).

/// Why a piece of text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Blank where a value is required.
    #[error("`{field}` is required")]
    Missing {
        /// The field.
        field: &'static str,
    },
    /// Longer than the field's cap.
    #[error("`{field}` is {length} characters long; at most {max} are allowed")]
    TooLong {
        /// The field.
        field: &'static str,
        /// Its length in characters.
        length: usize,
        /// The cap.
        max: usize,
    },
    /// A control or bidirectional formatting character.
    #[error(
        "`{field}` contains {name} (U+{code:04X}); control and bidirectional formatting characters are not allowed"
    )]
    Forbidden {
        /// The field.
        field: &'static str,
        /// What the character is.
        name: &'static str,
        /// Its code point.
        code: u32,
    },
}

/// `value` without surrounding spaces, when it is one line of at most
/// `max` characters without control or bidirectional formatting
/// characters; blank is refused (an optional field checks for absence
/// before calling).
pub fn line(field: &'static str, value: &str, max: usize) -> Result<String, TextError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(TextError::Missing { field });
    }
    // Counting stops past the cap: a 60 MB value costs no more than a long one.
    let length = value.chars().take(max + 1).count();
    if length > max {
        return Err(TextError::TooLong {
            field,
            length: value.chars().count(),
            max,
        });
    }
    if let Some((c, name)) = value.chars().find_map(|c| forbidden(c).map(|n| (c, n))) {
        return Err(TextError::Forbidden {
            field,
            name,
            code: u32::from(c),
        });
    }
    Ok(value.to_owned())
}

/// What `c` is, when it may not appear in stored text.
fn forbidden(c: char) -> Option<&'static str> {
    match c {
        '\u{0}' => Some("NUL"),
        '\u{1b}' => Some("an escape (ANSI sequences)"),
        '\n' | '\r' | '\u{2028}' | '\u{2029}' | '\u{85}' => Some("a line break"),
        '\u{202a}'..='\u{202e}' => Some("a bidirectional embedding or override"),
        '\u{2066}'..='\u{2069}' => Some("a bidirectional isolate"),
        '\u{200e}' | '\u{200f}' | '\u{61c}' => Some("a bidirectional mark"),
        c if c.is_control() => Some("a control character"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_trimmed_and_kept() {
        assert_eq!(
            line("title", "  FV/2026/11/001 ", 64).unwrap(),
            "FV/2026/11/001"
        );
        assert_eq!(
            line("name", "Żółć Ґанна Ελένη", 64).unwrap(),
            "Żółć Ґанна Ελένη"
        );
        assert_eq!(line("name", "שלום", 64).unwrap(), "שלום");
    }

    #[test]
    fn blank_long_and_lying_text_is_refused() {
        assert_eq!(
            line("title", "   ", 64),
            Err(TextError::Missing { field: "title" })
        );
        assert_eq!(
            line("title", &"x".repeat(65), 64),
            Err(TextError::TooLong {
                field: "title",
                length: 65,
                max: 64
            })
        );
        for (text, code) in [
            ("a\0b", 0x0),
            ("\u{1b}[31mred", 0x1b),
            ("two\nlines", 0x0a),
            ("tab\there", 0x09),
            ("evil\u{202e}exe.txt", 0x202e),
            ("iso\u{2066}late", 0x2066),
            ("mark\u{200f}", 0x200f),
            ("c1\u{9b}", 0x9b),
        ] {
            match line("title", text, 64) {
                Err(TextError::Forbidden { code: found, .. }) => {
                    assert_eq!(found, code, "{text:?}")
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }
}
