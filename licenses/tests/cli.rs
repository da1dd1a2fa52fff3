//! The `h2h-license` binary from keygen to verify.

use std::process::Command;

fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_h2h-license"))
}

fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().expect("h2h-license runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn keygen_issue_verify() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let (ok, _, err) = run(cli().args(["keygen", "--out-dir"]).arg(&keys));
    assert!(ok, "{err}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(keys.join("vendor.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let (ok, _, err) = run(cli().args(["keygen", "--out-dir"]).arg(&keys));
    assert!(!ok, "keygen must refuse to overwrite");
    assert!(err.contains("must not exist yet"), "{err}");

    let license = dir.path().join("pkobp.license");
    let (ok, _, err) = run(cli()
        .args(["issue", "--key"])
        .arg(keys.join("vendor.key"))
        .args([
            "--plugin",
            "pkobp",
            "--versions",
            "^1",
            "--licensee",
            "ACME",
        ])
        .args([
            "--installation",
            "inst-1",
            "--not-before",
            "2026-01-01",
            "--expires",
            "2026-12-31",
            "-o",
        ])
        .arg(&license));
    assert!(ok, "{err}");

    let verify = |version: &str, today: &str| {
        run(cli()
            .arg("verify")
            .arg(&license)
            .arg("--trust")
            .arg(keys.join("vendor.pub"))
            .args([
                "--installation",
                "inst-1",
                "--plugin",
                "pkobp",
                "--version",
                version,
                "--today",
                today,
            ]))
    };
    let (ok, out, err) = verify("1.3.0", "2026-06-01");
    assert!(ok, "{err}");
    assert!(
        out.contains("valid: pkobp 1.3.0 for ACME until 2026-12-31"),
        "{out}"
    );
    let (ok, _, err) = verify("1.3.0", "2027-01-05");
    assert!(!ok);
    assert!(err.contains("license expired on 2026-12-31"), "{err}");

    let (ok, out, _) = run(cli().args(["show", "--json"]).arg(&license));
    assert!(ok);
    let shown: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["plugin"], "pkobp");
}

#[test]
fn issue_refuses_a_backwards_period() {
    let dir = tempfile::tempdir().unwrap();
    run(cli().args(["keygen", "--out-dir"]).arg(dir.path()));
    let (ok, _, err) = run(cli()
        .args(["issue", "--key"])
        .arg(dir.path().join("vendor.key"))
        .args([
            "--plugin",
            "pkobp",
            "--versions",
            "^1",
            "--licensee",
            "ACME",
            "--installation",
            "i",
        ])
        .args(["--not-before", "2026-12-31", "--expires", "2026-01-01"]));
    assert!(!ok);
    assert!(
        err.contains("--expires 2026-01-01 is before --not-before 2026-12-31"),
        "{err}"
    );
}
