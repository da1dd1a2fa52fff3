//! The certificates a plugin may sign with: X.509 certificates on the
//! token whose private key is there too (matched by `CKA_ID`, as PKCS#11
//! and every card vendor's tool pair them), and the key ids plugins use.

use std::fmt;

use cryptoki::mechanism::MechanismType;
use cryptoki::object::ObjectHandle;
use cryptoki::object::{Attribute, AttributeType, CertificateType, KeyType, ObjectClass};
use cryptoki::session::Session;
use serde::Serialize;
use x509_cert::Certificate;
use x509_cert::der::Decode;

/// `id-ecPublicKey` curve P-256 (`prime256v1`), as `CKA_EC_PARAMS` holds it.
const P256_PARAMS: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// Signature mechanisms plugins may ask for; each hashes the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignMechanism {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (`CKM_SHA256_RSA_PKCS`).
    RsaPkcs1Sha256,
    /// RSASSA-PSS, SHA-256, MGF1-SHA-256, 32-byte salt
    /// (`CKM_SHA256_RSA_PKCS_PSS`).
    RsaPssSha256,
    /// ECDSA P-256 over a SHA-256 the host computes (`CKM_ECDSA`); the
    /// signature is `r || s`, 64 bytes.
    EcdsaP256Sha256,
}

impl fmt::Display for SignMechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignMechanism::RsaPkcs1Sha256 => "rsa-pkcs1-sha256",
            SignMechanism::RsaPssSha256 => "rsa-pss-sha256",
            SignMechanism::EcdsaP256Sha256 => "ecdsa-p256-sha256",
        })
    }
}

/// What a private key is, as far as signing goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Rsa,
    EcP256,
    /// An EC key on another curve, or another key type.
    Other(String),
}

impl KeyKind {
    /// Reads the kind of the private key `key`.
    pub(crate) fn of(session: &Session, key: ObjectHandle) -> cryptoki::error::Result<Self> {
        let attributes =
            session.get_attributes(key, &[AttributeType::KeyType, AttributeType::EcParams])?;
        let mut key_type = None;
        let mut params = None;
        for attribute in attributes {
            match attribute {
                Attribute::KeyType(kind) => key_type = Some(kind),
                Attribute::EcParams(p) => params = Some(p),
                _ => {}
            }
        }
        Ok(match key_type {
            Some(KeyType::RSA) => KeyKind::Rsa,
            Some(KeyType::EC) if params.as_deref() == Some(&P256_PARAMS[..]) => KeyKind::EcP256,
            Some(KeyType::EC) => KeyKind::Other("an EC key on a curve other than P-256".into()),
            Some(other) => KeyKind::Other(format!("a {other} key")),
            None => KeyKind::Other("a key of unknown type".into()),
        })
    }

    /// The mechanisms this kind of key signs with, whatever the token.
    pub(crate) fn mechanisms(&self) -> &'static [SignMechanism] {
        match self {
            KeyKind::Rsa => &[SignMechanism::RsaPkcs1Sha256, SignMechanism::RsaPssSha256],
            KeyKind::EcP256 => &[SignMechanism::EcdsaP256Sha256],
            KeyKind::Other(_) => &[],
        }
    }

    /// `an RSA key`, for messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            KeyKind::Rsa => "an RSA key".to_owned(),
            KeyKind::EcP256 => "an EC P-256 key".to_owned(),
            KeyKind::Other(text) => text.clone(),
        }
    }
}

impl SignMechanism {
    /// The PKCS#11 mechanism the token must offer for this one.
    pub(crate) fn needs(self) -> MechanismType {
        match self {
            SignMechanism::RsaPkcs1Sha256 => MechanismType::SHA256_RSA_PKCS,
            SignMechanism::RsaPssSha256 => MechanismType::SHA256_RSA_PKCS_PSS,
            SignMechanism::EcdsaP256Sha256 => MechanismType::ECDSA,
        }
    }
}

/// A key id as plugins see it: `<token name>:<hex CKA_ID>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyId {
    /// The registered token name.
    pub token: String,
    /// The `CKA_ID` shared by the certificate and its private key.
    pub id: Vec<u8>,
}

impl KeyId {
    /// Parses `token:hex`; `None` if it is not one.
    pub fn parse(text: &str) -> Option<Self> {
        let (token, id) = text.split_once(':')?;
        let id = hex::decode(id).ok()?;
        (!token.is_empty() && !id.is_empty()).then(|| Self {
            token: token.to_owned(),
            id,
        })
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.token, hex::encode(&self.id))
    }
}

/// A certificate with its private key on the token.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TokenCertificate {
    /// Opaque id to sign with.
    pub key_id: String,
    /// The certificate object's label on the token.
    pub label: String,
    /// Subject, RFC 4514.
    pub subject: String,
    /// Issuer, RFC 4514.
    pub issuer: String,
    /// Serial number, lowercase hex.
    pub serial: String,
    /// Start of validity, RFC 3339 UTC.
    pub not_before: String,
    /// End of validity, RFC 3339 UTC.
    pub not_after: String,
    /// The certificate, DER.
    #[serde(skip)]
    pub der: Vec<u8>,
    /// What the key signs with.
    pub mechanisms: Vec<SignMechanism>,
}

/// Every X.509 certificate on the token with a signing private key of the
/// same `CKA_ID`, by label then key id, with the mechanisms both the key
/// and the token (`offered`) support. Certificates that do not parse are
/// skipped with a warning rather than hiding the others.
pub(crate) fn list(
    session: &Session,
    token: &str,
    offered: &[MechanismType],
) -> cryptoki::error::Result<Vec<TokenCertificate>> {
    let template = [
        Attribute::Class(ObjectClass::CERTIFICATE),
        Attribute::CertificateType(CertificateType::X_509),
    ];
    let mut found = Vec::new();
    for handle in session.find_objects(&template)? {
        let attributes = session.get_attributes(
            handle,
            &[
                AttributeType::Id,
                AttributeType::Label,
                AttributeType::Value,
            ],
        )?;
        let (mut id, mut label, mut der) = (Vec::new(), Vec::new(), Vec::new());
        for attribute in attributes {
            match attribute {
                Attribute::Id(v) => id = v,
                Attribute::Label(v) => label = v,
                Attribute::Value(v) => der = v,
                _ => {}
            }
        }
        if id.is_empty() {
            continue;
        }
        let Some(key) = private_key(session, &id)? else {
            continue;
        };
        let kind = KeyKind::of(session, key)?;
        let key_id = KeyId {
            token: token.to_owned(),
            id,
        }
        .to_string();
        match describe(&der) {
            Ok((subject, issuer, serial, not_before, not_after)) => {
                found.push(TokenCertificate {
                    key_id,
                    label: String::from_utf8_lossy(&label).into_owned(),
                    subject,
                    issuer,
                    serial,
                    not_before,
                    not_after,
                    der,
                    mechanisms: kind
                        .mechanisms()
                        .iter()
                        .copied()
                        .filter(|m| offered.contains(&m.needs()))
                        .collect(),
                });
            }
            Err(e) => tracing::warn!(
                target: "h2h::signing",
                token,
                %key_id,
                error = %e,
                "skipping a certificate that is not valid X.509"
            ),
        }
    }
    found.sort_by(|a, b| (&a.label, &a.key_id).cmp(&(&b.label, &b.key_id)));
    Ok(found)
}

/// The signing private key with this `CKA_ID`, if the session sees one
/// (private keys are visible only once logged in).
pub(crate) fn private_key(
    session: &Session,
    id: &[u8],
) -> cryptoki::error::Result<Option<ObjectHandle>> {
    let template = [
        Attribute::Class(ObjectClass::PRIVATE_KEY),
        Attribute::Id(id.to_vec()),
        Attribute::Sign(true),
    ];
    Ok(session.find_objects(&template)?.into_iter().next())
}

type Described = (String, String, String, String, String);

/// Subject, issuer, serial and validity of a DER certificate.
fn describe(der: &[u8]) -> Result<Described, x509_cert::der::Error> {
    let certificate = Certificate::from_der(der)?;
    let tbs = &certificate.tbs_certificate;
    let instant = |time: x509_cert::time::Time| {
        let seconds = i64::try_from(time.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
        chrono::DateTime::from_timestamp(seconds, 0)
            .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default()
    };
    Ok((
        tbs.subject.to_string(),
        tbs.issuer.to_string(),
        serial_hex(tbs.serial_number.as_bytes()),
        instant(tbs.validity.not_before),
        instant(tbs.validity.not_after),
    ))
}

/// A serial as people read it: hex without the sign byte DER may add.
fn serial_hex(bytes: &[u8]) -> String {
    let start = bytes
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(bytes.len().saturating_sub(1));
    hex::encode(&bytes[start..])
}
