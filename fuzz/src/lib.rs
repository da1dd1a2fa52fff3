//! The fuzz targets' bodies, one function per input the host takes from
//! outside. A body may return an error for any input; it must not panic,
//! hang or break the invariant it asserts. The host's test suite includes
//! this file to replay the corpora on the stable toolchain.

use h2h_host::packages::manifest::Manifest;
use h2h_host::packages::{PackageLimits, SignaturePolicy};
use h2h_host::settlements::transfers::NewTransfer;
use h2h_host::values::{Currency, line};

/// A plugin package as an admin uploads it: the zip, its manifest, its
/// signature and its component, all checked (no key trusted: unsigned
/// packages pass the signature step as on a development host).
pub fn package(data: &[u8]) {
    let _ = h2h_host::packages::open(
        data,
        &[],
        SignaturePolicy::AllowUnsigned,
        &PackageLimits::default(),
    );
}

/// A package's `h2h.toml`.
pub fn manifest(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Manifest::parse(text);
    }
}

/// A license file, parsed and verified (against no trusted key, so it is
/// refused; the parsing and the signature check run whole).
pub fn license(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(signed) = h2h_license::SignedLicense::from_toml(text) else {
        return;
    };
    let ctx = h2h_license::VerifyContext {
        installation_id: "h2h-fuzz".to_owned(),
        plugin_id: signed.license().plugin.clone(),
        plugin_version: semver::Version::new(1, 0, 0),
        today: chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap_or_default(),
    };
    let _ = h2h_license::verify(&signed, &[], &ctx);
}

/// A bank statement file (MT940/MT942).
pub fn mt940(data: &[u8]) {
    let _ = h2h_mt940::parse(data);
}

/// What the ERP sends: amounts, free text and a transfer body. An amount
/// that is read comes back the same when shown and read again; text that
/// is taken fits its cap and holds no control character.
pub fn erp_bodies(data: &[u8]) {
    let _ = serde_json::from_slice::<NewTransfer>(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for code in ["UAH", "JPY", "BHD"] {
        let Ok(currency) = Currency::parse(code) else {
            panic!("{code} is a currency");
        };
        if let Ok(value) = currency.amount(text) {
            let shown = currency.format(value);
            assert_eq!(currency.amount(&shown), Ok(value), "{text:?} -> {shown}");
        }
    }
    if let Ok(kept) = line("title", text, 140) {
        assert!(kept.chars().count() <= 140, "{kept:?}");
        assert!(!kept.chars().any(char::is_control), "{kept:?}");
        assert_eq!(kept.trim(), kept);
    }
}
