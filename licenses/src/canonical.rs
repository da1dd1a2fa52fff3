//! The bytes a signature covers. Defined here once, field by field, instead
//! of serialising [`License`] itself: renaming or reordering a Rust field, or
//! a serde attribute, must never silently change what vendors sign.

use serde::Serialize;

use crate::field::format_date;
use crate::license::License;

/// Put before the payload so that a vendor key's signature over a license
/// can never be passed off as its signature over anything else the vendor
/// signs, and vice versa.
pub(crate) const SIGNING_CONTEXT: &[u8] = b"h2h-license-v1\n";

/// Fields in signing order. serde_json writes struct fields in declaration
/// order, with no whitespace; `None` becomes `null`, so every payload has
/// the same twelve keys.
#[derive(Serialize)]
struct CanonicalPayload<'a> {
    format: u32,
    id: &'a str,
    plugin: &'a str,
    versions: &'a str,
    licensee: &'a str,
    installation: &'a str,
    #[serde(rename = "not-before")]
    not_before: String,
    expires: String,
    #[serde(rename = "issued-at")]
    issued_at: String,
    #[serde(rename = "vendor-key")]
    vendor_key: &'a str,
    #[serde(rename = "max-companies")]
    max_companies: Option<u32>,
    #[serde(rename = "max-terminals")]
    max_terminals: Option<u32>,
}

pub(crate) fn signing_bytes(license: &License) -> Vec<u8> {
    let payload = CanonicalPayload {
        format: license.format,
        id: &license.id,
        plugin: &license.plugin,
        versions: license.versions.as_str(),
        licensee: &license.licensee,
        installation: &license.installation,
        not_before: format_date(license.not_before),
        expires: format_date(license.expires),
        issued_at: format_date(license.issued_at),
        vendor_key: &license.vendor_key,
        max_companies: license.limits.max_companies,
        max_terminals: license.limits.max_terminals,
    };
    let mut bytes = SIGNING_CONTEXT.to_vec();
    // Strings and integers into a Vec: serde_json has no way to fail here.
    serde_json::to_writer(&mut bytes, &payload).expect("canonical payload serialises");
    bytes
}
