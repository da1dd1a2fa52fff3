//! Issuing and verifying licenses: each refusal with its exact reason.

use h2h_license::{
    License, LicenseError, Limits, SignedLicense, VendorKeyPair, VendorPublicKey, VerifyContext,
    verify,
};
use semver::{Version, VersionReq};
use time::macros::date;

const INSTALLATION: &str = "inst-7f3a";

fn license() -> License {
    License {
        format: 1,
        id: "lic-1".into(),
        plugin: "pkobp".into(),
        versions: VersionReq::parse("^1.2").unwrap(),
        licensee: "ACME Sp. z o.o.".into(),
        installation: INSTALLATION.into(),
        not_before: date!(2026 - 01 - 01),
        expires: date!(2026 - 12 - 31),
        issued: date!(2026 - 01 - 01),
        vendor_key: String::new(),
        limits: Limits {
            max_companies: Some(3),
            max_terminals: None,
        },
    }
}

fn check(
    signed: &SignedLicense,
    trusted: &[VendorPublicKey],
    version: &str,
    today: time::Date,
) -> Result<(), LicenseError> {
    let version = Version::parse(version).unwrap();
    let ctx = VerifyContext {
        installation: INSTALLATION,
        plugin: "pkobp",
        version: &version,
        today,
    };
    verify(signed, trusted, &ctx).map(drop)
}

fn issued() -> (VendorKeyPair, SignedLicense) {
    let key = VendorKeyPair::generate().unwrap();
    let signed = SignedLicense::issue(license(), &key);
    (key, signed)
}

#[test]
fn a_license_survives_its_file_and_verifies() {
    let (key, signed) = issued();
    let reread = SignedLicense::from_toml(&signed.to_toml()).unwrap();
    assert_eq!(reread, signed);
    assert_eq!(reread.license.vendor_key, key.public().key_id());
    check(&reread, &[key.public()], "1.4.0", date!(2026 - 06 - 01)).unwrap();
}

#[test]
fn validity_includes_both_end_days() {
    let (key, signed) = issued();
    check(&signed, &[key.public()], "1.2.0", date!(2026 - 01 - 01)).unwrap();
    check(&signed, &[key.public()], "1.2.0", date!(2026 - 12 - 31)).unwrap();
    assert_eq!(
        check(&signed, &[key.public()], "1.2.0", date!(2027 - 01 - 01))
            .unwrap_err()
            .to_string(),
        "license expired on 2026-12-31"
    );
    assert_eq!(
        check(&signed, &[key.public()], "1.2.0", date!(2025 - 12 - 31))
            .unwrap_err()
            .to_string(),
        "license is not valid before 2026-01-01"
    );
}

#[test]
fn each_mismatch_is_named() {
    let (key, signed) = issued();
    let trusted = [key.public()];
    assert_eq!(
        check(&signed, &trusted, "2.0.0", date!(2026 - 06 - 01))
            .unwrap_err()
            .to_string(),
        "license covers versions ^1.2 of the plugin, not 2.0.0"
    );
    let version = Version::parse("1.2.0").unwrap();
    let other_host = VerifyContext {
        installation: "inst-other",
        plugin: "pkobp",
        version: &version,
        today: date!(2026 - 06 - 01),
    };
    assert_eq!(
        verify(&signed, &trusted, &other_host)
            .unwrap_err()
            .to_string(),
        "license is bound to installation inst-7f3a, this host is inst-other"
    );
    let other_plugin = VerifyContext {
        plugin: "mbank",
        ..other_host.clone()
    };
    assert_eq!(
        verify(&signed, &trusted, &other_plugin)
            .unwrap_err()
            .to_string(),
        "license is for plugin `pkobp`, not `mbank`"
    );
}

#[test]
fn an_untrusted_vendor_is_named_by_key_id() {
    let (key, signed) = issued();
    let stranger = VendorKeyPair::generate().unwrap();
    let error = check(
        &signed,
        &[stranger.public()],
        "1.2.0",
        date!(2026 - 06 - 01),
    )
    .unwrap_err();
    assert_eq!(
        error,
        LicenseError::UnknownVendorKey {
            key_id: key.public().key_id()
        }
    );
}

#[test]
fn tampering_with_any_field_breaks_the_signature() {
    let (key, signed) = issued();
    type Tamper = fn(&mut License);
    let tampers: Vec<(&str, Tamper)> = vec![
        ("licensee", |l| l.licensee = "Evil Corp".into()),
        ("expires", |l| l.expires = date!(2099 - 12 - 31)),
        ("installation", |l| l.installation = "inst-other".into()),
        ("plugin", |l| l.plugin = "mbank".into()),
        ("versions", |l| l.versions = VersionReq::STAR),
        ("limits", |l| l.limits.max_companies = None),
        ("not-before", |l| l.not_before = date!(2020 - 01 - 01)),
    ];
    for (field, tamper) in tampers {
        let mut forged = signed.clone();
        tamper(&mut forged.license);
        // Through the file, as an attacker would edit it.
        let forged = SignedLicense::from_toml(&forged.to_toml()).unwrap();
        let version = Version::parse("1.2.0").unwrap();
        let ctx = VerifyContext {
            installation: &forged.license.installation.clone(),
            plugin: &forged.license.plugin.clone(),
            version: &version,
            today: date!(2026 - 06 - 01),
        };
        let error = verify(&forged, &[key.public()], &ctx).unwrap_err();
        assert_eq!(
            error,
            LicenseError::BadSignature {
                key_id: key.public().key_id()
            },
            "{field}"
        );
    }
}

#[test]
fn a_signature_by_another_key_claiming_a_trusted_id_is_bad() {
    let (key, signed) = issued();
    let impostor = VendorKeyPair::generate().unwrap();
    let mut forged = SignedLicense::issue(license(), &impostor);
    forged.license.vendor_key = signed.license.vendor_key.clone();
    forged.signature.key_id = signed.signature.key_id.clone();
    let error = check(&forged, &[key.public()], "1.2.0", date!(2026 - 06 - 01)).unwrap_err();
    assert!(
        matches!(error, LicenseError::BadSignature { .. }),
        "{error:?}"
    );
}

#[test]
fn malformed_files_say_where() {
    let error = SignedLicense::from_toml("[license]\nformat = \"one\"\n").unwrap_err();
    let LicenseError::Malformed(message) = &error else {
        panic!("{error:?}")
    };
    assert!(message.starts_with("line 2: "), "{message}");

    let (_, signed) = issued();
    let newer = signed.to_toml().replace("format = 1", "format = 2");
    assert_eq!(
        SignedLicense::from_toml(&newer).unwrap_err(),
        LicenseError::UnsupportedFormatVersion {
            found: 2,
            supported: 1
        }
    );
}

#[test]
fn expiry_warning_window() {
    let (key, signed) = issued();
    let version = Version::parse("1.2.0").unwrap();
    let ctx = VerifyContext {
        installation: INSTALLATION,
        plugin: "pkobp",
        version: &version,
        today: date!(2026 - 12 - 01),
    };
    let verified = verify(&signed, &[key.public()], &ctx).unwrap();
    assert_eq!(verified.days_left(date!(2026 - 12 - 01)), 30);
    assert!(!verified.expires_within(30, date!(2026 - 12 - 01)));
    assert!(verified.expires_within(30, date!(2026 - 12 - 02)));
}

#[test]
fn keys_round_trip_through_their_files() {
    let key = VendorKeyPair::generate().unwrap();
    let again = VendorKeyPair::from_armored(&key.to_armored()).unwrap();
    assert_eq!(again.public(), key.public());
    let public = VendorPublicKey::from_armored(&key.public().to_armored()).unwrap();
    assert_eq!(public.key_id().len(), 16);
    assert!(
        VendorPublicKey::from_armored(&key.to_armored()).is_err(),
        "a secret key is not a public key"
    );
}
