//! One sealed value: `1 | key id (8) | nonce (24) | ciphertext and tag`.
//! The random 192-bit nonce of XChaCha20 never repeats in practice, so no
//! counter has to be kept.

use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, AeadCore, OsRng, Payload};
use zeroize::Zeroizing;

use super::VaultKey;

const VERSION: u8 = 1;
const KEY_ID: usize = 8;
const NONCE: usize = 24;
const HEADER: usize = 1 + KEY_ID + NONCE;
/// Poly1305's tag.
const TAG: usize = 16;
/// What sealing adds to a value's length.
pub const OVERHEAD: usize = HEADER + TAG;

pub(super) fn seal(key: &VaultKey, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let ciphertext = key
        .cipher()
        .encrypt(
            &nonce,
            Payload {
                msg: plaintext,
                aad,
            },
        )
        // Only fails for messages beyond 256 GiB.
        .unwrap_or_default();
    let mut out = Vec::with_capacity(HEADER + ciphertext.len());
    out.push(VERSION);
    out.extend_from_slice(key.id_bytes());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ciphertext);
    out
}

/// The key id a value was sealed with, hex, if the value is well-formed.
pub(super) fn key_id(value: &[u8]) -> Option<String> {
    if value.len() < OVERHEAD || value[0] != VERSION {
        return None;
    }
    Some(hex::encode(&value[1..1 + KEY_ID]))
}

pub(super) fn open(key: &VaultKey, aad: &[u8], value: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let nonce = value.get(1 + KEY_ID..HEADER)?;
    let ciphertext = value.get(HEADER..)?;
    key.cipher()
        .decrypt(
            nonce.into(),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .ok()
        .map(Zeroizing::new)
}
