//! Signing certificates and the two signature mechanisms the bank checks:
//! RSASSA-PKCS1-v1_5 with SHA-256 and ECDSA P-256 with SHA-256 (`r||s`).

use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use x509_cert::Certificate;
use x509_cert::der::{Decode, Encode};

/// `rsa-pkcs1-sha256`: RSASSA-PKCS1-v1_5 with SHA-256.
pub const MECH_RSA: &str = "rsa-pkcs1-sha256";
/// `ecdsa-p256-sha256`: ECDSA on P-256 with SHA-256; the signature is
/// `r||s`, 64 bytes.
pub const MECH_P256: &str = "ecdsa-p256-sha256";

/// A registered user's public key, taken from their certificate.
#[derive(Debug, Clone)]
pub(crate) enum SignerKey {
    Rsa(Box<rsa::pkcs1v15::VerifyingKey<sha2::Sha256>>),
    P256(p256::ecdsa::VerifyingKey),
}

impl SignerKey {
    /// The key in a DER certificate, and the certificate's subject.
    pub(crate) fn from_cert_der(der: &[u8]) -> Result<(SignerKey, String), String> {
        let cert = Certificate::from_der(der).map_err(|e| format!("not a certificate: {e}"))?;
        let tbs = &cert.tbs_certificate;
        let spki = &tbs.subject_public_key_info;
        let key = match spki.algorithm.oid.to_string().as_str() {
            // rsaEncryption
            "1.2.840.113549.1.1.1" => {
                let der = spki.to_der().map_err(|e| e.to_string())?;
                let public = rsa::RsaPublicKey::from_public_key_der(&der)
                    .map_err(|e| format!("bad RSA key: {e}"))?;
                SignerKey::Rsa(Box::new(rsa::pkcs1v15::VerifyingKey::new(public)))
            }
            // id-ecPublicKey
            "1.2.840.10045.2.1" => {
                p256::ecdsa::VerifyingKey::from_sec1_bytes(spki.subject_public_key.raw_bytes())
                    .map(SignerKey::P256)
                    .map_err(|_| "EC keys must be P-256".to_string())?
            }
            oid => return Err(format!("unsupported key algorithm {oid}")),
        };
        Ok((key, tbs.subject.to_string()))
    }

    pub(crate) fn mechanism(&self) -> &'static str {
        match self {
            SignerKey::Rsa(_) => MECH_RSA,
            SignerKey::P256(_) => MECH_P256,
        }
    }

    /// Whether `signature` is this key's signature over `message`.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            SignerKey::Rsa(k) => rsa::pkcs1v15::Signature::try_from(signature)
                .is_ok_and(|s| k.verify(message, &s).is_ok()),
            SignerKey::P256(k) => p256::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|s| k.verify(message, &s).is_ok()),
        }
    }
}

pub(crate) use h2h_sim_kit::random::{random_bytes, random_hex};
