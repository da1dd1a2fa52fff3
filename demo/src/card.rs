//! The demo's smart card: a SoftHSM2 token in the data directory holding a
//! throw-away RSA key and its self-signed certificate, made with the tools
//! a real deployment's smart-card admin uses (`softhsm2-util`,
//! `pkcs11-tool`, `openssl`). Made once; later runs reuse it.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};

/// The token's name and label.
pub const TOKEN: &str = "demo-card";
/// Its user PIN: made up for this software token, which holds nothing but
/// the demo's own throw-away key.
pub const PIN: &str = "demo-pin-0000";
const SO_PIN: &str = "demo-so-pin-0000";
/// `CKA_ID` of the key and its certificate.
const KEY_ID: &str = "01";

const MODULES: &[&str] = &[
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib64/pkcs11/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
];
const TOOLS: [&str; 3] = ["softhsm2-util", "pkcs11-tool", "openssl"];

/// The card, ready.
pub struct Card {
    /// The PKCS#11 module.
    pub module: String,
    /// The key as the host names it, `token:id`.
    pub key: String,
    /// The certificate, DER: what the bank registers for the user.
    pub cert_der: Vec<u8>,
}

fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("demo").join("softhsm")
}

/// Points SoftHSM2 at the demo's token directory. SoftHSM reads
/// `SOFTHSM2_CONF` once, when the module loads, so this runs first thing,
/// while the process has one thread.
pub fn configure(data_dir: &Path) -> Result<()> {
    let dir = dir(data_dir);
    let tokens = dir.join("tokens");
    std::fs::create_dir_all(&tokens).with_context(|| format!("creating {}", tokens.display()))?;
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.canonicalize().unwrap_or(tokens).display()
        ),
    )
    .with_context(|| format!("writing {}", conf.display()))?;
    // SAFETY: called from `main` before the async runtime or any other
    // thread starts, so nothing reads the environment concurrently.
    unsafe { std::env::set_var("SOFTHSM2_CONF", &conf) };
    Ok(())
}

/// What is missing to make the card, if anything: the install hint.
pub fn missing() -> Option<String> {
    let module = MODULES.iter().any(|m| Path::new(m).exists());
    let tools: Vec<&str> = TOOLS
        .into_iter()
        .filter(|tool| Command::new(tool).arg("--help").output().is_err())
        .collect();
    (!module || !tools.is_empty()).then(|| {
        "SoftHSM2 is not installed: `apt-get install softhsm2 opensc openssl` (Debian, Ubuntu) \
         gives the software smart card the PKO BP part uses"
            .to_owned()
    })
}

fn run(command: &mut Command) -> Result<()> {
    let output = command
        .output()
        .with_context(|| format!("running {command:?}"))?;
    if !output.status.success() {
        bail!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// The card: made now (token, key, certificate), or the one an earlier run
/// made.
pub fn prepare(data_dir: &Path) -> Result<(Card, bool)> {
    let module = MODULES
        .iter()
        .find(|m| Path::new(m).exists())
        .context("no libsofthsm2.so found")?
        .to_string();
    let dir = dir(data_dir);
    let der_path = dir.join("card-cert.der");
    let key = format!("{TOKEN}:{KEY_ID}");
    if let Ok(cert_der) = std::fs::read(&der_path) {
        return Ok((
            Card {
                module,
                key,
                cert_der,
            },
            false,
        ));
    }
    let key_pem = dir.join("card-key.p8");
    let cert_pem = dir.join("card-cert.pem");
    run(Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "365",
        ])
        .args(["-subj", "/CN=Jan Kowalski (h2h demo card)"])
        .arg("-keyout")
        .arg(&key_pem)
        .arg("-out")
        .arg(&cert_pem))?;
    run(Command::new("openssl")
        .args(["x509", "-outform", "DER", "-in"])
        .arg(&cert_pem)
        .arg("-out")
        .arg(&der_path))?;
    run(Command::new("softhsm2-util").args([
        "--init-token",
        "--free",
        "--label",
        TOKEN,
        "--so-pin",
        SO_PIN,
        "--pin",
        PIN,
    ]))?;
    run(Command::new("softhsm2-util")
        .arg("--import")
        .arg(&key_pem)
        .args([
            "--token", TOKEN, "--id", KEY_ID, "--label", "demo-key", "--pin", PIN,
        ]))?;
    run(Command::new("pkcs11-tool")
        .args([
            "--module",
            &module,
            "--token-label",
            TOKEN,
            "--login",
            "--pin",
            PIN,
        ])
        .arg("--write-object")
        .arg(&der_path)
        .args(["--type", "cert", "--id", KEY_ID, "--label", "demo-cert"]))?;
    // The key lives on the token now; the file copy is not needed.
    std::fs::remove_file(&key_pem).with_context(|| format!("removing {}", key_pem.display()))?;
    let cert_der =
        std::fs::read(&der_path).with_context(|| format!("reading {}", der_path.display()))?;
    Ok((
        Card {
            module,
            key,
            cert_der,
        },
        true,
    ))
}
