//! The publisher's detached signature (`signature.toml`): Ed25519 by a
//! vendor key over every other file of the package.
//!
//! Signed message: the line `h2h-package-v1`, then for each file except
//! `signature.toml`, in byte order of names, `<name>\t<sha256 hex>\n`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use h2h_license::{VendorKeyPair, VendorPublicKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::PackageError;
use super::archive::{Files, SIGNATURE};

const CONTEXT: &str = "h2h-package-v1\n";

/// The bytes a publisher signs.
pub fn message(files: &Files) -> Vec<u8> {
    let mut message = CONTEXT.as_bytes().to_vec();
    for (name, bytes) in files.iter().filter(|(name, _)| name.as_str() != SIGNATURE) {
        message.extend_from_slice(name.as_bytes());
        message.push(b'\t');
        message.extend_from_slice(hex::encode(Sha256::digest(bytes)).as_bytes());
        message.push(b'\n');
    }
    message
}

/// SHA-256 (hex) of [`message`]: names the contents whatever the zip
/// metadata (timestamps, compression) around them.
pub fn content_digest(files: &Files) -> String {
    hex::encode(Sha256::digest(message(files)))
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct SignatureFile {
    algorithm: String,
    key_id: String,
    value: String,
}

/// `signature.toml` for `files`, signed with `key`.
pub fn sign(files: &Files, key: &VendorKeyPair) -> String {
    let signature = key.sign_detached(&message(files));
    let file = SignatureFile {
        algorithm: "ed25519".to_owned(),
        key_id: key.public().key_id(),
        value: STANDARD.encode(signature),
    };
    let body = toml::to_string(&file).unwrap_or_default();
    format!("# h2h package signature: Ed25519 over every other file of the package.\n{body}")
}

/// Checks `signature.toml` against the other files; returns the signing
/// key's id. A key outside `trusted` is [`PackageError::UnknownPublisher`].
pub fn verify(
    files: &Files,
    text: &str,
    trusted: &[VendorPublicKey],
) -> Result<String, PackageError> {
    let file: SignatureFile = toml::from_str(text)
        .map_err(|e| PackageError::MalformedSignature(e.message().to_owned()))?;
    if file.algorithm != "ed25519" {
        return Err(PackageError::MalformedSignature(format!(
            "algorithm `{}` is not supported (only ed25519)",
            file.algorithm
        )));
    }
    let value = STANDARD
        .decode(file.value.trim())
        .ok()
        .and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
        .ok_or_else(|| {
            PackageError::MalformedSignature("`value` is not 64 bytes of base64".to_owned())
        })?;
    let candidates: Vec<&VendorPublicKey> = trusted
        .iter()
        .filter(|k| k.key_id() == file.key_id)
        .collect();
    if candidates.is_empty() {
        return Err(PackageError::UnknownPublisher(file.key_id));
    }
    let message = message(files);
    if candidates
        .iter()
        .any(|key| key.verify_detached(&message, &value))
    {
        Ok(file.key_id)
    } else {
        Err(PackageError::BadSignature(file.key_id))
    }
}
