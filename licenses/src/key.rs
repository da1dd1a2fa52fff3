//! Vendor key pairs (Ed25519) and their armored text files.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::error::KeyError;

const SECRET_LABEL: &str = "H2H VENDOR SECRET KEY";
const PUBLIC_LABEL: &str = "H2H VENDOR PUBLIC KEY";

/// A vendor's signing key. Keep its file private (the CLI writes it 0600).
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

    /// The armored secret key text.
    pub fn to_armored(&self) -> String {
        armor(SECRET_LABEL, self.signing.as_bytes())
    }

    /// Reads an armored secret key.
    pub fn from_armored(text: &str) -> Result<Self, KeyError> {
        let bytes = dearmor(text, SECRET_LABEL, "vendor secret key")?;
        Ok(Self {
            signing: SigningKey::from_bytes(&bytes),
        })
    }

    /// Reads a secret key file.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        Self::from_armored(&read(path)?)
    }

    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        use ed25519_dalek::Signer;
        self.signing.sign(message).to_bytes()
    }
}

impl VendorPublicKey {
    /// Short fingerprint naming the key in licenses: the first 16 hex digits
    /// of the SHA-256 of the public key bytes.
    pub fn key_id(&self) -> String {
        hex::encode(&Sha256::digest(self.verifying.as_bytes())[..8])
    }

    /// The armored public key text.
    pub fn to_armored(&self) -> String {
        armor(PUBLIC_LABEL, self.verifying.as_bytes())
    }

    /// Reads an armored public key.
    pub fn from_armored(text: &str) -> Result<Self, KeyError> {
        let bytes = dearmor(text, PUBLIC_LABEL, "vendor public key")?;
        let verifying = VerifyingKey::from_bytes(&bytes).map_err(|e| KeyError::Format {
            expected: "vendor public key",
            reason: e.to_string(),
        })?;
        Ok(Self { verifying })
    }

    /// Reads a public key file.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        Self::from_armored(&read(path)?)
    }

    pub(crate) fn verifies(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        let signature = ed25519_dalek::Signature::from_bytes(signature);
        self.verifying.verify_strict(message, &signature).is_ok()
    }
}

fn read(path: &Path) -> Result<String, KeyError> {
    std::fs::read_to_string(path).map_err(|source| KeyError::Io {
        path: path.display().to_string(),
        source,
    })
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
        return Err(format(format!("first line must be `{begin}`")));
    }
    let body = lines
        .next()
        .ok_or_else(|| format("no key after the first line".into()))?;
    if lines.next() != Some(end.as_str()) {
        return Err(format(format!("key must be one line followed by `{end}`")));
    }
    let bytes = STANDARD
        .decode(body)
        .map_err(|e| format(format!("key is not base64: {e}")))?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| format(format!("key is {} bytes, expected 32", b.len())))
}
