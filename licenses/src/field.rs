//! The rules every payload value obeys, shared by parsing (where a broken
//! value is `Malformed`) and issuing (where it is an `IssueError`), so a
//! vendor can never sign something a host would refuse to read.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike as _, NaiveDate};
use semver::{Version, VersionReq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Longest plugin id, the same bound the host puts on manifest ids.
const MAX_SLUG_LEN: usize = 64;
/// Longest license id; ids are for humans to quote, not payloads.
const MAX_ID_LEN: usize = 128;
/// Hex digits in a key id.
pub(crate) const KEY_ID_LEN: usize = 16;

/// A semver range of plugin versions, kept with the exact text it was
/// written as: the signature covers that text, so re-rendering the parsed
/// range (which may normalise spacing) would break licenses written by other
/// tools.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRange {
    text: String,
    requirement: VersionReq,
}

impl VersionRange {
    /// Parses a range such as `^1.2` or `>=1.2, <3`, keeping `text` as is.
    pub fn parse(text: &str) -> Result<Self, semver::Error> {
        Ok(Self {
            requirement: VersionReq::parse(text)?,
            text: text.to_owned(),
        })
    }

    /// The range exactly as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The parsed requirement.
    pub fn requirement(&self) -> &VersionReq {
        &self.requirement
    }

    /// Whether `version` is in the range (semver rules: pre-releases match
    /// only ranges that name a pre-release of the same version).
    pub fn matches(&self, version: &Version) -> bool {
        self.requirement.matches(version)
    }
}

impl FromStr for VersionRange {
    type Err = semver::Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for VersionRange {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for VersionRange {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(|e| {
            serde::de::Error::custom(format!("`{text}` is not a semver version range: {e}"))
        })
    }
}

/// Why a date text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a date written as YYYY-MM-DD")]
pub struct InvalidDate {
    /// The text as given.
    pub text: String,
}

/// Parses exactly `YYYY-MM-DD` (four-digit year, two-digit month and day, a
/// real calendar day). Nothing else is accepted, so every accepted text is
/// also what [`format_date`] writes back: the signed bytes cannot differ
/// between two readers of the same file.
pub fn parse_date(text: &str) -> Result<NaiveDate, InvalidDate> {
    let invalid = || InvalidDate {
        text: text.to_owned(),
    };
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && [0, 1, 2, 3, 5, 6, 8, 9]
            .iter()
            .all(|&i| bytes[i].is_ascii_digit());
    if !shaped {
        return Err(invalid());
    }
    let number = |range: std::ops::Range<usize>| text[range].parse::<u32>().map_err(|_| invalid());
    let year = i32::try_from(number(0..4)?).map_err(|_| invalid())?;
    NaiveDate::from_ymd_opt(year, number(5..7)?, number(8..10)?).ok_or_else(invalid)
}

/// Writes `date` as `YYYY-MM-DD`, the only form licenses use.
pub fn format_date(date: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day())
}

/// Whether [`format_date`] and [`parse_date`] agree on `date`: years 0000 to
/// 9999.
pub(crate) fn is_writable_date(date: NaiveDate) -> bool {
    (0..=9999).contains(&date.year())
}

/// Serde glue for dates as `YYYY-MM-DD` strings.
pub(crate) mod date_text {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(
        date: &NaiveDate,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&super::format_date(*date))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<NaiveDate, D::Error> {
        let text = String::deserialize(deserializer)?;
        super::parse_date(&text).map_err(serde::de::Error::custom)
    }
}

/// Lowercase ASCII letters, digits and inner dashes, at most 64 characters:
/// the plugin id rule of the host's manifests.
pub fn is_slug(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= MAX_SLUG_LEN
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !text.starts_with('-')
        && !text.ends_with('-')
}

/// The payload's text fields and the rule each obeys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextField {
    Id,
    Plugin,
    Licensee,
    Installation,
    VendorKey,
}

impl TextField {
    /// The field's key in the license file.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Plugin => "plugin",
            Self::Licensee => "licensee",
            Self::Installation => "installation",
            Self::VendorKey => "vendor-key",
        }
    }

    /// `Err(reason)` when `value` breaks the field's rule.
    pub(crate) fn check(self, value: &str) -> Result<(), String> {
        // Control characters are refused everywhere: they are invisible to an
        // admin reading the file, and without them the canonical encoding
        // only ever escapes `"` and `\`.
        if value.chars().any(char::is_control) {
            return Err(format!("{value:?} contains a control character"));
        }
        match self {
            Self::Id | Self::Installation if value.is_empty() => Err("must not be empty".into()),
            Self::Id | Self::Installation if value.chars().any(char::is_whitespace) => {
                Err(format!("`{value}` must not contain spaces"))
            }
            Self::Id if value.chars().count() > MAX_ID_LEN => {
                Err(format!("must be at most {MAX_ID_LEN} characters"))
            }
            Self::Plugin if !is_slug(value) => Err(format!(
                "`{value}` is not a plugin id: lowercase letters, digits and inner dashes, \
                 at most {MAX_SLUG_LEN} characters"
            )),
            Self::Licensee if value.trim().is_empty() => Err("must not be empty".into()),
            Self::VendorKey if !is_key_id(value) => Err(format!(
                "`{value}` is not a key id: {KEY_ID_LEN} lowercase hex digits"
            )),
            _ => Ok(()),
        }
    }

    /// Deserialises a string and applies the field's rule.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<String, D::Error> {
        let value = String::deserialize(deserializer)?;
        self.check(&value).map_err(serde::de::Error::custom)?;
        Ok(value)
    }
}

fn is_key_id(text: &str) -> bool {
    text.len() == KEY_ID_LEN
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Deserialisers for each text field, as `#[serde(deserialize_with)]` needs
/// plain functions.
pub(crate) mod checked {
    use serde::Deserializer;

    use super::TextField;

    macro_rules! checked {
        ($($name:ident => $field:expr),* $(,)?) => {$(
            pub(crate) fn $name<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
                $field.deserialize(d)
            }
        )*};
    }

    checked! {
        id => TextField::Id,
        plugin => TextField::Plugin,
        licensee => TextField::Licensee,
        installation => TextField::Installation,
        key_id => TextField::VendorKey,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).unwrap()
    }

    #[test]
    fn dates_parse_only_in_their_one_written_form() {
        assert_eq!(parse_date("2026-02-28"), Ok(ymd(2026, 2, 28)));
        assert_eq!(format_date(ymd(999, 1, 2)), "0999-01-02");
        for bad in [
            "2026-2-28",
            "2026-02-30",
            "2026-13-01",
            "+2026-02-28",
            "2026/02/28",
            " 2026-02-28",
            "20260228",
            "2026-00-10",
            "",
        ] {
            assert_eq!(
                parse_date(bad),
                Err(InvalidDate { text: bad.into() }),
                "{bad}"
            );
        }
    }

    #[test]
    fn slugs() {
        for good in ["pkobp", "m-bank-2", "a"] {
            assert!(is_slug(good), "{good}");
        }
        for bad in ["", "PKO", "-a", "a-", "a_b", "ą", &"a".repeat(65)] {
            assert!(!is_slug(bad), "{bad}");
        }
    }

    #[test]
    fn field_rules() {
        assert_eq!(
            TextField::Licensee.check("ACME\u{7}"),
            Err("\"ACME\\u{7}\" contains a control character".into())
        );
        assert_eq!(
            TextField::Installation.check("inst 1"),
            Err("`inst 1` must not contain spaces".into())
        );
        assert_eq!(
            TextField::Installation.check(""),
            Err("must not be empty".into())
        );
        assert_eq!(
            TextField::VendorKey.check("3A9D0C4BE1F27765"),
            Err("`3A9D0C4BE1F27765` is not a key id: 16 lowercase hex digits".into())
        );
        assert_eq!(TextField::Licensee.check("Spółka \"Ząb\" S.A."), Ok(()));
    }

    #[test]
    fn a_range_keeps_its_text() {
        let range = VersionRange::parse(">=1.2,<3").unwrap();
        assert_eq!(range.as_str(), ">=1.2,<3");
        assert!(range.matches(&Version::new(2, 9, 0)));
        assert!(!range.matches(&Version::new(3, 0, 0)));
        assert!(VersionRange::parse("one").is_err());
    }
}
