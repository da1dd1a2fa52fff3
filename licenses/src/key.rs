//! Vendor key pairs (Ed25519) and their armored text files.

use std::fmt;
use std::io::Write as _;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest as _, Sha256};

use crate::error::KeyError;
use crate::field::KEY_ID_LEN;

const SECRET_LABEL: &str = "H2H VENDOR SECRET KEY";
const PUBLIC_LABEL: &str = "H2H VENDOR PUBLIC KEY";
const SECRET_NAME: &str = "vendor secret key";
const PUBLIC_NAME: &str = "vendor public key";

/// A vendor's signing key. Whoever holds it can license any plugin to any
/// host that trusts its public half: keep its file private.
pub struct VendorKeyPair {
    signing: SigningKey,
}

/// A vendor's public key, as a host trusts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorPublicKey {
    verifying: VerifyingKey,
}

impl VendorKeyPair {
    /// A new random key pair from the operating system's generator.
    pub fn generate() -> Result<Self, KeyError> {
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed).map_err(|e| KeyError::Random(e.to_string()))?;
        Ok(Self {
            signing: SigningKey::from_bytes(&seed),
        })
    }

    /// The public half.
    pub fn public(&self) -> VendorPublicKey {
        VendorPublicKey {
            verifying: self.signing.verifying_key(),
        }
    }

    /// The armored secret key file text (see the README for the format).
    pub fn to_armored(&self) -> String {
        armor(SECRET_LABEL, self.signing.as_bytes())
    }

    /// Reads armored secret key text.
    pub fn from_armored(text: &str) -> Result<Self, KeyError> {
        let seed = dearmor(text, SECRET_LABEL, SECRET_NAME)?;
        Ok(Self {
            signing: SigningKey::from_bytes(&seed),
        })
    }

    /// Reads a secret key file.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        Self::from_armored(&read(path)?)
    }

    /// Writes the secret key file, readable by its owner only (mode 0600 on
    /// Unix). Fails with [`KeyError::AlreadyExists`] rather than replace a
    /// file.
    pub fn save(&self, path: &Path) -> Result<(), KeyError> {
        write_new(path, &self.to_armored(), true)
    }

    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }

    /// Signs `message` for another h2h format (plugin packages). The caller's
    /// message must start with its own context line (`h2h-package-v1`), so a
    /// signature made for one format can never pass as another's.
    pub fn sign_detached(&self, message: &[u8]) -> [u8; 64] {
        self.sign(message)
    }
}

/// Shows only the key id: a secret key must not end up in logs.
impl fmt::Debug for VendorKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VendorKeyPair")
            .field("key_id", &self.public().key_id())
            .finish_non_exhaustive()
    }
}

impl VendorPublicKey {
    /// The short fingerprint that names this key in licenses: the first 16
    /// lowercase hex digits of SHA-256 over the 32 public key bytes.
    pub fn key_id(&self) -> String {
        let mut id = hex::encode(Sha256::digest(self.verifying.as_bytes()));
        id.truncate(KEY_ID_LEN);
        id
    }

    /// The armored public key file text (see the README for the format).
    pub fn to_armored(&self) -> String {
        armor(PUBLIC_LABEL, self.verifying.as_bytes())
    }

    /// Reads armored public key text; refuses bytes that are not a point on
    /// the curve.
    pub fn from_armored(text: &str) -> Result<Self, KeyError> {
        let bytes = dearmor(text, PUBLIC_LABEL, PUBLIC_NAME)?;
        // dalek's own message ("signature error: ...") would mislead here.
        let verifying = VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::Format {
            expected: PUBLIC_NAME,
            reason: "the key is not a point on the Ed25519 curve".into(),
        })?;
        Ok(Self { verifying })
    }

    /// Reads a public key file.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        Self::from_armored(&read(path)?)
    }

    /// Writes the public key file. Fails with [`KeyError::AlreadyExists`]
    /// rather than replace a file.
    pub fn save(&self, path: &Path) -> Result<(), KeyError> {
        write_new(path, &self.to_armored(), false)
    }

    /// Strict verification (RFC 8032 with the checks of `verify_strict`):
    /// refuses malleable signatures and weak keys, so one license has
    /// exactly one valid signature per key.
    /// Strictly verifies a [`VendorKeyPair::sign_detached`] signature.
    pub fn verify_detached(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        self.verifies(message, signature)
    }

    pub(crate) fn verifies(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        let signature = ed25519_dalek::Signature::from_bytes(signature);
        self.verifying.verify_strict(message, &signature).is_ok()
    }
}

fn read(path: &Path) -> Result<String, KeyError> {
    std::fs::read_to_string(path).map_err(|source| KeyError::Io {
        path: path.to_owned(),
        source,
    })
}

fn write_new(path: &Path, text: &str, secret: bool) -> Result<(), KeyError> {
    let io_error = |source: std::io::Error| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            KeyError::AlreadyExists {
                path: path.to_owned(),
            }
        } else {
            KeyError::Io {
                path: path.to_owned(),
                source,
            }
        }
    };
    let mut options = std::fs::OpenOptions::new();
    // `create_new` both refuses to overwrite and does so atomically: no
    // window between an existence check and the write.
    options.write(true).create_new(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt as _;
        // Set at creation: a chmod afterwards would leave a moment in which
        // the secret is readable by others.
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut file = options.open(path).map_err(io_error)?;
    file.write_all(text.as_bytes()).map_err(io_error)?;
    file.sync_all().map_err(io_error)
}

fn armor(label: &str, bytes: &[u8; 32]) -> String {
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        STANDARD.encode(bytes)
    )
}

fn dearmor(text: &str, label: &str, expected: &'static str) -> Result<[u8; 32], KeyError> {
    let format = |reason: String| KeyError::Format { expected, reason };
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    if lines.next() != Some(begin.as_str()) {
        return Err(format(format!("the first line must be `{begin}`")));
    }
    let body = lines
        .next()
        .ok_or_else(|| format(format!("no key line after `{begin}`")))?;
    if lines.next() != Some(end.as_str()) || lines.next().is_some() {
        return Err(format(format!(
            "the key must be one base64 line followed by `{end}` and nothing else"
        )));
    }
    let bytes = STANDARD
        .decode(body)
        .map_err(|e| format(format!("the key line is not base64: {e}")))?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| format(format!("the key is {} bytes, expected 32", b.len())))
}
