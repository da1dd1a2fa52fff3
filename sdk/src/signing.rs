//! Signatures by keys on the company's PKCS#11 token, made by the host.

use crate::bindings::imports::signing as wit;

pub use wit::{Certificate, Mechanism, SigningError};

/// Certificates whose keys this plugin may sign with.
pub fn list_certificates() -> Result<Vec<Certificate>, SigningError> {
    wit::list_certificates()
}

/// Signs `data` (the message, not a digest) with `key_id` and `mechanism`.
pub fn sign(key_id: &str, mechanism: Mechanism, data: &[u8]) -> Result<Vec<u8>, SigningError> {
    wit::sign(key_id, mechanism, data)
}

impl From<SigningError> for crate::Error {
    fn from(error: SigningError) -> Self {
        match error {
            SigningError::NotGranted => {
                crate::Error::invalid_input("signing is not granted to this plugin")
            }
            SigningError::SessionRequired(m) => crate::Error::session_required(m),
            SigningError::KeyNotFound(k) => {
                crate::Error::invalid_input(format!("signing key `{k}` not found"))
            }
            SigningError::UnsupportedMechanism(m) => crate::Error::invalid_input(m),
            SigningError::Token(m) => crate::Error::unauthorized(format!("token refused: {m}")),
        }
    }
}
