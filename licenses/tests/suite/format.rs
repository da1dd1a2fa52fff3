//! The license file and key file formats, byte for byte: what the README
//! promises a vendor who reimplements them.

use crate::common::*;
use h2h_license::{
    KeyError, LicenseError, SignatureAlgorithm, SignedLicense, TextPosition, VendorKeyPair,
    VendorPublicKey, issue, verify,
};

#[test]
fn the_golden_license_is_what_issue_writes() {
    let signed = issue(&fixed_key(), request()).unwrap();
    assert_eq!(signed.to_toml(), GOLDEN_LICENSE);
}

#[test]
fn the_signature_covers_the_documented_bytes() {
    let signed = golden();
    assert_eq!(
        String::from_utf8(signed.license().signing_bytes()).unwrap(),
        GOLDEN_SIGNED_BYTES
    );
    assert_eq!(signed.signature().algorithm, SignatureAlgorithm::Ed25519);
    assert_eq!(signed.signature().key_id, FIXED_KEY_ID);
}

#[test]
fn the_golden_license_verifies_with_the_fixed_public_key() {
    let verified = verify(&golden(), &[fixed_public()], &context()).unwrap();
    assert_eq!(verified.license(), golden().license());
}

#[test]
fn rewriting_a_parsed_license_gives_the_same_text() {
    let once = golden().to_toml();
    let twice = SignedLicense::from_toml(&once).unwrap().to_toml();
    assert_eq!(once, GOLDEN_LICENSE);
    assert_eq!(twice, GOLDEN_LICENSE);
}

/// The signature is over values, not text: comments, key order, quoting and
/// table style are the writer's business.
#[test]
fn layout_of_the_file_does_not_matter() {
    let relaid = r#"
[signature]
value = "vFU/rQfp81neQpxxTTQj9ihXaND6zeEknyowwCrPMLIlfD60Grd+pWjs/FbCPVnpkUJhMUx067EKcamGRFliBg=="
key-id = '34750f98bd59fcfc'
algorithm = "ed25519"

[license]   # keys in another order
vendor-key = "34750f98bd59fcfc"
limits = { max-companies = 3 }
licensee = "ACME \"Sp\u00f3\u0142ka\" z o.o."
format = 1
id = 'lic-0001'
plugin = "pkobp"
versions = "^1.2"
installation = "inst-7f3a"
issued-at = "2025-12-15"
not-before = "2026-01-01"
expires = "2026-12-31"
"#;
    let signed = SignedLicense::from_toml(relaid).unwrap();
    assert_eq!(signed, golden());
    verify(&signed, &[fixed_public()], &context()).unwrap();
}

#[test]
fn the_fixed_key_files_and_id() {
    let key = fixed_key();
    assert_eq!(key.to_armored(), FIXED_SECRET_KEY);
    assert_eq!(key.public().to_armored(), FIXED_PUBLIC_KEY);
    assert_eq!(key.public().key_id(), FIXED_KEY_ID);
    assert_eq!(fixed_public(), key.public());
    assert_eq!(
        format!("{key:?}"),
        "VendorKeyPair { key_id: \"34750f98bd59fcfc\", .. }",
        "Debug must not show the secret"
    );
}

fn malformed(text: &str) -> String {
    let error = SignedLicense::from_toml(text).unwrap_err();
    assert!(matches!(error, LicenseError::Malformed { .. }), "{error:?}");
    assert_eq!(error.kind(), "malformed");
    error.to_string()
}

fn edited(from: &str, to: &str) -> String {
    assert!(GOLDEN_LICENSE.contains(from), "{from}");
    GOLDEN_LICENSE.replacen(from, to, 1)
}

#[test]
fn malformed_files_name_line_column_field_and_problem() {
    let cases = [
        (
            edited("format = 1", "format = \"one\""),
            "malformed license at line 3, column 10 (`format`): \
             invalid type: string \"one\", expected u32",
        ),
        (
            edited("expires = \"2026-12-31\"", "expires = \"2026-12-32\""),
            "malformed license at line 10, column 11 (`expires`): \
             `2026-12-32` is not a date written as YYYY-MM-DD",
        ),
        (
            edited("plugin = \"pkobp\"", "plugin = \"PKO BP\""),
            "malformed license at line 5, column 10 (`plugin`): `PKO BP` is not a plugin id: \
             lowercase letters, digits and inner dashes, at most 64 characters",
        ),
        (
            edited("versions = \"^1.2\"", "versions = \"one\""),
            "malformed license at line 6, column 12 (`versions`): `one` is not a semver \
             version range: unexpected character 'o' while parsing major version number",
        ),
        (
            edited("installation = \"inst-7f3a\"", "installation = \"\""),
            "malformed license at line 8, column 16 (`installation`): must not be empty",
        ),
        (
            edited("licensee = ", "licencee = "),
            "malformed license at line 7, column 1 (`licencee`): unknown field `licencee`, \
             expected one of `format`, `id`, `plugin`, `versions`, `licensee`, \
             `installation`, `not-before`, `expires`, `issued-at`, `vendor-key`, `limits`",
        ),
        (
            edited("expires = \"2026-12-31\"\n", ""),
            "malformed license at line 2, column 1: missing field `expires`",
        ),
        (
            edited("max-companies = 3", "max-companies = -3"),
            "malformed license at line 15, column 17 (`max-companies`): \
             invalid value: integer `-3`, expected u32",
        ),
        (
            edited("algorithm = \"ed25519\"", "algorithm = \"rsa\""),
            "malformed license at line 18, column 13 (`algorithm`): \
             unknown variant `rsa`, expected `ed25519`",
        ),
        (
            edited("key-id = \"34750f98bd59fcfc\"", "key-id = \"34750F98\""),
            "malformed license at line 19, column 10 (`key-id`): \
             `34750F98` is not a key id: 16 lowercase hex digits",
        ),
        (
            edited("value = \"vFU/", "value = \"!vFU/"),
            "malformed license at line 20, column 9 (`value`): \
             the signature value is not base64: Invalid symbol 33, offset 0.",
        ),
        (
            edited("value = \"vFU/", "value = \"AAAAvFU/"),
            "malformed license at line 20, column 9 (`value`): \
             the signature value is 67 bytes, an Ed25519 signature is 64",
        ),
        (
            edited("[signature]", "[signature"),
            "malformed license at line 17, column 11: invalid table header; expected `.`, `]`",
        ),
        (
            String::new(),
            "malformed license at line 1, column 1: missing field `license`",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(malformed(&text), expected);
    }
}

#[test]
fn malformed_carries_a_structured_position() {
    let error = SignedLicense::from_toml(&edited("format = 1", "format = \"one\"")).unwrap_err();
    let LicenseError::Malformed { at, reason } = error else {
        panic!("{error:?}")
    };
    assert_eq!(
        at,
        Some(TextPosition {
            line: 3,
            column: 10,
            key: Some("format".into())
        })
    );
    assert_eq!(reason, "invalid type: string \"one\", expected u32");
}

#[test]
fn control_characters_are_refused() {
    assert_eq!(
        malformed(&edited(
            "licensee = 'ACME \"Spółka\" z o.o.'",
            "licensee = \"ACME\\u0007\""
        )),
        "malformed license at line 7, column 12 (`licensee`): \"ACME\\u{7}\" contains a control character"
    );
}

#[test]
fn a_newer_format_is_reported_before_its_unknown_fields() {
    let newer = edited("format = 1", "format = 2\nseats = 10");
    let error = SignedLicense::from_toml(&newer).unwrap_err();
    assert_eq!(
        error,
        LicenseError::UnsupportedFormatVersion {
            found: 2,
            supported: 1
        }
    );
    assert_eq!(
        error.to_string(),
        "license format version 2 is not supported; this host reads version 1"
    );
    assert_eq!(error.kind(), "unsupported-format-version");
}

#[test]
fn key_files_are_strict() {
    let cases = [
        (
            FIXED_SECRET_KEY.to_owned(),
            "not an h2h vendor public key file: the first line must be \
             `-----BEGIN H2H VENDOR PUBLIC KEY-----`",
        ),
        (
            FIXED_PUBLIC_KEY.replace("iojj3XQJ", "!ojj3XQJ"),
            "not an h2h vendor public key file: the key line is not base64: \
             Invalid symbol 33, offset 0.",
        ),
        (
            FIXED_PUBLIC_KEY.replace("iojj3XQJ", ""),
            "not an h2h vendor public key file: the key is 26 bytes, expected 32",
        ),
        (
            FIXED_PUBLIC_KEY.replace("iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w=", "AAAA"),
            "not an h2h vendor public key file: the key is 3 bytes, expected 32",
        ),
        (
            FIXED_PUBLIC_KEY.replace(
                "iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w=",
                "AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            ),
            "not an h2h vendor public key file: the key is not a point on the Ed25519 curve",
        ),
        (
            format!("{FIXED_PUBLIC_KEY}trailing\n"),
            "not an h2h vendor public key file: the key must be one base64 line \
             followed by `-----END H2H VENDOR PUBLIC KEY-----` and nothing else",
        ),
    ];
    for (text, expected) in cases {
        let error = VendorPublicKey::from_armored(&text).unwrap_err();
        assert!(matches!(error, KeyError::Format { .. }), "{error:?}");
        assert_eq!(error.to_string(), expected);
    }
    assert_eq!(
        VendorKeyPair::from_armored(FIXED_PUBLIC_KEY)
            .unwrap_err()
            .to_string(),
        "not an h2h vendor secret key file: the first line must be \
         `-----BEGIN H2H VENDOR SECRET KEY-----`"
    );
}

#[test]
fn key_files_are_saved_once_and_the_secret_privately() {
    let dir = tempfile::tempdir().unwrap();
    let (secret, public) = (dir.path().join("v.key"), dir.path().join("v.pub"));
    let key = VendorKeyPair::generate().unwrap();
    key.save(&secret).unwrap();
    key.public().save(&public).unwrap();
    assert_eq!(VendorKeyPair::load(&secret).unwrap().public(), key.public());
    assert_eq!(VendorPublicKey::load(&public).unwrap(), key.public());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&secret), 0o600);
    }

    let other = VendorKeyPair::generate().unwrap();
    let refused = other.save(&secret).unwrap_err();
    assert_eq!(
        refused.to_string(),
        format!(
            "{} already exists; refusing to overwrite a key file",
            secret.display()
        )
    );
    assert!(matches!(
        other.public().save(&public),
        Err(KeyError::AlreadyExists { .. })
    ));
    assert_eq!(
        VendorKeyPair::load(&secret).unwrap().public(),
        key.public(),
        "the original key is untouched"
    );
    let missing = dir.path().join("missing.pub");
    assert!(matches!(
        VendorPublicKey::load(&missing),
        Err(KeyError::Io { .. })
    ));
}
