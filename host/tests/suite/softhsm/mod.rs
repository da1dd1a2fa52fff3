//! A SoftHSM2 for the tests of one test binary: a temporary token
//! directory with one fresh token per test (each holding an RSA-2048 and an
//! EC P-256 key with self-signed certificates, made with the `openssl` CLI
//! and imported with `softhsm2-util` and `pkcs11-tool`).
//!
//! SoftHSM reads `SOFTHSM2_CONF` once, when the host first initializes the
//! module, and only sees tokens that exist by then; and a PKCS#11 module is
//! initialized once per process. So every token is made up front, by the
//! first test that asks, before anything loads the module.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use tempfile::TempDir;

/// The user PIN of every token: distinctive, so a leak is easy to grep.
pub const PIN: &str = "pin-8246-secret";
/// The security officer PIN.
pub const SO_PIN: &str = "so-9135-secret";
/// `CKA_ID` of the RSA key and its certificate.
pub const RSA_ID: &str = "01";
/// `CKA_ID` of the EC key and its certificate.
pub const EC_ID: &str = "02";

/// One token per test that needs its own, by label.
pub const TOKENS: &[&str] = &[
    "listing",
    "mechanisms",
    "refusals",
    "wrong-pin",
    "locked",
    "no-grant",
    "no-session",
    "saved",
    "unsaved",
    "busy",
    "api",
    "admin-sqlite",
    "admin-postgres",
    "probe",
    "served",
    "console",
    "bank-api",
    "bank-bot-sqlite",
    "bank-bot-postgres",
    "pko-sqlite",
    "pko-postgres",
    "mbank-sqlite",
    "mbank-postgres",
    "share-origin-sqlite",
    "share-origin-postgres",
    "share-target-sqlite",
    "share-target-postgres",
    "pko-conform",
    "mbank-conform",
];

/// The token whose flags say its user PIN is locked.
pub const LOCKED: &str = "locked";

/// A certificate the tokens hold, and what `openssl` says of it.
#[derive(Debug)]
pub struct Cert {
    /// DER.
    pub der: Vec<u8>,
    /// The public key, SPKI PEM, from `openssl x509 -pubkey`.
    pub public_pem: String,
    /// Validity, RFC 3339 as the host writes it.
    pub not_before: String,
    /// End of validity.
    pub not_after: String,
}

/// The SoftHSM set-up.
#[derive(Debug)]
pub struct SoftHsm {
    _dir: TempDir,
    /// Absolute path of libsofthsm2.so.
    pub module: String,
    /// The RSA certificate (CN=ACME Signer RSA, serial 1001).
    pub rsa: Cert,
    /// The EC certificate (CN=ACME Signer EC, serial 2002).
    pub ec: Cert,
}

const MODULES: &[&str] = &[
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib64/pkcs11/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
];

/// The set-up, made on first use; `None` (after printing SKIPPED) when
/// SoftHSM2 is not installed, which fails instead under CI. Call it first
/// thing in every test of the binary.
pub fn softhsm() -> Option<&'static SoftHsm> {
    static HSM: OnceLock<Option<SoftHsm>> = OnceLock::new();
    HSM.get_or_init(|| {
        let module = MODULES.iter().find(|m| Path::new(m).exists());
        let tools = ["softhsm2-util", "pkcs11-tool", "openssl"]
            .iter()
            .all(|tool| Command::new(tool).arg("--help").output().is_ok());
        let Some(module) = module.filter(|_| tools) else {
            assert!(
                std::env::var_os("CI").is_none(),
                "softhsm2 and opensc (pkcs11-tool) are required under CI"
            );
            eprintln!("SKIPPED: softhsm2 not installed");
            return None;
        };
        Some(set_up(module))
    })
    .as_ref()
}

fn set_up(module: &str) -> SoftHsm {
    let dir = tempfile::tempdir().expect("temp dir");
    let tokens = dir.path().join("tokens");
    std::fs::create_dir(&tokens).expect("token dir");
    let conf = dir.path().join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .expect("config");
    // SAFETY: every test calls `softhsm()` before anything else, so while
    // this runs the other test threads are blocked in `get_or_init` or not
    // started, and nothing in the process reads the environment.
    unsafe { std::env::set_var("SOFTHSM2_CONF", &conf) };

    let rsa = certificate(dir.path(), "rsa", "RSA", "rsa_keygen_bits:2048", "0x1001");
    let ec = certificate(dir.path(), "ec", "EC", "ec_paramgen_curve:P-256", "0x2002");
    for label in TOKENS {
        run(Command::new("softhsm2-util").args([
            "--init-token",
            "--free",
            "--label",
            label,
            "--so-pin",
            SO_PIN,
            "--pin",
            PIN,
        ]));
        for (name, id, key_label, cert_label) in [
            ("rsa", RSA_ID, "rsa-key", "RSA signer"),
            ("ec", EC_ID, "ec-key", "EC signer"),
        ] {
            run(Command::new("softhsm2-util")
                .args(["--import"])
                .arg(dir.path().join(format!("{name}.p8")))
                .args(["--token", label, "--id", id, "--label", key_label])
                .args(["--pin", PIN]));
            run(Command::new("pkcs11-tool")
                .args(["--module", module, "--token-label", label, "--login"])
                .args(["--pin", PIN, "--write-object"])
                .arg(dir.path().join(format!("{name}.der")))
                .args(["--type", "cert", "--id", id, "--label", cert_label]));
        }
    }
    mark_pin_locked(&tokens, LOCKED);
    SoftHsm {
        _dir: dir,
        module: module.to_owned(),
        rsa,
        ec,
    }
}

/// A key (PKCS#8 PEM `<name>.p8`) and its self-signed certificate
/// (`<name>.der`), valid for a year.
fn certificate(dir: &Path, name: &str, kind: &str, option: &str, serial: &str) -> Cert {
    let key = dir.join(format!("{name}.p8"));
    let der = dir.join(format!("{name}.der"));
    let algorithm = if kind == "RSA" { "RSA" } else { "EC" };
    run(Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            algorithm,
            "-pkeyopt",
            option,
            "-out",
        ])
        .arg(&key));
    run(Command::new("openssl")
        .args(["req", "-new", "-x509", "-key"])
        .arg(&key)
        .args([
            "-subj",
            &format!("/C=PL/O=ACME sp. z o.o./CN=ACME Signer {kind}"),
        ])
        .args([
            "-days",
            "365",
            "-set_serial",
            serial,
            "-outform",
            "DER",
            "-out",
        ])
        .arg(&der));
    let public_pem = run(Command::new("openssl")
        .args(["x509", "-inform", "DER", "-noout", "-pubkey", "-in"])
        .arg(&der));
    let dates = run(Command::new("openssl")
        .args(["x509", "-inform", "DER", "-noout", "-startdate", "-enddate"])
        .args(["-dateopt", "iso_8601", "-in"])
        .arg(&der));
    let date = |field: &str| {
        dates
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .unwrap_or_else(|| panic!("no {field} in {dates}"))
            .replace(' ', "T")
    };
    Cert {
        der: std::fs::read(&der).expect("certificate"),
        public_pem,
        not_before: date("notBefore="),
        not_after: date("notAfter="),
    }
}

/// SoftHSM2 never locks a PIN: its `Token::loginUser` answers every wrong
/// PIN with `CKR_PIN_INCORRECT` and sets `CKF_USER_PIN_COUNT_LOW`, however
/// many there were. A card that locked reports `CKF_USER_PIN_LOCKED` in its
/// token info; this writes that flag into the token's stored flags
/// (`CKA_OS_TOKENFLAGS` in `token.object`: 8-byte big-endian type, kind 2
/// = unsigned long, value), so SoftHSM reports a locked token.
fn mark_pin_locked(tokens: &Path, label: &str) {
    const CKA_OS_TOKENFLAGS: u64 = 0x8000_0000 + 0x5348 + 3;
    const CKF_USER_PIN_LOCKED: u64 = 0x0004_0000;
    let mut padded = label.as_bytes().to_vec();
    padded.resize(32, b' ');
    let file = token_files(tokens)
        .into_iter()
        .find(|f| {
            let bytes = std::fs::read(f).unwrap_or_default();
            bytes.windows(padded.len()).any(|w| w == padded.as_slice())
        })
        .unwrap_or_else(|| panic!("no token.object for `{label}`"));
    let mut bytes = std::fs::read(&file).expect("token.object");
    let mut pattern = CKA_OS_TOKENFLAGS.to_be_bytes().to_vec();
    pattern.extend_from_slice(&2u64.to_be_bytes());
    let at = bytes
        .windows(pattern.len())
        .position(|w| w == pattern.as_slice())
        .expect("the token flags attribute")
        + pattern.len();
    let mut value = [0u8; 8];
    value.copy_from_slice(&bytes[at..at + 8]);
    let flags = u64::from_be_bytes(value) | CKF_USER_PIN_LOCKED;
    bytes[at..at + 8].copy_from_slice(&flags.to_be_bytes());
    std::fs::write(&file, bytes).expect("token.object written");
}

fn token_files(tokens: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(tokens)
        .expect("token dir")
        .filter_map(|entry| Some(entry.ok()?.path().join("token.object")))
        .filter(|path| path.exists())
        .collect()
}

/// Runs a set-up command; its stdout.
fn run(command: &mut Command) -> String {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
