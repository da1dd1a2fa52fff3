//! Fixtures shared by the test files: a fixed vendor key (Ed25519 signing is
//! deterministic, so everything signed with it is reproducible) and the
//! license the README shows.

use chrono::NaiveDate;
use h2h_license::{
    LicenseRequest, Limits, SignedLicense, VendorKeyPair, VendorPublicKey, VerifyContext,
    VersionRange,
};
use semver::Version;

/// The secret key whose seed is 32 bytes of 0x01. Never use it for real.
pub const FIXED_SECRET_KEY: &str = "-----BEGIN H2H VENDOR SECRET KEY-----
AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=
-----END H2H VENDOR SECRET KEY-----
";

/// Its public half.
pub const FIXED_PUBLIC_KEY: &str = "-----BEGIN H2H VENDOR PUBLIC KEY-----
iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w=
-----END H2H VENDOR PUBLIC KEY-----
";

/// Its key id.
pub const FIXED_KEY_ID: &str = "34750f98bd59fcfc";

/// [`request`] signed with the fixed key: the README's example file.
pub const GOLDEN_LICENSE: &str = r#"# h2h plugin license. Any change to the [license] table invalidates the signature.
[license]
format = 1
id = "lic-0001"
plugin = "pkobp"
versions = "^1.2"
licensee = 'ACME "Spółka" z o.o.'
installation = "inst-7f3a"
not-before = "2026-01-01"
expires = "2026-12-31"
issued-at = "2025-12-15"
vendor-key = "34750f98bd59fcfc"

[license.limits]
max-companies = 3

[signature]
algorithm = "ed25519"
key-id = "34750f98bd59fcfc"
value = "vFU/rQfp81neQpxxTTQj9ihXaND6zeEknyowwCrPMLIlfD60Grd+pWjs/FbCPVnpkUJhMUx067EKcamGRFliBg=="
"#;

/// The bytes the golden license's signature covers.
pub const GOLDEN_SIGNED_BYTES: &str = "h2h-license-v1\n{\"format\":1,\"id\":\"lic-0001\",\"plugin\":\"pkobp\",\"versions\":\"^1.2\",\"licensee\":\"ACME \\\"Spółka\\\" z o.o.\",\"installation\":\"inst-7f3a\",\"not-before\":\"2026-01-01\",\"expires\":\"2026-12-31\",\"issued-at\":\"2025-12-15\",\"vendor-key\":\"34750f98bd59fcfc\",\"max-companies\":3,\"max-terminals\":null}";

pub const INSTALLATION: &str = "inst-7f3a";
pub const PLUGIN: &str = "pkobp";
/// A calendar day, for brevity.
pub fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("a real day")
}

/// A day inside the golden license's validity period.
pub fn mid_year() -> NaiveDate {
    ymd(2026, 6, 1)
}

pub fn fixed_key() -> VendorKeyPair {
    VendorKeyPair::from_armored(FIXED_SECRET_KEY).expect("fixed key parses")
}

pub fn fixed_public() -> VendorPublicKey {
    VendorPublicKey::from_armored(FIXED_PUBLIC_KEY).expect("fixed public key parses")
}

/// The request behind [`GOLDEN_LICENSE`].
pub fn request() -> LicenseRequest {
    LicenseRequest {
        id: Some("lic-0001".into()),
        plugin: PLUGIN.into(),
        versions: VersionRange::parse("^1.2").expect("range parses"),
        licensee: "ACME \"Spółka\" z o.o.".into(),
        installation: INSTALLATION.into(),
        not_before: ymd(2026, 1, 1),
        expires: ymd(2026, 12, 31),
        issued_at: ymd(2025, 12, 15),
        limits: Limits {
            max_companies: Some(3),
            max_terminals: None,
        },
    }
}

pub fn golden() -> SignedLicense {
    SignedLicense::from_toml(GOLDEN_LICENSE).expect("golden license parses")
}

/// The context the golden license passes: its plugin and installation,
/// version 1.4.0, on [`mid_year`].
pub fn context() -> VerifyContext {
    VerifyContext {
        installation_id: INSTALLATION.into(),
        plugin_id: PLUGIN.into(),
        plugin_version: Version::new(1, 4, 0),
        today: mid_year(),
    }
}
