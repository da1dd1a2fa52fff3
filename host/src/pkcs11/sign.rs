//! One signature: find the private key, check it can do the mechanism,
//! sign. RSA mechanisms hash on the token; for ECDSA the host hashes
//! (tokens such as Certum's do not offer `CKM_ECDSA_SHA256`) and the token
//! signs the digest.

use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::session::Session;
use sha2::{Digest, Sha256};

use super::certificates::{KeyId, KeyKind, SignMechanism, private_key};

/// PSS salt length: the SHA-256 output size, as the contract fixes it.
const PSS_SALT_BYTES: u64 = 32;

/// Why a signature was not made.
#[derive(Debug)]
pub(crate) enum SignFailure {
    /// No signing private key with that id.
    KeyNotFound,
    /// The key cannot do the mechanism.
    Unsupported(KeyKind),
    /// The token does not offer the mechanism.
    NotOffered,
    /// The module refused.
    Token(CkError),
}

impl From<CkError> for SignFailure {
    fn from(e: CkError) -> Self {
        SignFailure::Token(e)
    }
}

/// Signs `data` with the key `key` and `mechanism`.
pub(crate) fn sign(
    session: &Session,
    key: &KeyId,
    mechanism: SignMechanism,
    data: &[u8],
) -> Result<Vec<u8>, SignFailure> {
    let handle = private_key(session, &key.id)?.ok_or(SignFailure::KeyNotFound)?;
    let kind = KeyKind::of(session, handle)?;
    if !kind.mechanisms().contains(&mechanism) {
        return Err(SignFailure::Unsupported(kind));
    }
    let result = match mechanism {
        SignMechanism::RsaPkcs1Sha256 => session.sign(&Mechanism::Sha256RsaPkcs, handle, data),
        SignMechanism::RsaPssSha256 => {
            let params = PkcsPssParams {
                hash_alg: MechanismType::SHA256,
                mgf: PkcsMgfType::MGF1_SHA256,
                s_len: PSS_SALT_BYTES.into(),
            };
            session.sign(&Mechanism::Sha256RsaPkcsPss(params), handle, data)
        }
        SignMechanism::EcdsaP256Sha256 => {
            let digest = Sha256::digest(data);
            session.sign(&Mechanism::Ecdsa, handle, &digest)
        }
    };
    match result {
        // The token itself lacks the mechanism.
        Err(CkError::Pkcs11(RvError::MechanismInvalid, _)) => Err(SignFailure::NotOffered),
        Err(e) => Err(SignFailure::Token(e)),
        Ok(signature) => Ok(signature),
    }
}
