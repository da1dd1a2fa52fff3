//! Certificates and signatures: the public key in a signing certificate,
//! and the two mechanisms the simulator verifies.

use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use x509_cert::Certificate;
use x509_cert::der::{Decode, Encode};

const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";

/// `rsa-pkcs1-sha256`: RSASSA-PKCS1-v1_5 with SHA-256.
pub const MECH_RSA: &str = "rsa-pkcs1-sha256";
/// `ecdsa-p256-sha256`: ECDSA on P-256 with SHA-256, signature `r||s`.
pub const MECH_P256: &str = "ecdsa-p256-sha256";

/// The public key of a registered signing certificate.
#[derive(Debug, Clone)]
pub(crate) enum SignerKey {
    Rsa(Box<rsa::pkcs1v15::VerifyingKey<sha2::Sha256>>),
    P256(p256::ecdsa::VerifyingKey),
}

impl SignerKey {
    /// The key of a DER certificate, and its subject.
    pub(crate) fn from_cert_der(der: &[u8]) -> Result<(SignerKey, String), String> {
        let cert =
            Certificate::from_der(der).map_err(|e| format!("not an X.509 certificate: {e}"))?;
        let spki = &cert.tbs_certificate.subject_public_key_info;
        let subject = cert.tbs_certificate.subject.to_string();
        let key = match spki.algorithm.oid.to_string().as_str() {
            RSA_ENCRYPTION => {
                let spki_der = spki.to_der().map_err(|e| format!("bad key: {e}"))?;
                let pk = rsa::RsaPublicKey::from_public_key_der(&spki_der)
                    .map_err(|e| format!("bad RSA key: {e}"))?;
                SignerKey::Rsa(Box::new(rsa::pkcs1v15::VerifyingKey::new(pk)))
            }
            EC_PUBLIC_KEY => {
                let key =
                    p256::ecdsa::VerifyingKey::from_sec1_bytes(spki.subject_public_key.raw_bytes())
                        .map_err(|_| "only P-256 EC keys are supported".to_string())?;
                SignerKey::P256(key)
            }
            other => return Err(format!("unsupported key algorithm {other}")),
        };
        Ok((key, subject))
    }

    /// The mechanism a signature with this key uses.
    pub(crate) fn mechanism(&self) -> &'static str {
        match self {
            SignerKey::Rsa(_) => MECH_RSA,
            SignerKey::P256(_) => MECH_P256,
        }
    }

    /// Whether `signature` signs `message` with this key.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            SignerKey::Rsa(key) => rsa::pkcs1v15::Signature::try_from(signature)
                .is_ok_and(|sig| key.verify(message, &sig).is_ok()),
            SignerKey::P256(key) => p256::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|sig| key.verify(message, &sig).is_ok()),
        }
    }
}

pub(crate) use h2h_sim_kit::random::{random_bytes, random_hex};
