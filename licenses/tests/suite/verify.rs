//! Issuing and verifying: every refusal with its exact reason, in the
//! documented order.

use crate::common::*;
use chrono::NaiveDate;
use h2h_license::{
    IssueError, LicenseError, SignedLicense, VendorKeyPair, VendorPublicKey, VerifyContext,
    VersionRange, issue, verify,
};
use semver::Version;

fn verify_golden(ctx: &VerifyContext) -> Result<(), LicenseError> {
    verify(&golden(), &[fixed_public()], ctx).map(drop)
}

/// The error and its message, checked together.
fn refusal(result: Result<(), LicenseError>) -> (LicenseError, String) {
    let error = result.unwrap_err();
    let message = error.to_string();
    (error, message)
}

#[test]
fn issue_to_file_to_verify_round_trip() {
    let key = VendorKeyPair::generate().unwrap();
    let mut request = request();
    request.id = None;
    let signed = issue(&key, request).unwrap();
    assert_eq!(signed.license().id.len(), 32, "128 random bits in hex");
    assert_eq!(signed.license().vendor_key, key.public().key_id());

    let reread = SignedLicense::from_toml(&signed.to_toml()).unwrap();
    assert_eq!(reread, signed);
    let verified = verify(&reread, &[key.public()], &context()).unwrap();
    assert_eq!(verified.license(), signed.license());
    assert_eq!(verified.verified_on(), mid_year());
}

#[test]
fn random_ids_differ() {
    let key = fixed_key();
    let ids: Vec<String> = (0..2)
        .map(|_| {
            let mut request = request();
            request.id = None;
            issue(&key, request).unwrap().license().id.clone()
        })
        .collect();
    assert_ne!(ids[0], ids[1]);
}

#[test]
fn untrusted_vendor() {
    let stranger = VendorKeyPair::generate().unwrap();
    let (error, message) = refusal(verify(&golden(), &[stranger.public()], &context()).map(drop));
    assert_eq!(
        error,
        LicenseError::UnknownVendorKey {
            key_id: FIXED_KEY_ID.into()
        }
    );
    assert_eq!(
        message,
        "license is signed by vendor key 34750f98bd59fcfc, which this host does not trust"
    );
    assert_eq!(error.kind(), "unknown-vendor-key");
    assert_eq!(
        verify(&golden(), &[], &context()).unwrap_err(),
        error,
        "no trusted keys at all"
    );
}

#[test]
fn one_of_several_trusted_keys_is_enough() {
    let others = [
        VendorKeyPair::generate().unwrap().public(),
        VendorKeyPair::generate().unwrap().public(),
    ];
    let trusted = [others[0].clone(), fixed_public(), others[1].clone()];
    verify(&golden(), &trusted, &context()).unwrap();
}

const BAD_SIGNATURE: &str = "license signature does not verify with vendor key \
     34750f98bd59fcfc: the license was altered after signing or was not signed by that key";

fn assert_bad_signature(text: &str, what: &str) {
    let forged = SignedLicense::from_toml(text)
        .unwrap_or_else(|e| panic!("{what}: the edited file must still parse: {e}"));
    // The context matches the edited payload, so that only the signature
    // can be what fails.
    let license = forged.license();
    let ctx = VerifyContext {
        installation_id: license.installation.clone(),
        plugin_id: license.plugin.clone(),
        plugin_version: Version::new(1, 4, 0),
        today: mid_year(),
    };
    let (error, message) = refusal(verify(&forged, &[fixed_public()], &ctx).map(drop));
    assert_eq!(
        error,
        LicenseError::BadSignature {
            key_id: FIXED_KEY_ID.into()
        },
        "{what}"
    );
    assert_eq!(message, BAD_SIGNATURE, "{what}");
    assert_eq!(error.kind(), "bad-signature");
}

#[test]
fn tampering_with_any_payload_field_breaks_the_signature() {
    let edits = [
        ("id", "id = \"lic-0001\"", "id = \"lic-0002\""),
        ("plugin", "plugin = \"pkobp\"", "plugin = \"pkobp-pro\""),
        ("versions", "versions = \"^1.2\"", "versions = \">=1.2\""),
        // Same range to semver, different text: still not what was signed.
        (
            "versions text",
            "versions = \"^1.2\"",
            "versions = \"^1.2.0\"",
        ),
        ("licensee", "Spółka", "Spólka"),
        ("installation", "inst-7f3a", "inst-7f3b"),
        (
            "not-before",
            "not-before = \"2026-01-01\"",
            "not-before = \"2025-01-01\"",
        ),
        (
            "expires",
            "expires = \"2026-12-31\"",
            "expires = \"2027-12-31\"",
        ),
        (
            "issued-at",
            "issued-at = \"2025-12-15\"",
            "issued-at = \"2025-12-16\"",
        ),
        (
            "vendor-key",
            "vendor-key = \"34750f98bd59fcfc\"",
            "vendor-key = \"0000000000000000\"",
        ),
        ("max-companies", "max-companies = 3", "max-companies = 30"),
        (
            "max-terminals added",
            "max-companies = 3",
            "max-companies = 3\nmax-terminals = 5",
        ),
        (
            "limits removed",
            "[license.limits]\nmax-companies = 3\n",
            "",
        ),
        ("signature value", "value = \"vFU/", "value = \"vFV/"),
    ];
    for (what, from, to) in edits {
        assert!(GOLDEN_LICENSE.contains(from), "{what}");
        assert_bad_signature(&GOLDEN_LICENSE.replacen(from, to, 1), what);
    }
}

#[test]
fn another_key_claiming_a_trusted_key_id_is_a_bad_signature() {
    let impostor = VendorKeyPair::generate().unwrap();
    let impostor_id = impostor.public().key_id();
    let forged = issue(&impostor, request()).unwrap().to_toml();
    // Both the payload's vendor-key and the signature's key-id now claim the
    // trusted key.
    let claimed = forged.replace(&impostor_id, FIXED_KEY_ID);
    assert_eq!(claimed.matches(FIXED_KEY_ID).count(), 2);
    assert_bad_signature(&claimed, "impostor");
}

#[test]
fn a_signature_key_id_differing_from_the_signed_vendor_key_is_bad() {
    // A second trusted key whose id is put in the (unsigned) signature table:
    // the payload still names the fixed key, so the signer never vouched
    // for this lookup.
    let other = VendorKeyPair::generate().unwrap();
    let other_id = other.public().key_id();
    let text = GOLDEN_LICENSE.replace(
        "key-id = \"34750f98bd59fcfc\"",
        &format!("key-id = \"{other_id}\""),
    );
    let signed = SignedLicense::from_toml(&text).unwrap();
    assert_eq!(
        verify(&signed, &[fixed_public(), other.public()], &context()).unwrap_err(),
        LicenseError::BadSignature { key_id: other_id }
    );
}

#[test]
fn other_plugin() {
    let ctx = VerifyContext {
        plugin_id: "mbank".into(),
        ..context()
    };
    let (error, message) = refusal(verify_golden(&ctx));
    assert_eq!(
        error,
        LicenseError::OtherPlugin {
            licensed: "pkobp".into(),
            this: "mbank".into()
        }
    );
    assert_eq!(message, "license is for plugin `pkobp`, not `mbank`");
    assert_eq!(error.kind(), "other-plugin");
}

#[test]
fn other_installation() {
    let ctx = VerifyContext {
        installation_id: "inst-other".into(),
        ..context()
    };
    let (error, message) = refusal(verify_golden(&ctx));
    assert_eq!(
        error,
        LicenseError::OtherInstallation {
            licensed: "inst-7f3a".into(),
            this: "inst-other".into()
        }
    );
    assert_eq!(
        message,
        "license is bound to installation inst-7f3a, but this host is installation inst-other"
    );
    assert_eq!(error.kind(), "other-installation");
}

fn on(today: NaiveDate) -> VerifyContext {
    VerifyContext { today, ..context() }
}

#[test]
fn validity_includes_both_end_days() {
    verify_golden(&on(ymd(2026, 1, 1))).unwrap();
    verify_golden(&on(ymd(2026, 12, 31))).unwrap();

    let (error, message) = refusal(verify_golden(&on(ymd(2025, 12, 31))));
    assert_eq!(
        error,
        LicenseError::NotYetValid {
            valid_from: ymd(2026, 1, 1)
        }
    );
    assert_eq!(message, "license is not valid before 2026-01-01");
    assert_eq!(error.kind(), "not-yet-valid");

    let (error, message) = refusal(verify_golden(&on(ymd(2027, 1, 1))));
    assert_eq!(
        error,
        LicenseError::Expired {
            expired_on: ymd(2026, 12, 31)
        }
    );
    assert_eq!(
        message,
        "license expired: its last valid day was 2026-12-31"
    );
    assert_eq!(error.kind(), "expired");
}

fn at_version(version: Version) -> VerifyContext {
    VerifyContext {
        plugin_version: version,
        ..context()
    }
}

#[test]
fn version_outside_range() {
    verify_golden(&at_version(Version::new(1, 2, 0))).unwrap();
    verify_golden(&at_version(Version::new(1, 99, 7))).unwrap();
    for outside in ["2.0.0", "1.1.9", "1.3.0-beta.1"] {
        let version = Version::parse(outside).unwrap();
        let (error, message) = refusal(verify_golden(&at_version(version.clone())));
        assert_eq!(
            error,
            LicenseError::VersionOutsideRange {
                version,
                range: VersionRange::parse("^1.2").unwrap()
            }
        );
        assert_eq!(
            message,
            format!("plugin version {outside} is outside the licensed range ^1.2")
        );
        assert_eq!(error.kind(), "version-outside-range");
    }
}

/// parse → vendor key → signature → plugin → installation → dates → version:
/// a license failing everything reports the first, and fixing each reveals
/// the next.
#[test]
fn checks_run_in_the_documented_order() {
    let tampered =
        SignedLicense::from_toml(&GOLDEN_LICENSE.replace("inst-7f3a", "inst-7f3b")).unwrap();
    let stranger = VendorKeyPair::generate().unwrap().public();
    let everything_wrong = VerifyContext {
        installation_id: "inst-other".into(),
        plugin_id: "mbank".into(),
        plugin_version: Version::new(9, 0, 0),
        today: ymd(2030, 1, 1),
    };
    fn kind(
        signed: &SignedLicense,
        trusted: &[VendorPublicKey],
        ctx: &VerifyContext,
    ) -> &'static str {
        verify(signed, trusted, ctx).unwrap_err().kind()
    }
    assert_eq!(
        kind(&tampered, &[stranger], &everything_wrong),
        "unknown-vendor-key"
    );
    let trusted = [fixed_public()];
    assert_eq!(
        kind(&tampered, &trusted, &everything_wrong),
        "bad-signature"
    );
    let signed = golden();
    assert_eq!(kind(&signed, &trusted, &everything_wrong), "other-plugin");
    let ctx = VerifyContext {
        plugin_id: PLUGIN.into(),
        ..everything_wrong
    };
    assert_eq!(kind(&signed, &trusted, &ctx), "other-installation");
    let ctx = VerifyContext {
        installation_id: INSTALLATION.into(),
        ..ctx
    };
    assert_eq!(kind(&signed, &trusted, &ctx), "expired");
    let ctx = VerifyContext {
        today: mid_year(),
        ..ctx
    };
    assert_eq!(kind(&signed, &trusted, &ctx), "version-outside-range");
    let ctx = VerifyContext {
        plugin_version: Version::new(1, 2, 0),
        ..ctx
    };
    verify(&signed, &trusted, &ctx).unwrap();
}

#[test]
fn days_left_and_the_expiry_warning() {
    let verified_on = |today| verify(&golden(), &[fixed_public()], &on(today)).unwrap();

    let december_1 = verified_on(ymd(2026, 12, 1));
    assert_eq!(december_1.days_left(ymd(2026, 12, 1)), 30);
    assert!(
        !december_1.expires_within(30),
        "still covers 2026-12-31, 30 days on"
    );
    assert!(december_1.expires_within(31));

    let december_2 = verified_on(ymd(2026, 12, 2));
    assert_eq!(december_2.days_left(ymd(2026, 12, 2)), 29);
    assert!(december_2.expires_within(30));

    let last_day = verified_on(ymd(2026, 12, 31));
    assert_eq!(last_day.days_left(ymd(2026, 12, 31)), 0);
    assert!(last_day.expires_within(1));
    assert!(!last_day.expires_within(0));
    assert_eq!(last_day.days_left(ymd(2027, 1, 2)), -2);

    assert!(!verified_on(mid_year()).expires_within(30));
}

#[test]
fn issue_refuses_what_a_host_could_not_read() {
    let key = fixed_key();
    let refused = |edit: fn(&mut h2h_license::LicenseRequest)| {
        let mut request = request();
        edit(&mut request);
        issue(&key, request).unwrap_err()
    };
    assert_eq!(
        refused(|r| r.plugin = "PKO".into()).to_string(),
        "invalid plugin: `PKO` is not a plugin id: lowercase letters, digits and inner dashes, \
         at most 64 characters"
    );
    assert_eq!(
        refused(|r| r.installation = "inst 7f3a".into()).to_string(),
        "invalid installation: `inst 7f3a` must not contain spaces"
    );
    assert_eq!(
        refused(|r| r.licensee = "  ".into()).to_string(),
        "invalid licensee: must not be empty"
    );
    assert_eq!(
        refused(|r| r.licensee = "ACME\nEvil".into()).to_string(),
        "invalid licensee: \"ACME\\nEvil\" contains a control character"
    );
    assert_eq!(
        refused(|r| r.id = Some(String::new())).to_string(),
        "invalid id: must not be empty"
    );
    assert_eq!(
        refused(|r| r.id = Some("x".repeat(129))).to_string(),
        "invalid id: must be at most 128 characters"
    );
    assert_eq!(
        refused(|r| r.limits.max_terminals = Some(0)).to_string(),
        "invalid max-terminals: a limit of 0 would license nothing; omit it for no limit"
    );
    assert_eq!(
        refused(|r| { r.issued_at = ymd(-1, 1, 1) }),
        IssueError::InvalidField {
            field: "issued-at",
            reason: "-0001-01-01 is outside the years 0000 to 9999".into()
        }
    );
    let backwards = refused(|r| r.expires = ymd(2025, 12, 31));
    assert_eq!(
        backwards,
        IssueError::ExpiresBeforeNotBefore {
            not_before: ymd(2026, 1, 1),
            expires: ymd(2025, 12, 31)
        }
    );
    assert_eq!(
        backwards.to_string(),
        "the license would expire (2025-12-31) before it becomes valid (2026-01-01)"
    );
}

#[test]
fn a_one_day_license_is_valid_on_that_day_only() {
    let mut request = request();
    request.expires = request.not_before;
    let signed = issue(&fixed_key(), request).unwrap();
    let check = |today| verify(&signed, &[fixed_public()], &on(today)).map(drop);
    check(ymd(2026, 1, 1)).unwrap();
    assert!(matches!(
        check(ymd(2026, 1, 2)),
        Err(LicenseError::Expired { .. })
    ));
}
