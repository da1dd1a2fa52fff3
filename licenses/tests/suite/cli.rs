//! The `h2h-license` binary, run as a vendor and an admin would.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }
}

fn h2h_license(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_h2h-license"))
        .args(args)
        .output()
        .expect("h2h-license runs");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn text(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}

/// A vendor key pair in a fresh directory.
struct Vendor {
    _dir: tempfile::TempDir,
    keys: PathBuf,
    secret: PathBuf,
    public: PathBuf,
}

impl Vendor {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        let run = h2h_license(&["keygen", "--out-dir", text(&keys)]);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        Self {
            _dir: dir,
            secret: keys.join("vendor.key"),
            public: keys.join("vendor.pub"),
            keys,
        }
    }

    /// Issues the fixture license (pkobp ^1.2, inst-7f3a, 2026) to `out`;
    /// `options` replace a fixture value or add a flag.
    fn issue(&self, out: &Path, options: &[(&str, &str)]) -> Run {
        let mut flags = vec![
            ("--key", text(&self.secret)),
            ("--plugin", PLUGIN),
            ("--versions", "^1.2"),
            ("--licensee", "ACME Sp. z o.o."),
            ("--installation", INSTALLATION),
            ("--not-before", "2026-01-01"),
            ("--expires", "2026-12-31"),
            ("-o", text(out)),
        ];
        for &(flag, value) in options {
            match flags.iter_mut().find(|(f, _)| *f == flag) {
                Some(existing) => existing.1 = value,
                None => flags.push((flag, value)),
            }
        }
        let mut args = vec!["issue"];
        args.extend(flags.iter().flat_map(|&(flag, value)| [flag, value]));
        h2h_license(&args)
    }
}

fn verify_args<'a>(license: &'a Path, public: &'a Path, version: &'a str) -> Vec<&'a str> {
    vec![
        "verify",
        text(license),
        "--trust",
        text(public),
        "--installation",
        INSTALLATION,
        "--plugin",
        PLUGIN,
        "--version",
        version,
    ]
}

#[test]
fn keygen_issue_verify() {
    let vendor = Vendor::new();
    let license = vendor.keys.join("pkobp.license");
    let run = vendor.issue(&license, &[("--max-companies", "3"), ("--id", "lic-cli-1")]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.stdout,
        format!(
            "license lic-cli-1 for pkobp ^1.2 written to {}\n",
            license.display()
        )
    );

    let mut args = verify_args(&license, &vendor.public, "1.3.0");
    args.extend(["--today", "2026-06-01"]);
    let run = h2h_license(&args);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let key_id = h2h_license::VendorPublicKey::load(&vendor.public)
        .unwrap()
        .key_id();
    assert_eq!(
        run.stdout,
        format!(
            "valid: license lic-cli-1 lets pkobp 1.3.0 run on installation inst-7f3a\n  \
             plugin:       pkobp\n  \
             versions:     ^1.2\n  \
             licensee:     ACME Sp. z o.o.\n  \
             installation: inst-7f3a\n  \
             valid:        2026-01-01 through 2026-12-31 (213 days left)\n  \
             limits:       at most 3 companies, unlimited terminals\n  \
             issued at:    {}\n  \
             vendor key:   {key_id}\n",
            h2h_license::format_date(chrono::Utc::now().date_naive())
        )
    );
    assert_eq!(run.stderr, "");
}

#[test]
fn verify_warns_within_thirty_days_of_the_end() {
    let vendor = Vendor::new();
    let license = vendor.keys.join("l.license");
    assert_eq!(vendor.issue(&license, &[]).code, Some(0));
    let mut args = verify_args(&license, &vendor.public, "1.3.0");
    args.extend(["--today", "2026-12-21", "--json"]);
    let run = h2h_license(&args);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["valid"], true);
    assert_eq!(json["days_left"], 10);
    assert_eq!(json["expires_soon"], true);
    assert_eq!(json["license"]["plugin"], PLUGIN);
    assert_eq!(json["license"]["expires"], "2026-12-31");

    args.retain(|a| *a != "--json");
    let run = h2h_license(&args);
    assert!(
        run.stdout
            .ends_with("warning: the license ends in 10 days; its last valid day is 2026-12-31\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn verify_failure_exits_1_with_the_exact_reason() {
    let vendor = Vendor::new();
    let license = vendor.keys.join("l.license");
    assert_eq!(vendor.issue(&license, &[]).code, Some(0));

    let mut expired = verify_args(&license, &vendor.public, "1.3.0");
    expired.extend(["--today", "2027-01-01"]);
    let run = h2h_license(&expired);
    assert_eq!(run.code, Some(1));
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "error: license expired: its last valid day was 2026-12-31\n"
    );

    expired.push("--json");
    let run = h2h_license(&expired);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.json(),
        serde_json::json!({
            "valid": false,
            "error": {
                "kind": "expired",
                "message": "license expired: its last valid day was 2026-12-31"
            }
        })
    );

    let mut wrong_version = verify_args(&license, &vendor.public, "2.0.0");
    wrong_version.extend(["--today", "2026-06-01"]);
    let run = h2h_license(&wrong_version);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr,
        "error: plugin version 2.0.0 is outside the licensed range ^1.2\n"
    );
}

#[test]
fn verify_refuses_an_untrusted_vendor_and_a_tampered_file() {
    let vendor = Vendor::new();
    let stranger = Vendor::new();
    let license = vendor.keys.join("l.license");
    assert_eq!(vendor.issue(&license, &[]).code, Some(0));
    let key_id = h2h_license::VendorPublicKey::load(&vendor.public)
        .unwrap()
        .key_id();

    let mut args = verify_args(&license, &stranger.public, "1.3.0");
    args.extend(["--today", "2026-06-01"]);
    let run = h2h_license(&args);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr,
        format!(
            "error: license is signed by vendor key {key_id}, which this host does not trust\n"
        )
    );

    let tampered = vendor.keys.join("tampered.license");
    let original = std::fs::read_to_string(&license).unwrap();
    std::fs::write(&tampered, original.replace("2026-12-31", "2099-12-31")).unwrap();
    let mut args = verify_args(&tampered, &vendor.public, "1.3.0");
    args.extend(["--trust", text(&stranger.public), "--today", "2026-06-01"]);
    let run = h2h_license(&args);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr,
        format!(
            "error: license signature does not verify with vendor key {key_id}: \
             the license was altered after signing or was not signed by that key\n"
        )
    );
}

#[test]
fn verify_reports_a_malformed_file_by_line() {
    let vendor = Vendor::new();
    let license = vendor.keys.join("broken.license");
    std::fs::write(&license, "[license]\nformat = 1\nplugin = 7\n").unwrap();
    let run = h2h_license(&verify_args(&license, &vendor.public, "1.0.0"));
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr,
        "error: malformed license at line 3, column 10 (`plugin`): \
         invalid type: integer `7`, expected a string\n"
    );
}

#[test]
fn keygen_refuses_to_overwrite_and_keeps_the_secret_private() {
    let vendor = Vendor::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&vendor.secret), 0o600);
    }
    let before = std::fs::read_to_string(&vendor.secret).unwrap();

    let run = h2h_license(&["keygen", "--out-dir", text(&vendor.keys)]);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr,
        format!(
            "error: {} already exists; refusing to overwrite a key file\n",
            vendor.secret.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&vendor.secret).unwrap(), before);

    // Only the public file in the way: still nothing is written.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("vendor.pub"), "mine").unwrap();
    let run = h2h_license(&["--json", "keygen", "--out-dir", text(dir.path())]);
    assert_eq!(run.code, Some(1));
    assert_eq!(run.json()["error"]["kind"], "key");
    assert!(!dir.path().join("vendor.key").exists());
}

#[test]
fn keygen_names_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let run = h2h_license(&[
        "--json",
        "keygen",
        "--out-dir",
        text(dir.path()),
        "--name",
        "acme",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let json = run.json();
    let public = dir.path().join("acme.pub");
    assert_eq!(json["public_key"], text(&public));
    assert_eq!(json["secret_key"], text(&dir.path().join("acme.key")));
    let key_id = h2h_license::VendorPublicKey::load(&public)
        .unwrap()
        .key_id();
    assert_eq!(json["key_id"], key_id.as_str());

    let run = h2h_license(&["keygen", "--out-dir", text(dir.path()), "--name", "../x"]);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr,
        "error: --name `../x` must be a lowercase slug (a-z, 0-9, inner dashes)\n"
    );
}

#[test]
fn issue_validates_its_request() {
    let vendor = Vendor::new();
    let out = vendor.keys.join("l.license");
    let run = vendor.issue(&out, &[("--expires", "2025-12-31")]);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr,
        "error: the license would expire (2025-12-31) before it becomes valid (2026-01-01)\n"
    );
    let run = vendor.issue(&out, &[("--plugin", "PKO")]);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr,
        "error: invalid plugin: `PKO` is not a plugin id: lowercase letters, digits and \
         inner dashes, at most 64 characters\n"
    );
    assert!(!out.exists(), "nothing written for a refused request");

    // Argument-level mistakes are usage errors (exit 2), named by clap.
    let run = vendor.issue(&out, &[("--versions", "one")]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr
            .contains("invalid value 'one' for '--versions <RANGE>'"),
        "{}",
        run.stderr
    );
    let run = vendor.issue(&out, &[("--expires", "2026-02-30")]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr
            .contains("`2026-02-30` is not a date written as YYYY-MM-DD"),
        "{}",
        run.stderr
    );
}

#[test]
fn issue_never_overwrites_a_license_file() {
    let vendor = Vendor::new();
    let out = vendor.keys.join("l.license");
    assert_eq!(vendor.issue(&out, &[]).code, Some(0));
    let first = std::fs::read_to_string(&out).unwrap();
    let run = vendor.issue(&out, &[]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.starts_with(&format!(
            "error: cannot create {} (it must not exist yet)",
            out.display()
        )),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), first);
}

#[test]
fn issue_to_stdout_prints_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("fixed.key");
    std::fs::write(&key, FIXED_SECRET_KEY).unwrap();
    let run = h2h_license(&[
        "issue",
        "--key",
        text(&key),
        "--plugin",
        PLUGIN,
        "--versions",
        "^1",
        "--licensee",
        "ACME",
        "--installation",
        INSTALLATION,
        "--not-before",
        "2026-01-01",
        "--expires",
        "2026-12-31",
        "--max-terminals",
        "4",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let signed = h2h_license::SignedLicense::from_toml(&run.stdout).unwrap();
    assert_eq!(signed.license().limits.max_terminals, Some(4));
    assert_eq!(signed.license().vendor_key, FIXED_KEY_ID);
}

#[test]
fn issue_starts_today_without_not_before() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("fixed.key");
    std::fs::write(&key, FIXED_SECRET_KEY).unwrap();
    let issue = |expires: &str| {
        h2h_license(&[
            "issue",
            "--key",
            text(&key),
            "--plugin",
            PLUGIN,
            "--versions",
            "^1",
            "--licensee",
            "ACME",
            "--installation",
            INSTALLATION,
            "--expires",
            expires,
        ])
    };
    let before = chrono::Utc::now().date_naive();
    let run = issue("2999-12-31");
    let after = chrono::Utc::now().date_naive();
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let signed = h2h_license::SignedLicense::from_toml(&run.stdout).unwrap();
    let license = signed.license();
    // The UTC date, read once: first valid day and issue day are the same.
    assert!(
        license.not_before == before || license.not_before == after,
        "{}",
        license.not_before
    );
    assert_eq!(license.issued_at, license.not_before);

    // The default does not loosen the period check: a license that ended
    // yesterday is still refused.
    let yesterday = before.pred_opt().unwrap();
    let run = issue(&h2h_license::format_date(yesterday));
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.starts_with("error: the license would expire (")
            && run.stderr.contains("before it becomes valid"),
        "{}",
        run.stderr
    );
}

#[test]
fn show_prints_the_payload() {
    let dir = tempfile::tempdir().unwrap();
    let license = dir.path().join("golden.license");
    std::fs::write(&license, GOLDEN_LICENSE).unwrap();

    let run = h2h_license(&["show", text(&license)]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "license lic-0001 (format 1; signature not checked, use `verify` for that)\n  \
         plugin:       pkobp\n  \
         versions:     ^1.2\n  \
         licensee:     ACME \"Spółka\" z o.o.\n  \
         installation: inst-7f3a\n  \
         valid:        2026-01-01 through 2026-12-31\n  \
         limits:       at most 3 companies, unlimited terminals\n  \
         issued at:    2025-12-15\n  \
         vendor key:   34750f98bd59fcfc\n"
    );

    let run = h2h_license(&["show", "--json", text(&license)]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.json(),
        serde_json::json!({
            "format": 1,
            "id": "lic-0001",
            "plugin": "pkobp",
            "versions": "^1.2",
            "licensee": "ACME \"Spółka\" z o.o.",
            "installation": "inst-7f3a",
            "not-before": "2026-01-01",
            "expires": "2026-12-31",
            "issued-at": "2025-12-15",
            "vendor-key": "34750f98bd59fcfc",
            "limits": { "max-companies": 3 }
        })
    );

    let missing = dir.path().join("missing.license");
    let run = h2h_license(&["show", "--json", text(&missing)]);
    assert_eq!(run.code, Some(1));
    assert_eq!(run.json()["error"]["kind"], "other");
    assert!(
        run.json()["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with(&format!("cannot read {}: ", missing.display())),
        "{}",
        run.stdout
    );
}
