//! ISO-8859-2 (Latin-2) encoding, as mBank reads Elixir-O files: ASCII as
//! is, the letters of Polish and its neighbours at their Latin-2 bytes,
//! anything else `?` (the bank's own rule for its statements).

/// Characters above ASCII that ISO-8859-2 has, with their bytes.
const TABLE: &[(char, u8)] = &[
    ('\u{A0}', 0xA0),
    ('Ą', 0xA1),
    ('˘', 0xA2),
    ('Ł', 0xA3),
    ('¤', 0xA4),
    ('Ľ', 0xA5),
    ('Ś', 0xA6),
    ('§', 0xA7),
    ('¨', 0xA8),
    ('Š', 0xA9),
    ('Ş', 0xAA),
    ('Ť', 0xAB),
    ('Ź', 0xAC),
    ('\u{AD}', 0xAD),
    ('Ž', 0xAE),
    ('Ż', 0xAF),
    ('°', 0xB0),
    ('ą', 0xB1),
    ('˛', 0xB2),
    ('ł', 0xB3),
    ('´', 0xB4),
    ('ľ', 0xB5),
    ('ś', 0xB6),
    ('ˇ', 0xB7),
    ('¸', 0xB8),
    ('š', 0xB9),
    ('ş', 0xBA),
    ('ť', 0xBB),
    ('ź', 0xBC),
    ('˝', 0xBD),
    ('ž', 0xBE),
    ('ż', 0xBF),
    ('Ŕ', 0xC0),
    ('Á', 0xC1),
    ('Â', 0xC2),
    ('Ă', 0xC3),
    ('Ä', 0xC4),
    ('Ĺ', 0xC5),
    ('Ć', 0xC6),
    ('Ç', 0xC7),
    ('Č', 0xC8),
    ('É', 0xC9),
    ('Ę', 0xCA),
    ('Ë', 0xCB),
    ('Ě', 0xCC),
    ('Í', 0xCD),
    ('Î', 0xCE),
    ('Ď', 0xCF),
    ('Đ', 0xD0),
    ('Ń', 0xD1),
    ('Ň', 0xD2),
    ('Ó', 0xD3),
    ('Ô', 0xD4),
    ('Ő', 0xD5),
    ('Ö', 0xD6),
    ('×', 0xD7),
    ('Ř', 0xD8),
    ('Ů', 0xD9),
    ('Ú', 0xDA),
    ('Ű', 0xDB),
    ('Ü', 0xDC),
    ('Ý', 0xDD),
    ('Ţ', 0xDE),
    ('ß', 0xDF),
    ('ŕ', 0xE0),
    ('á', 0xE1),
    ('â', 0xE2),
    ('ă', 0xE3),
    ('ä', 0xE4),
    ('ĺ', 0xE5),
    ('ć', 0xE6),
    ('ç', 0xE7),
    ('č', 0xE8),
    ('é', 0xE9),
    ('ę', 0xEA),
    ('ë', 0xEB),
    ('ě', 0xEC),
    ('í', 0xED),
    ('î', 0xEE),
    ('ď', 0xEF),
    ('đ', 0xF0),
    ('ń', 0xF1),
    ('ň', 0xF2),
    ('ó', 0xF3),
    ('ô', 0xF4),
    ('ő', 0xF5),
    ('ö', 0xF6),
    ('÷', 0xF7),
    ('ř', 0xF8),
    ('ů', 0xF9),
    ('ú', 0xFA),
    ('ű', 0xFB),
    ('ü', 0xFC),
    ('ý', 0xFD),
    ('ţ', 0xFE),
    ('˙', 0xFF),
];

/// The byte of `c`, if ISO-8859-2 has it (C0/C1 controls excluded but for
/// CR and LF).
pub fn byte(c: char) -> Option<u8> {
    match c {
        '\r' | '\n' => Some(c as u8),
        ' '..='~' => Some(c as u8),
        _ => TABLE.iter().find(|(k, _)| *k == c).map(|(_, b)| *b),
    }
}

/// `text` in ISO-8859-2, `?` for what it lacks.
pub fn encode(text: &str) -> Vec<u8> {
    text.chars().map(|c| byte(c).unwrap_or(b'?')).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polish_letters_take_their_latin2_bytes() {
        assert_eq!(
            encode("ĄĆĘŁŃÓŚŹŻąćęłńóśźż"),
            [
                0xA1, 0xC6, 0xCA, 0xA3, 0xD1, 0xD3, 0xA6, 0xAC, 0xAF, 0xB1, 0xE6, 0xEA, 0xB3, 0xF1,
                0xF3, 0xB6, 0xBC, 0xBF
            ]
        );
        assert_eq!(encode("a—b€\u{7}"), b"a?b??");
        // Never a C1 byte, which mBank refuses as a Windows-1250 file.
        assert!(TABLE.iter().all(|(_, b)| *b >= 0xA0));
    }
}
